"""NumPy's functions and ufuncs on traced values (see ``_traced``): each maps onto the
differentiable minidl op and returns a Tensor (``Traced`` wraps it again). Results that are
piecewise constant (comparisons, ``np.shape``, ``argsort``...) are computed on the values."""
import sys
import types

import numpy as np

from ..backend import as_dtype
from ..tensor import Tensor

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
    """A backward tried to leave the recorded world (see ``_traced``)."""


class TracedValue:
    """The base of the traced wrapper: a Tensor in ``t`` (what these functions unwrap)."""

    __slots__ = ("t",)


def _t(x):
    """The Tensor (or Python scalar) for an operand of a traced expression."""
    if isinstance(x, TracedValue):
        return x.t
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if isinstance(x, np.generic):
        return x.item()
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
            return t
        if not dims:
            return t
        return getattr(t, name)(dim=dims, keepdim=keepdims)
    return reduce


def _const(fn):
    """A NumPy function whose result is piecewise constant: computed on the values."""
    def const(*args, **kwargs):
        vals = [a.t._data if isinstance(a, TracedValue) else a for a in args]
        return fn(*vals, **kwargs)
    return const


def _where(cond, x=None, y=None):
    if x is None:
        return np.where(_t(cond)._data if isinstance(cond, TracedValue) else cond)
    c = _t(cond)
    c = c._data if isinstance(c, Tensor) else np.asarray(c)   # a condition is never traced
    return _lib().where(Tensor(c.astype(bool, copy=False)), _tensor(x, y), _tensor(y, x))


def _tensor(x, like):
    """``x`` as a Tensor; a Python scalar takes the floating dtype of ``like``."""
    t = _t(x)
    if isinstance(t, Tensor):
        return t
    ref = _t(like)
    dtype = ref._data.dtype if isinstance(ref, Tensor) else np.float64
    return Tensor(np.asarray(t, dtype=dtype))


def _moveaxis(a, source, destination):
    return _lib().movedim(_t(a), source, destination)


def _transpose(a, axes=None):
    t = _t(a)
    return t.permute(*(axes if axes is not None else reversed(range(t.ndim))))


def _swapaxes(a, a1, a2):
    return _t(a).transpose(a1, a2)


def _broadcast_to(a, shape):
    t = _t(a)
    t = t if isinstance(t, Tensor) else Tensor(np.asarray(t))
    return t.expand(*tuple(shape)) if tuple(shape) else t.reshape(())


def _expand_dims(a, axis):
    t = _t(a)
    for d in sorted(_axes(axis, 0)):
        t = t.unsqueeze(d)
    return t


def _concatenate(seq, axis=0, **kw):
    ts = [_tensor(x, next(s for s in seq if isinstance(s, TracedValue))) for x in seq]
    if axis is None:
        ts, axis = [t.reshape(-1) for t in ts], 0
    return _lib().cat(ts, dim=axis)


def _stack(seq, axis=0, **kw):
    ts = [_tensor(x, next(s for s in seq if isinstance(s, TracedValue))) for x in seq]
    return _lib().stack(ts, dim=axis)


def _einsum(subscripts, *operands, **kw):
    kw.pop("optimize", None)
    if kw:
        raise NotTraceable(f"np.einsum({', '.join(kw)}=...) has no recorded form")
    return _lib().einsum(subscripts, *[_tensor(o, operands[0]) for o in operands])


def _cum(name):
    def cum(a, axis=None, dtype=None, **kw):
        t = _t(a)
        if axis is None:
            t, axis = t.reshape(-1), 0
        out = getattr(t, name)(axis)
        return out if dtype is None else out.to(as_dtype(np.dtype(dtype)))
    return cum


def _flip(a, axis=None):
    t = _t(a)
    return t.flip(_axes(axis, t.ndim))


def _roll(a, shift, axis=None):
    return _lib().roll(_t(a), shift, axis)


def _split(a, indices_or_sections, axis=0):
    t = _t(a)
    if isinstance(indices_or_sections, int):
        return list(t.chunk(indices_or_sections, axis))
    bounds = [0, *indices_or_sections, t.shape[axis]]
    return [t.narrow(axis, lo, max(hi - lo, 0)) for lo, hi in zip(bounds, bounds[1:])]


def _triangle(name):
    def tri(m, k=0):
        return getattr(_t(m), name)(k)
    return tri


def _take(a, indices, axis=None):
    t = _t(a)
    idx = Tensor(np.asarray(indices, dtype=np.int64))
    if axis is None:
        return t.reshape(-1)[idx]
    return (t.index_select(axis, idx.reshape(-1)).reshape(
        t.shape[:axis % t.ndim] + tuple(np.shape(indices)) + t.shape[axis % t.ndim + 1:]))


def _ascontiguousarray(a, dtype=None):
    t = _t(a)
    return t if dtype is None else t.to(as_dtype(np.dtype(dtype)))


def _reshape(a, shape, **kw):
    return _t(a).reshape(shape)


def _squeeze(a, axis=None):
    t = _t(a)
    return t.squeeze() if axis is None else t.squeeze(axis)


def _matmul(a, b):
    return _lib().matmul(_tensor(a, b), _tensor(b, a))


def _pad(a, pad_width, mode="constant", constant_values=0):
    t = _t(a)
    if mode != "constant":
        raise NotTraceable(f"np.pad(mode={mode!r}) has no recorded form")
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (t.ndim, 2))
    flat = [int(v) for pair in reversed(pw.tolist()) for v in pair]
    return _lib().pad(t, flat, value=constant_values)


def _clip(a, a_min, a_max, **kw):
    if kw.get("out") is not None:
        raise NotTraceable("np.clip(out=...) writes into a constant array")
    return _lib().clamp(_t(a), _t(a_min), _t(a_max))


FUNCTIONS = {
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
    np.any: _const(np.any), np.all: _const(np.all),
}


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
        return ufunc(*[a.t._data if isinstance(a, TracedValue) else a for a in args])
    return f


UFUNCS = {
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
    UFUNCS[_u] = _compare(_u)


def special_ufunc(ufunc):
    """scipy.special's erf / erfc (what ``_erf`` computes with, when SciPy is installed) as
    minidl's erf / erfc; looked up only once a caller has imported scipy.special."""
    special = sys.modules.get("scipy.special")
    if special is not None and ufunc in (special.erf, special.erfc):
        return _unary(ufunc.__name__)
    return None
