"""``torch.nn.utils.rnn``: variable-length batches as packed sequences, and padding.

A ``PackedSequence`` stores a batch of sequences sorted by decreasing length, time-major:
``data`` holds, step after step, the rows of the ``batch_sizes[t]`` sequences still running
at step t. ``sorted_indices[k]`` is the batch position of the k-th longest sequence and
``unsorted_indices`` its inverse. Every conversion here is one gather (``index_select``)
from a flat view of its input, so gradients flow back through packing and padding.
"""
from typing import NamedTuple

import numpy as np

from ... import _creation
from ...backend import dtypes
from ...ops.gather import index_select
from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """(data, batch_sizes, sorted_indices, unsorted_indices); built by ``pack_sequence`` /
    ``pack_padded_sequence``. ``PackedSequence((data, batch_sizes))`` also works, as in torch,
    and a missing ``unsorted_indices`` is the inverse of ``sorted_indices``."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequences with ``data.to(*args, **kwargs)`` (the indices stay)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self.to(*args, **kwargs)

    def double(self):
        return self.to(dtype=dtypes.float64)

    def float(self):
        return self.to(dtype=dtypes.float32)

    def half(self):
        return self.to(dtype=dtypes.float16)

    def long(self):
        return self.to(dtype=dtypes.int64)

    def int(self):
        return self.to(dtype=dtypes.int32)

    def short(self):
        return self.to(dtype=dtypes.int16)

    def char(self):
        return self.to(dtype=dtypes.int8)

    def byte(self):
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse permutation (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return _long(out)


def _long(a):
    return Tensor(np.asarray(a, dtype=np.int64))


def _lengths_array(lengths):
    a = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iub"):
        raise ValueError(f"lengths must be a 1-D sequence of integers, got shape "
                         f"{tuple(a.shape)} and dtype {a.dtype}")
    return a.astype(np.int64)


def _check_rows(value, fn):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): expected a Tensor, got {type(value).__name__}")


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, B, *) -- (B, T, *) with ``batch_first`` -- of sequences with
    the given lengths; with ``enforce_sorted=False`` the lengths may come in any order."""
    _check_rows(input, "pack_padded_sequence")
    lengths = _lengths_array(lengths)
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence(): input must have a time and a batch "
                         f"dimension, got shape {tuple(input.shape)}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order, sorted_indices = np.arange(lengths.size), None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _long(order)
    if lengths.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={B})")
    if lengths.size == 0 or lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths[0] > T:
        raise RuntimeError(f"pack_padded_sequence(): a length of {lengths[0]} exceeds the "
                           f"{T} time steps of the input of shape {tuple(input.shape)}")
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(axis=1)
    rows = [(order[:b] * T + t) if batch_first else (t * B + order[:b])
            for t, b in enumerate(batch_sizes)]
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = index_select(flat, 0, _long(np.concatenate(rows)))
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def _padded_rows(batch_sizes, max_len, order, batch_first, pad_row):
    """For each (t, j) of a padded (max_len, B) grid ((B, max_len) with ``batch_first``) the
    packed row holding sequence ``order[j]`` at step t, or ``pad_row``."""
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])[:-1]
    t = np.arange(max_len)[:, None]
    k = order[None, :]
    running = np.zeros((max_len, order.size), dtype=bool)
    running[:batch_sizes.size] = k < batch_sizes[:, None]
    rows = np.where(running, np.concatenate([offsets, np.zeros(max_len - offsets.size,
                                                                np.int64)])[t] + k, pad_row)
    return (rows.T if batch_first else rows).reshape(-1)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded batch, lengths), the batch in its
    original order, padded with ``padding_value`` to ``total_length`` steps if given."""
    data, batch_sizes, _, unsorted = sequence
    bs = batch_sizes._data.astype(np.int64)
    max_len = bs.size
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_len}")
        max_len = total_length
    B = int(bs[0])
    order = unsorted._data.astype(np.int64) if unsorted is not None else np.arange(B)
    pad = _creation.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    rows = _padded_rows(bs, max_len, order, batch_first, data.shape[0])
    out = index_select(cat([data, pad]), 0, _long(rows))
    shape = (B, max_len) if batch_first else (max_len, B)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1)[order]
    return out.reshape(shape + tuple(data.shape[1:])), _long(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) -- (B, max L, *) with
    ``batch_first`` -- padding each with ``padding_value`` on ``padding_side``."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    try:
        sequences = list(sequences)
    except TypeError:
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}") from None
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for i, s in enumerate(sequences):
        _check_rows(s, "pad_sequence")
        if s.ndim == 0 or s.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}, which "
                               f"does not match the trailing dims of sequence 0 "
                               f"{tuple(sequences[0].shape)}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    max_len, n = int(lengths.max()), int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)])[:-1]
    t = np.arange(max_len)[:, None]
    shift = (max_len - lengths) if padding_side == "left" else np.zeros_like(lengths)
    step = t - shift[None, :]
    rows = np.where((step >= 0) & (step < lengths[None, :]), starts[None, :] + step, n)
    rows = (rows.T if batch_first else rows).reshape(-1)
    trailing = tuple(sequences[0].shape[1:])
    pad = _creation.full((1,) + trailing, padding_value, dtype=sequences[0].dtype)
    out = index_select(cat(sequences + [pad]), 0, _long(rows))
    shape = (len(sequences), max_len) if batch_first else (max_len, len(sequences))
    return out.reshape(shape + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length (a list of (L_i, *))."""
    lengths = _lengths_array(lengths)
    seqs = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if lengths.size != seqs.shape[0]:
        raise ValueError(f"unpad_sequence(): {lengths.size} lengths for a batch of "
                         f"{seqs.shape[0]} sequences")
    return [seqs[b, :int(n)] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (sorted by decreasing length unless
    ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
