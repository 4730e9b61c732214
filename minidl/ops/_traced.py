"""Traced arrays: how a kernel's NumPy backward is recorded when ``create_graph=True``.

``Traced`` wraps a Tensor and answers to the parts of the ``ndarray`` interface that
backward code uses -- operators, ``shape``/``ndim``/``dtype``, ``reshape``, ``sum(axis=)``,
``astype``, indexing -- and, through NumPy's ``__array_ufunc__`` / ``__array_function__``
protocols, to ``np.exp``, ``np.where``, ``np.sum``, ``np.einsum``... Each maps onto the
differentiable minidl op, so running the unchanged array backward on Traced values records
it. Plain arrays in the same expression are constants. What cannot be recorded raises:
converting a Traced value to an array (``np.asarray``, writing it into an ``np.zeros``
buffer, ``out=``), and a NumPy function without a mapping -- never a silent constant.
"""
import sys

import numpy as np

from ..autograd import function as _function
from ..autograd import node as _node
from ..autograd.engine import grad_to_fresh_inputs
from ..backend import as_dtype
from ..tensor import Tensor
from ._traced_numpy import (
    FUNCTIONS,
    UFUNCS,
    NotTraceable,
    TracedValue,
    _cum,
    _lib,
    _reduce,
    _squeeze,
    _swapaxes,
    _tensor,
    _transpose,
    special_ufunc,
)

__all__ = ["Traced", "NotTraceable", "run_backward", "reference_grads"]


def _wrap(x):
    if isinstance(x, Tensor):
        return Traced(x)
    if isinstance(x, (tuple, list)):
        return type(x)(_wrap(v) for v in x)
    return x


class Traced(TracedValue):
    """A Tensor behind an ndarray's face (see the module docstring)."""

    __slots__ = ()

    def __init__(self, t):
        self.t = t

    # ---------------------------------------------------------- array metadata
    shape = property(lambda self: tuple(self.t.shape))
    ndim = property(lambda self: self.t.ndim)
    size = property(lambda self: self.t.numel())
    dtype = property(lambda self: self.t._data.dtype)
    T = property(lambda self: Traced(_transpose(self)))

    def __len__(self):
        return len(self.t)

    def __array__(self, dtype=None, copy=None):
        raise NotTraceable("a recorded backward tried to turn a traced value into a constant "
                           "NumPy array (np.asarray, a write into a plain array, or out=); that "
                           "would cut the graph, so the kernel's backward must stay in traced "
                           "operations or the kernel must define a `reference`")

    # -------------------------------------------------------------- protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            raise NotTraceable(f"np.{ufunc.__name__}.{method}"
                               f"{'(out=...)' if method == '__call__' else ''} writes in place "
                               "and cannot be recorded")
        f = UFUNCS.get(ufunc) or special_ufunc(ufunc)
        if f is None:
            raise NotTraceable(f"np.{ufunc.__name__} has no recorded (differentiable) form")
        kwargs.pop("out", None)
        if kwargs:
            raise NotTraceable(f"np.{ufunc.__name__}({', '.join(kwargs)}=...) has no recorded form")
        return _wrap(f(*inputs))

    def __array_function__(self, func, types, args, kwargs):
        f = FUNCTIONS.get(func)
        if f is None:
            raise NotTraceable(f"np.{func.__name__} has no recorded (differentiable) form")
        return _wrap(f(*args, **kwargs))

    # -------------------------------------------------------------- operators
    def _op(name, reflected=False):
        def op(self, other):
            if isinstance(other, (list, tuple)):
                other = np.asarray(other)
            a, b = (other, self) if reflected else (self, other)
            return _wrap(getattr(_lib(), name)(_tensor(a, b), _tensor(b, a)))
        return op

    __add__, __radd__ = _op("add"), _op("add", True)
    __sub__, __rsub__ = _op("sub"), _op("sub", True)
    __mul__, __rmul__ = _op("mul"), _op("mul", True)
    __truediv__, __rtruediv__ = _op("div"), _op("div", True)
    __pow__, __rpow__ = _op("pow"), _op("pow", True)
    __matmul__, __rmatmul__ = _op("matmul"), _op("matmul", True)
    del _op

    def __neg__(self):
        return Traced(-self.t)

    def __pos__(self):
        return self

    def __abs__(self):
        return Traced(self.t.abs())

    def _cmp(ufunc):
        return lambda self, other: ufunc(self.t._data, other.t._data
                                         if isinstance(other, Traced) else other)

    __lt__, __le__ = _cmp(np.less), _cmp(np.less_equal)
    __gt__, __ge__ = _cmp(np.greater), _cmp(np.greater_equal)
    __eq__, __ne__ = _cmp(np.equal), _cmp(np.not_equal)
    __hash__ = None
    del _cmp

    def __getitem__(self, key):
        return Traced(self.t[_index(key)])

    def __setitem__(self, key, value):
        self.t[_index(key)] = _tensor(value, self)

    # ------------------------------------------------------- ndarray methods
    def reshape(self, *shape, order="C"):
        if order != "C":
            raise NotTraceable(f"reshape(order={order!r}) has no recorded form")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Traced(self.t.reshape(shape))

    def sum(self, axis=None, dtype=None, keepdims=False, **kw):
        return Traced(_reduce("sum")(self, axis, dtype, keepdims, **kw))

    def mean(self, axis=None, dtype=None, keepdims=False, **kw):
        return Traced(_reduce("mean")(self, axis, dtype, keepdims, **kw))

    def prod(self, axis=None, dtype=None, keepdims=False, **kw):
        return Traced(_reduce("prod")(self, axis, dtype, keepdims, **kw))

    def cumsum(self, axis=None, dtype=None):
        return Traced(_cum("cumsum")(self, axis, dtype))

    def astype(self, dtype, copy=True, **kw):
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return Traced(self.t.clone()) if copy else self
        return Traced(self.t.to(as_dtype(dtype)))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return Traced(_transpose(self, axes or None))

    def swapaxes(self, a1, a2):
        return Traced(_swapaxes(self, a1, a2))

    def squeeze(self, axis=None):
        return Traced(_squeeze(self, axis))

    def ravel(self):
        return Traced(self.t.reshape(-1))

    flatten = ravel

    def copy(self):
        return Traced(self.t.clone())

    def conj(self):
        return self

    conjugate = conj

    def view(self, *args):
        if args:
            raise NotTraceable("ndarray.view(dtype) has no recorded form")
        return self

    def any(self, *args, **kwargs):
        return self.t._data.any(*args, **kwargs)

    def all(self, *args, **kwargs):
        return self.t._data.all(*args, **kwargs)

    def item(self):
        raise NotTraceable("item() of a traced value would make it a constant")

    def __repr__(self):
        return f"Traced({self.t!r})"


def _index(key):
    """A NumPy index with traced parts replaced by their Tensors, arrays kept as arrays."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, Traced):
        return key.t
    return key


class _GraphCtx:
    """The ctx a kernel's backward sees when recorded: saved inputs/outputs as Traced values
    connected to the graph; a floating array the forward computed is refused (it would be a
    constant here although it depends on the inputs) unless the kernel lists its name in
    ``graph_constants``."""

    def __init__(self, node):
        object.__setattr__(self, "_node", node)

    @property
    def saved_tensors(self):
        node = self._node
        if node._freed:
            raise RuntimeError(_function.FREED_MESSAGE)
        out = []
        for v in node._saved_values:
            if isinstance(v, Tensor):
                out.append(Traced(v))
            else:
                out.append(self._constant(v, "a saved array"))
        return tuple(out)

    saved_arrays = saved_tensors

    def _constant(self, v, what):
        if isinstance(v, np.ndarray) and v.dtype.kind in "fc":
            raise NotImplementedError(
                f"{self._node.name()} cannot be differentiated twice: its backward reads {what} "
                "that its forward computed (not an input or output), which would be a constant "
                "in the recorded backward; the kernel needs a `reference`")
        return v

    def __getattr__(self, name):
        value = getattr(self._node, name)
        if name in getattr(self._node._fn, "graph_constants", ()):
            return value
        return self._constant(value, f"ctx.{name}")

    def __setattr__(self, name, value):
        setattr(self._node, name, value)


def reference_grads(node, grads):
    """A fused kernel's recorded backward: differentiate its ``reference`` composition,
    re-run on the inputs, with ``create_graph`` (each input enters through an identity node,
    so the inner walk stops there and the outer one continues into the real graph)."""
    args, kwargs = node._ref_args
    fresh = list(args)
    for i in node._input_slots:
        fresh[i] = _function.Identity.apply(args[i])
    outs = node._fn.reference(*fresh, **kwargs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    pairs = [(o, g) for o, g in zip(outs, grads)
             if g is not None and isinstance(o, Tensor) and o.requires_grad]
    result = [None] * len(args)
    if pairs:
        found = grad_to_fresh_inputs([o for o, _ in pairs], [fresh[i] for i in node._input_slots],
                                     [g for _, g in pairs])
        for i, g in zip(node._input_slots, found):
            result[i] = g
    return tuple(result)


def run_backward(node, grads):
    """The node's kernel backward, run on Traced gradients and saved values."""
    result = node._fn.backward(_GraphCtx(node), *[None if g is None else Traced(g) for g in grads])
    if not isinstance(result, tuple):
        result = (result,)
    return tuple(r.t if isinstance(r, Traced) else r for r in result)


_node.traced = sys.modules[__name__]
