"""``RNNLanguageModel``: embedding -> recurrent layers -> dropout -> linear decoder.

A language model gives, at every position t of a token sequence x_1 .. x_T, the scores
(logits) of the next token x_{t+1} over the vocabulary. With e_t = E[x_t] the embedding of
token x_t, the vanilla recurrent network (``cell="rnn"``) computes

    s_t = tanh(U e_t + W s_{t-1} + b)        (the hidden state, s_0 = 0 or a carried state)
    o_t = V s_t + c                          (the logits; softmax(o_t) = p(x_{t+1} | x_<=t))

``cell="lstm"`` (Hochreiter & Schmidhuber, 1997) and ``cell="gru"`` (Cho et al., 2014)
replace the update of s_t by their gated ones (see ``nn.LSTM`` / ``nn.GRU``); the LSTM's
state is the pair (h_t, c_t). Training minimises the cross entropy of o_t against x_{t+1};
its mean per token is the loss in nats, and exp(loss) the perplexity.

``tie_weights=True`` shares the embedding matrix with the decoder's weight (Press & Wolf,
2017; Inan et al., 2017): V = E, which needs ``embed_dim == hidden_size``.
"""
from .. import _creation, nn
from .._checks import positive_int, probability

__all__ = ["RNNLanguageModel", "CELLS"]

CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def _positive_int(name, value):
    return positive_int("RNNLanguageModel", name, value)


class RNNLanguageModel(nn.Module):
    """Next-token scores from a recurrent network over token embeddings.

    Args:
        vocab_size: number of tokens (rows of the embedding, outputs of the decoder).
        embed_dim: size of a token's embedding.
        hidden_size: size of the recurrent state.
        num_layers: stacked recurrent layers (dropout ``dropout`` between them).
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        dropout: dropout probability on the recurrent outputs before the decoder (and
            between stacked layers).
        tie_weights: share the embedding matrix with the decoder's weight.

    ``forward(x, state=None)`` takes int64 token ids ``(N, T)`` and returns ``(logits, state)``
    with logits ``(N, T, vocab_size)`` and the final state (``(h, c)`` for the LSTM, ``h``
    otherwise, each ``(num_layers, N, hidden_size)``), which the next call can continue from.
    """

    def __init__(self, vocab_size, embed_dim=128, hidden_size=256, num_layers=1, cell="lstm",
                 dropout=0.0, tie_weights=False):
        super().__init__()
        _positive_int("vocab_size", vocab_size)
        _positive_int("embed_dim", embed_dim)
        _positive_int("hidden_size", hidden_size)
        _positive_int("num_layers", num_layers)
        if cell not in CELLS:
            raise ValueError(f"RNNLanguageModel(cell=) must be one of {', '.join(CELLS)}, "
                             f"got {cell!r}")
        probability("RNNLanguageModel", "dropout", dropout)
        if tie_weights and embed_dim != hidden_size:
            raise ValueError(f"RNNLanguageModel(tie_weights=True) shares the embedding with the "
                             f"decoder, which needs embed_dim == hidden_size; got embed_dim="
                             f"{embed_dim}, hidden_size={hidden_size}")
        self.vocab_size, self.embed_dim, self.hidden_size = vocab_size, embed_dim, hidden_size
        self.num_layers, self.cell, self.tie_weights = num_layers, cell, bool(tie_weights)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        rnn = getattr(nn, CELLS[cell])
        self.rnn = rnn(embed_dim, hidden_size, num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def config(self):
        """The constructor's keyword arguments (JSON-able): ``RNNLanguageModel(**config)``."""
        return {"vocab_size": self.vocab_size, "embed_dim": self.embed_dim,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "cell": self.cell, "dropout": self.dropout.p, "tie_weights": self.tie_weights}

    def init_state(self, batch_size):
        """The zero state for ``batch_size`` sequences (what ``state=None`` means)."""
        _positive_int("batch_size", batch_size)
        weight = self.decoder.weight
        shape = (self.num_layers, batch_size, self.hidden_size)
        h = _creation.zeros(*shape, dtype=weight.dtype)
        if self.cell == "lstm":
            return h, _creation.zeros(*shape, dtype=weight.dtype)
        return h

    def forward(self, x, state=None):
        if not hasattr(x, "ndim") or x.ndim != 2 or x.dtype.is_floating_point:
            shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
            raise ValueError(f"RNNLanguageModel expects int64 token ids of shape (N, T), "
                             f"got {shape}" + (f" of dtype {x.dtype}" if hasattr(x, "dtype")
                                               else ""))
        out, state = self.rnn(self.embedding(x), state)
        return self.decoder(self.dropout(out)), state

    def extra_repr(self):
        return f"cell={self.cell!r}, tie_weights={self.tie_weights}"
