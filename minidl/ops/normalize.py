"""The one kernel of the mean / variance norms (batch, layer, group, instance): ``Normalize``.

Its statistics are independent along every axis they are not taken over (batch norm's
channels, layer norm's rows), so the work splits there into one share per thread
(``backend.parallel``), each share running the same array code on its slice; with one
thread the one share is the whole array. Batch norm's and layer norm's layouts have
compiled loops (``normalize_compiled``) used where numba is installed; the array code is
the reference.
"""
import numpy as np

from ..autograd import Kernel
from ..backend import compiled
from ..backend.parallel import run_parts, shares
from ..tensor import Tensor
from . import normalize_compiled


class Normalize(Kernel):
    """y = xhat * w + b with xhat = (x - mean) / sqrt(var + eps); the statistics are taken
    over ``axes`` of x viewed as ``view`` (or are the fixed ``stats``, e.g. batch norm's
    running ones in eval mode); w and b broadcast as ``wshape``. Returns (y, mean, var);
    only y is differentiable.

    With gw = g * w and M values per statistic:
        dx = invstd / M * (M gw - sum(gw) - xhat * sum(gw * xhat))   (sums over ``axes``)
    (for fixed statistics dx = invstd * gw);  dw = sum(g * xhat), db = sum(g) over the axes
    w is broadcast along. When w is constant over ``axes`` (batch / instance norm) the two
    sums are w * sum(g) and w * sum(g * xhat): the same sums db and dw need.

    Batch norm, as the code computes it: x viewed (N, C, H*W), per channel the statistics
    run over its m = N*H*W values (``axes`` (0, 2)), gamma = w, beta = b, and with
        x_hat = (x - mu) / sqrt(var + eps)      (mu, var: the batch mean, biased variance)
        dL/dx     = (gamma / sqrt(var + eps)) * (g - mean(g) - x_hat * mean(g * x_hat))
        dL/dgamma = sum(g * x_hat)      dL/dbeta = sum(g)       (means and sums over the m)
    In eval mode mu and var are the running statistics, constants of x, so
        dL/dx = (gamma / sqrt(running_var + eps)) * g
    and dL/dgamma, dL/dbeta are as above with x_hat from the running statistics.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, wshape, eps, view=None, stats=None):
        ctx.shape = x.shape
        if view is not None:
            x = x.reshape(view)
        w = weight.reshape(wshape) if weight is not None else None
        b = bias.reshape(wshape) if bias is not None else None
        kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        xhat = np.empty(x.shape, x.dtype)
        y = np.empty(x.shape, np.result_type(*[a for a in (x, weight, bias) if a is not None]))
        invstd = np.empty(kept, x.dtype)
        mean, var = (np.empty(kept, x.dtype) for _ in "mv") if stats is None else stats

        fast = compiled.enabled() and normalize_compiled.serves(x, axes, wshape, weight, bias)

        def share(k, sl):
            if fast:
                return normalize_compiled.forward_channels(
                    x, weight, bias, eps, stats, mean, var, invstd, xhat, y,
                    sl if sl is not None else slice(0, x.shape[1]))
            p = [_share(a, k, sl, x.ndim) for a in (x, w, b, xhat, y, mean, var, invstd)]
            xs, ws, bs, xhs, ys, ms, vs, ss = p
            if stats is None:  # an empty x has mean and variance 0, not 0 / 0
                n = max(_count(xs.shape, axes), 1)
                np.divide(xs.sum(axis=axes, keepdims=True), n, out=ms)
                np.subtract(xs, ms, out=xhs)
                np.divide(_sum_of_products(xhs, xhs, axes), n, out=vs)
            else:
                np.subtract(xs, ms, out=xhs)
            np.divide(1.0, np.sqrt(vs + eps), out=ss)
            xhs *= ss
            if ws is not None:
                np.multiply(xhs, ws, out=ys)
            else:
                ys[...] = xhs
            if bs is not None:
                ys += bs
        if compiled.enabled() and normalize_compiled.serves_rows(x, axes, wshape, weight,
                                                                  bias, stats):
            normalize_compiled.forward_rows(x, weight, bias, eps, mean, var, invstd, xhat, y,
                                            len(axes))
        else:
            _run_shares(share, x.shape, axes)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes, ctx.wshape, ctx.fixed = axes, wshape, stats is not None
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.mark_non_differentiable(mean, var)
        return y.reshape(ctx.shape), mean, var

    @staticmethod
    def backward(ctx, g, g_mean, g_var):
        xhat, invstd, weight = ctx.saved_tensors
        g = g.reshape(xhat.shape)
        axes, wshape, nd = ctx.axes, ctx.wshape, xhat.ndim
        lead = nd - len(wshape)
        waxes = tuple(i for i in range(nd) if i < lead or wshape[i - lead] == 1)
        w = weight.reshape(wshape) if weight is not None else None
        M = max(_count(xhat.shape, axes), 1)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = np.empty(xhat.shape, np.result_type(g, xhat)) if need_x else None
        w_const = set(axes) <= set(waxes)  # w constant over the statistics (batch / instance)
        if compiled.enabled() and not ctx.fixed and normalize_compiled.serves_rows(
                xhat, axes, wshape, weight, None, None):
            dx, dw, db = normalize_compiled.backward_rows(g, xhat, invstd, weight, len(axes))
            return (dx.reshape(ctx.shape) if need_x else None,
                    dw.reshape(weight.shape) if need_w else None,
                    db.reshape(ctx.bias_shape) if need_b else None)
        fast = compiled.enabled() and normalize_compiled.serves(xhat, axes, wshape, weight, None)
        if fast:
            g = np.ascontiguousarray(g, xhat.dtype)
            dx = dx if dx is not None else np.empty(xhat.shape, xhat.dtype)

        def share(k, sl):
            if fast:
                return (k,) + normalize_compiled.backward_channels(
                    g, xhat, invstd, weight, ctx.fixed, dx, sl)
            gs, xh, s, ws, dxs = (_share(a, k, sl, nd) for a in (g, xhat, invstd, w, dx))
            dws = dbs = None
            if w_const:
                sg = gs.sum(axis=axes, keepdims=True)
                sgx = _sum_of_products(gs, xh, axes)
                if need_x:
                    kk = s * ws if ws is not None else s
                    np.multiply(gs, kk, out=dxs)
                    if not ctx.fixed:
                        dxs -= kk * (sg / M)
                        dxs -= xh * (kk * (sgx / M))
                rest = tuple(i for i in waxes if i not in axes)
                dws = sgx.sum(axis=rest, keepdims=True) if need_w else None
                dbs = sg.sum(axis=rest, keepdims=True) if need_b else None
            else:  # w varies over the statistics (layer / group norm)
                if need_x:
                    gw = gs * ws if ws is not None else gs
                    if ctx.fixed:
                        np.multiply(gw, s, out=dxs)
                    else:
                        np.subtract(gw, gw.mean(axis=axes, keepdims=True), out=dxs)
                        dxs -= xh * (_sum_of_products(gw, xh, axes) / M)
                        dxs *= s
                dws = _sum_of_products(gs, xh, waxes) if need_w else None
                dbs = gs.sum(axis=waxes, keepdims=True) if need_b else None
            return k, dws, dbs
        results = _run_shares(share, xhat.shape, axes)
        k = results[0][0]

        def join(parts):  # a share's dw / db: its slice of axis k, or a partial sum where
            if len(parts) == 1:                       # w is constant along k
                return parts[0]
            return sum(parts) if k in waxes else np.concatenate(parts, axis=k)
        dw = join([r[1] for r in results]).reshape(weight.shape) if need_w else None
        db = join([r[2] for r in results]).reshape(ctx.bias_shape) if need_b else None
        if dx is not None and need_x:
            dx = dx.reshape(ctx.shape)
        return (dx if need_x else None), dw, db

    @staticmethod
    def reference(x, weight, bias, axes, wshape, eps, view=None, stats=None):
        """The textbook composition (what ``create_graph`` differentiates)."""
        xv = x.reshape(view) if view is not None else x
        if stats is None:
            mean = xv.mean(dim=axes, keepdim=True)
            var = ((xv - mean) ** 2).mean(dim=axes, keepdim=True)
        else:
            mean, var = Tensor(stats[0]), Tensor(stats[1])
        y = (xv - mean) * (var + eps).rsqrt()
        if weight is not None:
            y = y * weight.reshape(wshape)
        if bias is not None:
            y = y + bias.reshape(wshape)
        return y.reshape(x.shape), mean.detach(), var.detach()


def _run_shares(share, shape, axes):
    """share(k, slice) for the shares of the longest axis k the statistics are not taken
    over (all of it as one share when there is no such axis or one thread)."""
    free = [i for i in range(len(shape)) if i not in axes]
    if not free:
        return [share(None, None)]
    k = max(free, key=lambda i: shape[i])
    return run_parts(lambda sl: share(k, sl), shares(shape[k], int(np.prod(shape))))


def _share(a, k, sl, ndim):
    """``a`` (broadcasting against ``ndim``-d arrays, aligned right) restricted to slice
    ``sl`` of axis k; as it is where it is broadcast along k."""
    if a is None or sl is None:
        return a
    j = k - (ndim - a.ndim)
    if j < 0 or a.shape[j] == 1:
        return a
    return a[(slice(None),) * j + (sl,)]


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _sum_of_products(a, b, axes):
    """sum(a * b) over ``axes`` (keepdims) in one pass, without the product temporary."""
    idx = _LETTERS[:a.ndim]
    out = "".join(c for i, c in enumerate(idx) if i not in axes)
    r = np.einsum(f"{idx},{idx}->{out}", a, b)
    return r.reshape([1 if i in axes else s for i, s in enumerate(a.shape)])
