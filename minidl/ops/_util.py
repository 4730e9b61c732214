"""Helpers every kernel family shares: broadcasting gradients, operand promotion, dims."""
import numpy as np

from ..backend import as_dtype, result_type
from ..tensor import Tensor
from .cast import cast

__all__ = ["unbroadcast", "promote", "as_operand", "normalize_dim", "normalize_dims",
           "check_tensor"]


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def as_operand(x, dtype):
    """A tensor of ``dtype`` for ``x`` (a tensor is cast differentiably, a scalar wrapped)."""
    if isinstance(x, Tensor):
        if x._data.dtype == dtype.np:
            return x
        return cast(x, dtype)
    if isinstance(x, np.ndarray):
        return Tensor(x.astype(dtype.np, copy=False))
    return Tensor(np.asarray(x, dtype=dtype.np))


def promote(*operands, dtype=None):
    """Cast operands (tensors / scalars) to torch's common result dtype (or ``dtype``)."""
    d = as_dtype(dtype) if dtype is not None else result_type(*operands)
    return [as_operand(x, d) for x in operands]


def check_tensor(x, fn, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def normalize_dim(dim, ndim, fn="op"):
    """Wrap a possibly negative ``dim`` into [0, ndim); clear IndexError if out of range."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}(): dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{fn}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def normalize_dims(dim, ndim, fn="op"):
    """A sorted tuple of wrapped dims from None (all), an int, or a sequence."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    dims = tuple(sorted(normalize_dim(d, ndim, fn) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{fn}(): dim {list(dim)} appears multiple times in the list of dims")
    return dims
