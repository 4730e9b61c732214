"""Depthwise convolution by kernel taps: groups == C == F, one filter per channel
(MobileNet's, Howard et al. 2017).

im2col makes it C tiny GEMMs (1 x prod(K) by prod(K) x L) per block, which on the small,
many-channel maps of a MobileNet's last stages costs 10-50x its arithmetic. Instead each
kernel tap j is one broadcast multiply-add over the output, on the zero-padded input xp:

    y[n, c, o]   = sum_j w[c, j] xp[n, c, o s + j d]               (+ b[c])
    dw[c, j]     = sum_{n, o} dy[n, c, o] xp[n, c, o s + j d]
    dxp[n, c, o s + j d] += w[c, j] dy[n, c, o]

computed channels-last, so that every NumPy loop runs along C. Threads take shares of the
batch (``backend.parallel``). ``conv_gemm`` (im2col) is used where the maps are large and
unstrided, and ``conv_reference`` is what the tests compare both with.
"""
import math

import numpy as np

from ..backend.parallel import run_parts, shares
from .window import crop_index, offsets, pad_spatial

# The tap path is used where a map has at most this many output positions, or the
# convolution is strided (im2col's dense layout and its scatter are slow there).
TAPS_MAX_POSITIONS = 64


def serves_depthwise(geo, w_shape):
    """Whether the convolution ``geo`` by ``w_shape`` runs here rather than by im2col."""
    if not (geo.groups == geo.C == w_shape[0] > 1 and w_shape[1] == 1):
        return False
    return math.prod(geo.out) <= TAPS_MAX_POSITIONS or any(s > 1 for s in geo.stride)




def _shares(geo, size):
    return shares(geo.N, size)


def _channels_last(a, pads):
    """(N, C, *S) -> contiguous (N, *P, C), zero padded by ``pads``: the taps then run over
    C-long contiguous rows, where NCHW would give NumPy loops a few positions long."""
    return np.ascontiguousarray(np.moveaxis(pad_spatial(a, pads), 1, -1))


def _tap(geo, j):
    """Index of tap j's positions o s + j d in a channels-last (N, *P, C) array."""
    return (slice(None),) + tuple(slice(a * d, a * d + (o - 1) * s + 1, s) for a, d, o, s in
                                  zip(j, geo.dilation, geo.out, geo.stride)) + (slice(None),)


def _weights(w):
    """w (C, 1, *K) -> (prod(K), C): row t is tap t's weight per channel."""
    return np.ascontiguousarray(w.reshape(w.shape[0], -1).T)


def depthwise_forward(x, w, b, geo):
    """y (N, C, *O) of depthwise ``geo`` on (N, C, *S) ``x`` (plus bias ``b`` or None)."""
    xl, wt = _channels_last(x, geo.pads), _weights(w)
    y = np.empty((geo.N,) + geo.out + (geo.C,), np.result_type(x, w))

    def share(sl):
        ys, xs = y[sl], xl[sl]
        buf = np.empty(ys.shape, y.dtype)
        for t, j in enumerate(offsets(geo.kernel)):
            np.multiply(xs[_tap(geo, j)], wt[t], out=ys if t == 0 else buf)
            if t:
                ys += buf
        if b is not None:
            ys += b
    run_parts(share, _shares(geo, y.size))
    return np.ascontiguousarray(np.moveaxis(y, -1, 1))


def depthwise_backward(x, w, g, geo, need_x, need_w):
    """(dx, dw) of depthwise ``geo`` from dy ``g`` (N, C, *O); None where not needed."""
    gl = np.ascontiguousarray(np.moveaxis(g, 1, -1))                  # (N, *O, C)
    xl = _channels_last(x, geo.pads) if need_w else None
    wt = _weights(w) if need_x else None
    dxl = np.zeros((geo.N,) + tuple(geo.padded) + (geo.C,), g.dtype) if need_x else None
    letters = "nxyz"[:1 + geo.n] + "c"
    spec = f"{letters},{letters}->c"                    # sum over the batch and positions

    def share(sl):
        gs = gl[sl]
        dw = np.zeros((math.prod(geo.kernel), geo.C), g.dtype)
        for t, j in enumerate(offsets(geo.kernel)):
            if need_w:
                dw[t] = np.einsum(spec, gs, xl[sl][_tap(geo, j)])
            if need_x:
                dxl[sl][_tap(geo, j)] += gs * wt[t]
        return dw
    dws = run_parts(share, _shares(geo, g.size))
    dx = dw = None
    if need_x:
        dx = np.ascontiguousarray(np.moveaxis(dxl, -1, 1)[crop_index(geo.sizes, geo.pads)])
    if need_w:
        dw = sum(dws).T.reshape((geo.C, 1) + tuple(geo.kernel))
    return dx, dw
