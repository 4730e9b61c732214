"""Positional encodings added to a sequence of d_model-dimensional vectors (torch has none).

``PositionalEncoding``: the fixed sinusoids of Vaswani et al. 2017, "Attention is all you
need", section 3.5, for position i and frequency index j (angle i / 10000^(2j / d_model)):

    PE[i, 2j] = sin(i / 10000^(2j / d_model)),   PE[i, 2j + 1] = cos(i / 10000^(2j / d_model)),

kept as the buffer ``pe`` (max_len, d_model), saved in the state_dict as in the PyTorch
tutorial's module. For an odd d_model the last column is a sine without its cosine.
``LearnedPositionalEncoding``: a trained table ``weight`` (max_len, d_model) ~ N(0, 1), as
``nn.Embedding`` (BERT, GPT). Both read x as (L, N, d_model), (N, L, d_model) with
``batch_first``, or unbatched (L, d_model); add the rows of positions 0..L-1 and apply dropout.
"""
import numpy as np

from ... import _creation
from ...backend import get_default_dtype
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["PositionalEncoding", "LearnedPositionalEncoding"]


def sinusoidal_table(max_len, d_model):
    """The (max_len, d_model) float64 array of Vaswani et al.'s sines and cosines."""
    position = np.arange(max_len, dtype=np.float64)[:, None]
    angle = position / 10000.0 ** (np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    table = np.empty((max_len, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, :d_model // 2])
    return table


class _PositionalEncodingBase(Module):
    _TABLE = None  # the name of the (max_len, d_model) table added to the input

    def __init__(self, d_model, dropout, max_len, batch_first):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("d_model", d_model), ("max_len", max_len)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive integer, but got {value!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout probability has to be between 0 and 1, "
                             f"but got {dropout!r}")
        self.d_model, self.max_len = int(d_model), int(max_len)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)

    def forward(self, x):
        name = type(self).__name__
        shape = tuple(x.shape)
        if x.dim() not in (2, 3):
            layout = "(N, L, d_model)" if self.batch_first else "(L, N, d_model)"
            raise ValueError(f"{name}: expected a 2-D (L, d_model) or 3-D {layout} input x, "
                             f"but got {x.dim()}-D of shape {shape}")
        if shape[-1] != self.d_model:
            raise ValueError(f"{name}: the last dimension of x must be d_model={self.d_model}, "
                             f"but x has shape {shape}")
        seq_dim = 1 if x.dim() == 3 and self.batch_first else 0
        length = shape[seq_dim]
        if length > self.max_len:
            raise ValueError(f"{name}: the sequence length {length} of x (dimension {seq_dim} "
                             f"of shape {shape}) exceeds max_len={self.max_len}")
        rows = getattr(self, self._TABLE)[:length]
        if x.dim() == 3 and not self.batch_first:
            rows = rows.unsqueeze(1)
        return F.dropout(x + rows, self.dropout, self.training)

    def extra_repr(self):
        s = f"{self.d_model}, dropout={self.dropout}, max_len={self.max_len}"
        return s + (", batch_first=True" if self.batch_first else "")


class PositionalEncoding(_PositionalEncodingBase):
    """x + PE[:L] with the fixed sinusoidal buffer ``pe`` (max_len, d_model), then dropout."""

    _TABLE = "pe"

    def __init__(self, d_model, dropout=0.1, max_len=5000, batch_first=False):
        super().__init__(d_model, dropout, max_len, batch_first)
        table = sinusoidal_table(self.max_len, self.d_model)
        self.register_buffer("pe", _creation.tensor(table, dtype=get_default_dtype()))


class LearnedPositionalEncoding(_PositionalEncodingBase):
    """x + weight[:L] with a trained ``weight`` (max_len, d_model) ~ N(0, 1), then dropout."""

    _TABLE = "weight"

    def __init__(self, d_model, dropout=0.1, max_len=5000, batch_first=False):
        super().__init__(d_model, dropout, max_len, batch_first)
        self.weight = Parameter(_creation.empty(self.max_len, self.d_model,
                                                dtype=get_default_dtype()))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
