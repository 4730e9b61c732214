"""Unary math: neg, abs, exp / log in bases e, 2, 10, roots, square, reciprocal, erf.

Each backward is the derivative of the forward (``dy/dx`` in the kernel's docstring); the
floating functions turn integer inputs into the default float dtype first."""
import math

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._erf import TWO_OVER_SQRT_PI, erf_array, erfc_array
from ._inplace import inplace_method
from ._operands import unary_function
from ._util import check_tensor

__all__ = ["neg", "negative", "positive", "abs", "absolute", "exp", "exp2", "expm1", "log",
           "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "erf", "erfc",
           "neg_", "abs_", "exp_", "exp2_", "expm1_", "log_", "log2_", "log10_", "log1p_",
           "sqrt_", "rsqrt_", "square_", "reciprocal_", "erf_", "erfc_"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


class Neg(Kernel):
    """y = -x; dy/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, g):
        return -g


class Abs(Kernel):
    """y = |x|; dy/dx = sign(x) (0 at 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.sign(x)


class Exp(Kernel):
    """y = e^x; dy/dx = y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Exp2(Kernel):
    """y = 2^x; dy/dx = y ln 2."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y * _LN2


class Expm1(Kernel):
    """y = e^x - 1; dy/dx = y + 1."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y + 1.0)


class Log(Kernel):
    """y = ln x; dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return g / x


class Log2(Kernel):
    """y = log2 x; dy/dx = 1/(x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return g / (x * _LN2)


class Log10(Kernel):
    """y = log10 x; dy/dx = 1/(x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return g / (x * _LN10)


class Log1p(Kernel):
    """y = ln(1 + x); dy/dx = 1/(1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return g / (x + 1.0)


class Sqrt(Kernel):
    """y = sqrt(x); dy/dx = 1/(2y) (inf at 0)."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / (2.0 * y)


class Rsqrt(Kernel):
    """y = 1/sqrt(x); dy/dx = -y^3 / 2."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = 1.0 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return g * (-0.5 * y * y * y)


class Square(Kernel):
    """y = x^2; dy/dx = 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (2.0 * x)


class Reciprocal(Kernel):
    """y = 1/x; dy/dx = -y^2."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            y = np.reciprocal(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return -g * (y * y)


class Erf(Kernel):
    """y = erf x; dy/dx = 2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (TWO_OVER_SQRT_PI * np.exp(-x * x))


class Erfc(Kernel):
    """y = 1 - erf x; dy/dx = -2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erfc_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (-TWO_OVER_SQRT_PI * np.exp(-x * x))


exp = unary_function(Exp, "exp")
exp2 = unary_function(Exp2, "exp2")
expm1 = unary_function(Expm1, "expm1")
log = unary_function(Log, "log")
log2 = unary_function(Log2, "log2")
log10 = unary_function(Log10, "log10")
log1p = unary_function(Log1p, "log1p")
sqrt = unary_function(Sqrt, "sqrt")
rsqrt = unary_function(Rsqrt, "rsqrt")
reciprocal = unary_function(Reciprocal, "reciprocal")
erf = unary_function(Erf, "erf")
erfc = unary_function(Erfc, "erfc")


@takes_out(dtypes="exact")
def neg(input):
    check_tensor(input, "neg")
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg.apply(input)


negative = neg


def positive(input):
    """``+input``: the tensor itself (refused for bool, as torch)."""
    check_tensor(input, "positive")
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@takes_out(dtypes="exact")
def abs(input):
    check_tensor(input, "abs")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(input)


absolute = abs


@takes_out
def square(input):
    """input ** 2 (bool becomes int64, integers stay integers)."""
    check_tensor(input, "square")
    if input._data.dtype.kind == "b":
        input = Tensor(input._data.astype(np.int64))
    return Square.apply(input)


# torch's in-place functions (torch.exp_ ...): the result written back into the input
neg_ = inplace_method(neg)
abs_ = inplace_method(abs)
exp_ = inplace_method(exp)
exp2_ = inplace_method(exp2)
expm1_ = inplace_method(expm1)
log_ = inplace_method(log)
log2_ = inplace_method(log2)
log10_ = inplace_method(log10)
log1p_ = inplace_method(log1p)
sqrt_ = inplace_method(sqrt)
rsqrt_ = inplace_method(rsqrt)
square_ = inplace_method(square)
reciprocal_ = inplace_method(reciprocal)
erf_ = inplace_method(erf)
erfc_ = inplace_method(erfc)
