"""Compiled batch norm (``backend.compiled``) for x viewed (N, C, M): per channel, the
statistics in two reads of x and the normalised output in one more; the backward's two
sums in one read of (g, xhat) and dx in one more -- where the NumPy path
(``normalize.Normalize``) makes about six passes each way. Same formulas as there; the
sums are accumulated in float64. Channels c0 <= c < c1 only, so that threads can take
shares of the channels of the same (contiguous) arrays.
"""
import numpy as np

from ..backend.compiled import kernel


@kernel
def _forward(x, w, b, eps, fixed, mean, var, invstd, xhat, y, c0, c1):
    N, C, M = x.shape
    for c in range(c0, c1):
        if fixed:
            mu, v = np.float64(mean[c]), np.float64(var[c])
        else:
            s = 0.0
            for n in range(N):
                for k in range(M):
                    s += x[n, c, k]
            mu = s / max(N * M, 1)
            s = 0.0
            for n in range(N):
                for k in range(M):
                    d = x[n, c, k] - mu
                    s += d * d
            v = s / max(N * M, 1)
            mean[c], var[c] = mu, v
        inv = 1.0 / np.sqrt(v + eps)
        invstd[c] = inv
        for n in range(N):
            for k in range(M):
                h = (x[n, c, k] - mu) * inv
                xhat[n, c, k] = h
                y[n, c, k] = h * w[c] + b[c]


@kernel
def _backward(g, xhat, invstd, w, fixed, dx, dw, db, c0, c1):
    N, C, M = g.shape
    count = max(N * M, 1)
    for c in range(c0, c1):
        sg, sgx = 0.0, 0.0
        for n in range(N):
            for k in range(M):
                sg += g[n, c, k]
                sgx += g[n, c, k] * xhat[n, c, k]
        dw[c], db[c] = sgx, sg
        scale = invstd[c] * w[c]
        mg, mgx = (0.0, 0.0) if fixed else (sg / count, sgx / count)
        for n in range(N):
            for k in range(M):
                dx[n, c, k] = scale * (g[n, c, k] - mg - xhat[n, c, k] * mgx)


def serves(x, axes, wshape, weight, bias):
    """Whether these ``Normalize`` arguments are batch norm's layout that the kernels take."""
    return (x.ndim == 3 and tuple(axes) == (0, 2) and tuple(wshape) == (x.shape[1], 1)
            and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous
            and all(a is None or a.dtype == x.dtype for a in (weight, bias)))


def forward_channels(x, weight, bias, eps, stats, mean, var, invstd, xhat, y, sl):
    """Normalize.forward for channels ``sl`` of (N, C, M) ``x`` into the given outputs."""
    C = x.shape[1]
    w = weight.reshape(C) if weight is not None else np.ones(C, x.dtype)
    b = bias.reshape(C) if bias is not None else np.zeros(C, x.dtype)
    fixed = stats is not None
    _forward(x, w, b, eps, fixed, mean.reshape(C), var.reshape(C), invstd.reshape(C), xhat, y,
             sl.start, sl.stop)


def backward_channels(g, xhat, invstd, weight, fixed, dx, sl):
    """(dw, db) of channels ``sl`` as (1, c, 1); dx written into ``dx`` (or a scratch)."""
    C = xhat.shape[1]
    w = weight.reshape(C) if weight is not None else np.ones(C, xhat.dtype)
    dw, db = np.empty(C, g.dtype), np.empty(C, g.dtype)
    _backward(g, xhat, invstd.reshape(C), w, fixed, dx, dw, db, sl.start, sl.stop)
    return dw[sl].reshape(1, -1, 1), db[sl].reshape(1, -1, 1)
