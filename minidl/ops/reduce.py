"""Reductions: sums, means, variances, extrema, norms, cumulative ops and softmax.

A reduction's backward spreads the output gradient back over the reduced dims. ``_expand``
is the one helper that does so (re-inserting the dims a ``keepdim=False`` reduction
dropped, then broadcasting); each backward multiplies it by its local derivative.
"""
import builtins
import collections
import warnings

import numpy as np

from .. import backend
from ..autograd import Kernel
from ..backend import as_dtype, get_default_dtype
from ..tensor import Tensor
from ._util import check_tensor, normalize_dim, normalize_dims
from .elementwise import abs as _abs, _dtype_name, cast, isnan, maximum, minimum, neg, where

__all__ = ["sum", "mean", "var", "std", "var_mean", "std_mean", "max", "min", "amax", "amin",
           "argmax", "argmin", "prod", "logsumexp", "norm", "cumsum", "cumprod", "all", "any",
           "count_nonzero", "softmax", "log_softmax", "median", "nansum", "return_types"]

TENSOR_METHODS = {}
FUNCTIONAL = ["softmax", "log_softmax", "softmin"]


class return_types:
    """Named tuples returned by reductions with indices (``torch.return_types``)."""

    max = collections.namedtuple("max", ["values", "indices"])
    min = collections.namedtuple("min", ["values", "indices"])
    median = collections.namedtuple("median", ["values", "indices"])


# -------------------------------------------------------------------- dim helpers
def _dims(dim, ndim, fn):
    """NumPy axes for ``dim``: None or an empty list mean every dim (torch's rule)."""
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    dims = normalize_dims(dim, ndim, fn)
    return dims if ndim else ()


def _one_dim(dim, ndim, fn):
    """The NumPy axis for a single ``dim`` (None for a 0-d tensor, which has no axis)."""
    d = normalize_dim(dim, ndim, fn)
    return d if ndim else None


def _expand(g, shape, dims, keepdim):
    """Broadcast a reduction's gradient ``g`` back to the input ``shape`` (a read-only view)."""
    if not keepdim and dims:
        g = np.expand_dims(g, dims)
    return np.broadcast_to(g, shape)


def _save_reduced(ctx, x, y, dims, keepdim):
    """Save ``x`` and the keepdim-shaped result ``y`` for backward; return ``y`` as the op's
    output (the reduced dims dropped unless ``keepdim``)."""
    ctx.save_for_backward(x, y)
    ctx.dims, ctx.keepdim = dims, keepdim
    return y if keepdim else np.squeeze(y, axis=dims)


def _unsqueezed(ctx, g):
    """The output gradient with the reduced dims put back as length 1 (see _save_reduced)."""
    return g if ctx.keepdim else np.expand_dims(g, ctx.dims)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _floating(input, fn, dtype=None):
    """``input`` cast to ``dtype`` (if given); torch's error when the result is not floating."""
    check_tensor(input, fn)
    if dtype is not None:
        input = cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_dtype_name(input)}")
    return input


def _sum_dtype(input, dtype):
    """torch's accumulation dtype: bool and integers sum in int64 unless ``dtype`` is given."""
    if dtype is not None:
        return as_dtype(dtype).np
    return np.dtype(np.int64) if input._data.dtype.kind in "iub" else input._data.dtype


# ------------------------------------------------------------------------ sums
class Sum(Kernel):
    """y = sum of x over dims; dy/dx = 1."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return np.sum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand(g, ctx.shape, ctx.dims, ctx.keepdim)


class Mean(Kernel):
    """y = sum of x over dims / n; dy/dx = 1/n."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.n = _count(x.shape, dims)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.mean(x, axis=dims, keepdims=keepdim) if ctx.n else \
                np.full(np.sum(x, axis=dims, keepdims=keepdim).shape, np.nan, x.dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand(g / ctx.n if ctx.n else g, ctx.shape, ctx.dims, ctx.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum over ``dim`` (an int, a tuple, or None for all); bool/int sum to int64."""
    check_tensor(input, "sum")
    if isinstance(dim, backend.dtype):  # sum(input, dtype) positionally
        dim, dtype = None, dim
    dims = _dims(dim, input.ndim, "sum")
    return Sum.apply(input, dims, builtins.bool(keepdim), _sum_dtype(input, dtype))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """``sum`` treating NaN as zero."""
    check_tensor(input, "nansum")
    if input._data.dtype.kind == "f":
        input = where(isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Average over ``dim``; integer inputs need ``dtype=`` (as in torch)."""
    if isinstance(dim, backend.dtype):
        dim, dtype = None, dim
    x = _floating(input, "mean", dtype)
    return Mean.apply(x, _dims(dim, x.ndim, "mean"), builtins.bool(keepdim))


# ------------------------------------------------------------- variance / std
def _deviations(ctx, x, dims, correction, keepdim):
    """(x - mean, variance) over ``dims``; records the shape and the divisor n - c on ctx."""
    ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
    d = x - np.mean(x, axis=dims, keepdims=True) if x.size else x
    ctx.denom = builtins.max(_count(x.shape, dims) - correction, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return d, np.divide(np.sum(d * d, axis=dims, keepdims=keepdim), ctx.denom, dtype=x.dtype)


class Var(Kernel):
    """v = sum (x - mean)^2 / (n - c); dv/dx = 2 (x - mean) / (n - c)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        d, v = _deviations(ctx, x, dims, correction, keepdim)
        ctx.save_for_backward(d)
        return v

    @staticmethod
    def backward(ctx, g):
        d, = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            return _expand(g * (2.0 / ctx.denom if ctx.denom else np.inf), ctx.shape, ctx.dims,
                           ctx.keepdim) * d


class Std(Kernel):
    """s = sqrt(var); ds/dx = (x - mean) / ((n - c) s), taken as 0 where s = 0."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        d, v = _deviations(ctx, x, dims, correction, keepdim)
        s = np.sqrt(v)
        ctx.save_for_backward(d, s)
        return s

    @staticmethod
    def backward(ctx, g):
        d, s = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(s == 0, 0.0, g / (s * ctx.denom if ctx.denom else 0.0))
        return _expand(scale.astype(g.dtype, copy=False), ctx.shape, ctx.dims, ctx.keepdim) * d


def _var_args(fn, input, dim, unbiased, keepdim, correction):
    """Resolve torch's overloads: (dim, unbiased, keepdim), (unbiased) and correction=."""
    x = check_tensor(input, fn)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): std and var only support floating point and complex dtypes "
                           f"(got {_dtype_name(x)})")
    if isinstance(dim, builtins.bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{fn}(): cannot specify both unbiased and correction")
    c = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    dims = _dims(dim, x.ndim, fn)
    if _count(x.shape, dims) - c <= 0:
        warnings.warn(f"{fn}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      stacklevel=3)
    return x, dims, c, builtins.bool(keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False``: 0)."""
    return Var.apply(*_var_args("var", input, dim, unbiased, keepdim, correction))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim``; see ``var``."""
    return Std.apply(*_var_args("std", input, dim, unbiased, keepdim, correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over the same dims."""
    x, dims, c, k = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return Var.apply(x, dims, c, k), Mean.apply(x, dims, k)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over the same dims."""
    x, dims, c, k = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return Std.apply(x, dims, c, k), Mean.apply(x, dims, k)


# -------------------------------------------------------------------- extrema
class Extreme(Kernel):
    """y = max (or min) of x over dims; the gradient is split evenly among tied extrema."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, fn):
        y = fn(x, axis=dims, keepdims=True)
        return _save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        hit = x == y
        count = np.sum(hit, axis=ctx.dims, keepdims=True, dtype=g.dtype)
        g = _unsqueezed(ctx, g)
        return hit * (g / count)


class Select(Kernel):
    """y = x at ``index`` along ``axis`` (max/min/median with dim), or at one flat index when
    ``axis`` is None (a 0-d result); dy/dx = 1 at the index, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, index, axis, keepdim):
        ctx.shape, ctx.axis, ctx.keepdim, ctx.index = x.shape, axis, keepdim, index
        if axis is None:
            return x.reshape(-1)[index:index + 1].reshape(()).copy()
        y = np.take_along_axis(x, index, axis=axis)
        return y if keepdim else np.squeeze(y, axis=axis)

    @staticmethod
    def backward(ctx, g):
        axis = ctx.axis
        gx = np.zeros(ctx.shape, g.dtype)
        if axis is None:
            gx.reshape(-1)[ctx.index] = g
            return gx, None
        g = g if ctx.keepdim else np.expand_dims(g, axis)
        np.put_along_axis(gx, ctx.index, g, axis=axis)
        return gx, None


def _check_nonempty(x, dims, fn):
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {d} to have non-zero size.")
    if not dims and x.numel() == 0:
        raise RuntimeError(f"{fn}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")


def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over ``dim`` (all dims by default); ties share the gradient evenly."""
    check_tensor(input, "amax")
    dims = _dims(dim, input.ndim, "amax")
    _check_nonempty(input, dims, "amax")
    return Extreme.apply(input, dims, builtins.bool(keepdim), np.max)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over ``dim`` (all dims by default); ties share the gradient evenly."""
    check_tensor(input, "amin")
    dims = _dims(dim, input.ndim, "amin")
    _check_nonempty(input, dims, "amin")
    return Extreme.apply(input, dims, builtins.bool(keepdim), np.min)


def _arg_extreme(x, dim, keepdim, argfn, fn):
    """(index array along axis with kept dim, axis) for argmax/argmin/median."""
    axis = _one_dim(dim, x.ndim, fn)
    a = x._data
    if axis is None:  # 0-d
        return np.zeros((), np.int64), None
    if a.shape[axis] == 0:
        raise IndexError(f"{fn}(): Expected reduction dim {axis} to have non-zero size.")
    return np.expand_dims(argfn(a, axis=axis), axis).astype(np.int64, copy=False), axis


def _extreme_dim(input, dim, keepdim, argfn, fn, name):
    """The (values, indices) namedtuple of max/min/median along ``dim``."""
    idx, axis = _arg_extreme(input, dim, keepdim, argfn, name)
    if axis is None:  # a 0-d input is its own max/min/median
        return fn(Select.apply(input, 0, None, False), Tensor(np.zeros((), np.int64)))
    values = Select.apply(input, idx, axis, builtins.bool(keepdim))
    indices = idx if keepdim else np.squeeze(idx, axis=axis)
    return fn(values, Tensor(indices))


def _min_max(input, dim, keepdim, other, name, npfn, argfn, pair, ret):
    check_tensor(input, name)
    if isinstance(dim, Tensor):  # max(input, other)
        other, dim = dim, None
    if other is not None:
        return pair(input, other)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}(): keepdim needs a dim")
        _check_nonempty(input, (), name)
        return Extreme.apply(input, tuple(range(input.ndim)), False, npfn)
    return _extreme_dim(input, dim, keepdim, argfn, ret, name)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """max(input) -> tensor; max(input, dim, keepdim) -> (values, indices);
    max(input, other_tensor) -> elementwise maximum."""
    return _min_max(input, dim, keepdim, other, "max", np.max, np.argmax, maximum,
                    return_types.max)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """min(input) -> tensor; min(input, dim, keepdim) -> (values, indices);
    min(input, other_tensor) -> elementwise minimum."""
    return _min_max(input, dim, keepdim, other, "min", np.min, np.argmin, minimum,
                    return_types.min)


def _argfn(input, dim, keepdim, npfn, name):
    check_tensor(input, name)
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             f"input.numel() == 0.")
        i = np.asarray(npfn(a.reshape(-1)), dtype=np.int64)
        return Tensor(i.reshape((1,) * a.ndim) if keepdim else i)
    idx, axis = _arg_extreme(input, dim, keepdim, npfn, name)
    if axis is None:
        return Tensor(idx)
    return Tensor(idx if keepdim else np.squeeze(idx, axis=axis))


def argmax(input, dim=None, keepdim=False):
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None."""
    return _argfn(input, dim, keepdim, np.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the (first) minimum, over the flattened tensor when ``dim`` is None."""
    return _argfn(input, dim, keepdim, np.argmin, "argmin")


def _lower_median_index(a, axis):
    """Index of the lower median along ``axis`` (torch returns the lower of two middles)."""
    k = (a.shape[axis] - 1) // 2
    order = np.argsort(a, axis=axis, kind="stable")
    return np.take(order, k, axis=axis)


def median(input, dim=None, keepdim=False):
    """median(input) -> the lower median of all elements; median(input, dim) -> (values,
    indices)."""
    check_tensor(input, "median")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
    if dim is None:
        a = input._data.reshape(-1)
        if a.size == 0:
            return Tensor(np.array(np.nan, input._data.dtype))
        return Select.apply(input, builtins.int(_lower_median_index(a, 0)), None, False)
    return _extreme_dim(input, dim, keepdim, _lower_median_index, return_types.median,
                        "median")


# -------------------------------------------------------------------- products
class Prod(Kernel):
    """y = prod x over dims; dy/dx_i = prod_{j != i} x_j (exact with zeros in x)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        y = np.prod(x, axis=dims, keepdims=True, dtype=dtype)
        return _save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        dims = ctx.dims
        g = _unsqueezed(ctx, g)
        zero = x == 0
        if not zero.any():
            return g * (y / x)
        zeros = np.sum(zero, axis=dims, keepdims=True)
        others = np.prod(np.where(zero, 1, x), axis=dims, keepdims=True)  # product without 0s
        with np.errstate(divide="ignore", invalid="ignore"):
            local = np.where(zeros == 0, y / np.where(zero, 1, x),
                             np.where(zero & (zeros == 1), others, 0))
        return (g * local).astype(g.dtype, copy=False)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over all elements or along one ``dim``; bool/int multiply in int64."""
    check_tensor(input, "prod")
    if isinstance(dim, backend.dtype):
        dim, dtype = None, dim
    if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = _dims(dim, input.ndim, "prod")
    if dim is None:
        keepdim = False
    return Prod.apply(input, dims, builtins.bool(keepdim), _sum_dtype(input, dtype))


class Cumsum(Kernel):
    """y_i = sum_{j<=i} x_j; dL/dx_i = sum_{j>=i} dL/dy_j (a reversed cumsum)."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=dtype).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        a = ctx.axis
        if a is None:  # 0-d
            return g
        return np.flip(np.cumsum(np.flip(g, a), axis=a), a)


class Cumprod(Kernel):
    """y_i = prod_{j<=i} x_j; dL/dx_i = sum_{j>=i} g_j y_j / x_i, with care at zeros."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        y = np.cumprod(x, axis=axis, dtype=dtype).reshape(x.shape)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        a = ctx.axis
        if a is None:  # 0-d
            return g

        def rev_cumsum(v):
            return np.flip(np.cumsum(np.flip(v, a), axis=a), a)

        zero = x == 0
        if not zero.any():
            return rev_cumsum(g * y) / x
        # Before the first zero of a slice the formula above holds; after it the gradient
        # is 0; at the first zero z it is sum_{j>=z} g_j prod_{k<=j, k!=z} x_k.
        seen = np.cumsum(zero, axis=a)
        first = zero & (seen == 1)
        before = seen == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = np.where(before, rev_cumsum(g * y) / np.where(before, x, 1), 0.0)
            skip_first = np.cumprod(np.where(first, 1, x), axis=a)
            gx = np.where(first, rev_cumsum(g * skip_first), gx)
        return gx.astype(g.dtype, copy=False)


def _cumulative(kernel, name):
    def op(input, dim, *, dtype=None, out=None):
        check_tensor(input, name)
        axis = _one_dim(dim, input.ndim, name)  # None for a 0-d input
        return kernel.apply(input, axis, _sum_dtype(input, dtype))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = kernel.__doc__
    return op


cumsum = _cumulative(Cumsum, "cumsum")
cumprod = _cumulative(Cumprod, "cumprod")


class LogSumExp(Kernel):
    """y = ln sum e^x (shifted by the max for stability); dy/dx = e^(x - y) (softmax)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        m = np.max(x, axis=dims, keepdims=True) if x.size else np.zeros(
            np.sum(x, axis=dims, keepdims=True).shape, x.dtype)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        return _save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _unsqueezed(ctx, g)
        with np.errstate(invalid="ignore"):
            return g * np.exp(x - y)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over ``dim``, computed without overflow."""
    check_tensor(input, "logsumexp")
    x = input if input._data.dtype.kind == "f" else cast(input, get_default_dtype())
    return LogSumExp.apply(x, _dims(dim, x.ndim, "logsumexp"), builtins.bool(keepdim))


# ----------------------------------------------------------------------- norms
class Norm2(Kernel):
    """y = sqrt(sum x^2); dy/dx = x / y (0 where y = 0)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = np.sqrt(np.sum(x * x, axis=dims, keepdims=True))
        return _save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _unsqueezed(ctx, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(y == 0, 0.0, g / y).astype(g.dtype, copy=False)
        return scale * x


class NormP(Kernel):
    """y = (sum |x|^p)^(1/p); dy/dx = sign(x) |x|^(p-1) / y^(p-1) (0 where x = 0 or y = 0);
    p = 0 counts the nonzeros (zero gradient)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, p):
        a = np.abs(x)
        if p == 0:
            y = np.sum(a != 0, axis=dims, keepdims=True, dtype=x.dtype)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                y = np.power(np.sum(np.power(a, p), axis=dims, keepdims=True), 1.0 / p)
        ctx.p = p
        return _save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return np.zeros(x.shape, g.dtype)
        g = _unsqueezed(ctx, g)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            local = np.sign(x) * np.power(np.abs(x), p - 1) / np.power(y, p - 1)
            local = np.where((x == 0) | (y == 0), 0.0, local)
        return (g * local).astype(g.dtype, copy=False)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); p = 'fro', a number, or +/-inf."""
    check_tensor(input, "norm")
    if dtype is not None:
        input = cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_dtype_name(input)}")
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(p={p!r}) is not supported: use p='fro' or a number "
                                      f"(matrix norms such as 'nuc' live in minidl.linalg)")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(map(str, dim))} (norm(p='fro') takes one or two dims)")
        p = 2
    dims = _dims(dim, input.ndim, "norm")
    k = builtins.bool(keepdim)
    if p == 2:
        return Norm2.apply(input, dims, k)
    if p == float("inf"):
        return amax(_abs(input), dims, k)
    if p == -float("inf"):
        return amin(_abs(input), dims, k)
    if p == 1:
        return sum(_abs(input), dims, k)
    return NormP.apply(input, dims, k, float(p))


# ----------------------------------------------------------------- logical
def _logical_reduce(npfn, name):
    def op(input, dim=None, keepdim=False, *, out=None):
        check_tensor(input, name)
        a = input._data
        r = npfn(a, axis=_dims(dim, a.ndim, name), keepdims=builtins.bool(keepdim))
        return Tensor(np.asarray(r, np.uint8 if a.dtype == np.uint8 else np.bool_))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Whether {name} elements are nonzero, over ``dim`` (all by default)."
    return op


all = _logical_reduce(np.all, "all")
any = _logical_reduce(np.any, "any")


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64)."""
    check_tensor(input, "count_nonzero")
    a = input._data
    return Tensor(np.asarray(np.count_nonzero(a, axis=_dims(dim, a.ndim, "count_nonzero")),
                             np.int64))


# ---------------------------------------------------------------------- softmax
class Softmax(Kernel):
    """y = e^(x - max) / sum e^(x - max); dL/dx = y (g - sum(g y))."""

    @staticmethod
    def forward(ctx, x, axis):
        y = np.asarray(x - np.max(x, axis=axis, keepdims=True)) if x.size else x.copy()
        np.exp(y, out=y)
        y /= np.sum(y, axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        gy = g * y
        gy -= y * np.sum(gy, axis=ctx.axis, keepdims=True)
        return gy


class LogSoftmax(Kernel):
    """y = x - max - ln sum e^(x - max); dL/dx = g - e^y sum(g)."""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = x - np.max(x, axis=axis, keepdims=True) if x.size else x.copy()
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - np.exp(y) * np.sum(g, axis=ctx.axis, keepdims=True)


def _softmax_args(input, dim, dtype, stacklevel, fn):
    """(input cast to dtype, numpy axis); F.softmax's implicit dim when ``dim`` is None."""
    check_tensor(input, fn)
    if isinstance(stacklevel, backend.dtype):  # torch.softmax(input, dim, dtype) positionally
        dtype = stacklevel
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call "
                      f"to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{fn}\" not implemented for '{_dtype_name(input)}' (cast "
                                  f"the input to a floating dtype or pass dtype=)")
    return input, _one_dim(dim, input.ndim, fn)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "softmax")
    return Softmax.apply(x, axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed without forming softmax."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "log_softmax")
    return LogSoftmax.apply(x, axis)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "softmin")
    return Softmax.apply(neg(x), axis)


TENSOR_METHODS.update({
    "sum": sum, "nansum": nansum, "mean": mean, "var": var, "std": std, "max": max, "min": min,
    "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin, "prod": prod,
    "logsumexp": logsumexp, "norm": norm, "cumsum": cumsum, "cumprod": cumprod, "all": all,
    "any": any, "count_nonzero": count_nonzero, "median": median,
    "softmax": lambda self, dim, dtype=None: softmax(self, dim, dtype=dtype),
    "log_softmax": lambda self, dim, dtype=None: log_softmax(self, dim, dtype=dtype),
    "cumsum_": lambda self, dim, *, dtype=None: self._inplace(cumsum, dim, dtype=dtype),
    "cumprod_": lambda self, dim, *, dtype=None: self._inplace(cumprod, dim, dtype=dtype),
})
