"""``logit``, the inverse of the sigmoid: y = ln(x / (1 - x)), with torch's optional
clamp of the input to [eps, 1 - eps] (a negative ``eps`` clamps nothing, as in torch)."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ._inplace import inplace_method
from ._operands import float_input

__all__ = ["logit", "logit_"]


class Logit(Kernel):
    """y = ln(z / (1 - z)), z = x clamped to [eps, 1 - eps]; dy/dx = 1 / (x (1 - x)) inside
    the clamp range (bounds included), 0 outside."""

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x
        if eps is not None:
            lo, hi = x.dtype.type(eps), x.dtype.type(1.0 - eps)
            z = np.where(x < lo, lo, np.where(x > hi, hi, x))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            d = g / (x * (1 - x))
        if ctx.eps is None:
            return d
        lo, hi = x.dtype.type(ctx.eps), x.dtype.type(1.0 - ctx.eps)
        return np.where((x < lo) | (x > hi), 0, d).astype(x.dtype, copy=False)


@takes_out
def logit(input, eps=None):
    """ln(x / (1 - x)), x first clamped to [eps, 1 - eps] when ``eps`` >= 0 is given."""
    x = float_input(input, "logit")
    if eps is not None and not isinstance(eps, (int, float)) or isinstance(eps, bool):
        raise TypeError(f"logit(): argument 'eps' must be float, not {type(eps).__name__}")
    return Logit.apply(x, eps=None if eps is None or eps < 0 else float(eps))


logit_ = inplace_method(logit)
