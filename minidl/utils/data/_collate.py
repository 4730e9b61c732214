"""``default_collate`` / ``default_convert``: samples -> a batch, with torch's dtypes.

Tensors are stacked along a new first dimension; Python ints -> int64, floats -> float64,
bools -> bool tensors; NumPy arrays and scalars -> tensors of their dtype; strings stay a
list; dicts, namedtuples, tuples and lists are collated field by field (tuples become
lists, as in torch).
"""
import collections.abc
import copy

import numpy as np

from ... import backend
from ..._creation import tensor as _tensor
from ...ops.join import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _stack(batch):
    """Stack equally shaped tensors (differentiably when one of them requires grad)."""
    if any(t.requires_grad for t in batch):
        return stack(batch, 0)
    shape = batch[0]._data.shape
    for i, t in enumerate(batch):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
    arrays = [t._data for t in batch]
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        d = backend.result_type(*batch).np
        arrays = [a.astype(d, copy=False) for a in arrays]
    return Tensor(np.stack(arrays))


def _same_mapping(like, values):
    """``values`` in a mapping of the same type as ``like`` (a plain dict if that fails)."""
    if isinstance(like, collections.abc.MutableMapping):
        out = copy.copy(like)
        out.update(values)
        return out
    try:
        return type(like)(values)
    except TypeError:
        return values


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([Tensor(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic):
        if elem.dtype.kind not in "biuf":
            raise TypeError(_ERR.format(elem.dtype))
        return Tensor(np.array(batch))
    if isinstance(elem, float):
        return _tensor(batch, dtype=backend.float64)
    if isinstance(elem, int):  # bools included: all-bool batches give a bool tensor
        return _tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(s) != n for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays (recursively) into tensors; used when automatic batching is off."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return Tensor(data) if data.dtype.kind in "biuf" else data
    if isinstance(data, np.generic):
        return Tensor(np.asarray(data)) if data.dtype.kind in "biuf" else data
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
