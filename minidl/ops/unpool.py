"""Max unpooling: the partial inverse of max pooling, ``max_unpool{1,2,3}d``.

Each value goes back to the position its ``indices`` (from ``max_pool*d(...,
return_indices=True)``) name in its zeroed output plane; the gradient gathers at the same
indices.
"""
import math

import numpy as np

from ..autograd import Kernel
from ._util import check_tensor
from .window import fmt_size, ntuple

__all__ = []


class MaxUnpool(Kernel):
    """y[p, idx[p, m]] = x[p, m] in each (zeroed) output plane p: max_pool's return_indices
    read backwards (where two indices collide the later value stays, as in torch)."""

    @staticmethod
    def forward(ctx, x, *, flat, out_shape):
        y = np.zeros(math.prod(out_shape), x.dtype)
        y[flat] = x.ravel()
        ctx.flat, ctx.x_shape = flat, x.shape
        return y.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        """dx[p, m] = dy[p, idx[p, m]]: a gather at the indices."""
        return g.reshape(-1)[ctx.flat].reshape(ctx.x_shape)


def _unpool_size(fn, x, n, kernel, stride, padding, output_size):
    """torch's output size: (in - 1) * stride + kernel - 2 * padding, or a checked output_size."""
    default = [(s - 1) * st + k - 2 * p
               for s, k, st, p in zip(x.shape[-n:], kernel, stride, padding)]
    if output_size is None:
        out = default
    else:
        if not isinstance(output_size, (list, tuple)):
            raise TypeError(f"{fn}(): output_size must be a sequence of {n} or {n + 2} ints, "
                            f"not {type(output_size).__name__}")
        out = list(output_size)
        if len(out) == n + 2:
            out = out[2:]
        if len(out) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(out)}'")
        for d in range(n):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < out[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f'{lo} and {hi})')
    for d, o in enumerate(out):
        if o < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={o}")
    return tuple(int(o) for o in out)


def _max_unpool(fn, n, input, indices, kernel_size, stride, padding, output_size):
    check_tensor(input, fn)
    check_tensor(indices, fn, "indices")
    kernel = ntuple(kernel_size, n, "kernel_size", fn)
    stride = kernel if stride is None else ntuple(stride, n, "stride", fn)
    padding = ntuple(padding, n, "padding", fn)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{fn}(): Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, "
                           f"but got input of size: {fmt_size(input.shape)}")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"{fn}(): elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{fn}(): Expected shape of indices to be same as that of the input "
                           f"tensor ({fmt_size(input.shape)}) but got indices tensor with shape: "
                           f"{fmt_size(indices.shape)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{fn}(): not implemented for dtype {input.dtype}")
    out = _unpool_size(fn, input, n, kernel, stride, padding, output_size)
    plane = math.prod(out)
    planes = math.prod(input.shape[:-n])
    idx = indices._data.reshape(planes, math.prod(input.shape[-n:]))
    bad = (idx < 0) | (idx >= plane)
    if bad.any():
        raise RuntimeError(f"{fn}(): Found an invalid max index: {idx[bad][0]} (output volumes "
                           f"are of size {'x'.join(map(str, out))})")
    flat = (idx + (np.arange(planes) * plane)[:, None]).ravel()
    return MaxUnpool.apply(input, flat=flat, out_shape=tuple(input.shape[:-n]) + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: each value goes back to the position ``indices`` (from
    ``max_pool1d(..., return_indices=True)``) names; everything else is zero."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: ``indices`` index the flattened output plane (h * W + w)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
