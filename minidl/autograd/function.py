"""Differentiable functions and the graph nodes they leave behind (``node``).

``Function.apply`` runs ``forward`` and, when grad mode is on and an input requires grad,
records a node (the ``ctx``) whose ``backward`` maps output gradients to input gradients.

Two flavours share one engine:

* ``Kernel`` -- minidl's own ops. ``forward(ctx, *arrays, **attrs)`` and
  ``backward(ctx, *grads)`` see raw NumPy arrays only; Tensors never enter them.
* ``Function`` -- the public, torch-compatible base for user-defined ops: ``forward`` and
  ``backward`` receive and return Tensors, exactly as in ``torch.autograd.Function``.

Higher-order gradients (``create_graph=True``) use one mechanism for every kernel: the
kernel's own ``backward`` runs again, on Tensors instead of arrays. Its gradient arguments
and its saved inputs/outputs arrive as ``ops._traced.Traced`` values -- NumPy-compatible
wrappers whose every operation (operators, ufuncs, ``np.sum``, ``np.where``...) dispatches
to the differentiable minidl op -- so the one backward written next to the forward is both
the fast array path and, traced, a graph that can be differentiated again. Saved inputs come
back connected to the graph (torch's SavedVariable), saved outputs as outputs of this node.
A fused kernel whose backward reads intermediates of its forward (a normalised x, a column
matrix) defines ``reference(*args, **kwargs)`` instead: the same function composed of
simpler minidl ops, re-run on the saved inputs and differentiated with ``create_graph``.
Anything that would silently turn a traced value into a constant array raises instead.
"""
import numpy as np

from .grad_mode import is_grad_enabled, no_grad
from .node import (  # noqa: F401  (re-exported: the graph's names, as torch.autograd has them)
    FREED_MESSAGE,
    AccumulateGrad,
    BackwardNode,
    Node,
    RemovableHandle,
    accumulate_node,
)

__all__ = ["Function", "Kernel", "Node", "AccumulateGrad", "RemovableHandle"]

# Set by minidl.tensor (layer 2) so that this layer never imports upward.
Tensor = None


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardNode,), {"_fn": cls})
        cls._has_reference = cls._arrays and hasattr(cls, "reference")


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
        if is_grad_enabled():
            for a in args:
                if isinstance(a, T) and a.requires_grad:
                    return cls._apply_recorded(args, kwargs)
        # nothing to record: a fresh ctx serves forward only and is dropped with it
        ctx = cls._backward_cls()
        ctx.needs_input_grad = (False,) * len(args)
        out = _forward(cls, ctx, args, kwargs)
        if type(out) is np.ndarray and not cls._view:
            return T(out)
        single = not isinstance(out, tuple)
        results = _wrap_outputs(cls, args, (out,) if single else out)[1]
        return results[0] if single else tuple(results)

    @classmethod
    def _apply_recorded(cls, args, kwargs):
        """``apply`` when an input requires grad: the outputs get this call's node."""
        T = Tensor
        ctx = cls._backward_cls()
        needs, edges, slots, in_meta = [], [], [], []
        for i, a in enumerate(args):
            need = isinstance(a, T) and a.requires_grad
            needs.append(need)
            if need:  # the input's edge: Tensor._edge, inlined
                node = a.grad_fn
                edges.append((node, a._output_nr) if node is not None else (accumulate_node(a), 0))
                slots.append(i)
                in_meta.append((a._data.shape, a._data.dtype))
        ctx.needs_input_grad = tuple(needs)
        out = _forward(cls, ctx, args, kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        arrays, results = _wrap_outputs(cls, args, outs)
        ctx.next_edges, ctx._input_slots, ctx._in_meta = edges, slots, in_meta
        ctx.n_outputs, ctx._out_meta = len(results), [(a.shape, a.dtype) for a in arrays]
        if ctx._saved:
            _record_versions(ctx, args, results, outs)
        if cls._has_reference:
            ctx._ref_args = (args, kwargs)
        non_diff = ctx.__dict__.get("_non_diff", ())
        for i, (r, o) in enumerate(zip(results, outs)):
            if r._data.dtype.kind == "f" and id(o) not in non_diff:
                r.requires_grad = True
                r.grad_fn = ctx
                r._output_nr = i
        return results[0] if single else tuple(results)


def _forward(cls, ctx, args, kwargs):
    """Run ``cls.forward``: on the inputs' arrays (a Kernel), or on the Tensors under no_grad."""
    if cls._arrays:
        arrays = []
        for a in args:
            arrays.append(a._data if isinstance(a, Tensor) else a)
        return cls.forward(ctx, *arrays, **kwargs)
    with no_grad():
        return cls.forward(ctx, *args, **kwargs)


def _wrap_outputs(cls, args, outs):
    """The raw outputs as arrays, and as new Tensors (a view's share the version counter and
    the base of its input)."""
    T = Tensor
    if len(outs) == 1 and type(outs[0]) is np.ndarray and not cls._view:
        return outs, [T(outs[0])]
    arrays = [o if type(o) is np.ndarray else o._data if isinstance(o, T) else np.asarray(o)
              for o in outs]
    if cls._view and isinstance(args[0], T):
        src = args[0]
        base = src._base if src._base is not None else src
        results = [T(a, _version_counter=src._vc) for a in arrays]
        for r in results:
            r._base = base
    else:
        results = [T(a) for a in arrays]
    return arrays, results


def _record_versions(ctx, args, results, raw_outs):
    """Remember the versions of inputs/outputs whose memory backward will read, and which
    saved item is which input or output (a recorded backward unpacks them connected)."""
    saved = ctx._saved
    ids = set(map(id, saved))
    ids.discard(id(None))
    versions, roles = [], {}
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            if id(a._data) in ids or id(a) in ids:
                versions.append((a._vc, a._vc[0], ("input", i)))
                roles[id(a._data)] = ("in", a)
        elif isinstance(a, np.ndarray) and id(a) in ids and a.dtype.kind in "fc":
            # a float array passed to apply as it is (a scalar operand's 0-d array) is a
            # constant argument, not a value the forward computed (an input's role wins)
            roles.setdefault(id(a), ("const",))
    for i in range(len(results)):
        r, o = results[i], raw_outs[i]
        if id(r._data) in ids or id(o) in ids:
            versions.append((r._vc, r._vc[0], ("output", i)))
            roles[id(r._data)] = roles[id(o)] = ("out", i)
    ctx._versions = versions
    if roles and ctx._fn._arrays:
        ctx._roles = list(map(roles.get, map(id, saved)))  # None where no role


class Kernel(Function):
    """Base for minidl's ops: ``forward``/``backward`` take and return NumPy arrays."""

    _arrays = True


class Identity(Kernel):
    """y = x; dy/dx = 1 -- where a ``reference`` re-run meets the recorded graph."""

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g
