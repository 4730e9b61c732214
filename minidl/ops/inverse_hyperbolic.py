"""Inverse hyperbolic functions asinh, acosh, atanh, and torch's ``arc*`` aliases of the
inverse trigonometric and hyperbolic functions. Integer inputs become the default float
dtype; each backward is the derivative in the kernel's docstring."""
import numpy as np

from ..autograd import Kernel
from ._inplace import inplace_method
from ._operands import unary_function
from .trigonometric import acos, acos_, asin, asin_, atan, atan_

__all__ = ["asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
           "arctanh", "asinh_", "acosh_", "atanh_", "arcsin_", "arccos_", "arctan_",
           "arcsinh_", "arccosh_", "arctanh_"]


class Asinh(Kernel):
    """y = asinh x; dy/dx = 1/sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / np.sqrt(x * x + 1.0)


class Acosh(Kernel):
    """y = acosh x (nan below 1); dy/dx = 1/sqrt(x^2 - 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / np.sqrt(x * x - 1.0)


class Atanh(Kernel):
    """y = atanh x (+-inf at +-1, nan beyond); dy/dx = 1/(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return g / (1.0 - x * x)


asinh = unary_function(Asinh, "asinh")
acosh = unary_function(Acosh, "acosh")
atanh = unary_function(Atanh, "atanh")


# torch's arc* names are the same functions
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh

asinh_ = inplace_method(asinh)
acosh_ = inplace_method(acosh)
atanh_ = inplace_method(atanh)
arcsin_, arccos_, arctan_ = asin_, acos_, atan_
arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_
