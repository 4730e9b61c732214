"""Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need"), fused.

    S = scale * Q K^T + M,   P = softmax(S) (rows),   O = (P * D) V
with M the additive mask (a boolean mask becomes 0 / -inf, ``is_causal`` the lower
triangle) and D dropout's scaled keep-mask. A row whose every score is -inf (fully masked)
gives P = 0 and so O = 0, as torch's CPU kernels do.
"""
import math

import numpy as np

from ..autograd import Kernel
from ..tensor import Tensor
from ._util import as_operand, check_tensor, unbroadcast
from .activation import softmax
from .binary import where
from .dropout import _check_p, _dropout_mask
from .expand import repeat_interleave
from .linalg import matmul

__all__ = []  # torch has it only in torch.nn.functional


def _swap(a):
    return np.swapaxes(a, -1, -2)


def _sum_groups(g, groups):
    """Sum the gradient of heads repeated ``groups`` times (axis -3) back onto each head."""
    if groups == 1:
        return g
    shape = g.shape[:-3] + (g.shape[-3] // groups, groups) + g.shape[-2:]
    return g.reshape(shape).sum(axis=-3)


class Attention(Kernel):
    """O = (softmax(scale Q K^T + M) * D) V over the last two axes, batch axes broadcast;
    key / value heads (axis -3) repeated ``k_groups`` / ``v_groups`` times (grouped-query).

    With P' = P * D and G = dO:
        dV = P'^T G,   dP = (G V^T) * D,   dS = P * (dP - rowsum(dP * P)),
        dM = dS,       dQ = scale dS K,    dK = scale dS^T Q
    (each summed over the axes its input was broadcast or repeated along).
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, scale, k_groups, v_groups):
        kr = np.repeat(k, k_groups, axis=-3) if k_groups > 1 else k
        vr = np.repeat(v, v_groups, axis=-3) if v_groups > 1 else v
        s = np.matmul(q * np.asarray(scale, q.dtype), _swap(kr))
        if mask is not None:
            s += mask
        m = s.max(axis=-1, keepdims=True, initial=-np.inf)
        dead = m == -np.inf
        m[dead] = 0
        s -= m
        p = np.exp(s, out=s)
        z = p.sum(axis=-1, keepdims=True)
        z[dead] = 1
        p /= z
        pd = p * keep if keep is not None else p
        ctx.save_for_backward(q, kr, vr, p)
        ctx.keep, ctx.scale, ctx.groups = keep, scale, (k_groups, v_groups)
        ctx.shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        return np.matmul(pd, vr)

    @staticmethod
    def backward(ctx, g):
        q, kr, vr, p = ctx.saved_tensors
        keep, scale, (k_groups, v_groups) = ctx.keep, ctx.scale, ctx.groups
        q_shape, k_shape, v_shape, m_shape = ctx.shapes
        need = ctx.needs_input_grad
        dq = dk = dv = dm = None
        if need[2]:
            pd = p * keep if keep is not None else p
            dv = unbroadcast(_sum_groups(np.matmul(_swap(pd), g), v_groups), v_shape)
        if need[0] or need[1] or need[3]:
            dp = np.matmul(g, _swap(vr))
            if keep is not None:
                dp *= keep
            ds = dp
            ds -= np.sum(dp * p, axis=-1, keepdims=True)
            ds *= p
            if need[3]:
                dm = unbroadcast(ds, m_shape)
            c = np.asarray(scale, ds.dtype)
            if need[0]:
                dq = unbroadcast(np.matmul(ds, kr) * c, q_shape)
            if need[1]:
                dk = np.matmul(_swap(ds), q) * c
                dk = unbroadcast(_sum_groups(dk, k_groups), k_shape)
        return dq, dk, dv, dm, None

    @staticmethod
    def reference(q, k, v, mask, keep, scale, k_groups, v_groups):
        """The textbook composition (what ``create_graph`` differentiates)."""
        kr = repeat_interleave(k, k_groups, dim=-3) if k_groups > 1 else k
        vr = repeat_interleave(v, v_groups, dim=-3) if v_groups > 1 else v
        s = matmul(q * scale, kr.transpose(-2, -1))
        if mask is not None:
            s = s + (mask if isinstance(mask, Tensor) else Tensor(mask))
        dead = s._data.max(axis=-1, keepdims=True, initial=-np.inf) == -np.inf
        if dead.any():
            s = where(Tensor(np.broadcast_to(dead, s.shape)), 0.0, s)
        p = softmax(s, dim=-1)
        if dead.any():
            p = p * Tensor((~dead).astype(p._data.dtype))
        if keep is not None:
            p = p * Tensor(keep)
        return matmul(p, vr)


FN = "scaled_dot_product_attention"


def _check_inputs(query, key, value, attn_mask):
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, FN, name)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{FN}(): expected query, key and value to be at least 2-D (..., L, "
                           f"E), (..., S, E), (..., S, Ev), but got query.dim {query.ndim}, "
                           f"key.dim {key.ndim}, value.dim {value.ndim}")
    dt = query._data.dtype
    if dt.kind != "f":
        raise RuntimeError(f"{FN}(): expected query to be a floating point tensor, got "
                           f"{query.dtype}")
    if key._data.dtype != dt or value._data.dtype != dt:
        raise RuntimeError(f"{FN}(): expected query, key and value to have the same dtype, but "
                           f"got query {query.dtype}, key {key.dtype}, value {value.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"{FN}(): query (..., L, E) and key (..., S, E) must share E, but "
                           f"got query {tuple(query.shape)} and key {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{FN}(): key (..., S, E) and value (..., S, Ev) must share S, but "
                           f"got key {tuple(key.shape)} and value {tuple(value.shape)}")
    if attn_mask is not None:
        check_tensor(attn_mask, FN, "attn_mask")
        kind = attn_mask._data.dtype
        if kind not in (np.bool_, np.float32, dt):
            raise RuntimeError(f"{FN}(): expected attn_mask to be bool, float32 or of query's "
                               f"dtype {query.dtype}, but got attn_mask {attn_mask.dtype}")


def _groups(query, kv, name, enable_gqa):
    """How many times each head of key / value repeats to match query's heads (axis -3)."""
    if not enable_gqa or query.ndim < 3 or kv.ndim < 3:
        return 1
    hq, hk = query.shape[-3], kv.shape[-3]
    if hk == 0 or hq % hk:
        raise RuntimeError(f"{FN}(): with enable_gqa=True the number of heads of {name} "
                           f"({hk}) must divide the number of heads of query ({hq})")
    return hq // hk


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query key^T * scale + mask) value, with dropout ``dropout_p`` on the weights.

    ``attn_mask``: bool (True = takes part) or float (added to the scores), broadcastable to
    (..., L, S); ``is_causal``: the lower-triangular mask (not with ``attn_mask``);
    ``scale`` defaults to 1 / sqrt(E); ``enable_gqa`` repeats key / value heads (dim -3) to
    match query's (grouped-query attention).
    """
    _check_inputs(query, key, value, attn_mask)
    _check_p(dropout_p)
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{FN}(): attn_mask should not be set when is_causal=True")
    k_groups = _groups(query, key, "key", enable_gqa)
    v_groups = _groups(query, value, "value", enable_gqa)
    (L, E), S = query.shape[-2:], key.shape[-2]
    heads = [t.shape[:-2] if t.ndim < 3 else t.shape[:-3] + (t.shape[-3] * g,)
             for t, g in ((query, 1), (key, k_groups), (value, v_groups))]
    try:
        batch = np.broadcast_shapes(*heads)
    except ValueError:
        raise RuntimeError(f"{FN}(): the batch dims of query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)} and value {tuple(value.shape)} do not "
                           f"broadcast") from None
    scores = tuple(batch) + (L, S)
    dt = query._data.dtype
    mask = None
    if is_causal:
        mask = np.where(np.tril(np.ones((L, S), bool)), 0, -np.inf).astype(dt)
    elif attn_mask is not None:
        if not _broadcasts_to(tuple(attn_mask.shape), scores):
            raise RuntimeError(f"{FN}(): attn_mask of shape {tuple(attn_mask.shape)} does not "
                               f"broadcast to the attention scores' shape {scores} (..., L, S)")
        if attn_mask._data.dtype == np.bool_:
            mask = np.where(attn_mask._data, 0, -np.inf).astype(dt)
        else:  # a float32 mask is cast to query's dtype (differentiably)
            mask = as_operand(attn_mask, query.dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else math.inf
    keep = _dropout_mask(scores, dropout_p, dt) if dropout_p > 0 else None
    return Attention.apply(query, key, value, mask, keep, scale=float(scale),
                           k_groups=k_groups, v_groups=v_groups)


def _broadcasts_to(shape, target):
    """Whether an array of ``shape`` broadcasts to ``target`` without enlarging it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False
