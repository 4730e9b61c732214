"""Differentiable functions and the graph nodes they leave behind.

``Function.apply`` runs ``forward`` and, when grad mode is on and an input requires grad,
records a node (the ``ctx``) whose ``backward`` maps output gradients to input gradients.

Two flavours share one engine:

* ``Kernel`` -- minidl's own ops. ``forward(ctx, *arrays, **attrs)`` and
  ``backward(ctx, *grads)`` see raw NumPy arrays only; Tensors never enter them.
* ``Function`` -- the public, torch-compatible base for user-defined ops: ``forward`` and
  ``backward`` receive and return Tensors, exactly as in ``torch.autograd.Function``.
"""
import weakref

import numpy as np

from .grad_mode import is_grad_enabled, no_grad

__all__ = ["Function", "Kernel", "Node", "AccumulateGrad", "RemovableHandle"]

# Set by minidl.tensor (layer 2) so that this layer never imports upward.
Tensor = None

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A vertex of the backward graph: gradients flow in per output, out per edge."""

    next_edges = ()
    n_outputs = 1

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple(self.next_edges)

    def register_hook(self, hook):
        hooks = self.__dict__.setdefault("_node_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """Sink for a leaf tensor: adds the incoming gradient into ``tensor.grad``."""

    def __init__(self, tensor):
        self.variable = tensor

    def run(self, grads, accumulate=True):
        g = grads[0]
        t = self.variable
        if g is None:
            return ()
        g = _apply_tensor_hooks(t._hooks, g)
        if accumulate:
            if g.shape != t.shape:
                raise RuntimeError(f"gradient of shape {g.shape} does not match the leaf "
                                   f"tensor of shape {t.shape}")
            if t.grad is None:
                t.grad = Tensor(np.array(g, dtype=t._data.dtype, copy=True))
            else:
                t.grad._data = t.grad._data + g
        return ()


def _apply_tensor_hooks(hooks, g):
    for hook in list(hooks or ()):
        out = hook(Tensor(g))
        if out is not None:
            g = out._data
    return g


class BackwardNode(Node):
    """The ``ctx`` of one recorded call: saved arrays, edges, output metadata, hooks."""

    _freed = False
    _saved = ()
    _versions = ()
    _materialize = True

    def save_for_backward(self, *items):
        self._saved = items

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._fn._arrays:
            return self._saved
        return tuple(x if x is None or isinstance(x, Tensor) else Tensor(x) for x in self._saved)

    saved_arrays = saved_tensors

    def mark_non_differentiable(self, *outputs):
        self.__dict__.setdefault("_non_diff", set()).update(id(o) for o in outputs)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    def name(self):
        return self._fn.__name__ + "Backward0"

    def run(self, grads, accumulate=True):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        for counter, version, what in self._versions:
            if counter[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {what} is at version {counter[0]}; expected version "
                    f"{version} instead. Hint: clone the tensor before modifying it in place.")
        hooks = self.__dict__.get("_pre_hooks")
        retained = self.__dict__.get("_retained")
        grads = list(grads)
        for i in range(self.n_outputs):
            if grads[i] is None:
                continue
            if hooks and hooks.get(i):
                grads[i] = _apply_tensor_hooks(hooks[i], grads[i])
            if retained and i in retained:
                t = retained[i]()
                if t is not None:
                    t.grad = (Tensor(grads[i].copy()) if t.grad is None
                              else Tensor(t.grad._data + grads[i]))
        if all(g is None for g in grads):
            return [None] * len(self.next_edges)
        if self._materialize:
            grads = [np.zeros(shape, dtype) if g is None else g
                     for g, (shape, dtype) in zip(grads, self._out_meta)]
        fn = self._fn
        if fn._arrays:
            result = fn.backward(self, *grads)
        else:
            with no_grad():
                result = fn.backward(self, *[None if g is None else Tensor(g) for g in grads])
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < len(self._input_slots):
            raise RuntimeError(f"function {self.name()} returned {len(result)} gradients, "
                               f"but forward took {len(self._input_slots)} inputs")
        out = [None] * len(self.next_edges)
        for edge_i, arg_i in enumerate(self._input_slots):
            g = result[arg_i]
            if g is not None:
                g = g._data if isinstance(g, Tensor) else np.asarray(g)
                shape, dtype = self._in_meta[edge_i]
                if g.shape != shape:
                    raise RuntimeError(f"function {self.name()} returned a gradient of shape "
                                       f"{g.shape} for an input of shape {shape}")
                if g.dtype != dtype:
                    g = g.astype(dtype)
            out[edge_i] = g
        for hook in self.__dict__.get("_node_hooks", ()):
            hook(out, grads)
        return out

    def release(self):
        """Free what backward no longer needs (after a backward without retain_graph)."""
        if self._saved or any(isinstance(v, np.ndarray) for v in vars(self).values()):
            self._freed = True
        self._saved = ()
        for k, v in list(vars(self).items()):
            if isinstance(v, np.ndarray):
                delattr(self, k)


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardNode,), {"_fn": cls})


class Function(metaclass=_FunctionMeta):
    """Base for user-defined differentiable ops (``torch.autograd.Function``).

    Subclass with ``@staticmethod forward(ctx, *args)`` and ``@staticmethod backward(ctx,
    *grad_outputs)``, call with ``MyFn.apply(*args)``. ``backward`` returns one gradient
    per ``forward`` argument (``None`` for non-tensors or inputs that need none).
    """

    _arrays = False   # forward/backward see Tensors
    _view = False     # outputs share the version counter of the first input (views)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")

    @classmethod
    def apply(cls, *args, **kwargs):
        T = Tensor
        record = is_grad_enabled() and any(isinstance(a, T) and a.requires_grad for a in args)
        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(isinstance(a, T) and a.requires_grad and record for a in args)
        if cls._arrays:
            out = cls.forward(ctx, *[a._data if isinstance(a, T) else a for a in args], **kwargs)
        else:
            with no_grad():
                out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        arrays = [o._data if isinstance(o, T) else np.asarray(o) for o in outs]
        non_diff = ctx.__dict__.get("_non_diff", ())
        if cls._view and isinstance(args[0], T):
            results = [T(a, _version_counter=args[0]._vc) for a in arrays]
            for r in results:
                r._base = args[0]._base if args[0]._base is not None else args[0]
        else:
            results = [T(a) for a in arrays]
        if record:
            edges, slots, in_meta = [], [], []
            for i, a in enumerate(args):
                if isinstance(a, T) and a.requires_grad:
                    edges.append(a._edge())
                    slots.append(i)
                    in_meta.append((a.shape, a._data.dtype))
            ctx.next_edges = edges
            ctx._input_slots = slots
            ctx._in_meta = in_meta
            ctx.n_outputs = len(results)
            ctx._out_meta = [(a.shape, a.dtype) for a in arrays]
            _record_versions(ctx, args, results, outs)
            for i, (r, o) in enumerate(zip(results, outs)):
                if r._data.dtype.kind == "f" and id(o) not in non_diff:
                    r.requires_grad = True
                    r.grad_fn = ctx
                    r._output_nr = i
        return results[0] if single else tuple(results)


def _record_versions(ctx, args, results, raw_outs):
    """Remember the versions of inputs/outputs whose memory backward will read."""
    saved = ctx._saved
    if not saved:
        return
    ids = {id(x) for x in saved if x is not None}
    versions = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and (id(a._data) in ids or id(a) in ids):
            versions.append((a._vc, a._vc[0], f"input {i} of {ctx.name()}"))
    for i, (r, o) in enumerate(zip(results, raw_outs)):
        if id(r._data) in ids or id(o) in ids:
            versions.append((r._vc, r._vc[0], f"output {i} of {ctx.name()}"))
    ctx._versions = versions


class Kernel(Function):
    """Base for minidl's ops: ``forward``/``backward`` take and return NumPy arrays."""

    _arrays = True


def accumulate_node(tensor):
    """The (cached, weakly held) AccumulateGrad sink of a leaf tensor."""
    ref = tensor._acc
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._acc = weakref.ref(node)
    return node
