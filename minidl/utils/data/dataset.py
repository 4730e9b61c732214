"""Datasets: ``torch.utils.data.Dataset`` and friends.

Batch fast path: a dataset may define ``_get_batch`` -- a callable ``indices -> batch`` that
returns exactly what ``default_collate([dataset[i] for i in indices])`` would, built with one
fancy index per array instead of one ``__getitem__`` per sample (or ``None`` when it cannot).
``DataLoader`` uses it when the collate function is the default one. ``TensorDataset`` and
``Subset`` (of such a dataset) provide it.
"""
import bisect
import math
import warnings

import numpy as np

from ...backend import rng
from ...tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """A map-style dataset: ``__getitem__(index)`` and (usually) ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: implement ``__iter__``. With ``num_workers > 0`` every
    worker iterates its own copy; split the work with ``get_worker_info()``."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


def _index_array(indices):
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        idx = idx.astype(np.int64)
    return idx


class TensorDataset(Dataset):
    """Samples are ``tuple(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects tensors, but argument {i} is a "
                                f"{type(t).__name__}")
            if t.dim() == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-dimensional; every tensor "
                                 f"needs a first (sample) dimension")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            sizes = [t.shape[0] for t in tensors]
            raise AssertionError(f"Size mismatch between tensors: the first dimensions "
                                 f"{sizes} must all be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] if t.requires_grad else Tensor(np.asarray(t._data[index]))
                     for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    @property
    def _get_batch(self):
        if any(t.requires_grad for t in self.tensors):
            return None
        arrays = [t._data for t in self.tensors]

        def get_batch(indices):
            idx = _index_array(indices)
            return [Tensor(a[idx]) for a in arrays]
        return get_batch


class ConcatDataset(Dataset):
    """The datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which >= len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length "
                             f"{len(self)}")
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        inner = getattr(self.dataset, "__getitems__", None)
        if inner is not None:
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    @property
    def _get_batch(self):
        inner = getattr(self.dataset, "_get_batch", None)
        if inner is None:
            return None
        mapping = _index_array(self.indices)
        return lambda indices: inner(mapping[_index_array(indices)])


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into disjoint random Subsets of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (floors, with the remainder handed out one by one from the first subset).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
        lengths = counts
    if any(isinstance(c, float) and not float(c).is_integer() for c in lengths) or \
            sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input "
                         f"dataset! (lengths {lengths} sum to {sum(lengths)}, the dataset has "
                         f"{n} samples)")
    perm = rng(generator).permutation(n).tolist()
    out, offset = [], 0
    for c in lengths:
        c = int(c)
        out.append(Subset(dataset, perm[offset:offset + c]))
        offset += c
    return out
