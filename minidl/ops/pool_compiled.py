"""Compiled 2-D max pooling (``backend.compiled``): one fused loop per kernel offset keeps
each window's running max and its first argmax, where the NumPy path
(``pool.max_offsets``) needs five passes over the output per offset.

Same semantics as the reference: windows over the padded planes xp (P, Hp, Wp), ties go
to the first maximum in row-major window order, a NaN beats everything (the last NaN);
``idx`` holds the offset a * kw + b of the max within its window. The planes are shared
out over the threads (``backend.parallel``).
"""
import numpy as np

from ..backend.compiled import kernel
from ..backend.parallel import run_parts, shares


@kernel
def _max_windows(xp, kh, kw, sh, sw, dh, dw, m, idx):
    P, oh, ow = m.shape
    Hp, Wp = xp.shape[1], xp.shape[2]
    # Over a plane's flat run of window starts q = r * Wp + c, tap (a, b) reads
    # flat[q + a dh Wp + b dw]: one contiguous, branch-free loop per tap that vectorises
    # (the offset is kept in the values' type so that its select does too). Output (i, j)
    # is the run's q = i sh Wp + j sw; the starts in between are computed and dropped.
    L = (oh - 1) * sh * Wp + (ow - 1) * sw + 1
    best = np.empty(L, xp.dtype)
    arg = np.empty(L, xp.dtype)
    for p in range(P):
        flat = xp[p].reshape(Hp * Wp)
        best[:] = flat[:L]
        arg[:] = 0
        for a in range(kh):
            for b in range(kw):
                t = a * kw + b
                src = flat[a * dh * Wp + b * dw:a * dh * Wp + b * dw + L]
                for q in range(L):
                    v, c = src[q], best[q]
                    take = (v > c) | (v != v)
                    arg[q] = t if take else arg[q]
                    best[q] = v if take else c
        for i in range(oh):
            for j in range(ow):
                m[p, i, j] = best[i * sh * Wp + j * sw]
                idx[p, i, j] = int(arg[i * sh * Wp + j * sw])


@kernel
def _scatter_to_argmax(g, idx, kw, sh, sw, dh, dw, dxp):
    P, oh, ow = g.shape
    for p in range(P):
        for i in range(oh):
            for j in range(ow):
                t = np.int64(idx[p, i, j])
                a = t // kw
                b = t - a * kw
                dxp[p, i * sh + a * dh, j * sw + b * dw] += g[p, i, j]


def _plane_shares(planes, per_plane):
    return shares(planes, planes * per_plane)


def max_windows_2d(xp, kernel_size, stride, dilation, out, idx_dtype):
    """(max, argmax offset) of every window of padded ``xp`` (..., Hp, Wp)."""
    lead = xp.shape[:-2]
    planes = np.ascontiguousarray(xp).reshape((-1,) + xp.shape[-2:])
    m = np.empty((planes.shape[0],) + tuple(out), xp.dtype)
    idx = np.empty(m.shape, idx_dtype)
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    run_parts(lambda s: _max_windows(planes[s], kh, kw, sh, sw, dh, dw, m[s], idx[s]),
              _plane_shares(planes.shape[0], xp.shape[-1] * xp.shape[-2]))
    return m.reshape(lead + tuple(out)), idx.reshape(lead + tuple(out))


def scatter_to_argmax_2d(g, idx, kernel_size, stride, dilation, padded):
    """dxp (..., *padded) = zeros, each dy[o] added at its window's argmax."""
    lead = g.shape[:-2]
    gp = np.ascontiguousarray(g).reshape((-1,) + g.shape[-2:])
    ip = np.ascontiguousarray(idx).reshape(gp.shape)
    dxp = np.zeros((gp.shape[0],) + tuple(padded), g.dtype)
    kw = kernel_size[1]
    (sh, sw), (dh, dw) = stride, dilation
    run_parts(lambda s: _scatter_to_argmax(gp[s], ip[s], kw, sh, sw, dh, dw, dxp[s]),
              _plane_shares(gp.shape[0], padded[0] * padded[1]))
    return dxp.reshape(lead + tuple(padded))
