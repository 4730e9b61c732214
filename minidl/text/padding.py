"""Fixed lengths for variable-length sequences: truncation, padding and validity masks.

A batch of sentences of different lengths becomes one rectangular int64 tensor by padding
the short ones with ``pad_index``; ``sequence_mask(lengths)`` marks the real (non-pad)
positions, for masking a loss or attention scores (d2l's ``sequence_mask``).
"""

import numpy as np

from .._creation import from_numpy
from ..tensor import Tensor

__all__ = ["truncate_pad", "pad_batch", "sequence_mask"]


def _as_id_list(sequence, name):
    if isinstance(sequence, Tensor):
        sequence = sequence.tolist()
    elif isinstance(sequence, np.ndarray):
        if sequence.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {sequence.shape}")
        sequence = sequence.tolist()
    elif isinstance(sequence, str):
        raise TypeError(f"{name} must be a sequence of int ids, got a str "
                        "(map tokens to ids with a Vocab first)")
    ids = list(sequence)
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must hold int ids, got {value!r}")
    return [int(value) for value in ids]


def _check_length(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def truncate_pad(ids, length, pad_index):
    """``ids`` cut to ``length`` or padded with ``pad_index`` up to it (a new list)."""
    length = _check_length("truncate_pad(length=)", length)
    pad_index = _check_length("truncate_pad(pad_index=)", pad_index)
    ids = _as_id_list(ids, "truncate_pad(ids=)")
    return ids[:length] + [pad_index] * (length - len(ids))


def pad_batch(sequences, pad_index, max_len=None, batch_first=True):
    """Pad id sequences into one int64 tensor; returns ``(padded, lengths)``.

    ``padded`` is ``(N, T)`` (``batch_first=True``) or ``(T, N)``, with ``T`` the longest
    length or ``max_len`` (longer sequences are truncated to it); ``lengths`` (int64, ``N``)
    holds each sequence's length after truncation.
    """
    if isinstance(sequences, str):
        raise TypeError("pad_batch(sequences=) takes a list of id sequences, got a str")
    if isinstance(sequences, (Tensor, np.ndarray)):
        sequences = sequences.tolist()
    sequences = [_as_id_list(seq, f"pad_batch(sequences[{i}])")
                 for i, seq in enumerate(sequences)]
    if not sequences:
        raise ValueError("pad_batch() got no sequences (an empty batch)")
    pad_index = _check_length("pad_batch(pad_index=)", pad_index)
    max_len = _check_length("pad_batch(max_len=)", max_len, allow_none=True)
    if not isinstance(batch_first, bool):
        raise TypeError(f"pad_batch(batch_first=) must be a bool, got {batch_first!r}")
    lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
    width = int(lengths.max()) if max_len is None else max_len
    padded = np.full((len(sequences), width), pad_index, dtype=np.int64)
    for row, seq in enumerate(sequences):
        kept = seq[:width]
        padded[row, :len(kept)] = kept
    lengths = np.minimum(lengths, width)
    if not batch_first:
        padded = np.ascontiguousarray(padded.T)
    return from_numpy(padded), from_numpy(lengths)


def sequence_mask(lengths, max_len=None):
    """Bool tensor ``(N, max_len)``, True where position ``t < lengths[n]``.

    ``lengths`` is a 1-D int Tensor, array or list; ``max_len`` defaults to its maximum.
    """
    if isinstance(lengths, Tensor):
        lengths = lengths.numpy()
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"sequence_mask(lengths=) must be 1-D, got shape {lengths.shape}")
    if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"sequence_mask(lengths=) must hold ints, got dtype {lengths.dtype}")
    if lengths.size and lengths.min() < 0:
        raise ValueError("sequence_mask(lengths=) must be >= 0")
    if max_len is None:
        max_len = int(lengths.max()) if lengths.size else 0
    max_len = _check_length("sequence_mask(max_len=)", max_len)
    mask = np.arange(max_len)[None, :] < lengths.astype(np.int64)[:, None]
    return from_numpy(mask)
