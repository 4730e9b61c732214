"""Encoder-decoder models for sequence-to-sequence learning (Sutskever et al. 2014; Cho et al.
2014), with or without Bahdanau attention (Bahdanau, Cho & Bengio 2015), after d2l ch. 10-11.

- ``Seq2SeqEncoder``: embedding + GRU over the (padded) source; returns every step's output
  ``(N, S, H)`` and the final state ``(L, N, H)``. With ``valid_lens`` the source runs packed,
  so the final state is each sentence's state at its last real token, not after its padding.
- ``Seq2SeqDecoder``: a GRU whose input at every step is the target embedding concatenated
  with a fixed context, the encoder's final top-layer state; starts from the encoder's state.
- ``AttentionDecoder``: the same, but the context of step t is additive attention of the
  decoder's previous top-layer state over the encoder outputs (keys = values), masked to
  each source's valid length.
- ``EncoderDecoder``: runs both; trained with teacher forcing (``teacher_forcing_inputs``:
  the decoder reads ``<bos>`` + target[:-1] and predicts the target).
- ``MaskedCrossEntropyLoss``: cross-entropy averaged over the valid (non-pad) target tokens.

A decoder's state is a tuple of tensors; ``init_state(enc_outputs, enc_valid_lens)`` builds
it, ``forward(X, state) -> (logits (N, T, V), state)`` advances it over ``T`` target tokens,
and ``select_state(state, index)`` picks batch rows (beam search reorders its beams with it).
"""
import numpy as np

from .. import nn
from .._creation import from_numpy
from ..nn import functional as F
from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from ..ops.join import cat
from ..tensor import Tensor
from .attention import AdditiveAttention

__all__ = ["Seq2SeqEncoder", "Seq2SeqDecoder", "AttentionDecoder", "EncoderDecoder",
           "MaskedCrossEntropyLoss", "teacher_forcing_inputs"]


def _gru(input_size, num_hiddens, num_layers, dropout):
    # torch's GRU applies dropout between layers only (and warns for one layer)
    return nn.GRU(input_size, num_hiddens, num_layers, batch_first=True,
                  dropout=dropout if num_layers > 1 else 0.0)


def _check_ids(name, X):
    if not isinstance(X, Tensor) or X.dim() != 2 or X.is_floating_point():
        shape = f"shape {tuple(X.shape)} dtype {X.dtype}" if isinstance(X, Tensor) else \
            type(X).__name__
        raise ValueError(f"{name} must be an int64 Tensor of token ids (batch, steps), got "
                         f"{shape}")


class Seq2SeqEncoder(nn.Module):
    """Embedding + ``num_layers``-layer GRU over source ids ``(N, S)``.

    ``dropout`` applies to the embeddings and between GRU layers. ``forward(X, valid_lens)``
    returns ``(outputs (N, S, H), state (L, N, H))``; outputs beyond a valid length are 0.
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size, num_hiddens, num_layers, dropout)

    def forward(self, X, valid_lens=None):
        _check_ids("Seq2SeqEncoder: X", X)
        emb = self.dropout(self.embedding(X))
        if valid_lens is None:
            return self.rnn(emb)
        packed = pack_padded_sequence(emb, valid_lens, batch_first=True, enforce_sorted=False)
        outputs, state = self.rnn(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=X.shape[1])
        return outputs, state


class Seq2SeqDecoder(nn.Module):
    """GRU decoder whose every input is ``[embedding(y_{t-1}); c]``, with the fixed context
    ``c`` the encoder's final top-layer state; its state starts as the encoder's.

    ``dropout`` applies to the embeddings, between GRU layers and before the output layer.
    """

    attention_weights = None

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, enc_valid_lens=None):
        _, hidden = enc_outputs
        return hidden[-1], hidden

    def forward(self, X, state):
        _check_ids("Seq2SeqDecoder: X", X)
        context, hidden = state
        emb = self.dropout(self.embedding(X))
        context_steps = context.unsqueeze(1).expand(X.shape[0], X.shape[1], context.shape[-1])
        outputs, hidden = self.rnn(cat([emb, context_steps], -1), hidden)
        return self.dense(self.dropout(outputs)), (context, hidden)

    def select_state(self, state, index):
        context, hidden = state
        return context[index], hidden[:, index]


class AttentionDecoder(nn.Module):
    """GRU decoder with Bahdanau attention: at step t the context is additive attention of
    the previous top-layer decoder state (query) over the encoder outputs (keys and values,
    the keys projected once per source in ``init_state``), masked to the source's valid
    length; the GRU reads ``[context; embedding(y_{t-1})]``.

    ``attention_weights`` holds the last ``forward``'s weights, ``(N, T, S)``: row t says
    which source positions step t looked at. ``dropout`` applies to the embeddings, the
    attention weights, between GRU layers and before the output layer.
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0.0):
        super().__init__()
        self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _gru(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.attention_weights = None

    def init_state(self, enc_outputs, enc_valid_lens=None):
        outputs, hidden = enc_outputs
        return outputs, self.attention.W_k(outputs), hidden, enc_valid_lens

    def forward(self, X, state):
        _check_ids("AttentionDecoder: X", X)
        enc_outputs, keys, hidden, valid_lens = state
        emb = self.dropout(self.embedding(X))
        outputs, weights = [], []
        for t in range(X.shape[1]):
            query = hidden[-1].unsqueeze(1)                                 # N, 1, H
            context = self.attention.attend(query, keys, enc_outputs, valid_lens)
            out, hidden = self.rnn(cat([context, emb[:, t:t + 1]], -1), hidden)
            outputs.append(out)
            weights.append(self.attention.attention_weights)
        self.attention_weights = cat(weights, 1)
        logits = self.dense(self.dropout(cat(outputs, 1)))
        return logits, (enc_outputs, keys, hidden, valid_lens)

    def select_state(self, state, index):
        enc_outputs, keys, hidden, valid_lens = state
        return (enc_outputs[index], keys[index], hidden[:, index],
                None if valid_lens is None else valid_lens[index])


class EncoderDecoder(nn.Module):
    """``forward(enc_X, dec_X, enc_valid_lens)``: encode the source, start the decoder from
    it and return the decoder's logits ``(N, T, V)`` for the target inputs ``dec_X``."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, enc_valid_lens=None):
        enc_outputs = self.encoder(enc_X, enc_valid_lens)
        state = self.decoder.init_state(enc_outputs, enc_valid_lens)
        return self.decoder(dec_X, state)[0]


def teacher_forcing_inputs(Y, bos_index):
    """The decoder inputs of teacher forcing: ``<bos>`` followed by ``Y[:, :-1]``."""
    _check_ids("teacher_forcing_inputs: Y", Y)
    y = Y.numpy()
    return from_numpy(np.concatenate([np.full((y.shape[0], 1), bos_index, y.dtype), y[:, :-1]],
                                     axis=1))


class MaskedCrossEntropyLoss(nn.Module):
    """Cross-entropy of ``logits (N, T, V)`` against ``targets (N, T)`` over the first
    ``valid_lens[n]`` positions of each row only: the mean over valid tokens. Positions
    beyond a valid length (padding) take no part: neither the loss nor its gradient
    depends on their logits."""

    def forward(self, logits, targets, valid_lens):
        if logits.dim() != 3 or targets.shape != logits.shape[:2]:
            raise ValueError(f"MaskedCrossEntropyLoss: expected logits (N, T, V) and targets "
                             f"(N, T), got {tuple(logits.shape)} and {tuple(targets.shape)}")
        lens = valid_lens.numpy() if isinstance(valid_lens, Tensor) else np.asarray(valid_lens)
        if lens.shape != (logits.shape[0],):
            raise ValueError(f"MaskedCrossEntropyLoss: valid_lens must have shape "
                             f"({logits.shape[0]},), got {tuple(lens.shape)}")
        keep = np.arange(logits.shape[1])[None, :] < lens[:, None]
        if not keep.any():
            raise ValueError("MaskedCrossEntropyLoss: no valid target position in the batch "
                             "(all valid_lens are 0)")
        keep = from_numpy(keep)
        return F.cross_entropy(logits[keep], targets[keep])
