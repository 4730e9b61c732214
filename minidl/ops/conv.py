"""Convolution over 1, 2 or 3 spatial dimensions: ``conv{1,2,3}d``, ``conv_transpose{1,2,3}d``.

One N-d implementation serves every dimensionality. Its tool is the *window view*: for a
(padded) input ``xp`` of shape (N, C, *S), ``window_view`` is a strided view of shape
(N, C, *O, *K), made by ``as_strided`` without copying, with

    windows[n, c, o, j] = xp[n, c, o * stride + j * dilation]      (o, j multi-indices).

Convolution (cross-correlation, as in torch) is then a GEMM per image -- im2col:

    cols_n[(c, j), o] = windows[n, c, o, j]         copied into BLAS-friendly order
    y[n, f, o] = sum_{c, j} w[f, c, j] cols_n[(c, j), o] + b[f]           (per group)

and its gradients are two more GEMMs and a scatter:

    dW = sum_n dY_n cols_n^T        dw[f, c, j] = sum_{n, o} dy[n, f, o] cols_n[(c, j), o]
    db = sum_{n, o} dY
    dX_n = col2im(W^T dY_n)         (the transposed convolution)

``col2im`` adds every column back onto the input position it was read from, one
vectorised add per kernel offset j -- never a loop over pixels or channels. With stride
1, dX is itself a convolution of dY with the flipped kernel, which is the cheaper route
when F <= C. A transposed convolution is the same pair read backwards: its forward is a
convolution's dX and its dX a convolution's forward.

Speed comes from memory traffic, not arithmetic: the columns are ~prod(K) times the
input, so they are built for a few images at a time (a *block*, ~2 MiB) and consumed by
the GEMM while still in cache, and the copies are long contiguous runs where possible
(the *runs* layout below). Small output maps put a whole block's columns side by side
(the *wide* layout), so that one GEMM per block reads the weights once.
``benchmarks/conv_ops.py`` times every choice against torch.

Pooling (``minidl.ops.pool``) reuses the window view and ``scatter_windows``.
"""
import itertools
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Kernel
from ._util import check_tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]

TENSOR_METHODS = {}
FUNCTIONAL = list(__all__)


# ------------------------------------------------------------------ shared window tools
def window_view(xp, kernel, stride, dilation, out, writeable=False):
    """View of shape (*lead, *out, *kernel) over the last len(kernel) axes of ``xp``."""
    n = len(kernel)
    lead, spatial = xp.strides[:-n], xp.strides[-n:]
    return as_strided(
        xp, xp.shape[:-n] + tuple(out) + tuple(kernel),
        lead + tuple(a * s for a, s in zip(spatial, stride))
        + tuple(a * d for a, d in zip(spatial, dilation)),
        writeable=writeable)


def offsets(kernel):
    """Every kernel offset j as an index tuple, in row-major order."""
    return list(itertools.product(*[range(k) for k in kernel]))


def pad_spatial(x, pads, value=0):
    """``x`` with its last len(pads) axes padded by ``pads`` = ((lo, hi), ...) of ``value``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    shape = x.shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[-n:], pads))
    out = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
    out[crop_index(x.shape[-n:], pads)] = x
    return out


def crop_index(sizes, pads):
    """Index selecting the original region of an array padded with ``pads``."""
    return (Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sizes, pads))


def out_size(size, k, s, d, lo, hi, ceil_mode=False):
    """Number of windows of ``k`` taps (dilation d, stride s) in a padded axis."""
    span = size + lo + hi - d * (k - 1) - 1
    if span < 0:
        return 0
    o = -(-span // s) + 1 if ceil_mode else span // s + 1
    if ceil_mode and (o - 1) * s >= size + lo:  # the last window must start inside the input
        o -= 1
    return o


def is_int(v):
    """A Python or NumPy integer (not a bool)."""
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def ntuple(value, n, name, fn, low=None):
    """An int or a sequence of 1 or n ints, as an n-tuple of Python ints (each >= ``low``)."""
    if is_int(value):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) not in (1, n):
            raise RuntimeError(f"{fn}(): expected {name} to be a single integer value or a list "
                               f"of {n} values to match the {n}-d operation, but got "
                               f"{name}={list(value)}")
        out = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of {n} ints, "
                        f"not {type(value).__name__}")
    if low is not None and min(out) < low:
        what = "non-positive" if low == 1 else "negative"
        raise RuntimeError(f"{fn}(): {what} {name} is not supported: {name} must be "
                           f"{'greater than zero' if low == 1 else 'non-negative'}, but got "
                           f"{name}={list(out)}")
    return out


def fmt_size(shape, sep=", "):
    return "[" + sep.join(str(s) for s in shape) + "]"


# ------------------------------------------------------------------------ convolution
# im2col lays the windows of image n out as a matrix cols_n[(c, j), q] -- one row per input
# channel c and kernel offset j, one column per output position q -- so that image n's
# output is the GEMM W (F, C*prod(K)) @ cols_n, already in torch's (N, F, positions) order.
# Two column layouts:
# * dense: q runs over the output positions, gathered from the window view (the copied
#   runs are one output line long).
# * runs (stride 1 only): q runs over the flattened padded plane, so that row (c, j) is ONE
#   contiguous run xp[n, c].flat[off_j : off_j + L], copied at memcpy speed. The positions
#   past the end of each output line are computed and dropped; worth it when that waste
#   is small (wide lines, small kernels; always in 1-D).
RUNS_MAX_WASTE = 2.0
# The batch is processed in blocks of images whose columns take about this many bytes:
# im2col writes them and the GEMM reads them back while they are still in cache (2-3x
# faster than one batch-wide column matrix for ResNet-sized layers), and the columns are
# never stored whole -- backward builds them again, block by block.
BLOCK_BYTES = 2 ** 21
# Small output maps (at most this many columns L per image) take the *wide* layout: the
# columns of a whole block of images side by side, cols[g, (c, j), (n, q)], so that one
# GEMM per block reads the weights once. One GEMM per image would be a thin product that
# streams the whole weight matrix from memory for a handful of columns (4-8x slower than
# torch at 512 channels on 2x2 maps).
WIDE_MAX_COLUMNS = 64
WIDE_BLOCK_BYTES = 2 ** 23
# Stride-1 input gradients are a convolution of dY with the flipped kernel when the
# kernel has at most this many times more output than input channels (cheaper than a
# GEMM to columns plus the col2im scatter).
FLIP_MAX_CHANNEL_RATIO = 1.0


def row_strides(sizes):
    """Row-major element strides of an array of ``sizes``."""
    return tuple(math.prod(sizes[i + 1:]) for i in range(len(sizes)))


def run_length(padded, stride, out):
    """Columns per image in the runs layout, or None where the dense layout is used."""
    if any(s != 1 for s in stride) or math.prod(padded[1:]) > RUNS_MAX_WASTE * math.prod(out[1:]):
        return None
    return sum((o - 1) * r for o, r in zip(out, row_strides(padded))) + 1


class Geometry:
    """One convolution's sizes: input (N, C, *S) padded by ``pads`` into (N, C, *P), read
    by a kernel of size K with ``stride`` and ``dilation`` at output positions ``out``, in
    ``groups``; L columns per image (see the layouts above), ``block`` images per block."""

    def __init__(self, x_shape, kernel, stride, dilation, pads, groups, itemsize, out=None):
        self.N, self.C, self.n = x_shape[0], x_shape[1], len(kernel)
        self.sizes, self.kernel, self.stride, self.dilation = x_shape[2:], kernel, stride, dilation
        self.pads, self.groups = pads, groups
        self.padded = padded_sizes(x_shape, pads)
        self.out = tuple(out) if out is not None else tuple(
            out_size(p, k, s, d, 0, 0) for p, k, s, d in zip(self.padded, kernel, stride, dilation))
        L = run_length(self.padded, stride, self.out)
        self.runs = L is not None
        self.L = L if self.runs else math.prod(self.out)
        self.rows = self.C * math.prod(kernel)              # C * prod(K): rows of cols_n
        self.wide = self.L <= WIDE_MAX_COLUMNS
        self.block = block_images(self.rows * self.L * itemsize,
                                  WIDE_BLOCK_BYTES if self.wide else BLOCK_BYTES)

    def batches(self):
        """Slices of the batch, one per block."""
        return [slice(s, min(s + self.block, self.N)) for s in range(0, self.N, self.block)]

    def grid(self, a):
        """The (..., *O) output positions of an (..., L) array in the columns' layout."""
        if not self.runs:
            return a.reshape(a.shape[:-1] + self.out)
        it = a.itemsize
        return as_strided(a, a.shape[:-1] + self.out,
                          a.strides[:-1] + tuple(r * it for r in row_strides(self.padded)))


def block_images(column_bytes, block_bytes):
    """Images per block, for columns of ``column_bytes`` per image."""
    return max(1, block_bytes // max(1, column_bytes))


def padded_sizes(shape, pads):
    return tuple(s + lo + hi for s, (lo, hi) in zip(shape[-len(pads):], pads))


def window_columns(xp, geo, writeable=False):
    """View (N, C, *K, L) of padded (N, C, *P) ``xp`` (contiguous planes) as the columns of
    the runs layout, or (N, C, *K, *O) of the dense layout; no copy."""
    if geo.runs:
        it = xp.itemsize
        return as_strided(xp, xp.shape[:2] + tuple(geo.kernel) + (geo.L,),
                          xp.strides[:2] + tuple(d * r * it for d, r in
                                                 zip(geo.dilation, row_strides(geo.padded)))
                          + (it,), writeable=writeable)
    n = geo.n
    v = window_view(xp, geo.kernel, geo.stride, geo.dilation, geo.out, writeable)
    return v.transpose((0, 1) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n)))


def column_blocks(x, geo):
    """(slice, columns) for each block of the batch of (N, C, *S) ``x``: columns of shape
    (m, G, C/G * prod(K), L), or (G, C/G * prod(K), m * L) in the wide layout. Each block is
    padded into one reused buffer (whose zero border is never written) and copied into
    another; the columns are valid until the next block."""
    G, m0, R = geo.groups, min(geo.block, geo.N), geo.rows // geo.groups
    padded = any(lo or hi for lo, hi in geo.pads)
    src = np.zeros((m0, geo.C) + geo.padded, x.dtype) if padded else np.ascontiguousarray(x)
    views, inner = window_columns(src, geo), crop_index(geo.sizes, geo.pads)
    unit = geo.runs and geo.rows == geo.C and not geo.wide  # 1x1: the input is its columns
    buf = None if unit else np.empty(m0 * geo.rows * geo.L, x.dtype)
    for sl in geo.batches():
        m = sl.stop - sl.start
        if padded:
            src[:m][inner] = x[sl]
        v = views[:m] if padded else views[sl]                # (m, C, *K, L or *O)
        if unit:
            yield sl, v.reshape(m, G, R, geo.L)
        elif geo.wide:
            cols = buf[:m * geo.rows * geo.L]
            np.copyto(cols.reshape(v.shape[1:geo.n + 2] + (m,) + v.shape[geo.n + 2:]),
                      np.moveaxis(v, 0, geo.n + 1))
            yield sl, cols.reshape(G, R, m * geo.L)
        else:
            cols = buf[:m * geo.rows * geo.L].reshape(m, G, R, geo.L)
            np.copyto(cols.reshape(v.shape), v)
            yield sl, cols


def images_last(a):
    """(m, G, r, L) -> (G, r, m * L): a block's per-image rows side by side (wide layout)."""
    m, G, r, L = a.shape
    return a.transpose(1, 2, 0, 3).reshape(G, r, m * L)


def images_first(a, m):
    """(G, r, m * L) -> (m, G, r, L) view: the inverse of ``images_last``."""
    G, r = a.shape[:2]
    return a.reshape(G, r, m, -1).transpose(2, 0, 1, 3)


def conv_columns(x, wg, geo):
    """y (N, F, L) = wg @ cols_n for every image of (N, C, *S) ``x``, block by block;
    ``wg`` (G, F/G, C/G * prod(K)) are the weights per group."""
    G, Fg = wg.shape[:2]
    y = np.empty((geo.N, G, Fg, geo.L), np.result_type(x, wg))
    for sl, cols in column_blocks(x, geo):
        if geo.wide:
            y[sl] = images_first(np.matmul(wg, cols), sl.stop - sl.start)
        else:
            np.matmul(wg, cols, out=y[sl])
    return y.reshape(geo.N, G * Fg, geo.L)


def from_columns(y, geo, bias=None):
    """(N, F, L) rows of output positions -> contiguous (N, F, *O), adding ``bias`` (F,)."""
    b = None if bias is None else bias.reshape((-1,) + (1,) * geo.n)
    grid = geo.grid(y)
    if not geo.runs:                      # already (N, F, *O): add in place
        if b is not None:
            grid += b
        return grid
    return grid.copy() if b is None else grid + b


def to_columns(g, geo):
    """dY (N, F, *O) in the columns' layout (N, F, L), zero at the dropped positions."""
    N, F = g.shape[:2]
    if not geo.runs:
        return np.ascontiguousarray(g).reshape(N, F, geo.L)
    gm = np.zeros((N, F, geo.L), g.dtype)
    geo.grid(gm)[...] = g
    return gm


def weight_grad(x, gm, geo, w_shape):
    """dW = sum_n dY_n cols_n^T per group (the columns rebuilt block by block from ``x``);
    ``gm`` is dY in the columns' layout (N, F, L)."""
    G = geo.groups
    gwt = np.zeros((G, geo.rows // G, w_shape[0] // G), gm.dtype)      # dW^T: BLAS is
    for sl, cols in column_blocks(x, geo):                              # faster this way
        gy = gm[sl].reshape(sl.stop - sl.start, G, -1, geo.L)
        if geo.wide:
            gwt += np.matmul(cols, images_last(gy).swapaxes(-1, -2))
        else:
            gwt += np.matmul(cols, gy.swapaxes(-1, -2)).sum(axis=0)
    return gwt.swapaxes(-1, -2).reshape(w_shape)


def scatter_windows(dxp, kernel, stride, dilation, out, part):
    """The adjoint of reading the window view: add ``part(t, j, buf)`` at offset j (the
    t-th) of every window of the zero array ``dxp`` (..., *P). ``part`` may compute into
    ``buf`` and return it.

    Where windows cannot overlap each part is written straight in. Where they overlap
    with stride > 1, adding each part through the strided view is slow (a read-modify-
    write of scattered memory per offset), so the parts are first summed on compact
    per-phase grids -- input position o*s + j = (o + j//s)*s + j%s lands in phase j%s at
    o + j//s -- and each phase is then written once into its strided slice."""
    n = len(kernel)
    lead, dtype = dxp.shape[:-n], dxp.dtype
    overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    if overlap and any(s > 1 for s in stride) and all(d == 1 for d in dilation):
        grid = tuple(o + (k - 1) // s for o, k, s in zip(out, kernel, stride))
        phases, buf = {}, np.empty(lead + tuple(out), dtype)
        for t, j in enumerate(offsets(kernel)):
            r = tuple(a % s for a, s in zip(j, stride))
            if r not in phases:
                phases[r] = np.zeros(lead + grid, dtype)
            at = tuple(slice(a // s, a // s + o) for a, s, o in zip(j, stride, out))
            phases[r][(Ellipsis,) + at] += part(t, j, buf)
        for r, acc in phases.items():
            dst = dxp[(Ellipsis,) + tuple(slice(a, None, s) for a, s in zip(r, stride))]
            m = tuple(slice(0, min(a, b)) for a, b in zip(dst.shape[-n:], grid))
            dst[(Ellipsis,) + m] = acc[(Ellipsis,) + m]
        return dxp
    view = window_view(dxp, kernel, stride, dilation, out, writeable=True)
    buf = np.empty(view.shape[:-n], dtype) if overlap else None
    for t, j in enumerate(offsets(kernel)):
        dst = view[(Ellipsis,) + j]
        if overlap:
            dst += part(t, j, buf)
        else:
            res = part(t, j, dst)
            if res is not dst:
                np.copyto(dst, res)
    return dxp


def col2im(dcols, dxp, geo):
    """Adjoint of the im2col copy: add dcols (m, G, C/G * prod(K), L) onto the zero padded
    block ``dxp`` (m, C, *P) through its ``window_columns``, one add per kernel offset j."""
    dcols = dcols.reshape(window_columns(dxp, geo).shape)           # (m, C, *K, L or *O)
    if not geo.runs:
        scatter_windows(dxp, geo.kernel, geo.stride, geo.dilation, geo.out,
                        lambda t, j, buf: dcols[(slice(None), slice(None)) + j])
        return
    dst = window_columns(dxp, geo, writeable=True)  # overlapping rows: add one j at a time
    for j in offsets(geo.kernel):
        dst[(slice(None), slice(None)) + j] += dcols[(slice(None), slice(None)) + j]


def input_grad(g, w, geo):
    """dX (N, C, *S) of the convolution ``geo`` from dY ``g`` (N, F, *O): the transposed
    convolution.

    With stride 1 it is itself a convolution -- of dY, padded by d(k-1) - pad, with the
    flipped, channel-transposed kernel -- the cheaper route when the kernel has few output
    channels. Otherwise, per block, dcols = W^T dY_n and col2im adds them back."""
    F, Cg = w.shape[:2]
    G, n, kernel = geo.groups, geo.n, geo.kernel
    back = tuple((d * (k - 1) - lo, s - o + lo) for k, d, (lo, _), s, o in
                 zip(kernel, geo.dilation, geo.pads, geo.sizes, geo.out))
    if all(s == 1 for s in geo.stride) and F <= FLIP_MAX_CHANNEL_RATIO * Cg * G \
            and min(min(b) for b in back) >= 0:
        flip = (Ellipsis,) + (slice(None, None, -1),) * n
        wf = w.reshape((G, F // G, Cg) + kernel)[flip]
        wf = np.ascontiguousarray(np.swapaxes(wf, 1, 2)).reshape(G, Cg, -1)
        flipped = Geometry(g.shape, kernel, geo.stride, geo.dilation, back, G, g.itemsize,
                           out=geo.sizes)
        return from_columns(conv_columns(g, wf, flipped), flipped)
    gm = to_columns(g, geo)
    wt = w.reshape(G, F // G, -1).swapaxes(-1, -2)                      # (G, CgK, F/G)
    dx = np.empty((geo.N, geo.C) + tuple(geo.sizes), gm.dtype)
    padded = any(lo or hi for lo, hi in geo.pads)
    buf = np.empty((min(geo.block, geo.N), geo.C) + geo.padded, gm.dtype) if padded else None
    inner = crop_index(geo.sizes, geo.pads)
    for sl in geo.batches():
        m = sl.stop - sl.start
        dxp = buf[:m] if padded else dx[sl]
        dxp[...] = 0
        gy = gm[sl].reshape(m, G, F // G, geo.L)
        dcols = images_first(np.matmul(wt, images_last(gy)), m) if geo.wide else \
            np.matmul(wt, gy)
        col2im(dcols, dxp, geo)
        if padded:
            dx[sl] = dxp[inner]
    return dx


class ConvNd(Kernel):
    """y = w * x + b (cross-correlation) as a GEMM of the weights with the im2col windows."""

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups):
        batched = x.ndim == w.ndim
        if not batched:
            x = x[None]
        geo = Geometry(x.shape, w.shape[2:], stride, dilation, padding, groups, x.itemsize)
        y = conv_columns(x, w.reshape(groups, w.shape[0] // groups, -1), geo)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        ctx.geo, ctx.batched, ctx.w_shape = geo, batched, w.shape
        res = from_columns(y, geo, b)
        return res if batched else res[0]

    @staticmethod
    def backward(ctx, g):
        """dW = sum_n dY_n cols_n^T, db = sum dY, dX = W^T * dY (the transposed convolution)."""
        x, w = ctx.saved_tensors
        geo = ctx.geo
        if not ctx.batched:
            g = g[None]
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = channel_sum(g)
        if ctx.needs_input_grad[1]:
            gw = weight_grad(x, to_columns(g, geo), geo, ctx.w_shape)
        if ctx.needs_input_grad[0]:
            gx = input_grad(g, w, geo)
            if not ctx.batched:
                gx = gx[0]
        return gx, gw, gb


def channel_sum(g):
    """Sum of (N, F, *O) over everything but F (the bias gradient), by contiguous reductions."""
    return g.reshape(g.shape[0], g.shape[1], -1).sum(axis=2).sum(axis=0)


class ConvTransposeNd(Kernel):
    """y = W^T x + b: the adjoint (input gradient) of the convolution whose weight is w."""

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups, out):
        batched = x.ndim == w.ndim
        if not batched:
            x = x[None]
        # the convolution whose input gradient this is: (N, C_out, *out) -> x's shape
        geo = Geometry((x.shape[0], w.shape[1] * groups) + tuple(out), w.shape[2:], stride,
                       dilation, padding, groups, x.itemsize, out=x.shape[2:])
        y = input_grad(x, w, geo)
        if b is not None:
            y += b.reshape((-1,) + (1,) * len(out))
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        ctx.geo, ctx.batched, ctx.w_shape = geo, batched, w.shape
        return y if batched else y[0]

    @staticmethod
    def backward(ctx, g):
        """dX = W * dY (the convolution), dW = sum_n x_n (dY's columns)_n^T, db = sum dY."""
        x, w = ctx.saved_tensors
        geo = ctx.geo
        if not ctx.batched:
            g = g[None]                       # (x was saved with its batch axis)
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = channel_sum(g)
        if ctx.needs_input_grad[1]:
            gw = weight_grad(g, to_columns(x, geo), geo, ctx.w_shape)
        if ctx.needs_input_grad[0]:
            wg = w.reshape(geo.groups, w.shape[0] // geo.groups, -1)
            gx = from_columns(conv_columns(g, wg, geo), geo)
            if not ctx.batched:
                gx = gx[0]
        return gx, gw, gb

# ------------------------------------------------------------------ argument checking
def _check_conv_args(fn, n, input, weight, bias, stride, dilation, groups):
    """Checks shared by convolution and transposed convolution; (stride, dilation, groups)."""
    check_tensor(input, fn, "input")
    check_tensor(weight, fn, "weight")
    if bias is not None:
        check_tensor(bias, fn, "bias")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fn}, "
                           f"but got input of size: {fmt_size(input.shape)}")
    if weight.ndim != n + 2:
        raise RuntimeError(f"{fn}(): expected weight to be {n + 2}-dimensional, but got weight "
                           f"of size {fmt_size(weight.shape)}")
    dt = input._data.dtype
    if weight._data.dtype != dt:
        raise RuntimeError(f"{fn}(): input type ({input.dtype.name}) and weight type "
                           f"({weight.dtype.name}) should be the same")
    if bias is not None and bias._data.dtype != dt:
        raise RuntimeError(f"{fn}(): Input type ({input.dtype.name}) and bias type "
                           f"({bias.dtype.name}) should be the same")
    if dt.kind not in "fiu":
        raise RuntimeError(f"{fn}(): not implemented for dtype {input.dtype.name}")
    stride = ntuple(stride, n, "stride", fn, low=1)
    dilation = ntuple(dilation, n, "dilation", fn, low=1)
    if not is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError(f"{fn}(): non-positive groups is not supported, got groups={groups}")
    if weight.shape[0] % groups or weight.shape[0] == 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"(and at least 1) at dimension 0, but got weight of size "
                           f"{fmt_size(weight.shape)} instead")
    return stride, dilation, int(groups)


def _check_channels(input, weight, bias, groups, n, transposed):
    """Input channels against the weight; bias length against the output channels."""
    expect = weight.shape[0] if transposed else weight.shape[1] * groups
    c_out = weight.shape[1] * groups if transposed else weight.shape[0]
    C = input.shape[-n - 1]
    given = "Given transposed=1, weight" if transposed else f"Given groups={groups}, weight"
    if C != expect:
        raise RuntimeError(f"{given} of size {fmt_size(weight.shape)}, expected "
                           f"input{fmt_size(input.shape)} to have {expect} channels, but got "
                           f"{C} channels instead")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"Given {'transposed=1, ' if transposed else ''}weight of size "
                           f"{fmt_size(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{c_out} elements, but got bias of size {fmt_size(bias.shape)} instead")


def _conv(fn, n, input, weight, bias, stride, padding, dilation, groups):
    """Validate torch's conv arguments and run ``ConvNd``."""
    stride, dilation, groups = _check_conv_args(fn, n, input, weight, bias, stride, dilation,
                                                groups)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{fn}(): padding='same' is not supported for strided "
                                   f"convolutions (got stride={list(stride)})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            pads = tuple((t // 2, t - t // 2) for t in total)   # the odd one out goes right
        else:
            raise RuntimeError(f"{fn}(): Invalid padding string: {padding!r}, expected 'same' "
                               f"or 'valid'")
    else:
        pads = tuple((v, v) for v in ntuple(padding, n, "padding", fn, low=0))
    _check_channels(input, weight, bias, groups, n, transposed=False)
    padded = padded_sizes(input.shape, pads)
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(f"{fn}(): Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, extent))}). Kernel size can't be greater "
                           f"than actual input size")
    return ConvNd.apply(input, weight, bias, stride=stride, padding=pads, dilation=dilation,
                        groups=groups)


def _conv_transpose(fn, n, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    """Validate torch's transposed-conv arguments and run ``ConvTransposeNd``."""
    stride, dilation, groups = _check_conv_args(fn, n, input, weight, bias, stride, dilation,
                                                groups)
    if isinstance(padding, str):
        raise TypeError(f"{fn}(): argument 'padding' must be an int or a tuple of {n} ints, "
                        f"not str")
    padding = ntuple(padding, n, "padding", fn, low=0)
    output_padding = ntuple(output_padding, n, "output_padding", fn, low=0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{fn}(): output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={list(output_padding)}, "
                           f"stride={list(stride)}, dilation={list(dilation)}")
    _check_channels(input, weight, bias, groups, n, transposed=True)
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, st, p, d, k, op in
                zip(input.shape[-n:], stride, padding, dilation, weight.shape[2:], output_padding))
    if min(out) <= 0:
        raise RuntimeError(f"{fn}(): Given input size per channel: {fmt_size(input.shape[-n:])}, "
                           f"calculated output size per channel: {fmt_size(out)}. Output size "
                           f"is too small")
    return ConvTransposeNd.apply(input, weight, bias, stride=stride,
                                 padding=tuple((p, p) for p in padding), dilation=dilation,
                                 groups=groups, out=out)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, L) or (C, L) ``input`` with (F, C/groups, K) ``weight``."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) ``input`` with (F, C/groups, kH, kW)
    ``weight``; ``padding`` is an int, a pair, 'valid' or 'same' (stride 1 only)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of (N, C, D, H, W) or (C, D, H, W) ``input``."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of (N, C_in, L) ``input`` with (C_in, C_out/groups, K)
    ``weight``: output length (L - 1) * stride - 2 * padding + dilation * (K - 1) +
    output_padding + 1."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) ``input`` with
    (C_in, C_out/groups, kH, kW) ``weight``: the gradient of conv2d with respect to its input."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution of (N, C_in, D, H, W) ``input``."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# Pooling lives in pool.py (it imports the window tools above); the family is exported here.
from .pool import (  # noqa: E402,F401
    max_pool1d, max_pool2d, max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d,
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
    adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from . import pool as _pool  # noqa: E402

__all__ += _pool.__all__
FUNCTIONAL += _pool.FUNCTIONAL
