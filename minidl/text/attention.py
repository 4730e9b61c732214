"""Attention scoring with masks: additive (Bahdanau) and scaled dot-product attention.

An attention layer maps queries ``(N, Q, d_q)``, keys ``(N, K, d_k)`` and values
``(N, K, d_v)`` to ``(N, Q, d_v)``: each query's output is the mean of the values weighted by
``softmax_k a(q, k)``. ``valid_lens`` limits which keys count (the real, non-pad positions of
a padded source sentence): keys at positions ``>= valid_len`` get weight zero.

- additive (Bahdanau, Cho & Bengio 2015): ``a(q, k) = w_v^T tanh(W_q q + W_k k)``;
- scaled dot product (Vaswani et al. 2017): ``a(q, k) = q . k / sqrt(d)``.

The layers keep the weights of their last call in ``attention_weights`` ``(N, Q, K)`` (for
plotting which source words a translation looked at).
"""
import math

import numpy as np

from .. import nn
from .._creation import from_numpy
from ..backend.dtype_info import finfo
from ..tensor import Tensor

__all__ = ["masked_softmax", "AdditiveAttention", "DotProductAttention"]


def _lengths_array(valid_lens, n, q):
    """``valid_lens`` as an int array broadcastable to ``(N, Q)``, checked."""
    if isinstance(valid_lens, Tensor):
        lens = valid_lens.numpy()
    else:
        lens = np.asarray(valid_lens)
    if lens.size and not np.issubdtype(lens.dtype, np.integer):
        raise TypeError(f"masked_softmax(valid_lens=) must hold integer lengths, got dtype "
                        f"{lens.dtype}")
    if lens.shape == (n,):
        return lens[:, None]
    if lens.shape == (n, q):
        return lens
    raise ValueError(f"masked_softmax(valid_lens=) must have shape ({n},) (one length per "
                     f"row) or ({n}, {q}) (one per query) for scores of shape ({n}, {q}, ...), "
                     f"got {tuple(lens.shape)}")


def masked_softmax(scores, valid_lens=None):
    """Softmax over the last dim of ``scores`` ``(N, Q, K)``, keeping only the first
    ``valid_len`` keys of each row.

    ``valid_lens`` is ``(N,)`` (one length per batch row, for all its queries) or ``(N, Q)``
    (one per query); None means every key counts. Masked positions get weight exactly zero
    (their scores are replaced by the dtype's lowest value before the softmax) and no
    gradient; a row with length 0 gets uniform weights, as d2l's ``masked_softmax``.
    """
    if not isinstance(scores, Tensor):
        raise TypeError(f"masked_softmax(scores=) must be a Tensor, got {type(scores).__name__}")
    if scores.dim() != 3:
        raise ValueError(f"masked_softmax(scores=) must be 3-D (batch, queries, keys), got "
                         f"shape {tuple(scores.shape)}")
    if valid_lens is None:
        return scores.softmax(-1)
    n, q, k = scores.shape
    lens = _lengths_array(valid_lens, n, q)
    keep = np.arange(k)[None, None, :] < lens[:, :, None]
    lowest = finfo(scores.dtype).min
    return scores.masked_fill(from_numpy(~keep), lowest).softmax(-1)


def _check_qkv(name, queries, keys, values):
    for arg, t in (("queries", queries), ("keys", keys), ("values", values)):
        if not isinstance(t, Tensor) or t.dim() != 3:
            shape = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{name}: {arg} must be a 3-D Tensor (batch, positions, "
                             f"features), got {shape}")
    if not queries.shape[0] == keys.shape[0] == values.shape[0]:
        raise ValueError(f"{name}: queries, keys and values must share the batch size, got "
                         f"{queries.shape[0]}, {keys.shape[0]}, {values.shape[0]}")
    if keys.shape[1] != values.shape[1]:
        raise ValueError(f"{name}: keys and values must have the same number of positions, "
                         f"got {keys.shape[1]} and {values.shape[1]}")


class AdditiveAttention(nn.Module):
    """Bahdanau attention: ``a(q, k) = w_v^T tanh(W_q q + W_k k)``, then masked softmax.

    ``W_q`` (``query_size -> num_hiddens``), ``W_k`` (``key_size -> num_hiddens``) and
    ``w_v`` (``num_hiddens -> 1``) are bias-free linear maps; ``dropout`` applies to the
    attention weights (d2l's ``AdditiveAttention``).
    """

    def __init__(self, key_size, query_size, num_hiddens, dropout=0.0):
        super().__init__()
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        _check_qkv("AdditiveAttention", queries, keys, values)
        return self.attend(queries, self.W_k(keys), values, valid_lens)

    def attend(self, queries, projected_keys, values, valid_lens=None):
        """``forward`` given ``W_k keys`` (a decoder that attends to the same keys at every
        step projects them once)."""
        features = self.W_q(queries).unsqueeze(2) + projected_keys.unsqueeze(1)  # N, Q, K, H
        scores = self.w_v(features.tanh()).squeeze(-1)                           # N, Q, K
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights).bmm(values)


class DotProductAttention(nn.Module):
    """Scaled dot-product attention: ``softmax(Q K^T / sqrt(d)) V`` with masked keys.

    Queries and keys share their feature size ``d``; ``dropout`` applies to the weights.
    """

    def __init__(self, dropout=0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries, keys, values, valid_lens=None):
        _check_qkv("DotProductAttention", queries, keys, values)
        d = queries.shape[-1]
        if keys.shape[-1] != d:
            raise ValueError(f"DotProductAttention: queries and keys must have the same "
                             f"feature size, got {d} and {keys.shape[-1]}")
        scores = queries.bmm(keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights).bmm(values)
