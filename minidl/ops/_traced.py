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
import types

import numpy as np

from ..autograd import function as _function
from ..autograd.engine import grad_to_fresh_inputs
from ..backend import as_dtype
from ..tensor import Tensor

__all__ = ["Traced", "run_backward"]


_OPS = None


def _lib():
    """The differentiable ops a traced expression maps onto (imported on first use: these
    modules import this one's package)."""
    global _OPS
    if _OPS is None:
        from . import (
            activation,
            arithmetic,
            binary,
            einsum,
            flip_roll,
            join,
            linalg,
            pad,
            permute,
            powers,
            rounding,
            trigonometric,
            unary,
        )
        ns = {}
        for mod in (activation, arithmetic, binary, einsum, flip_roll, join, linalg, permute,
                    powers, rounding, trigonometric, unary):
            ns.update({name: getattr(mod, name) for name in mod.__all__ if hasattr(mod, name)})
        ns["pad"] = pad.pad
        _OPS = types.SimpleNamespace(**ns)
    return _OPS


class NotTraceable(TypeError):
    """A backward tried to leave the recorded world (see the module docstring)."""


def _t(x):
    """The Tensor (or Python scalar) for an operand of a traced expression."""
    if isinstance(x, Traced):
        return x.t
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if isinstance(x, np.generic):
        return x.item()
    return x


def _wrap(x):
    if isinstance(x, Tensor):
        return Traced(x)
    if isinstance(x, (tuple, list)):
        return type(x)(_wrap(v) for v in x)
    return x


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)


def _reduce(name):
    def reduce(a, axis=None, dtype=None, keepdims=False, **kw):
        t = _t(a)
        if kw.get("out") is not None:
            raise NotTraceable(f"np.{name}(out=...) writes into a constant array")
        if dtype is not None:
            t = t.to(as_dtype(np.dtype(dtype)))
        dims = _axes(axis, t.ndim)
        if name == "prod":
            for d in sorted((d % max(t.ndim, 1) for d in dims), reverse=True):
                t = t.prod(d, keepdim=keepdims) if t.ndim else t
            return Traced(t)
        if not dims:
            return Traced(t)
        return Traced(getattr(t, name)(dim=dims, keepdim=keepdims))
    return reduce


def _const(fn):
    """A NumPy function whose result is piecewise constant: computed on the values."""
    def const(*args, **kwargs):
        vals = [a.t._data if isinstance(a, Traced) else a for a in args]
        return fn(*vals, **kwargs)
    return const


def _where(cond, x=None, y=None):
    if x is None:
        return np.where(_t(cond)._data if isinstance(cond, Traced) else cond)
    c = _t(cond)
    c = c._data if isinstance(c, Tensor) else np.asarray(c)   # a condition is never traced
    return Traced(_lib().where(Tensor(c.astype(bool, copy=False)), _tensor(x, y), _tensor(y, x)))


def _tensor(x, like):
    """``x`` as a Tensor; a Python scalar takes the floating dtype of ``like``."""
    t = _t(x)
    if isinstance(t, Tensor):
        return t
    ref = _t(like)
    dtype = ref._data.dtype if isinstance(ref, Tensor) else np.float64
    return Tensor(np.asarray(t, dtype=dtype))


def _moveaxis(a, source, destination):
    return Traced(_lib().movedim(_t(a), source, destination))


def _transpose(a, axes=None):
    t = _t(a)
    return Traced(t.permute(*(axes if axes is not None else reversed(range(t.ndim)))))


def _swapaxes(a, a1, a2):
    return Traced(_t(a).transpose(a1, a2))


def _broadcast_to(a, shape):
    t = _t(a)
    t = t if isinstance(t, Tensor) else Tensor(np.asarray(t))
    return Traced(t.expand(*tuple(shape)) if tuple(shape) else t.reshape(()))


def _expand_dims(a, axis):
    t = _t(a)
    for d in sorted(_axes(axis, 0)):
        t = t.unsqueeze(d)
    return Traced(t)


def _concatenate(seq, axis=0, **kw):
    ts = [_tensor(x, next(s for s in seq if isinstance(s, Traced))) for x in seq]
    if axis is None:
        ts, axis = [t.reshape(-1) for t in ts], 0
    return Traced(_lib().cat(ts, dim=axis))


def _stack(seq, axis=0, **kw):
    ts = [_tensor(x, next(s for s in seq if isinstance(s, Traced))) for x in seq]
    return Traced(_lib().stack(ts, dim=axis))


def _einsum(subscripts, *operands, **kw):
    kw.pop("optimize", None)
    if kw:
        raise NotTraceable(f"np.einsum({', '.join(kw)}=...) has no recorded form")
    return Traced(_lib().einsum(subscripts, *[_tensor(o, operands[0]) for o in operands]))


def _cum(name):
    def cum(a, axis=None, dtype=None, **kw):
        t = _t(a)
        if axis is None:
            t, axis = t.reshape(-1), 0
        out = getattr(t, name)(axis)
        return Traced(out if dtype is None else out.to(as_dtype(np.dtype(dtype))))
    return cum


def _flip(a, axis=None):
    t = _t(a)
    return Traced(t.flip(_axes(axis, t.ndim)))


def _roll(a, shift, axis=None):
    return Traced(_lib().roll(_t(a), shift, axis))


def _split(a, indices_or_sections, axis=0):
    t = _t(a)
    if isinstance(indices_or_sections, int):
        return [Traced(p) for p in t.chunk(indices_or_sections, axis)]
    bounds = [0, *indices_or_sections, t.shape[axis]]
    return [Traced(t.narrow(axis, lo, max(hi - lo, 0))) for lo, hi in zip(bounds, bounds[1:])]


def _triangle(name):
    def tri(m, k=0):
        return Traced(getattr(_t(m), name)(k))
    return tri


def _take(a, indices, axis=None):
    t = _t(a)
    idx = Tensor(np.asarray(indices, dtype=np.int64))
    if axis is None:
        return Traced(t.reshape(-1)[idx])
    return Traced(t.index_select(axis, idx.reshape(-1)).reshape(
        t.shape[:axis % t.ndim] + tuple(np.shape(indices)) + t.shape[axis % t.ndim + 1:]))


def _ascontiguousarray(a, dtype=None):
    t = _t(a)
    return Traced(t if dtype is None else t.to(as_dtype(np.dtype(dtype))))


def _reshape(a, shape, **kw):
    return Traced(_t(a).reshape(shape))


def _squeeze(a, axis=None):
    t = _t(a)
    return Traced(t.squeeze() if axis is None else t.squeeze(axis))


def _matmul(a, b):
    return Traced(_lib().matmul(_tensor(a, b), _tensor(b, a)))


def _pad(a, pad_width, mode="constant", constant_values=0):
    t = _t(a)
    if mode != "constant":
        raise NotTraceable(f"np.pad(mode={mode!r}) has no recorded form")
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (t.ndim, 2))
    flat = [int(v) for pair in reversed(pw.tolist()) for v in pair]
    return Traced(_lib().pad(t, flat, value=constant_values))


def _clip(a, a_min, a_max, **kw):
    if kw.get("out") is not None:
        raise NotTraceable("np.clip(out=...) writes into a constant array")
    return Traced(_lib().clamp(_t(a), _t(a_min), _t(a_max)))


_FUNCTIONS = {
    np.sum: _reduce("sum"), np.mean: _reduce("mean"), np.prod: _reduce("prod"),
    np.where: _where, np.moveaxis: _moveaxis, np.transpose: _transpose,
    np.swapaxes: _swapaxes, np.broadcast_to: _broadcast_to, np.expand_dims: _expand_dims,
    np.concatenate: _concatenate, np.stack: _stack, np.einsum: _einsum,
    np.cumsum: _cum("cumsum"), np.cumprod: _cum("cumprod"), np.flip: _flip, np.roll: _roll,
    np.split: _split, np.tril: _triangle("tril"), np.triu: _triangle("triu"), np.take: _take,
    np.ascontiguousarray: _ascontiguousarray, np.reshape: _reshape, np.squeeze: _squeeze,
    np.matmul: _matmul, np.pad: _pad, np.clip: _clip,
    np.shape: _const(np.shape), np.ndim: _const(np.ndim), np.size: _const(np.size),
    np.zeros_like: _const(np.zeros_like), np.ones_like: _const(np.ones_like),
    np.empty_like: _const(np.empty_like), np.isfinite: _const(np.isfinite),
    np.isnan: _const(np.isnan), np.isinf: _const(np.isinf), np.argsort: _const(np.argsort),
    np.argmax: _const(np.argmax), np.argmin: _const(np.argmin),
    np.broadcast_shapes: _const(np.broadcast_shapes), np.result_type: _const(np.result_type),
    np.any: _const(np.any), np.all: _const(np.all), np.sign: None,  # ufunc, see below
}
del _FUNCTIONS[np.sign]


def _unary(name):
    def f(x):
        return getattr(_lib(), name)(_t(x))
    return f


def _binary(name):
    def f(x, y):
        return getattr(_lib(), name)(_tensor(x, y), _tensor(y, x))
    return f


def _compare(ufunc):
    def f(*args):
        return ufunc(*[a.t._data if isinstance(a, Traced) else a for a in args])
    return f


_UFUNCS = {
    np.add: _binary("add"), np.subtract: _binary("sub"), np.multiply: _binary("mul"),
    np.true_divide: _binary("div"), np.power: _binary("pow"), np.maximum: _binary("maximum"),
    np.minimum: _binary("minimum"), np.matmul: _binary("matmul"), np.arctan2: _binary("atan2"),
    np.negative: _unary("neg"), np.positive: _unary("positive"), np.absolute: _unary("abs"),
    np.exp: _unary("exp"), np.exp2: _unary("exp2"), np.expm1: _unary("expm1"),
    np.log: _unary("log"), np.log2: _unary("log2"), np.log10: _unary("log10"),
    np.log1p: _unary("log1p"), np.sqrt: _unary("sqrt"), np.square: _unary("square"),
    np.reciprocal: _unary("reciprocal"), np.sign: _unary("sign"), np.sin: _unary("sin"),
    np.cos: _unary("cos"), np.tan: _unary("tan"), np.sinh: _unary("sinh"),
    np.cosh: _unary("cosh"), np.tanh: _unary("tanh"), np.arctan: _unary("atan"),
    np.arcsin: _unary("asin"), np.arccos: _unary("acos"), np.floor: _unary("floor"),
    np.ceil: _unary("ceil"), np.rint: _unary("round"), np.trunc: _unary("trunc"),
    np.floor_divide: _binary("floor_divide"),
    np.conjugate: lambda x: _t(x),
}
for _u in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
           np.isfinite, np.isnan, np.isinf, np.signbit, np.logical_and, np.logical_or,
           np.logical_not):
    _UFUNCS[_u] = _compare(_u)


def _special_ufunc(ufunc):
    """scipy.special's erf / erfc (what ``_erf`` computes with, when SciPy is installed) as
    minidl's erf / erfc; looked up only once a caller has imported scipy.special."""
    special = sys.modules.get("scipy.special")
    if special is not None and ufunc in (special.erf, special.erfc):
        return _unary(ufunc.__name__)
    return None


class Traced:
    """A Tensor behind an ndarray's face (see the module docstring)."""

    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t

    # ---------------------------------------------------------- array metadata
    shape = property(lambda self: tuple(self.t.shape))
    ndim = property(lambda self: self.t.ndim)
    size = property(lambda self: self.t.numel())
    dtype = property(lambda self: self.t._data.dtype)
    T = property(lambda self: _transpose(self))

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
        f = _UFUNCS.get(ufunc) or _special_ufunc(ufunc)
        if f is None:
            raise NotTraceable(f"np.{ufunc.__name__} has no recorded (differentiable) form")
        kwargs.pop("out", None)
        if kwargs:
            raise NotTraceable(f"np.{ufunc.__name__}({', '.join(kwargs)}=...) has no recorded form")
        return _wrap(f(*inputs))

    def __array_function__(self, func, types, args, kwargs):
        f = _FUNCTIONS.get(func)
        if f is None:
            raise NotTraceable(f"np.{func.__name__} has no recorded (differentiable) form")
        return f(*args, **kwargs)

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
        return _reduce("sum")(self, axis, dtype, keepdims, **kw)

    def mean(self, axis=None, dtype=None, keepdims=False, **kw):
        return _reduce("mean")(self, axis, dtype, keepdims, **kw)

    def prod(self, axis=None, dtype=None, keepdims=False, **kw):
        return _reduce("prod")(self, axis, dtype, keepdims, **kw)

    def cumsum(self, axis=None, dtype=None):
        return _cum("cumsum")(self, axis, dtype)

    def astype(self, dtype, copy=True, **kw):
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return Traced(self.t.clone()) if copy else self
        return Traced(self.t.to(as_dtype(dtype)))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _transpose(self, axes or None)

    def swapaxes(self, a1, a2):
        return _swapaxes(self, a1, a2)

    def squeeze(self, axis=None):
        return _squeeze(self, axis)

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


_function.traced = sys.modules[__name__]
