"""``GPT``: a decoder-only Transformer language model with a key / value cache.

Radford et al. 2018/2019 (GPT, GPT-2): token embeddings plus learned position embeddings,
then ``num_layers`` pre-LN blocks

    x = x + Dropout(W_o MultiHead(LN_1(x)))      causal self-attention (Vaswani et al. 2017)
    x = x + Dropout(W_2 GELU(W_1 LN_2(x)))       position-wise feed-forward

a final LayerNorm and a linear head to the vocabulary (its weight tied to the token
embedding with ``tie_weights``, Press & Wolf 2017). The attention head h of a block is
softmax(Q_h K_h^T / sqrt(d_h) + M) V_h with Q, K, V from one fused projection and M the
causal mask (position i reads positions <= i): ``F.scaled_dot_product_attention``.
Weights start as GPT-2's: N(0, 0.02), the residual projections W_o and W_2 scaled by
1 / sqrt(2 num_layers), biases 0.

**Key / value cache.** Generating token t + 1 needs the keys and values of tokens 1 .. t at
every layer, and those never change: ``forward(x, state)`` returns them in a
``KeyValueCache`` and, given one, computes only the new tokens' queries, keys and values
(one position per step instead of the whole prefix). The model has ``context_size``
learned positions and refuses to read beyond them; ``generate`` restarts a full context
from its last half window. ``forward`` has the recurrent language model's signature
(``(logits, state)``), so ``generate`` drives both.
"""
import math

import numpy as np

from .. import nn
from .._checks import positive_int, probability
from .._creation import arange, from_numpy
from ..nn import functional as F
from ..ops.join import cat
from ..tensor import Tensor

__all__ = ["GPT", "KeyValueCache"]


class KeyValueCache:
    """What a ``GPT`` has read: ``tokens`` (N, t) ids and, per block, the (key, value)
    Tensors (N, heads, t, head_dim) of those tokens."""

    def __init__(self, tokens, layers):
        self.tokens, self.layers = tokens, layers

    def __len__(self):
        return self.tokens.shape[1]

    def __repr__(self):
        return f"KeyValueCache(batch={self.tokens.shape[0]}, tokens={len(self)}, " \
               f"layers={len(self.layers)})"


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused QKV projection (``qkv``) and the
    output projection ``proj``; ``forward(x, past=None) -> (y, (keys, values))``."""

    def __init__(self, d_model, num_heads, dropout):
        super().__init__()
        self.num_heads, self.dropout = num_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, past=None):
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        p = 0 if past is None else past[0].shape[2]
        if p:
            k, v = cat([past[0], k], dim=2), cat([past[1], v], dim=2)
        drop = self.dropout if self.training else 0.0
        if p and t > 1:  # new query i sits at position p + i: it reads keys 0 .. p + i
            mask = from_numpy(np.tril(np.ones((t, p + t), dtype=bool), k=p))
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        else:  # one new query reads every key; without a past the mask is causal
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=not p)
        return self.proj(y.transpose(1, 2).reshape(n, t, d)), (k, v)


class Block(nn.Module):
    """A pre-LN Transformer decoder block without cross-attention."""

    def __init__(self, d_model, num_heads, ff_dim, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff_dim), nn.GELU(approximate="tanh"),
                                nn.Linear(ff_dim, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, past=None):
        a, kv = self.attn(self.ln1(x), past)
        x = x + self.dropout(a)
        return x + self.dropout(self.ff(self.ln2(x))), kv


class GPT(nn.Module):
    """Decoder-only Transformer language model.

    Args:
        vocab_size: number of tokens.
        context_size: learned positions, the longest sequence one forward pass reads.
        d_model: width of the residual stream (divisible by ``num_heads``).
        num_layers: Transformer blocks.
        num_heads: attention heads per block.
        ff_dim: hidden width of the feed-forward layers (default 4 * d_model).
        dropout: on the embeddings, the attention weights and both residual branches.
        tie_weights: the head's weight is the token embedding matrix.

    ``forward(x, state=None)`` takes int64 ids ``(N, T)`` and returns ``(logits (N, T,
    vocab_size), KeyValueCache)``; pass the cache back to continue the same sequences.
    """

    def __init__(self, vocab_size, context_size=128, d_model=128, num_layers=4, num_heads=4,
                 ff_dim=None, dropout=0.1, tie_weights=True):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("context_size", context_size),
                            ("d_model", d_model), ("num_layers", num_layers),
                            ("num_heads", num_heads)):
            positive_int("GPT", name, value)
        ff_dim = 4 * d_model if ff_dim is None else positive_int("GPT", "ff_dim", ff_dim)
        if d_model % num_heads:
            raise ValueError(f"GPT(d_model={d_model}) must be divisible by num_heads="
                             f"{num_heads}")
        probability("GPT", "dropout", dropout)
        self.vocab_size, self.context_size, self.d_model = vocab_size, context_size, d_model
        self.num_layers, self.num_heads, self.ff_dim = num_layers, num_heads, ff_dim
        self.tie_weights = bool(tie_weights)
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(context_size, d_model)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, num_heads, ff_dim, dropout)
                                    for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.reset_parameters()
        if self.tie_weights:
            self.head.weight = self.token_embedding.weight

    def reset_parameters(self):
        """GPT-2's initialisation (see the module docstring)."""
        residual_std = 0.02 / math.sqrt(2 * self.num_layers)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith(("attn.proj", "ff.2")) else 0.02
                nn.init.normal_(module.weight, 0.0, std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)

    def config(self):
        """The constructor's keyword arguments (JSON-able): ``GPT(**config)``."""
        return {"vocab_size": self.vocab_size, "context_size": self.context_size,
                "d_model": self.d_model, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout.p, "tie_weights": self.tie_weights}

    def _check(self, x, state):
        if not isinstance(x, Tensor) or x.ndim != 2 or x.dtype.is_floating_point:
            shape = f"{tuple(x.shape)} of dtype {x.dtype}" if isinstance(x, Tensor) else \
                type(x).__name__
            raise ValueError(f"GPT expects int64 token ids of shape (N, T), got {shape}")
        read = x.shape[1] + (0 if state is None else len(state))
        if read > self.context_size:
            raise ValueError(f"GPT reads at most context_size={self.context_size} tokens, got "
                             f"{x.shape[1]} new tokens" + (f" after {len(state)} cached ones"
                                                           if state is not None else ""))
        if state is not None:
            if not isinstance(state, KeyValueCache):
                raise TypeError(f"GPT(state=) must be a KeyValueCache (what forward returned) "
                                f"or None, got {type(state).__name__}")
            if state.tokens.shape[0] != x.shape[0] or len(state.layers) != self.num_layers:
                raise ValueError(f"the cache holds {state.tokens.shape[0]} sequences of "
                                 f"{len(state.layers)} layers; x has {x.shape[0]} sequences "
                                 f"and the model {self.num_layers} layers")

    def forward(self, x, state=None):
        self._check(x, state)
        ids = x.numpy()
        p = 0 if state is None else len(state)
        h = self.token_embedding(x) + self.position_embedding(arange(p, p + x.shape[1]))
        h = self.dropout(h)
        layers = []
        for i, block in enumerate(self.blocks):
            h, kv = block(h, None if state is None else state.layers[i])
            layers.append(kv)
        tokens = ids if state is None else np.concatenate([state.tokens, ids], axis=1)
        return self.head(self.ln_f(h)), KeyValueCache(tokens, layers)

    def extra_repr(self):
        return f"context_size={self.context_size}, tie_weights={self.tie_weights}"
