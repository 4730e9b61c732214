"""Extrema: max / min (values, with indices along a dim), amax / amin, argmax / argmin, median.

A full reduction (amax, max without dim) shares the gradient evenly among tied extrema; a
reduction along a dim that returns indices sends it to the selected element only.
"""
import builtins
import collections
import math

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._reduce_dims import (
    reduction_axis,
    reduction_dims,
    save_reduced,
    saved_reduced,
    unsqueeze_reduced,
)
from ._util import check_tensor
from .binary import maximum, minimum
from .sort import put_along

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "median", "return_types"]


class return_types:
    """Named tuples returned by reductions with indices (``torch.return_types``)."""

    max = collections.namedtuple("max", ["values", "indices"])
    min = collections.namedtuple("min", ["values", "indices"])
    median = collections.namedtuple("median", ["values", "indices"])


class Extreme(Kernel):
    """y = max (or min) of x over dims; the gradient is split evenly among tied extrema."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, fn):
        y = fn(x, axis=dims, keepdims=True)
        return save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = saved_reduced(ctx)
        hit = x == y
        count = np.sum(hit, axis=ctx.dims, keepdims=True, dtype=g.dtype)
        g = unsqueeze_reduced(ctx, g)
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
        if axis is None:
            flat = put_along(g.reshape(1), np.array([ctx.index]), 0, (math.prod(ctx.shape),))
            return flat.reshape(ctx.shape), None
        g = g if ctx.keepdim else np.expand_dims(g, axis)
        return put_along(g, ctx.index, axis, ctx.shape), None


def _check_nonempty(x, dims, fn):
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {d} to have non-zero size.")
    if not dims and x.numel() == 0:
        raise RuntimeError(f"{fn}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")


@takes_out(dtypes="exact")
def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all dims by default); ties share the gradient evenly."""
    check_tensor(input, "amax")
    dims = reduction_dims(dim, input.ndim, "amax")
    _check_nonempty(input, dims, "amax")
    return Extreme.apply(input, dims, builtins.bool(keepdim), np.max)


@takes_out(dtypes="exact")
def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (all dims by default); ties share the gradient evenly."""
    check_tensor(input, "amin")
    dims = reduction_dims(dim, input.ndim, "amin")
    _check_nonempty(input, dims, "amin")
    return Extreme.apply(input, dims, builtins.bool(keepdim), np.min)


def _arg_extreme(x, dim, keepdim, argfn, fn):
    """(index array along axis with kept dim, axis) for argmax/argmin/median."""
    axis = reduction_axis(dim, x.ndim, fn)
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


@takes_out
def max(input, dim=None, keepdim=False, *, other=None):
    """max(input) -> tensor; max(input, dim, keepdim) -> (values, indices);
    max(input, other_tensor) -> elementwise maximum."""
    return _min_max(input, dim, keepdim, other, "max", np.max, np.argmax, maximum,
                    return_types.max)


@takes_out
def min(input, dim=None, keepdim=False, *, other=None):
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


@takes_out(dtypes="exact")
def argmax(input, dim=None, keepdim=False):
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None."""
    return _argfn(input, dim, keepdim, np.argmax, "argmax")


@takes_out(dtypes="exact")
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
        if keepdim:
            raise TypeError("median(): keepdim needs a dim")
        a = input._data.reshape(-1)
        if a.size == 0:
            return Tensor(np.array(np.nan, input._data.dtype))
        return Select.apply(input, builtins.int(_lower_median_index(a, 0)), None, False)
    return _extreme_dim(input, dim, keepdim, _lower_median_index, return_types.median,
                        "median")
