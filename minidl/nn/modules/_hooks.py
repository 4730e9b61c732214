"""The hook machinery behind ``Module.__call__``: registration handles, forward (pre-)hooks and
full backward (pre-)hooks.

A backward hook needs the gradients with respect to a module's tensor inputs and outputs, so
the call passes those tensors through an identity ``Kernel`` whose backward hands the incoming
gradients to the hooks (and lets them replace the gradients).
"""
from ...autograd import Kernel
from ...autograd.function import RemovableHandle
from ...ops._traced import Traced
from ...tensor import Tensor


def add_hook(hooks, entry, prepend):
    """Put ``entry`` first or last in the list ``hooks``; the handle removes it again."""
    if prepend:
        hooks.insert(0, entry)
    else:
        hooks.append(entry)
    return RemovableHandle(hooks, entry)


def run_forward_pre_hooks(module, args, kwargs):
    """``(args, kwargs)`` after every forward pre-hook (each may return replacements)."""
    for hook, with_kwargs, _ in list(module._forward_pre_hooks):
        if with_kwargs:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    return args, kwargs


def run_forward_hooks(module, args, kwargs, out):
    """``out`` after every forward hook (each may return a replacement output)."""
    for hook, with_kwargs, _ in list(module._forward_hooks):
        res = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if res is not None:
            out = res
    return out


def run_always_called_hooks(module, args, kwargs):
    """The forward hooks registered with ``always_call=True``, after ``forward`` raised."""
    for hook, with_kwargs, always in list(module._forward_hooks):
        if always:
            hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)


class _HookIdentity(Kernel):
    """Identity on a group of tensors; its backward hands their gradients to ``on_grad``."""

    @staticmethod
    def forward(ctx, *arrays, on_grad):
        ctx.on_grad = on_grad
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        """dx = dy (possibly replaced by a module's backward hook). Recorded (create_graph),
        the hooks get and return the differentiable gradient Tensors themselves."""
        if any(isinstance(g, Traced) for g in grads):
            return tuple(ctx.on_grad([None if g is None else g.t for g in grads]))
        return tuple(ctx.on_grad(list(grads)))


def _wrap_requiring_grad(items, on_grad):
    """``items`` with every tensor that requires grad passed through one ``_HookIdentity``
    (whose backward calls ``on_grad``); also returns how many were wrapped."""
    idx = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
    if not idx:
        return items, 0
    new = _HookIdentity.apply(*[items[i] for i in idx], on_grad=on_grad)
    items = list(items)
    for i, t in zip(idx, new):
        items[i] = t
    return tuple(items), len(idx)


class BackwardHookState:
    """Calls a module's full backward (pre-)hooks with the gradients of its inputs/outputs."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0

    def wrap_inputs(self, args):
        args, self.n_inputs = _wrap_requiring_grad(args, self._input_grads)
        return args

    def wrap_outputs(self, out):
        if isinstance(out, Tensor):
            return _wrap_requiring_grad((out,), self._output_grads)[0][0]
        if isinstance(out, (tuple, list)):
            return type(out)(_wrap_requiring_grad(tuple(out), self._output_grads)[0])
        return out

    @staticmethod
    def _call_user(grads, call):
        """A user hook on gradient arrays (or, recorded, Tensors); returns the same kind."""
        res = call(_tensors(grads))
        if res is None:
            return grads
        res = (res,) if isinstance(res, Tensor) else tuple(res)
        if len(res) != len(grads):
            raise RuntimeError(f"backward hook returned {len(res)} gradients, expected "
                               f"{len(grads)}")
        recorded = any(isinstance(g, Tensor) for g in grads)
        return [None if r is None else r if recorded else r._data for r in res]

    def _output_grads(self, grads):
        m = self.module
        for hook in list(m._backward_pre_hooks):
            grads = self._call_user(grads, lambda g, h=hook: h(m, g))
        self.grad_output = _tensors(grads)
        if self.n_inputs == 0:
            for hook in list(m._backward_hooks):
                hook(m, (None,), self.grad_output)
        return grads

    def _input_grads(self, grads):
        """The backward hooks, once per pass through the outputs; a gradient that reaches
        the inputs without passing the outputs (double backward) skips them, as in torch."""
        m = self.module
        if self.grad_output is None:
            return grads
        for hook in list(m._backward_hooks):
            grads = self._call_user(grads, lambda g, h=hook: h(m, g, self.grad_output))
        self.grad_output = None
        return grads


def _tensors(grads):
    """Gradient arrays as Tensors (a recorded backward's are Tensors already)."""
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor(g) for g in grads)
