"""The Transformer encoder-decoder for translation (Vaswani et al. 2017), in the decoder
interface of ``minidl.text.seq2seq`` so that the same training, greedy decoding and beam
search drive it.

- ``TransformerSeq2SeqEncoder``: token embeddings scaled by sqrt(d_model) plus the
  sinusoidal ``nn.PositionalEncoding``, then ``nn.TransformerEncoder`` with the padding of
  each source masked (``src_key_padding_mask``). Returns ``(memory (N, S, d), pad mask)``.
- ``TransformerSeq2SeqDecoder``: the same embedding of the target, ``nn.TransformerDecoder``
  with the causal mask over the target and the source padding masked in the
  cross-attention, then a linear layer to the target vocabulary. Its state is ``(memory,
  pad mask, target tokens read so far)``: each call re-reads the whole target prefix (the
  decoder's self-attention needs every earlier position) and returns the logits of the new
  tokens only, so decoding one token at a time gives the same logits as teacher forcing.

Both use pre-LN layers (``norm_first=True``, Xiong et al. 2020) with a final LayerNorm,
which train without the original's long learning-rate warm-up. In eval mode the decoder
keeps ``attention_weights`` ``(N, T, S)``: its last layer's cross-attention averaged over
the heads (``minidl.utils.attention_maps``), the alignment a heatmap draws.
"""
import math

import numpy as np

from .. import nn
from .._creation import from_numpy
from ..ops.join import cat
from ..utils.attention_maps import record_attention
from .seq2seq import _check_ids

__all__ = ["TransformerSeq2SeqEncoder", "TransformerSeq2SeqDecoder", "padding_mask"]


def padding_mask(valid_lens, steps):
    """``(N, steps)`` bool Tensor, True at the positions beyond each row's valid length."""
    lens = valid_lens.numpy() if hasattr(valid_lens, "numpy") else np.asarray(valid_lens)
    return from_numpy(np.arange(steps)[None, :] >= lens[:, None])


class _Embedding(nn.Module):
    """embedding(x) * sqrt(d_model) + sinusoidal positions, then dropout. The embedding
    starts as N(0, 1 / d_model) (as in fairseq), so that the scaled embedding has unit
    size like the positions; ``nn.Embedding``'s N(0, 1) would drown them 8-fold at
    d_model 64, and the model then mixes up the order of repeated characters."""

    def __init__(self, vocab_size, d_model, dropout, max_len):
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, 0.0, d_model ** -0.5)
        self.position = nn.PositionalEncoding(d_model, dropout, max_len, batch_first=True)

    def forward(self, x):
        return self.position(self.embedding(x) * self.scale)


class TransformerSeq2SeqEncoder(nn.Module):
    """Embedding + positions + ``num_layers`` pre-LN ``nn.TransformerEncoderLayer``s.

    ``forward(X, valid_lens=None)`` returns ``(memory (N, S, d_model), pad mask (N, S) or
    None)``.
    """

    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=2, dim_feedforward=512,
                 dropout=0.1, max_len=512):
        super().__init__()
        self.embed = _Embedding(vocab_size, d_model, dropout, max_len)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)

    def forward(self, X, valid_lens=None):
        _check_ids("TransformerSeq2SeqEncoder: X", X)
        mask = None if valid_lens is None else padding_mask(valid_lens, X.shape[1])
        return self.encoder(self.embed(X), src_key_padding_mask=mask), mask


class TransformerSeq2SeqDecoder(nn.Module):
    """Embedding + positions + ``num_layers`` pre-LN ``nn.TransformerDecoderLayer``s +
    a linear layer to ``vocab_size`` (see the module docstring for its state)."""

    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=2, dim_feedforward=512,
                 dropout=0.1, max_len=512):
        super().__init__()
        self.embed = _Embedding(vocab_size, d_model, dropout, max_len)
        layer = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.dense = nn.Linear(d_model, vocab_size)
        self.attention_weights = None

    def init_state(self, enc_outputs, enc_valid_lens=None):
        memory, mask = enc_outputs
        return memory, mask, None

    def forward(self, X, state):
        _check_ids("TransformerSeq2SeqDecoder: X", X)
        memory, mask, past = state
        tokens = X if past is None else cat([past, X], 1)
        steps = tokens.shape[1]
        causal = nn.Transformer.generate_square_subsequent_mask(steps)
        h = self.embed(tokens)
        run = dict(tgt_mask=causal, memory_key_padding_mask=mask, tgt_is_causal=True)
        if self.training:
            out, self.attention_weights = self.decoder(h, memory, **run), None
        else:
            with record_attention(self.decoder.layers[-1].multihead_attn) as maps:
                out = self.decoder(h, memory, **run)
            self.attention_weights = maps.weights[-1][:, -X.shape[1]:]
        return self.dense(out[:, -X.shape[1]:]), (memory, mask, tokens)

    def select_state(self, state, index):
        memory, mask, past = state
        return (memory[index], None if mask is None else mask[index],
                None if past is None else past[index])
