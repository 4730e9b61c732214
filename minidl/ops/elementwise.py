"""Elementwise kernels: arithmetic with broadcasting, math functions, comparisons.

Each kernel's backward is the derivative of its forward, reduced back to each input's
shape with ``unbroadcast`` where broadcasting stretched it.
"""
import numpy as np

from ..autograd import Kernel
from ..backend import as_dtype, get_default_dtype
from ..tensor import Tensor
from ._util import promote, unbroadcast

__all__ = ["cast", "add", "sub", "mul", "div"]

# Tensor methods and operators this module provides: method name -> function.
TENSOR_METHODS = {}
# Names this module contributes to minidl.nn.functional.
FUNCTIONAL = []


class Cast(Kernel):
    """y = x converted to another dtype; dy/dx = 1 (the gradient is cast back)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.in_dtype), None


def cast(x, dtype):
    """``x`` converted to ``dtype``; differentiable between floating dtypes."""
    d = as_dtype(dtype)
    if x._data.dtype == d.np:
        return x
    return Cast.apply(x, d.np)


class Add(Kernel):
    """z = x + alpha * y."""

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.shapes, ctx.alpha = (x.shape, y.shape), alpha
        return x + y if alpha == 1 else x + alpha * y

    @staticmethod
    def backward(ctx, g):
        sx, sy = ctx.shapes
        gy = g if ctx.alpha == 1 else g * ctx.alpha
        return unbroadcast(g, sx), unbroadcast(gy, sy)


class Sub(Kernel):
    """z = x - alpha * y."""

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.shapes, ctx.alpha = (x.shape, y.shape), alpha
        return x - y if alpha == 1 else x - alpha * y

    @staticmethod
    def backward(ctx, g):
        sx, sy = ctx.shapes
        return unbroadcast(g, sx), unbroadcast(-g if ctx.alpha == 1 else -ctx.alpha * g, sy)


class Mul(Kernel):
    """z = x * y; dz/dx = y, dz/dy = x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = unbroadcast(g * y, x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(g * x, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Div(Kernel):
    """z = x / y; dz/dx = 1/y, dz/dy = -x/y^2."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = unbroadcast(g / y, x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(-g * x / (y * y), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def add(input, other, *, alpha=1):
    x, y = promote(input, other)
    return Add.apply(x, y, alpha=alpha)


def sub(input, other, *, alpha=1):
    if input.dtype.name == "bool" if isinstance(input, Tensor) else False:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    x, y = promote(input, other)
    return Sub.apply(x, y, alpha=alpha)


def mul(input, other):
    x, y = promote(input, other)
    return Mul.apply(x, y)


def div(input, other, *, rounding_mode=None):
    """True division (integers promote to the default float) unless ``rounding_mode``."""
    if rounding_mode is not None:
        raise NotImplementedError("div(rounding_mode=...) is being written")  # helper replaces
    x, y = promote(input, other)
    if x._data.dtype.kind != "f":
        x, y = promote(x, y, dtype=get_default_dtype())
    return Div.apply(x, y)


TENSOR_METHODS.update({
    "add": add, "sub": sub, "mul": mul, "div": div,
    "__add__": add, "__radd__": lambda self, other: add(other, self),
    "__sub__": sub, "__rsub__": lambda self, other: sub(other, self),
    "__mul__": mul, "__rmul__": lambda self, other: mul(other, self),
    "__truediv__": div, "__rtruediv__": lambda self, other: div(other, self),
})
