"""Writing at indices: a fast accumulating ``np.add.at`` and torch's in-place write rules."""
import math

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

__all__ = ["add_at", "write_inplace"]


def _flat_index(shape, key):
    """The C-order flat positions that ``np.empty(shape)[key]`` reads, shaped like that result.

    Fast closed forms for the two patterns our kernels use -- one index array per dim
    (gather) and ``(:, .., :, idx)`` (index_select, embedding) -- else an arange lookup.
    """
    arrays = [k for k in key if isinstance(k, np.ndarray)]
    if len(arrays) == len(key) == len(shape) and all(a.dtype.kind in "iu" for a in arrays):
        lin, stride = 0, 1
        for k, n in zip(key[::-1], shape[::-1]):
            lin = lin + (k % n) * stride
            stride *= n
        return np.asarray(lin)
    d = len(key) - 1
    if len(arrays) == 1 and isinstance(key[-1], np.ndarray) and key[-1].dtype.kind in "iu" and \
            all(isinstance(k, slice) and k == slice(None) for k in key[:-1]):
        pre, n, post = math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:])
        idx = key[-1] % n
        lin = (np.arange(pre).reshape((pre,) + (1,) * (idx.ndim + 1)) * n
               + idx.reshape((1,) + idx.shape + (1,))) * post + np.arange(post)
        return lin.reshape(shape[:d] + idx.shape + shape[d + 1:])
    return np.arange(math.prod(shape)).reshape(shape)[key]


def add_at(out, key, values):
    """``np.add.at(out, key, values)`` (repeated positions accumulate) through NumPy's fast
    1-D path when ``out`` is contiguous."""
    if not out.flags.c_contiguous:
        np.add.at(out, key, values)
        return
    lin = _flat_index(out.shape, key)
    np.add.at(out.reshape(-1), lin.reshape(-1), np.broadcast_to(values, lin.shape).reshape(-1))


def _writable(t):
    if not t._data.flags.writeable:
        raise RuntimeError(f"unsupported operation: more than one element of the written-to "
                           f"tensor (shape {list(t.shape)}, an expanded or overlapping view) "
                           f"refers to a single memory location. Please clone() the tensor "
                           f"before performing the operation.")


def write_inplace(self, fn, *args):
    """Torch in-place semantics for an ``fn(self, *args)`` that writes into self's memory.

    Outside the graph the write is all there is; in the graph ``Tensor._inplace`` rebases
    the tensor's history onto the recorded node (our kernels return the same memory).
    """
    _writable(self)
    if is_grad_enabled() and (self.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in args)):
        return self._inplace(fn, *args)
    fn(self, *args)
    self._vc[0] += 1
    return self
