"""Joining tensors: cat / concat, stack, hstack / vstack / dstack / column_stack, atleast_nd."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._shape_args import along
from ._util import normalize_dim, promote
from .view import reshape

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "atleast_1d", "atleast_2d", "atleast_3d"]


class Cat(Kernel):
    """y = [x0, x1, ...] joined along ``dim``; each dx_i is its slab of dy."""

    @staticmethod
    def forward(ctx, *xs, dim, skip):
        ctx.dim, ctx.skip = dim, skip
        ctx.sizes = [0 if s else x.shape[dim] for x, s in zip(xs, skip)]
        return np.concatenate([x for x, s in zip(xs, skip) if not s], axis=dim)

    @staticmethod
    def backward(ctx, g):
        bounds = np.cumsum(ctx.sizes)[:-1]
        pieces = np.split(g, bounds, axis=ctx.dim)
        return tuple(np.zeros((0,), g.dtype) if s else p
                     for p, s in zip(pieces, ctx.skip))


def _tensor_list(tensors, fn):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{fn}(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    return list(tensors)


@takes_out
def cat(tensors, dim=0):
    """Join tensors along an existing dim (dtypes promote; legacy empty 1-D ones skipped)."""
    tensors = _tensor_list(tensors, "cat")
    for i, x in enumerate(tensors):
        if x.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    skip = [x.shape == (0,) for x in tensors]
    if all(skip):
        skip = [False] * len(tensors)
    ref_i = skip.index(False)
    ref = tensors[ref_i]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(tensors):
        if skip[i]:
            continue
        if x.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {x.ndim}")
        for j, (a, b) in enumerate(zip(ref.shape, x.shape)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} "
                                   f"in the list.")
    tensors = promote(*tensors)
    return Cat.apply(*tensors, dim=d, skip=tuple(skip))


concat = concatenate = cat


class Stack(Kernel):
    """y = [x0, x1, ...] along a new dim; dx_i = dy[..., i, ...]."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(g[along(ctx.dim, i)] for i in range(g.shape[ctx.dim]))


@takes_out
def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    shp = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} "
                               f"at entry 0 and {list(x.shape)} at entry {i}")
    d = normalize_dim(dim, len(shp) + 1, "stack")
    return Stack.apply(*promote(*tensors), dim=d)


def _atleast(n, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for x in tensors:
        shp = x.shape
        if x.ndim >= n:
            out.append(x)
        elif n == 3 and x.ndim == 2:
            out.append(reshape(x, shp + (1,)))
        elif n == 3 and x.ndim == 1:
            out.append(reshape(x, (1,) + shp + (1,)))
        else:
            out.append(reshape(x, (1,) * (n - x.ndim) + shp))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    return _atleast(3, tensors)


@takes_out
def hstack(tensors):
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


@takes_out
def vstack(tensors):
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


row_stack = vstack


@takes_out
def dstack(tensors):
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


@takes_out
def column_stack(tensors):
    ts = [reshape(x, (-1, 1)) if x.ndim <= 1 else x for x in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1)
