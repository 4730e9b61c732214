"""Trigonometric and hyperbolic functions and their inverses: sin, cos, tan, asin, acos,
atan, sinh, cosh (tanh is an activation; atan2 a binary op) and the angle conversions
deg2rad, rad2deg. Integer inputs become the
default float dtype; each backward is the derivative in the kernel's docstring."""
import math

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ._inplace import inplace_method
from ._operands import float_input, unary_function

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "deg2rad", "rad2deg",
           "sin_", "cos_", "tan_", "asin_", "acos_", "atan_", "sinh_", "cosh_", "deg2rad_",
           "rad2deg_"]


class Sin(Kernel):
    """y = sin x; dy/dx = cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.cos(x)


class Cos(Kernel):
    """y = cos x; dy/dx = -sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * np.sin(x)


class Tan(Kernel):
    """y = tan x; dy/dx = 1 + y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1.0 + y * y)


class Asin(Kernel):
    """y = asin x; dy/dx = 1/sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / np.sqrt(1.0 - x * x)


class Acos(Kernel):
    """y = acos x; dy/dx = -1/sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return -g / np.sqrt(1.0 - x * x)


class Atan(Kernel):
    """y = atan x; dy/dx = 1/(1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1.0 + x * x)


class Sinh(Kernel):
    """y = sinh x; dy/dx = cosh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.cosh(x)


class Cosh(Kernel):
    """y = cosh x; dy/dx = sinh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.sinh(x)


class Scale(Kernel):
    """y = c x (the angle conversions, c = pi/180 or 180/pi); dy/dx = c."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c
        return x * x.dtype.type(c)

    @staticmethod
    def backward(ctx, g):
        return g * g.dtype.type(ctx.c)


def _converter(c, name, doc):
    def op(input):
        return Scale.apply(float_input(input, name), c=c)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return takes_out(op)


deg2rad = _converter(math.pi / 180.0, "deg2rad", "Degrees to radians: y = x pi / 180.")
rad2deg = _converter(180.0 / math.pi, "rad2deg", "Radians to degrees: y = x 180 / pi.")

sin = unary_function(Sin, "sin")
cos = unary_function(Cos, "cos")
tan = unary_function(Tan, "tan")
asin = unary_function(Asin, "asin")
acos = unary_function(Acos, "acos")
atan = unary_function(Atan, "atan")
sinh = unary_function(Sinh, "sinh")
cosh = unary_function(Cosh, "cosh")

# torch's in-place functions (torch.sin_ ...): the result written back into the input
sin_ = inplace_method(sin)
cos_ = inplace_method(cos)
tan_ = inplace_method(tan)
asin_ = inplace_method(asin)
acos_ = inplace_method(acos)
atan_ = inplace_method(atan)
sinh_ = inplace_method(sinh)
cosh_ = inplace_method(cosh)
deg2rad_ = inplace_method(deg2rad)
rad2deg_ = inplace_method(rad2deg)
