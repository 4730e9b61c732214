"""Small products built from differentiable ops (their gradients follow): ``trace`` (the
diagonal's sum), ``kron`` (the Kronecker product) and ``cross`` (3-vector cross product)."""
import warnings

import numpy as np

from .._out import takes_out
from ..tensor import Tensor
from ._operands import dtype_name
from ._util import check_tensor, normalize_dim
from .arithmetic import mul, sub
from .diagonal import diagonal
from .expand import broadcast_shapes
from .gather import index_select
from .reduce import sum
from .view import reshape

__all__ = ["trace", "kron", "cross"]


def trace(input):
    """The sum of a matrix's main diagonal (integers sum to int64, as ``sum``)."""
    check_tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return sum(diagonal(input))


@takes_out
def kron(input, other):
    """The Kronecker product: ``out[i * m + k ...] = input[i ...] * other[k ...]`` with both
    padded to the same number of dims by leading 1s; shape ``input.shape * other.shape``."""
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = reshape(input, tuple(v for s in sa for v in (s, 1)))
    b = reshape(other, tuple(v for s in sb for v in (1, s)))
    return reshape(mul(a, b), tuple(x * y for x, y in zip(sa, sb)))


_NEXT = Tensor(np.array([1, 2, 0]))
_PREV = Tensor(np.array([2, 0, 1]))


@takes_out(dtypes="exact")
def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (broadcast over the other dims); with no
    ``dim``, the first dim of size 3 (deprecated in torch, which warns)."""
    check_tensor(input, "cross")
    check_tensor(other, "cross", "other")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {dtype_name(input)} but found "
                           f"{dtype_name(other)}")
    shape = broadcast_shapes(input.shape, other.shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=3)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = normalize_dim(dim, input.ndim, "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    return sub(mul(index_select(input, d, _NEXT), index_select(other, d, _PREV)),
               mul(index_select(input, d, _PREV), index_select(other, d, _NEXT)))
