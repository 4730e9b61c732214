"""Pooling over 1, 2 or 3 spatial dimensions: max, average and their adaptive forms.

Every pooling op reads the same strided *window view* as convolution (``conv.window_view``:
shape (N, C, *O, *K), no copy) and reduces over the kernel offsets j with one vectorised
pass per offset, so no loop ever runs over pixels, channels or batch elements:

    max:  y[o] = max_j xp[o*s + j*d]          dx[o*s + j*d] += dy[o]  for j = argmax (first)
    avg:  y[o] = sum_j xp[o*s + j] / div[o]   dx[o*s + j]   += dy[o] / div[o]  for every j

The backward passes put each offset's share back with ``conv.scatter_windows``. When
windows tile the input (kernel == stride, no padding) the view is just a reshape of the
input and the shares are written, not added; one window per plane is a plain sum.
Adaptive pooling uses torch's bins [floor(o*S/O), ceil((o+1)*S/O)): when S is a multiple
of O they are ordinary windows, otherwise the average is a product with a small averaging
matrix per axis and the maximum gathers the (ragged) bins with fancy indexing.
"""

import numpy as np

from ..autograd import Kernel
from ._util import check_tensor
from .conv import (crop_index, fmt_size, is_int, ntuple, offsets, out_size, pad_spatial,
                   scatter_windows, window_view)

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d"]

TENSOR_METHODS = {}
FUNCTIONAL = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
              "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
              "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"]


# ------------------------------------------------------------------------ helpers
def _lowest(dtype):
    """The value padding never wins a max against: -inf, or the integer minimum."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_pads(sizes, kernel, stride, dilation, padding, out):
    """(lo, hi) per axis: ``padding`` on the left, on the right as much as windows reach."""
    return tuple((p, max(0, (o - 1) * s + d * (k - 1) + 1 - sz - p))
                 for sz, k, s, d, p, o in zip(sizes, kernel, stride, dilation, padding, out))


def _max_offsets(view, n, with_index=True):
    """Max over the last n axes of ``view`` and the (row-major) offset of the first max.

    Like torch, ties go to the first maximum and a NaN beats everything (the last NaN).
    One branch-free pass per offset: masked copies (np.where / copyto where=) cost 5x more."""
    offs = offsets(view.shape[-n:])
    m = view[(Ellipsis,) + offs[0]].copy()
    if not with_index:
        for j in offs[1:]:
            np.maximum(m, view[(Ellipsis,) + j], out=m)
        return m, None
    bits = np.uint8 if len(offs) <= 256 else np.uint16 if len(offs) <= 65536 else np.uint32
    idx, step, won = np.zeros(m.shape, bits), np.empty(m.shape, bits), np.empty(m.shape, bool)
    for t, j in enumerate(offs[1:], 1):
        v = view[(Ellipsis,) + j]
        np.greater(v, m, out=won)
        np.maximum(m, v, out=m)
        np.subtract(t, idx, out=step)   # idx += won * (t - idx), modulo 2**bits
        step *= won
        idx += step
    if m.dtype.kind == "f":
        nan = np.isnan(m)
        if nan.any():
            for t, j in enumerate(offs):
                np.copyto(idx, t, where=nan & np.isnan(view[(Ellipsis,) + j]))
    return m, idx


def _unravel(idx, shape):
    """Per-axis offsets of row-major flat offsets ``idx`` into ``shape``."""
    out = []
    for k in reversed(shape):
        out.append(idx % k)
        idx = idx // k
    return out[::-1]


def _flat_plane_index(coords, sizes):
    """Row-major flat index into an input plane of ``sizes`` from per-axis coordinates."""
    flat = np.zeros(np.broadcast_shapes(*[c.shape for c in coords]), np.int64)
    for c, s in zip(coords, sizes):
        flat = flat * s + c
    return flat


def _axis_shape(i, n, length):
    """Shape that places a 1-D array of ``length`` on spatial axis i of n."""
    return tuple(length if a == i else 1 for a in range(n))


def _check_pool_input(fn, n, x):
    if x.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{fn}(): Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, "
                           f"but got input of size: {fmt_size(x.shape)}")
    if any(s == 0 for s in x.shape[x.ndim - n - 1:]):
        raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but got input of size: {fmt_size(x.shape)}")
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f"{fn}(): not implemented for dtype bool")


def _pool_args(fn, n, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool):
    """Validate torch's pooling arguments; return (kernel, stride, padding, dilation, out)."""
    check_tensor(x, fn)
    _check_pool_input(fn, n, x)
    kernel = ntuple(kernel_size, n, "kernel_size", fn, low=1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else ntuple(stride, n, "stride", fn, low=1)
    padding = ntuple(padding, n, "padding", fn, low=0)
    dilation = ntuple(dilation, n, "dilation", fn, low=1)
    for k, p, d in zip(kernel, padding, dilation):
        half = ((k - 1) * d + 1) // 2
        if p > half:
            extra = f" and dilation={d}" if max_pool else ""
            raise RuntimeError(f"{fn}(): pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={k}{extra}")
    sizes = x.shape[-n:]
    out = tuple(out_size(s, k, st, d, p, p, ceil_mode)
                for s, k, st, d, p in zip(sizes, kernel, stride, dilation, padding))
    if min(out) < 1:
        c = x.shape[-n - 1]
        raise RuntimeError(f"{fn}(): Given input size: ({'x'.join(map(str, (c,) + tuple(sizes)))})."
                           f" Calculated output size: ({'x'.join(map(str, (c,) + out))}). "
                           f"Output size is too small")
    return kernel, stride, padding, dilation, out


# ------------------------------------------------------------------------ max pooling
class MaxPoolNd(Kernel):
    """y = max over each window; the gradient flows to the (first) argmax only."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation, out, return_indices):
        n = len(kernel)
        sizes = x.shape[-n:]
        pads = _pool_pads(sizes, kernel, stride, dilation, padding, out)
        low = _lowest(x.dtype)
        xp = pad_spatial(x, pads, low)
        m, idx = _max_offsets(window_view(xp, kernel, stride, dilation, out), n,
                              with_index=return_indices or ctx.needs_input_grad[0])
        starts = [(np.arange(o) * s - p).reshape(_axis_shape(i, n, o))
                  for i, (o, s, p) in enumerate(zip(out, stride, padding))]
        if idx is not None and any(lo or hi for lo, hi in pads):
            # A window holding only -inf: torch reports its first real element, not padding.
            lost = m == low
            if lost.any():
                first = [np.maximum(-st, 0) // d + (np.maximum(-st, 0) % d > 0)
                         for st, d in zip(starts, dilation)]
                np.copyto(idx, _flat_plane_index(first, kernel).astype(idx.dtype), where=lost)
        ctx.save_for_backward(idx)
        ctx.geom = (x.shape, pads, kernel, stride, dilation, out)
        if not return_indices:
            return m
        coords = [st + a * d for st, a, d in zip(starts, _unravel(idx.astype(np.int64), kernel),
                                                  dilation)]
        return m, _flat_plane_index(coords, sizes)

    @staticmethod
    def backward(ctx, g, g_indices=None):
        """dx[window o, offset argmax(o)] += dy[o], added back through the window view."""
        idx, = ctx.saved_tensors
        x_shape, pads, kernel, stride, dilation, out = ctx.geom
        n = len(kernel)
        padded = x_shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[-n:], pads))
        hit = np.empty(idx.shape, bool)
        dxp = scatter_windows(np.zeros(padded, g.dtype), kernel, stride, dilation, out,
                              lambda t, j, buf: np.multiply(g, np.equal(idx, t, out=hit), out=buf))
        return dxp[crop_index(x_shape[-n:], pads)]


def _max_pool(fn, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    kernel, stride, padding, dilation, out = _pool_args(
        fn, n, input, kernel_size, stride, padding, dilation, ceil_mode, True)
    return MaxPoolNd.apply(input, kernel=kernel, stride=stride, padding=padding,
                           dilation=dilation, out=out, return_indices=bool(return_indices))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L) or (C, L) ``input``; ``padding`` pads with -inf."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, H, W) or (C, H, W) ``input``; ``return_indices`` gives the
    flat index of each maximum within its input plane (h * W + w)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, D, H, W) or (C, D, H, W) ``input``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ------------------------------------------------------------------------ average pooling
class AvgPoolNd(Kernel):
    """y[o] = (sum of window o) / div[o]; every element of the window gets dy[o] / div[o]."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out, divisor):
        n = len(kernel)
        ones = (1,) * n
        pads = _pool_pads(x.shape[-n:], kernel, stride, ones, padding, out)
        ctx.geom = (x.shape, pads, kernel, stride, out, divisor)
        acc_dtype = np.int64 if x.dtype.kind in "iu" else x.dtype
        if _is_global(x.shape, kernel, out, pads):
            acc = x.sum(axis=tuple(range(-n, 0)), keepdims=True, dtype=acc_dtype)
        else:
            view = window_view(pad_spatial(x, pads), kernel, stride, ones, out)
            offs = offsets(kernel)
            acc = view[(Ellipsis,) + offs[0]].astype(acc_dtype)
            for j in offs[1:]:
                acc += view[(Ellipsis,) + j]
        if x.dtype.kind in "iu":  # torch truncates integer averages toward zero
            return (np.trunc(acc / divisor)).astype(x.dtype)
        return acc / divisor if isinstance(divisor, float) else np.divide(acc, divisor, out=acc)

    @staticmethod
    def backward(ctx, g):
        """dx[o*s + j] += dy[o] / div[o] for every offset j of window o."""
        x_shape, pads, kernel, stride, out, divisor = ctx.geom
        n = len(kernel)
        gd = g / divisor
        if _is_global(x_shape, kernel, out, pads):
            return np.array(np.broadcast_to(gd, x_shape))
        padded = x_shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[-n:], pads))
        dxp = scatter_windows(np.zeros(padded, g.dtype), kernel, stride, (1,) * n, out,
                              lambda t, j, buf: gd)
        return dxp[crop_index(x_shape[-n:], pads)]


def _is_global(shape, kernel, out, pads):
    """One window covering each whole (unpadded) plane: a plain sum over trailing axes."""
    return all(o == 1 for o in out) and tuple(kernel) == tuple(shape[-len(kernel):]) \
        and not any(lo or hi for lo, hi in pads)


def _avg_divisor(sizes, kernel, stride, padding, out, count_include_pad, divisor_override, dtype):
    """Each window's divisor: a Python float when all agree, else an array of shape ``out``."""
    if divisor_override is not None:
        return float(divisor_override)
    div = np.ones((1,) * len(out), np.int64)
    for i, (sz, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, sz + p)
        count = end - start if count_include_pad else \
            np.minimum(end, sz) - np.maximum(start, 0)
        div = div * count.reshape(_axis_shape(i, len(out), o))
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return div.astype(dtype if dtype.kind == "f" else np.float64)


def _avg_pool(fn, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    kernel, stride, padding, _, out = _pool_args(fn, n, input, kernel_size, stride, padding, 1,
                                                 ceil_mode, False)
    if divisor_override is not None:
        if not is_int(divisor_override):
            raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError(f"{fn}(): divisor must be not zero")
    divisor = _avg_divisor(input.shape[-n:], kernel, stride, padding, out, count_include_pad,
                           divisor_override, input._data.dtype)
    return AvgPoolNd.apply(input, kernel=kernel, stride=stride, padding=padding, out=out,
                           divisor=divisor)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Average over windows of (N, C, L) or (C, L) ``input`` (zero padding)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average over windows of (N, C, H, W) or (C, H, W) ``input``; ``count_include_pad``
    counts the zero padding in the divisor, ``divisor_override`` replaces it."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average over windows of (N, C, D, H, W) or (C, D, H, W) ``input``."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ------------------------------------------------------------------------ adaptive pooling
def _adaptive_args(fn, n, x, output_size):
    check_tensor(x, fn)
    _check_pool_input(fn, n, x)
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
        ctx.mats = mats
        return _apply_per_axis(x, mats)

    @staticmethod
    def backward(ctx, g):
        """dx = A^T dy along every axis."""
        return _apply_per_axis(g, [a.T for a in ctx.mats])


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
            ctx.save_for_backward(np.zeros(empty, np.int64))
            return np.zeros(empty, x.dtype), np.zeros(empty, np.int64)
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
        m, idx = _max_offsets(gathered.transpose(perm), n)
        per_axis = _unravel(idx.astype(np.int64), tuple(r.shape[1] for r in rows))
        coords = [r[np.arange(o).reshape(_axis_shape(i, n, o)), a]
                  for i, (r, o, a) in enumerate(zip(rows, out, per_axis))]
        flat = _flat_plane_index(coords, sizes)
        ctx.save_for_backward(flat)
        return m, flat

    @staticmethod
    def backward(ctx, g, g_indices=None):
        """dx[argmax(o)] += dy[o], summed with bincount (neighbouring bins may overlap)."""
        flat, = ctx.saved_tensors
        shape, n = ctx.x_shape, ctx.n
        if flat.size == 0:
            return np.zeros(shape, g.dtype)
        plane, planes = int(np.prod(shape[-n:])), int(np.prod(shape[:-n]))
        where = flat.reshape(planes, -1) + (np.arange(planes) * plane)[:, None]
        dx = np.bincount(where.ravel(), weights=g.ravel(), minlength=planes * plane)
        return dx.astype(g.dtype).reshape(shape)


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
