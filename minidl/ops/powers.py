"""Powers: tensor ** scalar, scalar ** tensor and tensor ** tensor, and float_power.

Integer powers follow torch: a negative exponent truncates 1/base^|e| (0 unless base is
+/-1) and integer tensors to negative scalar powers are refused."""
import math

import numpy as np

from .. import backend
from .._out import takes_out
from ..autograd import Kernel
from ..backend import result_type
from ..tensor import Tensor
from ._operands import apply_binary, check_operands, refuse_bool
from ._util import promote, unbroadcast

__all__ = ["pow", "float_power"]


class PowScalar(Kernel):
    """z = x^e for a constant e; dz/dx = e x^(e-1) (zero when e = 0)."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.power(x, exponent)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:
            return np.zeros_like(g), None
        if e == 2:
            return g * (2.0 * x), None
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (e * np.power(x, e - 1)), None


class RPowScalar(Kernel):
    """z = b^x for a constant base b; dz/dx = z ln b (zero where b = 0 and x >= 0)."""

    @staticmethod
    def forward(ctx, x, base):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = _int_power(base, x) if x.dtype.kind in "iu" else np.power(base, x)
        ctx.save_for_backward(x, z)
        ctx.base = base
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        b = ctx.base
        if b == 0:  # ln 0 = -inf, as a constant factor (so no 0 * inf in its derivative)
            log_b = np.where(x >= 0, g.dtype.type(0), g.dtype.type(-np.inf))
            with np.errstate(invalid="ignore"):
                return g * z * log_b, None
        with np.errstate(invalid="ignore"):
            return g * z * (math.log(b) if b > 0 else math.nan), None


class Pow(Kernel):
    """z = x^y; dz/dx = y x^(y-1) (0 where y = 0), dz/dy = z ln x (0 where x = 0, y >= 0)."""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = _int_power(x, y) if x.dtype.kind in "iu" else np.power(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                gx = unbroadcast(np.where(y == 0, 0.0, g * y * np.power(x, y - 1)), x.shape)
            if ctx.needs_input_grad[1]:
                gy = unbroadcast(np.where((x == 0) & (y >= 0), 0.0, g * z * np.log(x)), y.shape)
        return gx, gy


def _int_power(base, exponent):
    """Integer power; a negative exponent gives 1/base^|e| truncated (0 unless base is +/-1)."""
    negative = np.asarray(exponent) < 0
    if not negative.any():
        return np.power(base, exponent)
    safe = np.power(base, np.where(negative, 0, exponent))
    odd = np.asarray(exponent) % 2 == 1
    inverse = np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, inverse, safe).astype(safe.dtype, copy=False)


@takes_out
def pow(input, exponent):
    """input ** exponent for tensor ** scalar, scalar ** tensor and tensor ** tensor."""
    check_operands("pow", input, exponent)
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow(): at least one of 'input' and 'exponent' must be a Tensor")
        x, = promote(exponent, dtype=result_type(input, exponent))
        base = input.item() if isinstance(input, np.generic) else input
        return RPowScalar.apply(x, base=x._data.dtype.type(base) if x._data.dtype.kind != "f"
                                else float(base))
    if not isinstance(exponent, Tensor):
        x, = promote(input, dtype=result_type(input, exponent))
        e = exponent.item() if isinstance(exponent, np.generic) else exponent
        if x._data.dtype.kind in "iub":
            if e < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if x._data.dtype.kind == "b":
                x = Tensor(x._data.astype(np.int64))
        return PowScalar.apply(x, exponent=e)
    x, y = promote(input, exponent)
    refuse_bool(x, "pow")
    return apply_binary(Pow, x, y)


@takes_out(dtypes="exact")
def float_power(input, exponent):
    """pow computed in float64."""
    cast64 = [promote(a, dtype=backend.float64)[0] if isinstance(a, Tensor) else float(a)
              for a in (input, exponent)]
    return pow(*cast64)
