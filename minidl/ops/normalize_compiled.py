"""Compiled batch norm and layer norm (``backend.compiled``).

Batch norm, x viewed (N, C, M): per channel, the statistics in two reads of x and the
normalised output in one more; the backward's two sums in one read of (g, xhat) and dx in
one more -- where the NumPy path (``normalize.Normalize``) makes about six passes each way.
Channels c0 <= c < c1 only, so that threads can take shares of the same (contiguous)
arrays. Layer norm, x viewed (rows, D) with w, b over D: the same per row, its rows
shared out, dw and db summed per share. Same formulas as the NumPy path; the sums are
accumulated in float64.
"""
import math

import numpy as np

from ..backend.compiled import kernel
from ..backend.parallel import run_parts, shares


@kernel
def _forward(x, w, b, eps, fixed, mean, var, invstd, xhat, y, c0, c1):
    N, C, M = x.shape
    for c in range(c0, c1):
        if not fixed:
            s = 0.0
            for n in range(N):
                for k in range(M):
                    s += x[n, c, k]
            mean[c] = s / max(N * M, 1)
            mu = mean[c]                  # in x's type from here: the loops vectorise
            s = 0.0
            for n in range(N):
                for k in range(M):
                    d = x[n, c, k] - mu
                    s += d * d
            var[c] = s / max(N * M, 1)
        mu = mean[c]
        invstd[c] = 1.0 / np.sqrt(np.float64(var[c]) + eps)
        inv = invstd[c]
        for n in range(N):
            for k in range(M):
                h = (x[n, c, k] - mu) * inv
                xhat[n, c, k] = h
                y[n, c, k] = h * w[c] + b[c]


@kernel
def _backward(g, xhat, invstd, w, fixed, dx, dw, db, c0, c1):
    N, C, M = g.shape
    count = max(N * M, 1)
    coef = np.empty(3, dx.dtype)          # the loop's coefficients in dx's type
    for c in range(c0, c1):
        sg, sgx = 0.0, 0.0
        for n in range(N):
            for k in range(M):
                sg += g[n, c, k]
                sgx += g[n, c, k] * xhat[n, c, k]
        dw[c], db[c] = sgx, sg
        coef[0] = invstd[c] * w[c]
        coef[1], coef[2] = (0.0, 0.0) if fixed else (sg / count, sgx / count)
        scale, mg, mgx = coef[0], coef[1], coef[2]
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


# ------------------------------------------------------------------ layer norm: rows
@kernel
def _rows_forward(x, w, b, eps, mean, var, invstd, xhat, y, r0, r1):
    D = x.shape[1]
    for r in range(r0, r1):
        s = 0.0
        for k in range(D):
            s += x[r, k]
        mean[r] = s / max(D, 1)
        mu = mean[r]                      # in x's type from here: the loops vectorise
        s = 0.0
        for k in range(D):
            d = x[r, k] - mu
            s += d * d
        var[r] = s / max(D, 1)
        invstd[r] = 1.0 / np.sqrt(s / max(D, 1) + eps)
        inv = invstd[r]
        for k in range(D):
            h = (x[r, k] - mu) * inv
            xhat[r, k] = h
            y[r, k] = h * w[k] + b[k]


@kernel
def _rows_backward(g, xhat, invstd, w, dx, dw, db, r0, r1):
    D = g.shape[1]
    coef = np.empty(2, dx.dtype)          # the loop's coefficients in dx's type
    for r in range(r0, r1):
        sg, sgx = 0.0, 0.0
        for k in range(D):
            gw = g[r, k] * w[k]
            sg += gw
            sgx += gw * xhat[r, k]
            dw[k] += g[r, k] * xhat[r, k]
            db[k] += g[r, k]
        coef[0], coef[1] = sg / max(D, 1), sgx / max(D, 1)
        mg, mgx = coef[0], coef[1]
        for k in range(D):
            dx[r, k] = invstd[r] * (g[r, k] * w[k] - mg - xhat[r, k] * mgx)


def serves_rows(x, axes, wshape, weight, bias, stats):
    """Whether these ``Normalize`` arguments are layer norm's layout the kernels take: the
    statistics over trailing axes, w and b (if any) over exactly those axes."""
    n = len(axes)
    return (stats is None and n >= 1 and tuple(axes) == tuple(range(x.ndim - n, x.ndim))
            and tuple(wshape) == x.shape[x.ndim - n:] and x.dtype in (np.float32, np.float64)
            and x.flags.c_contiguous and all(a is None or a.dtype == x.dtype
                                             for a in (weight, bias)))


def _row_shares(rows, size):
    return shares(rows, size)


def forward_rows(x, weight, bias, eps, mean, var, invstd, xhat, y, n):
    """Normalize.forward over the last ``n`` axes of ``x`` into the given outputs."""
    D = math.prod(x.shape[x.ndim - n:])
    rows = x.size // max(D, 1)
    w = weight.reshape(D) if weight is not None else np.ones(D, x.dtype)
    b = bias.reshape(D) if bias is not None else np.zeros(D, x.dtype)
    args = (x.reshape(rows, D), w, b, eps, mean.reshape(rows), var.reshape(rows),
            invstd.reshape(rows), xhat.reshape(rows, D), y.reshape(rows, D))
    run_parts(lambda s: _rows_forward(*args, s.start, s.stop), _row_shares(rows, x.size))


def backward_rows(g, xhat, invstd, weight, n):
    """(dx, dw, db) of layer norm over the last ``n`` axes; dw, db summed over the rows."""
    D = math.prod(xhat.shape[xhat.ndim - n:])
    rows = xhat.size // max(D, 1)
    w = weight.reshape(D) if weight is not None else np.ones(D, xhat.dtype)
    g2, x2 = np.ascontiguousarray(g, xhat.dtype).reshape(rows, D), xhat.reshape(rows, D)
    dx = np.empty((rows, D), xhat.dtype)

    def share(s):
        dw, db = np.zeros(D), np.zeros(D)
        _rows_backward(g2, x2, invstd.reshape(rows), w, dx, dw, db, s.start, s.stop)
        return dw, db
    parts = run_parts(share, _row_shares(rows, xhat.size))
    dw, db = (sum(p[i] for p in parts).astype(xhat.dtype) for i in (0, 1))
    return dx.reshape(xhat.shape), dw, db
