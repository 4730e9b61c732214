"""Every public callable a ``import minidl as torch`` user reaches, as Targets.

The functions and classes of ``minidl`` (top level), ``minidl.nn.functional``, the public
methods of ``minidl.Tensor``, the layers of ``minidl.nn``, the optimizers and schedulers of
``minidl.optim``, ``minidl.autograd``'s grad / backward / gradcheck / gradgradcheck /
Function, and ``minidl.utils.data``.
"""
import inspect

import minidl
import minidl.nn.functional as F
import minidl.optim.lr_scheduler as lr_scheduler
import minidl.utils.data as data

from .harness import Target, make_ns

AUTOGRAD = ("grad", "backward", "gradcheck", "gradgradcheck", "Function")


def _public(space):
    for name in sorted(dir(space)):
        obj = getattr(space, name)
        if not name.startswith("_") and callable(obj) and not inspect.ismodule(obj):
            yield name, obj


def as_is(obj, ns, forward, lib):
    return obj


def uninitialised(t, ns, forward, lib):
    """What ``empty`` promises: no values, only the shape, dtype, layout and requires_grad."""
    return tuple(t.shape), str(t.dtype), t.stride(), t.requires_grad


def leaf_grads(obj, ns, forward, lib):
    """After a backward call: the gradient it left in the fixture ``w``."""
    return obj, ns["w"].grad


def layer(module, ns, forward, lib):
    """A layer's output on ``forward`` (its arguments' source), its state and, after
    backward of the output's sum, its parameters' gradients and the inputs."""
    inputs = eval(f"[{forward}]", ns)
    floating = [t for t in module.state_dict().values() if t.is_floating_point()]
    if floating:  # run in the dtype of the layer's parameters (``dtype=`` makes float64 ones)
        inputs = [t.to(floating[0].dtype) if isinstance(t, lib.Tensor) and t.is_floating_point()
                  else t for t in inputs]
    y = module(*inputs)
    out = y[0] if isinstance(y, tuple) else y
    grads = []
    if isinstance(out, lib.Tensor) and out.requires_grad:
        out.sum().backward()
        grads = [p.grad for p in module.parameters()]
    return y, list(module.state_dict().items()), grads, inputs


def container(module, ns, forward, lib):
    return [type(m).__name__ for m in module.modules()], list(module.state_dict().items())


def optimizer(opt, ns, forward, lib):
    """Eight steps on a fixed quadratic; the parameters and the optimizer state."""
    w, b = ns["params"]
    for _ in range(8):
        opt.zero_grad()
        loss = ((w.sum(1) - b[:2]) ** 2).sum() + (b ** 2).sum()
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in (w, b)], opt.state_dict()["state"]


_METRICS = (1.0, 0.9, 0.85, 0.8, 0.78, 0.77, 0.76, 0.75)  # improving, ever more slowly


def scheduler(sched, ns, forward, lib):
    """The learning rates and momenta of ``ns['opt']`` over 8 epochs."""
    opt, trace = ns["opt"], []
    plateau = isinstance(sched, lib.optim.lr_scheduler.ReduceLROnPlateau)
    for epoch in range(8):
        opt.step()
        sched.step(_METRICS[epoch]) if plateau else sched.step()
        trace.append([(g["lr"], g.get("momentum")) for g in opt.param_groups])
    return trace


def iterate(obj, ns, forward, lib):
    """What iterating a loader, sampler or data set gives (random_split: the indices)."""
    if isinstance(obj, list) and obj and isinstance(obj[0], lib.utils.data.Subset):
        return [list(s.indices) for s in obj]
    if isinstance(obj, lib.utils.data.IterableDataset):
        return list(obj)
    if isinstance(obj, lib.utils.data.Dataset) and hasattr(obj, "__len__"):
        return [obj[i] for i in range(len(obj))]
    return list(obj) if hasattr(obj, "__iter__") else obj


def _is_layer(obj):
    return isinstance(obj, type) and issubclass(obj, minidl.nn.Module)


def targets():
    """{qualified name: Target} of every public callable."""
    found = {}

    def add(prefix, name, obj, kind, finish):
        found[f"{prefix}.{name}"] = Target(f"{prefix}.{name}", obj, kind, finish)

    for name, obj in _public(minidl):
        add("torch", name, obj, "function", as_is)
    for name, obj in _public(F):
        add("F", name, obj, "function", as_is)
    for name in sorted(dir(minidl.Tensor)):
        obj = inspect.getattr_static(minidl.Tensor, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, property):
            add("Tensor", name, getattr(minidl.Tensor, name), "method", as_is)
    containers = (minidl.nn.Sequential, minidl.nn.ModuleList, minidl.nn.ModuleDict,
                  minidl.nn.ParameterList, minidl.nn.ParameterDict)
    for name, obj in _public(minidl.nn):
        if _is_layer(obj):
            add("nn", name, obj, "class",
                container if issubclass(obj, containers) else layer)
    for name, obj in _public(minidl.optim):
        if isinstance(obj, type) and issubclass(obj, minidl.optim.Optimizer):
            add("optim", name, obj, "class", optimizer)
    for name, obj in _public(lr_scheduler):
        if isinstance(obj, type) and obj.__module__.startswith("minidl.optim"):
            add("lr_scheduler", name, obj, "class", scheduler)
    for name in AUTOGRAD:
        add("autograd", name, getattr(minidl.autograd, name), "function",
            leaf_grads if name == "backward" else as_is)
    for name, obj in _public(data):
        add("data", name, obj, "class" if isinstance(obj, type) else "function", iterate)
    found["Tensor.backward"].finish = leaf_grads
    for name in ("torch.empty", "torch.empty_like", "Tensor.new_empty"):
        found[name].finish = uninitialised
    return found


__all__ = ["targets", "make_ns"]
