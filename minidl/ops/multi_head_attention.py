"""Multi-head attention (Vaswani et al. 2017, section 3.2.2), torch's functional form.

    head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d) + M) V W_i^V,
    MultiHead(Q, K, V) = cat(head_1, ..., head_h) W^O + b^O,
composed of minidl ops: explicit softmax when the weights are returned, otherwise
``scaled_dot_product_attention``. Layout (L, N, E) (unbatched (L, E)); masks as torch's:
boolean True = masked (-inf), float masks are added to the scores.
"""
import math

from .. import _creation
from ..tensor import Tensor
from .activation import softmax
from .attention import scaled_dot_product_attention
from .dropout import dropout
from .join import cat
from .linalg import baddbmm, bmm, linear
from .pad import pad

__all__ = []  # torch has it only in torch.nn.functional


def _check(t, name, ndims=None):
    if not isinstance(t, Tensor):
        raise TypeError(f"multi_head_attention_forward: {name} must be a Tensor, "
                        f"got {type(t).__name__}")
    if ndims is not None and t.dim() not in ndims:
        raise ValueError(f"multi_head_attention_forward: {name} must have "
                         f"{' or '.join(map(str, ndims))} dims, got shape {tuple(t.shape)}")


def _is_batched(query, key, value, key_padding_mask, attn_mask):
    """torch's rule: 3-D inputs are batched, 2-D unbatched; the masks must agree."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check(t, name, (2, 3))
    if not query.dim() == key.dim() == value.dim():
        raise ValueError("multi_head_attention_forward: query, key and value must all be 2-D "
                         f"(unbatched) or 3-D (batched), got {query.dim()}-D, {key.dim()}-D "
                         f"and {value.dim()}-D")
    batched = query.dim() == 3
    if key_padding_mask is not None:
        _check(key_padding_mask, "key_padding_mask", (2,) if batched else (1,))
    if attn_mask is not None:
        _check(attn_mask, "attn_mask", (2, 3))
    return batched


def _float_mask(mask, name, dtype):
    """A boolean mask as 0 / -inf of ``dtype``; a float mask as it is."""
    if mask is None:
        return None
    if mask.dtype.is_floating_point:
        if mask.dtype != dtype:
            raise TypeError(f"multi_head_attention_forward: {name} of dtype {mask.dtype} "
                            f"does not match the query dtype {dtype}")
        return mask
    if mask.dtype.name != "bool":
        raise TypeError(f"multi_head_attention_forward: only bool and floating types of "
                        f"{name} are supported, got {mask.dtype}")
    return _creation.zeros(*mask.shape, dtype=dtype).masked_fill(mask, -math.inf)


def _project(query, key, value, w, b, separate, q_w, k_w, v_w, e):
    if not separate:
        if w is None:
            raise ValueError("multi_head_attention_forward: in_proj_weight is None while "
                             "use_separate_proj_weight=False")
        if tuple(w.shape) != (3 * e, e):
            raise ValueError(f"multi_head_attention_forward: in_proj_weight must be "
                             f"({3 * e}, {e}), got {tuple(w.shape)}")
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b[:e], b[e:2 * e], b[2 * e:]
        return (linear(query, w[:e], bq), linear(key, w[e:2 * e], bk),
                linear(value, w[2 * e:], bv))
    for name, t, t_in in (("q_proj_weight", q_w, query), ("k_proj_weight", k_w, key),
                          ("v_proj_weight", v_w, value)):
        if t is None:
            raise ValueError(f"multi_head_attention_forward: use_separate_proj_weight=True "
                             f"but {name} is None")
        if tuple(t.shape) != (e, t_in.shape[-1]):
            raise ValueError(f"multi_head_attention_forward: {name} must be "
                             f"({e}, {t_in.shape[-1]}), got {tuple(t.shape)}")
    bq = bk = bv = None
    if b is not None:
        bq, bk, bv = b[:e], b[e:2 * e], b[2 * e:]
    return linear(query, q_w, bq), linear(key, k_w, bk), linear(value, v_w, bv)


def _heads(x, static, name, length, bsz, num_heads, head_dim):
    """(length, N, E) -> (N * heads, length, head_dim), or a given ``static`` one."""
    if static is None:
        return x.reshape(length, bsz * num_heads, head_dim).transpose(0, 1)
    _check(static, name, (3,))
    if static.shape[0] != bsz * num_heads or static.shape[2] != head_dim:
        raise ValueError(f"multi_head_attention_forward: {name} must be "
                         f"({bsz * num_heads}, S, {head_dim}), got {tuple(static.shape)}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: returns (output, weights or None)."""
    batched = _is_batched(query, key, value, key_padding_mask, attn_mask)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"multi_head_attention_forward: query's embed_dim {embed_dim} does "
                         f"not match embed_dim_to_check {embed_dim_to_check}")
    if num_heads <= 0 or embed_dim % num_heads:
        raise ValueError(f"multi_head_attention_forward: embed_dim {embed_dim} not divisible "
                         f"by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if key.shape[:2] != value.shape[:2]:
        raise ValueError(f"multi_head_attention_forward: key shape {tuple(key.shape)} does "
                         f"not match value shape {tuple(value.shape)}")
    if key.shape[1] != bsz:
        raise ValueError(f"multi_head_attention_forward: key batch size {key.shape[1]} does "
                         f"not match query batch size {bsz}")
    if not use_separate_proj_weight and (key.shape[-1] != embed_dim
                                         or value.shape[-1] != embed_dim):
        raise ValueError("multi_head_attention_forward: key and value must have embed_dim "
                         f"{embed_dim} features unless use_separate_proj_weight=True, got "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    dtype = query.dtype
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("multi_head_attention_forward: the is_causal hint needs attn_mask "
                           "(give the causal mask as attn_mask)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # sdpa builds the causal mask itself
    else:
        attn_mask = _float_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False

    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight,
                       embed_dim)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"multi_head_attention_forward: 2-D attn_mask must be "
                                 f"({tgt_len}, {src_len}), got {tuple(attn_mask.shape)}")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ValueError(f"multi_head_attention_forward: 3-D attn_mask must be "
                             f"({bsz * num_heads}, {tgt_len}, {src_len}), "
                             f"got {tuple(attn_mask.shape)}")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError("multi_head_attention_forward: bias_k / bias_v cannot be added "
                             "to static_k / static_v")
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise ValueError("multi_head_attention_forward: bias_k and bias_v must be given "
                         "together")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", k.shape[0], bsz, num_heads, head_dim)
    v = _heads(v, static_v, "static_v", v.shape[0], bsz, num_heads, head_dim)
    if add_zero_attn:
        zeros = _creation.zeros(bsz * num_heads, 1, head_dim, dtype=dtype)
        k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"multi_head_attention_forward: key_padding_mask must be "
                             f"({bsz}, {src_len}), got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        q = q * math.sqrt(1.0 / head_dim)
        if attn_mask is not None:
            scores = baddbmm(attn_mask, q, k.transpose(-2, -1))
        else:
            scores = bmm(q, k.transpose(-2, -1))
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None
