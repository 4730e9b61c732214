"""Rounding and sign: floor, ceil, trunc, round, sign (step functions of the input, so
zero gradient, as in torch) and frac = x - trunc(x) (gradient 1)."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._inplace import inplace_method
from ._operands import dtype_name
from ._util import check_tensor

__all__ = ["frac", "floor", "ceil", "trunc", "fix", "round", "sign", "sgn",
           "frac_", "floor_", "ceil_", "round_", "trunc_"]


class Frac(Kernel):
    """y = x - trunc(x); dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, g):
        return g


class StepFunction(Kernel):
    """y = f(x) for a piecewise-constant f (sign, floor, ceil, round, trunc); dy/dx = 0."""

    @staticmethod
    def forward(ctx, x, fn, *args):
        return fn(x, *args)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g), None


@takes_out(dtypes="exact")
def frac(input):
    check_tensor(input, "frac")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{dtype_name(input)}'")
    return Frac.apply(input)


def _step(fn, name, keep_ints=True):
    def op(input):
        check_tensor(input, name)
        if input._data.dtype.kind != "f" and keep_ints:
            return Tensor(input._data.copy())
        return StepFunction.apply(input, fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name}(input) elementwise; integers are returned unchanged; zero gradient."
    return takes_out(dtypes="exact")(op)


floor = _step(np.floor, "floor")
ceil = _step(np.ceil, "ceil")
trunc = _step(np.trunc, "trunc")
fix = trunc


@takes_out(dtypes="exact")
def sign(input):
    """-1, 0 or +1 by the sign of each element (NaN gives 0, as in torch; bool stays bool);
    zero gradient."""
    check_tensor(input, "sign")
    if input._data.dtype.kind == "b":
        return Tensor(input._data.copy())
    return StepFunction.apply(input, _sign)


def _sign(a):
    s = np.sign(a)
    return np.where(np.isnan(s), s.dtype.type(0), s) if s.dtype.kind == "f" else s


sgn = sign


@takes_out(dtypes="exact")
def round(input, *, decimals=0):
    """Round half to even, to ``decimals`` decimal places; zero gradient."""
    check_tensor(input, "round")
    if input._data.dtype.kind != "f":
        if decimals != 0:
            raise RuntimeError("round_cpu: rounding with decimals is only supported for floating "
                               "point tensors")
        return Tensor(input._data.copy())
    return StepFunction.apply(input, np.round, int(decimals))


# torch's in-place functions (torch.floor_ ...): the result written back into the input
frac_ = inplace_method(frac)
floor_ = inplace_method(floor)
ceil_ = inplace_method(ceil)
round_ = inplace_method(round)
trunc_ = inplace_method(trunc)
