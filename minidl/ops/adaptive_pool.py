"""Adaptive average and max pooling: ``output_size`` bins per axis, whatever the input size.

torch's bins along an axis of S samples, for O outputs, are [floor(o S / O), ceil((o + 1) S / O)).
When S is a multiple of O they are ordinary windows (kernel = stride = S / O) and the
kernels of ``pool`` run; otherwise the average is a product with a small averaging
matrix per axis and the maximum gathers the (ragged) bins with fancy indexing.
"""

import numpy as np

from ..autograd import Kernel
from ._adjoint import linear_backward
from ._util import check_tensor
from .pool import (
    AvgPoolNd,
    MaxPoolNd,
    axis_shape,
    check_pool_input,
    flat_plane_index,
    max_offsets,
    take_in_planes,
    unravel,
)
from .window import is_int

__all__ = ["adaptive_avg_pool1d"]


def _adaptive_args(fn, n, x, output_size):
    check_tensor(x, fn)
    check_pool_input(fn, n, x)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"{fn}(): not implemented for dtype {x.dtype.name}")
    sizes = tuple(x.shape[-n:])
    if is_int(output_size):
        output_size = (int(output_size),) * n
    if not isinstance(output_size, (tuple, list)) or len(output_size) != n or not all(
            o is None or is_int(o) for o in output_size):
        raise RuntimeError(f"{fn}(): output_size must be an int or a tuple of {n} ints "
                           f"(None keeps the input size), but got output_size={output_size!r}")
    out = tuple(s if o is None else int(o) for s, o in zip(sizes, output_size))
    if min(out) < 0:
        raise RuntimeError(f"{fn}(): output_size must be non-negative, got {list(out)}")
    return sizes, out


def _bins(size, o):
    """torch's adaptive bins along one axis: [floor(i*S/O), ceil((i+1)*S/O)) for i < O."""
    i = np.arange(o)
    return (i * size) // o, -((-(i + 1) * size) // o)


def _tiles(sizes, out):
    """True when every axis splits into equal bins (adaptive == ordinary pooling)."""
    return all(o > 0 and s % o == 0 for s, o in zip(sizes, out))


class AdaptiveAvgPoolNd(Kernel):
    """y = x averaged over ragged bins: one small averaging matrix A per axis, y = A x."""

    @staticmethod
    def forward(ctx, x, *, out):
        n = len(out)
        mats = []
        for s, o in zip(x.shape[-n:], out):
            start, end = _bins(s, o)
            pos = np.arange(s)
            inside = (pos >= start[:, None]) & (pos < end[:, None])
            mats.append((inside / (end - start)[:, None]).astype(x.dtype))   # (O, S)
        ctx.mats, ctx.out = mats, out
        return _apply_per_axis(x, mats)

    @staticmethod
    def backward(ctx, g):
        """dx = A^T dy along every axis (whose own gradient is the pooling again)."""
        mats, out = ctx.mats, ctx.out
        return linear_backward(g, lambda g: _apply_per_axis(g, [a.T for a in mats]),
                               lambda t: AdaptiveAvgPoolNd.apply(t, out=out))


def _apply_per_axis(x, mats):
    """Contract spatial axis i of ``x`` with mats[i] (O_i, S_i): one GEMM per axis."""
    n = len(mats)
    for i, a in enumerate(mats):
        ax = x.ndim - n + i
        x = np.moveaxis(np.tensordot(x, a, axes=([ax], [1])), -1, ax)
    return np.ascontiguousarray(x)


class AdaptiveMaxPoolNd(Kernel):
    """y = max over ragged bins, gathered with fancy indexing; dy flows to each argmax."""

    @staticmethod
    def forward(ctx, x, *, out):
        n = len(out)
        sizes = x.shape[-n:]
        ctx.x_shape, ctx.n = x.shape, n
        if 0 in out:
            empty = x.shape[:-n] + out
            ctx.flat = np.zeros(empty, np.int64)
            return np.zeros(empty, x.dtype), ctx.flat
        rows = []
        for s, o in zip(sizes, out):
            start, end = _bins(s, o)
            k = int((end - start).max())
            # Pad short bins by repeating their last element: a repeat never beats the first.
            rows.append(np.minimum(start[:, None] + np.arange(k), end[:, None] - 1))
        index = tuple(r.reshape(tuple(r.shape[a - 2 * i] if 2 * i <= a < 2 * i + 2 else 1
                                      for a in range(2 * n))) for i, r in enumerate(rows))
        gathered = x[(Ellipsis,) + index]                     # (*lead, O1, K1, O2, K2, ...)
        lead = x.ndim - n
        perm = tuple(range(lead)) + tuple(lead + 2 * i for i in range(n)) \
            + tuple(lead + 2 * i + 1 for i in range(n))
        m, idx = max_offsets(gathered.transpose(perm), n)
        per_axis = unravel(idx.astype(np.int64), tuple(r.shape[1] for r in rows))
        coords = [r[np.arange(o).reshape(axis_shape(i, n, o)), a]
                  for i, (r, o, a) in enumerate(zip(rows, out, per_axis))]
        flat = flat_plane_index(coords, sizes)
        ctx.save_for_backward(flat)   # the indices output: backward refuses if it is modified
        ctx.flat = flat               # (read as the array it is, also in a recorded backward)
        return m, flat

    @staticmethod
    def backward(ctx, g, g_indices=None):
        """dx[argmax(o)] += dy[o], summed with bincount (neighbouring bins may overlap); its
        own gradient reads gg at the argmaxes."""
        flat, shape, n = ctx.flat, ctx.x_shape, ctx.n

        def transpose(g):
            if flat.size == 0:
                return np.zeros(shape, g.dtype)
            plane, planes = int(np.prod(shape[-n:])), int(np.prod(shape[:-n]))
            where = flat.reshape(planes, -1) + (np.arange(planes) * plane)[:, None]
            dx = np.bincount(where.ravel(), weights=g.ravel(), minlength=planes * plane)
            return dx.astype(g.dtype).reshape(shape)

        return linear_backward(g, transpose, lambda t: take_in_planes(t, flat, n))


def _adaptive_avg_pool(fn, n, input, output_size):
    sizes, out = _adaptive_args(fn, n, input, output_size)
    if _tiles(sizes, out):
        k = tuple(s // o for s, o in zip(sizes, out))
        return AvgPoolNd.apply(input, kernel=k, stride=k, padding=(0,) * n, out=out,
                               divisor=float(np.prod(k)))
    return AdaptiveAvgPoolNd.apply(input, out=out)


def _adaptive_max_pool(fn, n, input, output_size, return_indices):
    sizes, out = _adaptive_args(fn, n, input, output_size)
    if _tiles(sizes, out):
        k = tuple(s // o for s, o in zip(sizes, out))
        return MaxPoolNd.apply(input, kernel=k, stride=k, padding=(0,) * n, dilation=(1,) * n,
                               out=out, return_indices=bool(return_indices))
    y, indices = AdaptiveMaxPoolNd.apply(input, out=out)
    return (y, indices) if return_indices else y


def adaptive_avg_pool1d(input, output_size):
    """Average of (N, C, L) ``input`` over ``output_size`` near-equal bins."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over torch's adaptive bins; ``output_size`` is an int or a pair (None keeps
    that input size)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max of (N, C, L) ``input`` over ``output_size`` near-equal bins."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive bins, optionally with flat in-plane argmax indices."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)
