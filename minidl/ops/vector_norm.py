"""Vector norms (``torch.norm``): the 2-norm, p-norms, and the max / min / sum of |x|
for p = +-inf / 1. Batch / layer norm live in ``norm``."""
import builtins

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ._operands import dtype_name
from ._reduce_dims import reduction_dims, save_reduced, saved_reduced, unsqueeze_reduced
from ._util import check_tensor
from .cast import cast
from .extrema import amax, amin
from .reduce import sum as _sum
from .unary import abs as _abs

__all__ = ["norm"]


class Norm2(Kernel):
    """y = sqrt(sum x^2); dy/dx = x / y (0 where y = 0)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = np.sqrt(np.sum(x * x, axis=dims, keepdims=True))
        return save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = saved_reduced(ctx)
        g = unsqueeze_reduced(ctx, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(y == 0, 0.0, g / y).astype(g.dtype, copy=False)
        return scale * x


class NormP(Kernel):
    """y = (sum |x|^p)^(1/p); dy/dx = sign(x) |x|^(p-1) / y^(p-1) (0 where x = 0 or y = 0);
    p = 0 counts the nonzeros (zero gradient)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, p):
        a = np.abs(x)
        if p == 0:
            y = np.sum(a != 0, axis=dims, keepdims=True, dtype=x.dtype)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                y = np.power(np.sum(np.power(a, p), axis=dims, keepdims=True), 1.0 / p)
        ctx.p = p
        return save_reduced(ctx, x, y, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, y = saved_reduced(ctx)
        p = ctx.p
        if p == 0:
            return np.zeros(x.shape, g.dtype)
        g = unsqueeze_reduced(ctx, g)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            local = np.sign(x) * np.power(np.abs(x), p - 1) / np.power(y, p - 1)
            local = np.where((x == 0) | (y == 0), 0.0, local)
        return (g * local).astype(g.dtype, copy=False)


@takes_out(dtypes="exact")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); p = 'fro', a number, or +/-inf."""
    check_tensor(input, "norm")
    if dtype is not None:
        input = cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {dtype_name(input)}")
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(p={p!r}) is not supported: use p='fro' or a number "
                                      f"(matrix norms such as 'nuc' live in minidl.linalg)")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(map(str, dim))} (norm(p='fro') takes one or two dims)")
        p = 2
    dims = reduction_dims(dim, input.ndim, "norm")
    k = builtins.bool(keepdim)
    if p == 2:
        return Norm2.apply(input, dims, k)
    if p == float("inf"):
        return amax(_abs(input), dims, k)
    if p == -float("inf"):
        return amin(_abs(input), dims, k)
    if p == 1:
        return _sum(_abs(input), dims, k)
    return NormP.apply(input, dims, k, float(p))
