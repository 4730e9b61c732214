"""Mini-batches for language models: d2l's random and sequential partitioning.

A language model reads a long stream of token ids and predicts each next token: every
batch is a pair ``(X, Y)`` of int64 tensors of shape ``(batch_size, seq_len)`` with
``Y[b, t]`` the token that follows ``X[b, t]`` in the corpus.

- ``partition="sequential"``: the corpus (from a random offset below ``seq_len``) is cut
  into ``batch_size`` contiguous streams, one per batch row; batch ``k + 1`` continues each
  row where batch ``k`` ended, so a recurrent network can carry its hidden state from batch
  to batch (truncated backpropagation through time: ``detach_state`` between batches).
- ``partition="random"``: the corpus (from a random offset below ``seq_len``) is cut into
  non-overlapping subsequences of ``seq_len + 1`` tokens' span that are dealt into batches
  in a random order; adjacent batches are unrelated, so the state is reset each batch.

``len()`` is the number of batches per epoch; it does not depend on the offset (it is
counted for the largest offset). Each ``iter()`` starts a new epoch whose offset and order
come from ``numpy.random.default_rng((seed, epoch))``: the run is reproducible from
``seed``, epoch by epoch.
"""

import numpy as np

from .._creation import from_numpy
from ..tensor import Tensor

__all__ = ["LanguageModelBatches", "detach_state"]

_PARTITIONS = ("sequential", "random")


def _as_id_array(ids):
    if isinstance(ids, Tensor):
        ids = ids.numpy()
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"LanguageModelBatches(ids=) must be 1-D, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"LanguageModelBatches(ids=) must hold integer token ids, got dtype "
                        f"{array.dtype}")
    return array.astype(np.int64)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"LanguageModelBatches({name}=) must be an int >= 1, got {value!r}")
    return int(value)


class LanguageModelBatches:
    """Iterable over ``(X, Y)`` int64 Tensor pairs of shape ``(batch_size, seq_len)``.

    Args:
        ids: the corpus as a 1-D sequence of token ids (list, NumPy array or Tensor).
        batch_size: rows per batch.
        seq_len: time steps per batch (the truncation length of BPTT).
        partition: ``"sequential"`` (rows continue across batches) or ``"random"``.
        seed: seeds every epoch's offset and, for ``"random"``, its order.
    """

    def __init__(self, ids, batch_size, seq_len, partition="sequential", seed=0):
        self.ids = _as_id_array(ids)
        self.batch_size = _positive_int("batch_size", batch_size)
        self.seq_len = _positive_int("seq_len", seq_len)
        if partition not in _PARTITIONS:
            raise ValueError(f"LanguageModelBatches(partition=) must be one of {_PARTITIONS}, "
                             f"got {partition!r}")
        self.partition = partition
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"LanguageModelBatches(seed=) must be an int >= 0, got {seed!r}")
        self.seed = int(seed)
        self.epoch = 0
        needed = self.batch_size * self.seq_len + self.seq_len
        if len(self.ids) < needed:
            raise ValueError(f"LanguageModelBatches needs at least batch_size * seq_len + "
                             f"seq_len = {needed} token ids, got {len(self.ids)}")

    def _usable(self, offset):
        """Tokens usable as inputs from ``offset`` (each needs a successor)."""
        return len(self.ids) - offset - 1

    def __len__(self):
        worst = self._usable(self.seq_len - 1)  # the largest offset leaves the fewest tokens
        if self.partition == "sequential":
            return (worst // self.batch_size) // self.seq_len
        return (worst // self.seq_len) // self.batch_size

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        self.epoch += 1
        offset = int(rng.integers(0, self.seq_len))
        if self.partition == "sequential":
            return self._sequential(offset)
        return self._random(offset, rng)

    def _sequential(self, offset):
        row_len = self._usable(offset) // self.batch_size
        span = self.batch_size * row_len
        inputs = self.ids[offset:offset + span].reshape(self.batch_size, row_len)
        targets = self.ids[offset + 1:offset + 1 + span].reshape(self.batch_size, row_len)
        for k in range(len(self)):
            columns = slice(k * self.seq_len, (k + 1) * self.seq_len)
            yield (from_numpy(np.ascontiguousarray(inputs[:, columns])),
                   from_numpy(np.ascontiguousarray(targets[:, columns])))

    def _random(self, offset, rng):
        count = self._usable(offset) // self.seq_len
        starts = offset + self.seq_len * rng.permutation(count)
        window = np.arange(self.seq_len)
        for k in range(len(self)):
            rows = starts[k * self.batch_size:(k + 1) * self.batch_size, None] + window
            yield from_numpy(self.ids[rows]), from_numpy(self.ids[rows + 1])

    def __repr__(self):
        return (f"LanguageModelBatches(tokens={len(self.ids)}, batch_size={self.batch_size}, "
                f"seq_len={self.seq_len}, partition={self.partition!r}, seed={self.seed})")


def detach_state(state):
    """Cut a recurrent state from its history (truncated BPTT between batches).

    Takes a Tensor, a tuple / list of Tensors (an LSTM's ``(h, c)``), nested, or ``None``.
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    raise TypeError(f"detach_state() takes a Tensor, a tuple / list of Tensors or None, "
                    f"got {type(state).__name__}")
