"""Carry an OpInfo sample's objects from torch to minidl, and minidl's results back to NumPy.

Tensors keep dtype, shape, strides (a non-contiguous torch tensor becomes a minidl tensor
over a copy of the same memory span with the same strides) and ``requires_grad``; lists,
tuples and dicts are converted element-wise; torch dtypes, memory formats and devices map to
minidl's by name; ``torch.Size`` becomes a tuple. Anything minidl has no counterpart for
(complex, bfloat16, sparse tensors, channels-last layouts, generators, ...) raises
:class:`Unsupported`, which the runner counts as an unsupported sample rather than a failure.
"""
import numpy as np
import torch

import minidl


class Unsupported(Exception):
    """The sample holds something minidl has no counterpart for (not a minidl failure)."""


def dtype_name(dtype):
    """'float32' for torch.float32 and minidl.float32 alike."""
    return str(dtype).split(".")[-1]


def minidl_dtype(dtype):
    found = getattr(minidl, dtype_name(dtype), None)
    if not isinstance(found, minidl.dtype):
        raise Unsupported(f"dtype {dtype}")
    return found


def _memory_format(fmt):
    """minidl keeps every tensor row-major: only contiguous_format and preserve_format exist."""
    name = str(fmt).split(".")[-1]
    if name not in ("contiguous_format", "preserve_format"):
        raise Unsupported(f"memory format {fmt}")
    return getattr(minidl, name)


def _tensor(t, leaves):
    """A minidl tensor with t's values, dtype, shape and strides; grad leaves are recorded
    (once: a tensor passed twice, e.g. as both input and target, stays one tensor)."""
    for seen, m in leaves:
        if seen is t:
            return m
    if t.layout != torch.strided or t.is_quantized:
        raise Unsupported(f"layout {t.layout}")
    if t.dim() > 64:
        raise Unsupported(f"{t.dim()} dimensions (NumPy holds at most 64)")
    minidl_dtype(t.dtype)
    data = t.detach()
    if data.is_contiguous() or data.numel() == 0:
        array = data.numpy().copy()
    else:
        span = 1 + sum((n - 1) * s for n, s in zip(data.shape, data.stride()))
        base = data.as_strided((span,), (1,), data.storage_offset()).numpy().copy()
        strides = tuple(s * base.itemsize for s in data.stride())
        array = np.lib.stride_tricks.as_strided(base, data.shape, strides)
    m = minidl.from_numpy(array)
    if t.requires_grad:
        m.requires_grad_(True)
        leaves.append((t, m))
    return m


def to_minidl(obj, leaves):
    """minidl counterpart of a sample object; (torch, minidl) grad-requiring tensors -> leaves."""
    if isinstance(obj, torch.Tensor):
        return _tensor(obj, leaves)
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, (list, tuple)):
        items = [to_minidl(x, leaves) for x in obj]
        return type(obj)(items) if type(obj) in (list, tuple) else tuple(items)
    if isinstance(obj, dict):
        return {k: to_minidl(v, leaves) for k, v in obj.items()}
    if isinstance(obj, torch.dtype):
        return minidl_dtype(obj)
    if isinstance(obj, torch.memory_format):
        return _memory_format(obj)
    if isinstance(obj, torch.device):
        return str(obj)
    if isinstance(obj, slice):
        return slice(*(to_minidl(x, leaves) for x in (obj.start, obj.stop, obj.step)))
    if obj is None or obj is Ellipsis or isinstance(obj, (bool, int, float, str)):
        return obj
    raise Unsupported(type(obj).__name__)


def result_array(m):
    """A minidl result tensor's values as a NumPy array."""
    return np.asarray(m.detach().numpy())
