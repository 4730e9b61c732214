"""The dtype cast kernel, the lowest elementwise op: operand promotion (``_util.promote``)
casts through it, so it depends on nothing else in ``ops``."""
from ..autograd import Kernel
from ..backend import as_dtype

__all__ = ["cast"]


class Cast(Kernel):
    """y = x converted to another dtype; dy/dx = 1 (the gradient is cast back)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.in_dtype), None


def cast(x, dtype):
    """``x`` converted to ``dtype``; differentiable between floating dtypes."""
    d = as_dtype(dtype)
    if x._data.dtype == d.np:
        return x
    return Cast.apply(x, d.np)
