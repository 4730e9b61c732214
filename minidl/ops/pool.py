"""Max and average pooling over 1, 2 or 3 spatial dimensions.

Every pooling op reads the same strided *window view* as convolution (``window.window_view``:
shape (N, C, *O, *K), no copy) and reduces over the kernel offsets j with one vectorised
pass per offset, so no loop ever runs over pixels, channels or batch elements:

    max:  y[o] = max_j xp[o*s + j*d]          dx[o*s + j*d] += dy[o]  for j = argmax (first)
    avg:  y[o] = sum_j xp[o*s + j] / div[o]   dx[o*s + j]   += dy[o] / div[o]  for every j

with out = floor((S + 2p - d (k - 1) - 1) / s) + 1 windows per axis (ceil with
``ceil_mode``). The backward passes put each offset's share back with
``window.scatter_windows``. When windows tile the input (kernel == stride, no padding) the
view is just a reshape of the input and the shares are written, not added; one window per
plane is a plain sum. Adaptive pooling is in ``adaptive_pool``.
"""

import math

import numpy as np

from ..autograd import Kernel
from ..backend import compiled
from ._adjoint import linear_backward
from ._util import check_tensor
from .pool_compiled import max_windows_2d, scatter_to_argmax_2d
from .window import (
    crop_index,
    fmt_size,
    is_int,
    ntuple,
    offsets,
    out_size,
    pad_spatial,
    padded_sizes,
    scatter_windows,
    window_view,
)

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d"]


# ------------------------------------------------------------------------ helpers
def _lowest(dtype):
    """The value padding never wins a max against: -inf, or the integer minimum."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_pads(sizes, kernel, stride, dilation, padding, out):
    """(lo, hi) per axis: ``padding`` on the left, on the right as much as windows reach."""
    return tuple((p, max(0, (o - 1) * s + d * (k - 1) + 1 - sz - p))
                 for sz, k, s, d, p, o in zip(sizes, kernel, stride, dilation, padding, out))


def max_offsets(view, n, with_index=True):
    """Max over the last n axes of ``view`` and the (row-major) offset of the first max.

    Like torch, ties go to the first maximum and a NaN beats everything (the last NaN).
    One branch-free pass per offset: masked copies (np.where / copyto where=) cost 5x more."""
    offs = offsets(view.shape[-n:])
    m = view[(Ellipsis,) + offs[0]].copy()
    if not with_index:
        for j in offs[1:]:
            np.maximum(m, view[(Ellipsis,) + j], out=m)
        return m, None
    bits = _offset_dtype(view.shape[-n:])
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


def unravel(idx, shape):
    """Per-axis offsets of row-major flat offsets ``idx`` into ``shape``."""
    out = []
    for k in reversed(shape):
        out.append(idx % k)
        idx = idx // k
    return out[::-1]


def flat_plane_index(coords, sizes):
    """Row-major flat index into an input plane of ``sizes`` from per-axis coordinates."""
    flat = np.zeros(np.broadcast_shapes(*[c.shape for c in coords]), np.int64)
    for c, s in zip(coords, sizes):
        flat = flat * s + c
    return flat


def take_in_planes(t, flat, n):
    """Tensor ``t`` (*lead, *S) read at the in-plane flat indices ``flat`` (*lead, *O) of its
    n-d planes (the value at each window's argmax): a differentiable gather."""
    planes = math.prod(flat.shape[:-n])
    plane = math.prod(t.shape[-n:])
    index = flat.reshape(planes, -1) + (np.arange(planes) * plane)[:, None]
    return t.reshape(-1)[index.reshape(flat.shape)]


def window_starts(out, stride, padding):
    """Per axis, the input position of each window's first tap, shaped for broadcasting."""
    n = len(out)
    return [(np.arange(o) * s - p).reshape(axis_shape(i, n, o))
            for i, (o, s, p) in enumerate(zip(out, stride, padding))]


def argmax_positions(idx, starts, kernel, dilation, sizes):
    """In-plane flat input index of each window's max from its offset ``idx`` in the window."""
    coords = [st + a * d for st, a, d in zip(starts, unravel(idx.astype(np.int64), kernel),
                                              dilation)]
    return flat_plane_index(coords, sizes)


def axis_shape(i, n, length):
    """Shape that places a 1-D array of ``length`` on spatial axis i of n."""
    return tuple(length if a == i else 1 for a in range(n))


def check_pool_input(fn, n, x):
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
    check_pool_input(fn, n, x)
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
        if _compiled(n, x):
            m, idx = max_windows_2d(xp, kernel, stride, dilation, out, _offset_dtype(kernel))
        else:
            m, idx = max_offsets(window_view(xp, kernel, stride, dilation, out), n,
                                  with_index=return_indices or ctx.needs_input_grad[0])
        starts = window_starts(out, stride, padding)
        if idx is not None and any(lo or hi for lo, hi in pads):
            # A window holding only -inf: torch reports its first real element, not padding.
            lost = m == low
            if lost.any():
                first = [np.maximum(-st, 0) // d + (np.maximum(-st, 0) % d > 0)
                         for st, d in zip(starts, dilation)]
                np.copyto(idx, flat_plane_index(first, kernel).astype(idx.dtype), where=lost)
        ctx.save_for_backward(idx)
        ctx.geom = (x.shape, pads, kernel, stride, dilation, out)
        if not return_indices:
            return m
        return m, argmax_positions(idx, starts, kernel, dilation, sizes)

    @staticmethod
    def backward(ctx, g, g_indices=None):
        """dx[window o, offset argmax(o)] += dy[o], added back through the window view; its
        own gradient (create_graph) reads gg at the argmaxes."""
        idx, = ctx.saved_tensors
        x_shape, pads, kernel, stride, dilation, out = ctx.geom
        n = len(kernel)

        def transpose(g):
            if _compiled(n, g):
                dxp = scatter_to_argmax_2d(g, idx, kernel, stride, dilation,
                                           padded_sizes(x_shape, pads))
                return dxp[crop_index(x_shape[-n:], pads)]
            padded = x_shape[:-n] + padded_sizes(x_shape, pads)
            hit = np.empty(idx.shape, bool)
            dxp = scatter_windows(np.zeros(padded, g.dtype), kernel, stride, dilation, out,
                                  lambda t, j, buf: np.multiply(g, np.equal(idx, t, out=hit),
                                                                out=buf))
            return dxp[crop_index(x_shape[-n:], pads)]

        def at_argmax(t):
            starts = window_starts(out, stride, tuple(lo for lo, _ in pads))
            return take_in_planes(t, argmax_positions(idx, starts, kernel, dilation,
                                                      x_shape[-n:]), n)

        return linear_backward(g, transpose, at_argmax)


def _compiled(n, a):
    """Whether the compiled kernels (``pool_compiled``) serve this 2-D pooling array."""
    return n == 2 and compiled.enabled() and a.dtype in (np.float32, np.float64)


def _offset_dtype(kernel):
    """The smallest unsigned type that holds an offset within a window (as max_offsets)."""
    k = math.prod(kernel)
    return np.uint8 if k <= 256 else np.uint16 if k <= 65536 else np.uint32


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
        """dx[o*s + j] += dy[o] / div[o] for every offset j of window o (linear in dy: its
        own gradient is this average pooling again)."""
        x_shape, pads, kernel, stride, out, divisor = ctx.geom
        n = len(kernel)

        def transpose(g):
            gd = g / divisor
            if _is_global(x_shape, kernel, out, pads):
                return np.array(np.broadcast_to(gd, x_shape))
            padded = x_shape[:-n] + padded_sizes(x_shape, pads)
            dxp = scatter_windows(np.zeros(padded, g.dtype), kernel, stride, (1,) * n, out,
                                  lambda t, j, buf: gd)
            return dxp[crop_index(x_shape[-n:], pads)]

        return linear_backward(g, transpose, lambda t: AvgPoolNd.apply(
            t, kernel=kernel, stride=stride, padding=tuple(lo for lo, _ in pads), out=out,
            divisor=divisor))


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
        div = div * count.reshape(axis_shape(i, len(out), o))
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

