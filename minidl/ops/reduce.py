"""Reductions: sums, means, variances, products, cumulative ops, logsumexp, any / all.

A reduction's backward spreads the output gradient back over the reduced dims. ``_expand``
is the one helper that does so (re-inserting the dims a ``keepdim=False`` reduction
dropped, then broadcasting); each backward multiplies it by its local derivative.
Extrema live in ``extrema``, vector norms in ``vector_norm``, softmax in ``activation``.
"""
import builtins
import warnings

import numpy as np

from .. import backend
from .._out import takes_out
from ..autograd import Kernel
from ..backend import as_dtype, get_default_dtype
from ..tensor import Tensor
from ._operands import dtype_name
from ._reduce_dims import (
    reduction_axis,
    reduction_dims,
    save_reduced,
    saved_reduced,
    unsqueeze_reduced,
)
from ._util import check_tensor
from .binary import where
from .cast import cast
from .compare import isnan

__all__ = ["sum", "mean", "var", "std", "var_mean", "std_mean", "prod", "logsumexp", "cumsum",
           "cumprod", "all", "any", "count_nonzero", "nansum"]


# -------------------------------------------------------------------- helpers
def _expand(g, shape, dims, keepdim):
    """Broadcast a reduction's gradient ``g`` back to the input ``shape`` (a read-only view)."""
    if not keepdim and dims:
        g = np.expand_dims(g, dims)
    return np.broadcast_to(g, shape)


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
                           f"floating point or complex dtype. Got: {dtype_name(input)}")
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


@takes_out(dtypes="dtype")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (an int, a tuple, or None for all); bool/int sum to int64."""
    check_tensor(input, "sum")
    if isinstance(dim, backend.dtype):  # sum(input, dtype) positionally
        dim, dtype = None, dim
    dims = reduction_dims(dim, input.ndim, "sum")
    return Sum.apply(input, dims, builtins.bool(keepdim), _sum_dtype(input, dtype))


@takes_out
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """``sum`` treating NaN as zero."""
    check_tensor(input, "nansum")
    if input._data.dtype.kind == "f":
        input = where(isnan(input), 0.0, input)
    return sum(input, dim, keepdim, dtype=dtype)


@takes_out
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Average over ``dim``; integer inputs need ``dtype=`` (as in torch)."""
    if isinstance(dim, backend.dtype):
        dim, dtype = None, dim
    x = _floating(input, "mean", dtype)
    return Mean.apply(x, reduction_dims(dim, x.ndim, "mean"), builtins.bool(keepdim))


# ------------------------------------------------------------- variance / std
def _deviations(ctx, x, dims, correction, keepdim):
    """(x - mean, variance) over ``dims``; records the shape and the divisor n - c on ctx."""
    ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
    d = x - np.mean(x, axis=dims, keepdims=True) if x.size else x
    ctx.denom = builtins.max(_count(x.shape, dims) - correction, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return d, np.divide(np.sum(d * d, axis=dims, keepdims=keepdim), ctx.denom, dtype=x.dtype)


def _saved_deviations(ctx):
    """x - mean over the reduced dims: kept from forward on the array path, recomputed from
    the saved input when the backward is recorded (there it depends on x)."""
    x = ctx.saved_tensors[0]
    if isinstance(x, np.ndarray):
        return ctx.d
    return x - np.mean(x, axis=ctx.dims, keepdims=True)


class Var(Kernel):
    """v = sum (x - mean)^2 / (n - c); dv/dx = 2 (x - mean) / (n - c)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.d, v = _deviations(ctx, x, dims, correction, keepdim)
        ctx.save_for_backward(x)
        return v

    @staticmethod
    def backward(ctx, g):
        d = _saved_deviations(ctx)
        with np.errstate(invalid="ignore", divide="ignore"):
            return _expand(g * (2.0 / ctx.denom if ctx.denom else np.inf), ctx.shape, ctx.dims,
                           ctx.keepdim) * d


class Std(Kernel):
    """s = sqrt(var); ds/dx = (x - mean) / ((n - c) s), taken as 0 where s = 0."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.d, v = _deviations(ctx, x, dims, correction, keepdim)
        s = np.asarray(np.sqrt(v))  # a 0-d result stays an array
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, g):
        d, s = _saved_deviations(ctx), ctx.saved_tensors[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(s == 0, 0.0, g / (s * ctx.denom if ctx.denom else 0.0))
        return _expand(scale.astype(g.dtype, copy=False), ctx.shape, ctx.dims, ctx.keepdim) * d


def _var_args(fn, input, dim, unbiased, keepdim, correction):
    """Resolve torch's overloads: (dim, unbiased, keepdim), (unbiased) and correction=."""
    x = check_tensor(input, fn)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): std and var only support floating point and complex dtypes "
                           f"(got {dtype_name(x)})")
    if isinstance(dim, builtins.bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{fn}(): cannot specify both unbiased and correction")
    c = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    dims = reduction_dims(dim, x.ndim, fn)
    if _count(x.shape, dims) - c <= 0:
        warnings.warn(f"{fn}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      stacklevel=3)
    return x, dims, c, builtins.bool(keepdim)


@takes_out
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False``: 0)."""
    return Var.apply(*_var_args("var", input, dim, unbiased, keepdim, correction))


@takes_out
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
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


# ------------------------------------------------------- products / cumulative
class Prod(Kernel):
    """y = prod x over dims (one dim or all); dy/dx_i = prod_{j != i} x_j: y / x_i without
    zeros, else products of the elements before and after i (exact and differentiable with
    zeros, as torch's prod_safe_zeros_backward)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        y = np.prod(x, axis=dims, keepdims=True, dtype=dtype)
        return save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = saved_reduced(ctx)
        g = unsqueeze_reduced(ctx, g)
        if not np.any(x == 0):
            return g * (y / x)
        if len(ctx.dims) == 1:
            return g * _exclusive_products(x, ctx.dims[0])
        return g * _exclusive_products(x.reshape(-1), 0).reshape(x.shape)


def _exclusive_products(x, axis):
    """prod_{j != i} x_j along ``axis`` for every i: the product of the elements before i
    (a cumprod shifted by one) times that of the elements after i (the same, reversed)."""
    n = x.shape[axis]
    ones = np.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], x.dtype)
    head = (slice(None),) * axis + (slice(0, n - 1),)

    def shifted_cumprod(v):
        return np.cumprod(np.concatenate([ones, v[head]], axis=axis), axis=axis)
    return shifted_cumprod(x) * np.flip(shifted_cumprod(np.flip(x, axis)), axis)


@takes_out(dtypes="dtype")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over all elements or along one ``dim``; bool/int multiply in int64."""
    check_tensor(input, "prod")
    if isinstance(dim, backend.dtype):
        dim, dtype = None, dim
    if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = reduction_dims(dim, input.ndim, "prod")
    if dim is None and keepdim:
        raise TypeError("prod(): keepdim needs a dim")
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
        if not isinstance(x, np.ndarray):  # recorded: a form whose derivative is right at 0s
            return _cumprod_grad_omitting(x, g, a)
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


def _cumprod_grad_omitting(x, g, a):
    """dL/dx_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i along axis ``a``, for every k at
    once (an n x n product table): O(n^2), but, unlike the O(n) form above, its own
    derivative is the second derivative of cumprod where x has zeros (torch does the same
    when the backward is recorded)."""
    n = x.shape[a]
    k = np.arange(n).reshape((n,) + (1,) * a + (1,) + (1,) * (x.ndim - a - 1))
    j = np.arange(n).reshape((1,) + (1,) * a + (n,) + (1,) * (x.ndim - a - 1))
    table = np.cumprod(np.where(k == j, 1, x[None]), axis=a + 1)  # [k, .., j, ..]
    return np.moveaxis(np.sum(np.where(j >= k, g[None] * table, 0), axis=a + 1), 0, a)


def _cumulative(kernel, name):
    def op(input, dim, *, dtype=None):
        check_tensor(input, name)
        axis = reduction_axis(dim, input.ndim, name)  # None for a 0-d input
        if dtype is not None and as_dtype(dtype) == backend.bool:
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        return kernel.apply(input, axis, _sum_dtype(input, dtype))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = kernel.__doc__
    return takes_out(dtypes="dtype")(op)


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
        return save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = saved_reduced(ctx)
        g = unsqueeze_reduced(ctx, g)
        with np.errstate(invalid="ignore"):
            return g * np.exp(x - y)


@takes_out
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over ``dim``, computed without overflow."""
    check_tensor(input, "logsumexp")
    x = input if input._data.dtype.kind == "f" else cast(input, get_default_dtype())
    return LogSumExp.apply(x, reduction_dims(dim, x.ndim, "logsumexp"), builtins.bool(keepdim))


# ----------------------------------------------------------------- logical
def _logical_reduce(npfn, name):
    def op(input, dim=None, keepdim=False):
        check_tensor(input, name)
        a = input._data
        r = npfn(a, axis=reduction_dims(dim, a.ndim, name), keepdims=builtins.bool(keepdim))
        return Tensor(np.asarray(r, np.uint8 if a.dtype == np.uint8 else np.bool_))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Whether {name} elements are nonzero, over ``dim`` (all by default)."
    return takes_out(dtypes="exact")(op)


all = _logical_reduce(np.all, "all")
any = _logical_reduce(np.any, "any")


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64)."""
    check_tensor(input, "count_nonzero")
    a = input._data
    axes = reduction_dims(dim, a.ndim, "count_nonzero")
    return Tensor(np.asarray(np.count_nonzero(a, axis=axes), np.int64))


def cumsum_(self, dim, *, dtype=None):
    """``Tensor.cumsum_``: the running sum written back into ``self``."""
    return self._inplace(cumsum, dim, dtype=dtype)


def cumprod_(self, dim, *, dtype=None):
    """``Tensor.cumprod_``: the running product written back into ``self``."""
    return self._inplace(cumprod, dim, dtype=dtype)
