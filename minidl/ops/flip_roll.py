"""Reversing and rotating: flip / fliplr / flipud, roll (a cyclic shift), rot90."""
import numpy as np

from ..autograd import Kernel
from ._shape_args import int_tuple, sizes_or_named
from ._util import check_tensor, normalize_dim, normalize_dims
from .permute import transpose
from .view import View, reshape

__all__ = ["flip", "fliplr", "flipud", "roll", "rot90"]


class Flip(Kernel):
    """y = x reversed along ``dims``; dx = dy reversed the same way."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims)


def flip(input, dims):
    check_tensor(input, "flip")
    dims = int_tuple((dims,) if not isinstance(dims, (int, np.integer)) else ((dims,),), "flip",
                      "dims")
    return Flip.apply(input, dims=normalize_dims(dims, input.ndim, "flip"))


def flip_method(self, *dims_, dims=None):
    return flip(self, int_tuple(sizes_or_named(dims_, dims, "flip", "dims"), "flip", "dims"))


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Kernel):
    """y = x shifted cyclically along ``dims``; dx = dy shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return np.roll(g, tuple(-s for s in ctx.shifts), ctx.dims)


def roll(input, shifts, dims=None):
    check_tensor(input, "roll")
    shifts = int_tuple((shifts,) if not isinstance(shifts, (int, np.integer)) else ((shifts,),),
                        "roll", "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(Roll.apply(reshape(input, (-1,)), shifts=shifts, dims=(0,)), input.shape)
    dims = int_tuple((dims,) if not isinstance(dims, (int, np.integer)) else ((dims,),), "roll",
                      "dims")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    dims = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times from the first towards the second of ``dims``."""
    check_tensor(input, "rot90")
    dims = int_tuple((dims,), "rot90", "dims")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and "
                           f"dim1 = {b}")
    k = k % 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), (b,))
    return View.apply(input, shape=input._data.shape)
