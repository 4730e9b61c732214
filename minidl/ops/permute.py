"""Axis reordering views: permute, transpose / swapaxes / swapdims, t, .T / .mT, movedim."""
import numpy as np

from ..autograd import Kernel
from ._shape_args import int_tuple, sizes_or_named
from ._util import check_tensor, normalize_dim
from .view import View

__all__ = ["permute", "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis"]


class Permute(Kernel):
    """y = x with axes reordered (a view); dx = dy with the inverse order."""

    _view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims))


def permute(input, dims):
    check_tensor(input, "permute")
    dims = int_tuple((dims,), "permute", "dims")
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.ndim} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if wrapped == tuple(range(input.ndim)):
        return View.apply(input, shape=input._data.shape)
    return Permute.apply(input, dims=wrapped)


def permute_method(self, *dims_, dims=None):
    return permute(self, int_tuple(sizes_or_named(dims_, dims, "permute", "dims"), "permute",
                                   "dims"))


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    check_tensor(input, "transpose")
    n = input.ndim
    if n == 0:
        normalize_dim(dim0, 0, "transpose"), normalize_dim(dim1, 0, "transpose")
        return View.apply(input, shape=())
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    order = list(range(n))
    order[a], order[b] = b, a
    return permute(input, order)


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a matrix; 0-D and 1-D tensors are returned as they are."""
    check_tensor(input, "t")
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else View.apply(input, shape=input._data.shape)


def reverse_dims(self):
    """``Tensor.T``: the dims in reverse order."""
    return permute(self, tuple(range(self.ndim))[::-1])


def matrix_transpose(self):
    """``Tensor.mT``: the last two dims swapped."""
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    check_tensor(input, "movedim")
    src = int_tuple((source,) if not isinstance(source, (tuple, list)) else (source,), "movedim")
    dst = int_tuple((destination,) if not isinstance(destination, (tuple, list))
                     else (destination,), "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    n = input.ndim
    src = [normalize_dim(d, n, "movedim") for d in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim
