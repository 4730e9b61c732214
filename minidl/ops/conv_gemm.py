"""The fast convolution: blocked GEMMs over im2col columns, for 1, 2 or 3 spatial dims.

One N-d implementation serves every dimensionality. Its tool is the *window view*
(``window.window_view``): for a (padded) input ``xp`` of shape (N, C, *S), a strided view of
shape (N, C, *O, *K), made by ``as_strided`` without copying, with

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
(the *wide* layout), so that one GEMM per block reads the weights once. With several
threads allowed the batch is split into one contiguous share per thread, each share's
blocks -- copies, GEMMs and scatters alike -- running on its own core
(``backend.parallel``); with one thread it is the same loop over all the blocks.
``benchmarks/conv_ops.py`` times every choice against torch.

The textbook version, one im2col matrix for the whole batch, is ``conv_reference``; the
tests hold this one against it.
"""
import copy
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backend.parallel import run_parts, shares
from .window import crop_index, offsets, out_size, padded_sizes, scatter_windows, window_view

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

    def shares(self):
        """Contiguous slices of the batch, one per thread that will work on it."""
        return shares(self.N, self.N * self.rows * self.L)

    def share(self, sl):
        """This geometry for the images ``sl`` of the batch only."""
        part = copy.copy(self)
        part.N = sl.stop - sl.start
        return part

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

    def share(part):
        ys = y[part]
        for sl, cols in column_blocks(x[part], geo.share(part)):
            if geo.wide:
                ys[sl] = images_first(np.matmul(wg, cols), sl.stop - sl.start)
            else:
                np.matmul(wg, cols, out=ys[sl])
    run_parts(share, geo.shares())
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

    def share(part):                                  # this share's sum of dW^T (BLAS is
        gwt = np.zeros((G, geo.rows // G, w_shape[0] // G), gm.dtype)  # faster this way)
        gms = gm[part]
        for sl, cols in column_blocks(x[part], geo.share(part)):
            gy = gms[sl].reshape(sl.stop - sl.start, G, -1, geo.L)
            if geo.wide:
                gwt += np.matmul(cols, images_last(gy).swapaxes(-1, -2))
            else:
                gwt += np.matmul(cols, gy.swapaxes(-1, -2)).sum(axis=0)
        return gwt
    return sum(run_parts(share, geo.shares())).swapaxes(-1, -2).reshape(w_shape)


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
    inner = crop_index(geo.sizes, geo.pads)

    def share(part):
        sub, dxs, gms = geo.share(part), dx[part], gm[part]
        buf = np.empty((min(sub.block, sub.N), sub.C) + sub.padded, gm.dtype) if padded else None
        for sl in sub.batches():
            m = sl.stop - sl.start
            dxp = buf[:m] if padded else dxs[sl]
            dxp[...] = 0
            gy = gms[sl].reshape(m, G, F // G, geo.L)
            dcols = images_first(np.matmul(wt, images_last(gy)), m) if geo.wide else \
                np.matmul(wt, gy)
            col2im(dcols, dxp, sub)
            if padded:
                dxs[sl] = dxp[inner]
    run_parts(share, geo.shares())
    return dx

