"""Recurrent layers: one direction of one RNN / LSTM / GRU layer run over a whole sequence.

The sequence arrives as its input projections ``xg = x W_ih^T + b_ih`` for all steps at once
(one matmul, ``input_projection``), laid out as "steps": rows ``off[t] : off[t] + bs[t]`` of
``xg`` are the ``bs[t]`` sequences still running at step t (``bs`` non-increasing, the
layout of a PackedSequence; a padded (T, B) batch is the case ``bs = [B] * T``). At each
step the first ``bs[t]`` rows of the state advance and the others keep theirs: running
forward a finished sequence keeps its last state, running in reverse a sequence not yet
started keeps h_0 -- so h_n is each sequence's state at its true last step either way.

Gates (torch's layout and order), with gh = h W_hh^T + b_hh:
    RNN:  h' = tanh(xg + gh)  (or relu)
    LSTM: i, f, g, o = chunks of xg + gh;  c' = s(f) c + s(i) tanh(g);  h' = s(o) tanh(c')
          (with a projection, h' = (s(o) tanh(c')) W_hr^T)
    GRU:  r = s(xg_r + gh_r), z = s(xg_z + gh_z), n = tanh(xg_n + r gh_n);  h' = (1 - z) n + z h
"""
import numpy as np

from ..autograd import Kernel
from .activation import relu, sigmoid, tanh
from .join import cat
from .linalg import linear

__all__ = []


def cell_step(mode, gi, h, c, w_hh, b_hh, w_hr=None):
    """One step of the cell from input projections ``gi`` (b, G) and state ``h`` (b, Hr) /
    ``c`` (b, H), composed of minidl ops; returns (h', c') (c' None but for the LSTM)."""
    gh = linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
        return (h if w_hr is None else linear(h, w_hr)), c
    if mode == "GRU":
        ir, iz, in_ = gi.chunk(3, 1)
        hr, hz, hn = gh.chunk(3, 1)
        r = sigmoid(ir + hr)
        z = sigmoid(iz + hz)
        n = tanh(in_ + r * hn)
        return n + z * (h - n), None
    return (tanh if mode == "RNN_TANH" else relu)(gi + gh), None


def layer_reference(xg, w_hh, b_hh, h0, c0, w_hr, mode, batch_sizes, reverse):
    """One direction of one layer over the steps of ``xg`` (see the module docstring),
    composed of minidl ops: (y, h_n) or, for the LSTM, (y, h_n, c_n); y (N, Hr)."""
    offsets = np.concatenate([[0], np.cumsum(batch_sizes, dtype=np.int64)])
    steps = range(len(batch_sizes))
    h, c = h0, c0
    ys = [None] * len(batch_sizes)
    for t in (reversed(steps) if reverse else steps):
        b = batch_sizes[t]
        full = b == h.shape[0]
        gi = xg[int(offsets[t]):int(offsets[t + 1])]
        h_t, c_t = cell_step(mode, gi, h if full else h[:b], None if c is None else
                             (c if full else c[:b]), w_hh, b_hh, w_hr)
        ys[t] = h_t
        h = h_t if full else cat([h_t, h[b:]])
        if c is not None:
            c = c_t if full else cat([c_t, c[b:]])
    return (cat(ys), h) if c is None else (cat(ys), h, c)


def _sigmoid_(a):
    """a <- 1 / (1 + e^-a) in place (e^-a = inf for a << 0 gives 0 exactly)."""
    np.negative(a, out=a)
    with np.errstate(over="ignore"):
        np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


class RecurrentLayer(Kernel):
    """The recurrence of ``layer_reference`` as one node: NumPy steps forward, and
    backpropagation through time by hand, one matmul per step each way (the factors of the
    gate gradients that do not depend on the incoming gradient are formed for all steps at
    once, before the backward loop).

    With a = the gate pre-activations of a step (xg + h W_hh^T + b_hh) and dh the gradient
    reaching its output (from y and from the next step):
        RNN:  da = dh (1 - h'^2)  (relu: dh [h' > 0])
        LSTM: dc += dh s(o) (1 - tanh^2 c');  da_i = dc g i (1 - i),  da_f = dc c f (1 - f),
              da_g = dc i (1 - g^2),  da_o = dh tanh(c') o (1 - o);  dc <- dc f
              (with W_hr, dh is first mapped back through the projection: dh <- dh W_hr)
        GRU:  dn = dh (1 - z) (1 - n^2),  dz = dh (h - n) z (1 - z),  dr = dn gh_n r (1 - r);
              dxg = (dr, dz, dn), dgh = (dr, dz, r dn)
    and dh <- dh_direct + dgh W_hh (dgh = da but for the GRU). The weight gradients are one
    matmul over all steps: dW_hh = dGH^T H_prev, db_hh = sum dGH, dW_hr = dH^T M (M the
    unprojected LSTM outputs); dxg = da, which the input projection's Linear takes on.
    """

    @staticmethod
    def forward(ctx, xg, w_hh, b_hh, h0, c0, w_hr, mode, batch_sizes, reverse):
        offsets = np.concatenate([[0], np.cumsum(batch_sizes, dtype=np.int64)])
        order = list(range(len(batch_sizes)))[::-1 if reverse else 1]
        steps = [(int(offsets[t]), int(offsets[t + 1])) for t in order]
        whT = np.ascontiguousarray(w_hh.T)  # a row-major copy: 10-20 % faster steps
        h = h0.copy()
        y = np.empty((xg.shape[0], h.shape[1]), xg.dtype)
        h_prev, gates = np.empty_like(y), np.empty_like(xg)
        ctx.mode, ctx.steps, ctx.has_bias = mode, steps, b_hh is not None
        if mode == "LSTM":
            c, extra = _lstm_forward(steps, xg if b_hh is None else xg + b_hh, whT, w_hr, h,
                                     c0.copy(), y, h_prev, gates)
            ctx.save_for_backward(w_hh, w_hr, gates, h_prev, *extra)
            return y, h, c
        if mode == "GRU":
            extra = _gru_forward(steps, xg, whT, b_hh, h, y, h_prev, gates)
        else:
            extra = _rnn_forward(steps, xg if b_hh is None else xg + b_hh, whT, mode, h, y,
                                 h_prev, gates)
        ctx.save_for_backward(w_hh, w_hr, gates, h_prev, *extra)
        return y, h

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n=None):
        w_hh, w_hr, gates, h_prev, *extra = ctx.saved_tensors
        steps = ctx.steps[::-1]
        if ctx.mode == "LSTM":
            da, d_gh, dh, dc, dw_hr = _lstm_backward(steps, dy, dh_n, dc_n, w_hh, w_hr, gates,
                                                    *extra, ctx.needs_input_grad[5])
        elif ctx.mode == "GRU":
            da, d_gh, dh = _gru_backward(steps, dy, dh_n, w_hh, gates, h_prev, *extra)
            dc = dw_hr = None
        else:
            da, d_gh, dh = _rnn_backward(steps, dy, dh_n, w_hh, gates, ctx.mode)
            dc = dw_hr = None
        need = ctx.needs_input_grad
        dw_hh = d_gh.T @ h_prev if need[1] else None
        db_hh = d_gh.sum(axis=0) if ctx.has_bias and need[2] else None
        return (da if need[0] else None, dw_hh, db_hh, dh if need[3] else None,
                dc if need[4] else None, dw_hr)

    reference = staticmethod(layer_reference)


# --------------------------------------------------------------- forward steps
# Each runs the steps (rows r0:r1 of the step layout) in order, writing the outputs y, the
# states entering each step h_prev and the gate activations into the arrays given, and
# advancing the state h (and c) in place; it returns what its backward needs besides.

def _lstm_forward(steps, pre, whT, w_hr, h, c, y, h_prev, gates):
    """pre = xg + b_hh. Returns (c_n, (c_prev, tanh(c'), m)), m the unprojected outputs."""
    H = c.shape[1]
    N = pre.shape[0]
    c_prev, tanh_c = np.empty((N, H), pre.dtype), np.empty((N, H), pre.dtype)
    m = np.empty((N, H), pre.dtype) if w_hr is not None else None
    for r0, r1 in steps:
        b = r1 - r0
        h_prev[r0:r1] = h[:b]
        a = gates[r0:r1]
        np.matmul(h[:b], whT, out=a)
        a += pre[r0:r1]
        _sigmoid_(a[:, :2 * H])
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        _sigmoid_(a[:, 3 * H:])
        c_prev[r0:r1] = c[:b]
        cn = c[:b]
        cn *= a[:, H:2 * H]
        cn += a[:, :H] * a[:, 2 * H:3 * H]
        np.tanh(cn, out=tanh_c[r0:r1])
        if m is None:
            np.multiply(a[:, 3 * H:], tanh_c[r0:r1], out=y[r0:r1])
        else:
            np.multiply(a[:, 3 * H:], tanh_c[r0:r1], out=m[r0:r1])
            np.matmul(m[r0:r1], w_hr.T, out=y[r0:r1])
        h[:b] = y[r0:r1]
    return c, (c_prev, tanh_c, m)


def _gru_forward(steps, xg, whT, b_hh, h, y, h_prev, gates):
    """gates holds r, z, n; returns (gh_n,), the hidden side of n's pre-activation."""
    H = h.shape[1]
    gh_n = np.empty((xg.shape[0], H), xg.dtype)
    for r0, r1 in steps:
        b = r1 - r0
        hp = h_prev[r0:r1]
        hp[...] = h[:b]
        a = gates[r0:r1]
        np.matmul(hp, whT, out=a)
        if b_hh is not None:
            a += b_hh
        gh_n[r0:r1] = a[:, 2 * H:]
        a[:, :2 * H] += xg[r0:r1, :2 * H]
        _sigmoid_(a[:, :2 * H])
        n = a[:, 2 * H:]
        n *= a[:, :H]
        n += xg[r0:r1, 2 * H:]
        np.tanh(n, out=n)
        out = y[r0:r1]
        np.subtract(hp, n, out=out)
        out *= a[:, H:2 * H]
        out += n
        h[:b] = out
    return (gh_n,)


def _rnn_forward(steps, pre, whT, mode, h, y, h_prev, gates):
    """pre = xg + b_hh; gates holds the outputs f(a) (tanh or relu). Returns ()."""
    for r0, r1 in steps:
        b = r1 - r0
        h_prev[r0:r1] = h[:b]
        a = gates[r0:r1]
        np.matmul(h[:b], whT, out=a)
        a += pre[r0:r1]
        if mode == "RNN_TANH":
            np.tanh(a, out=a)
        else:
            np.maximum(a, 0, out=a)
        y[r0:r1] = a
        h[:b] = a
    return ()


# -------------------------------------------------------------- backward steps
def _lstm_backward(steps, dy, dh_n, dc_n, w_hh, w_hr, gates, c_prev, tanh_c, m, need_hr):
    """BPTT through the LSTM steps (rows r0:r1, last step first). The factors that do not
    depend on the incoming gradients are formed for all steps at once: per step only
    dc = dc' + dh * o (1 - tanh^2 c'), the gate gradients dc * [g i (1 - i), c f (1 - f),
    i (1 - g^2)] and dh * tanh(c') o (1 - o), and dh W_hh remain."""
    N, G = gates.shape
    H = G // 4
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    by_dc = np.empty((N, 3, H), gates.dtype)
    np.multiply(g, i * (1.0 - i), out=by_dc[:, 0])
    np.multiply(c_prev, f * (1.0 - f), out=by_dc[:, 1])
    np.multiply(i, 1.0 - g * g, out=by_dc[:, 2])
    by_dh_o = tanh_c * o * (1.0 - o)
    to_dc = o * (1.0 - tanh_c * tanh_c)
    dh, dc = dh_n.copy(), dc_n.copy()
    da = np.empty_like(gates)
    dproj = np.empty_like(dy) if w_hr is not None else None
    for r0, r1 in steps:
        b = r1 - r0
        dht = dy[r0:r1] + dh[:b]
        if dproj is not None:
            dproj[r0:r1] = dht
            dht = dht @ w_hr
        dct = dht * to_dc[r0:r1]
        dct += dc[:b]
        d = da[r0:r1]
        np.multiply(dct[:, None, :], by_dc[r0:r1], out=d[:, :3 * H].reshape(b, 3, H))
        np.multiply(dht, by_dh_o[r0:r1], out=d[:, 3 * H:])
        np.multiply(dct, f[r0:r1], out=dc[:b])
        np.matmul(d, w_hh, out=dh[:b])
    dw_hr = dproj.T @ m if dproj is not None and need_hr else None
    return da, da, dh, dc, dw_hr


def _gru_backward(steps, dy, dh_n, w_hh, gates, h_prev, gh_n):
    """BPTT through the GRU steps; the factors (1 - z)(1 - n^2), (h - n) z (1 - z) and
    gh_n r (1 - r) are formed for all steps at once. Returns (dxg, dgh, dh_0)."""
    N, G = gates.shape
    H = G // 3
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    by_dh = np.empty((N, 2, H), gates.dtype)  # dz, dn = dh * these
    np.multiply(h_prev - n, z * (1.0 - z), out=by_dh[:, 0])
    np.multiply(1.0 - z, 1.0 - n * n, out=by_dh[:, 1])
    by_dn = gh_n * r * (1.0 - r)
    dh = dh_n.copy()
    da, dgh = np.empty_like(gates), np.empty_like(gates)
    for r0, r1 in steps:
        b = r1 - r0
        dht = dy[r0:r1] + dh[:b]
        d, e = da[r0:r1], dgh[r0:r1]
        np.multiply(dht[:, None, :], by_dh[r0:r1], out=d[:, H:].reshape(b, 2, H))
        np.multiply(d[:, 2 * H:], by_dn[r0:r1], out=d[:, :H])
        e[:, :2 * H] = d[:, :2 * H]
        np.multiply(d[:, 2 * H:], r[r0:r1], out=e[:, 2 * H:])
        dh_direct = dht * z[r0:r1]
        np.matmul(e, w_hh, out=dh[:b])
        dh[:b] += dh_direct
    return da, dgh, dh


def _rnn_backward(steps, dy, dh_n, w_hh, gates, mode):
    """BPTT through the RNN steps: da = dh f'(a), dh <- da W_hh; f' from the outputs."""
    slope = 1.0 - gates * gates if mode == "RNN_TANH" else (gates > 0).astype(gates.dtype)
    dh = dh_n.copy()
    da = np.empty_like(gates)
    for r0, r1 in steps:
        b = r1 - r0
        d = da[r0:r1]
        np.add(dy[r0:r1], dh[:b], out=d)
        d *= slope[r0:r1]
        np.matmul(d, w_hh, out=dh[:b])
    return da, da, dh


def input_projection(mode, x, w_ih, b_ih, b_hh):
    """(xg, b_hh left for the recurrence): xg = x W_ih^T + b_ih for all steps in one matmul.
    The LSTM and RNN gates add b_hh as it is, so it joins that bias (one add per layer, not
    one per step); the GRU's b_hn sits inside r * (h W_hn^T + b_hn) and stays."""
    if mode != "GRU" and b_ih is not None and b_hh is not None:
        return linear(x, w_ih, b_ih + b_hh), None
    return linear(x, w_ih, b_ih), b_hh


def recurrent_layer(mode, xg, w_hh, b_hh, h0, c0, w_hr, batch_sizes, reverse=False):
    """One direction of one layer: (y, h_n, c_n) for input projections ``xg`` (N, G) laid
    out by ``batch_sizes`` (see the module docstring); c0 / c_n None but for the LSTM."""
    out = RecurrentLayer.apply(xg, w_hh, b_hh, h0, c0, w_hr, mode=mode,
                               batch_sizes=tuple(int(b) for b in batch_sizes), reverse=reverse)
    return out if mode == "LSTM" else (out[0], out[1], None)
