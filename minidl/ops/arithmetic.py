"""Arithmetic with broadcasting and torch's type promotion: add, sub, mul, div (true,
floor, trunc), remainder, fmod, addcmul, addcdiv.

Each backward is the derivative of the forward, reduced back to each input's shape with
``unbroadcast`` where broadcasting stretched it; rounded division has zero gradient."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..backend import get_default_dtype
from ..tensor import Tensor
from ._operands import apply_binary, array_of, check_operands, promote_pair, refuse_bool, same_float
from ._util import promote, unbroadcast

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "addcmul", "addcdiv"]


class Add(Kernel):
    """z = x + alpha * y."""

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.shapes, ctx.alpha = (x.shape, y.shape), alpha
        return x + y if alpha == 1 else x + alpha * y

    @staticmethod
    def backward(ctx, g):
        sx, sy = ctx.shapes
        gx = unbroadcast(g, sx) if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return gx, None
        return gx, unbroadcast(g if ctx.alpha == 1 else g * ctx.alpha, sy)


class Sub(Kernel):
    """z = x - alpha * y."""

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.shapes, ctx.alpha = (x.shape, y.shape), alpha
        return x - y if alpha == 1 else x - alpha * y

    @staticmethod
    def backward(ctx, g):
        sx, sy = ctx.shapes
        gx = unbroadcast(g, sx) if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return gx, None
        return gx, unbroadcast(-g if ctx.alpha == 1 else -ctx.alpha * g, sy)


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
        with np.errstate(divide="ignore", invalid="ignore"):
            return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = unbroadcast(g / y, x.shape) if ctx.needs_input_grad[0] else None
            gy = unbroadcast(-g * x / (y * y), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class RoundedDiv(Kernel):
    """z = floor(x / y) or trunc(x / y); a step function, so dz/dx = dz/dy = 0."""

    @staticmethod
    def forward(ctx, x, y, mode):
        ctx.shapes = (x.shape, y.shape)
        if x.dtype.kind == "f":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.floor_divide(x, y) if mode == "floor" else np.trunc(x / y)
        if mode == "floor":
            return np.floor_divide(x, y)
        q = np.abs(x) // np.abs(y)  # integer truncation towards zero
        return np.where((x < 0) != (y < 0), -q, q).astype(q.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.zeros(s, g.dtype) if need else None
                     for s, need in zip(ctx.shapes, ctx.needs_input_grad))


class Remainder(Kernel):
    """z = x - y * floor(x / y) (sign of y); dz/dx = 1, dz/dy = -floor(x / y)."""

    op, quotient = staticmethod(np.remainder), staticmethod(np.floor_divide)

    @classmethod
    def forward(cls, ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return cls.op(x, y)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        gx = unbroadcast(g, x.shape) if ctx.needs_input_grad[0] else None
        with np.errstate(divide="ignore", invalid="ignore"):
            gy = (unbroadcast(-g * cls.quotient(x, y), y.shape) if ctx.needs_input_grad[1]
                  else None)
        return gx, gy


class Fmod(Remainder):
    """z = x - y * trunc(x / y) (sign of x); dz/dx = 1, dz/dy = -trunc(x / y)."""

    op, quotient = staticmethod(np.fmod), staticmethod(lambda x, y: np.trunc(x / y))


def _check_alpha(x, alpha):
    if alpha != 1 and array_of(x).dtype.kind in "iub" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


@takes_out
def add(input, other, *, alpha=1):
    """input + alpha * other, with broadcasting and torch's type promotion."""
    if same_float(input, other) and alpha == 1:
        return apply_binary(Add, input, other)
    check_operands("add", input, other)
    x, y = promote_pair(input, other)
    _check_alpha(x, alpha)
    return apply_binary(Add, x, y, alpha=alpha)


@takes_out
def sub(input, other, *, alpha=1):
    """input - alpha * other (bool tensors are refused, as in torch)."""
    if same_float(input, other) and alpha == 1:
        return apply_binary(Sub, input, other)
    check_operands("sub", input, other)
    a_bool, b_bool = (isinstance(v, (bool, np.bool_)) or
                      isinstance(v, (Tensor, np.ndarray)) and array_of(v).dtype.kind == "b"
                      for v in (input, other))
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    x, y = promote_pair(input, other)
    _check_alpha(x, alpha)
    return apply_binary(Sub, x, y, alpha=alpha)


@takes_out
def mul(input, other):
    if same_float(input, other):
        return apply_binary(Mul, input, other)
    check_operands("mul", input, other)
    x, y = promote_pair(input, other)
    return apply_binary(Mul, x, y)


def _check_int_zero(y, fn):
    if array_of(y).dtype.kind in "iub" and not np.all(array_of(y)):
        raise RuntimeError(f"ZeroDivisionError: {fn}() of an integer tensor by zero")


@takes_out
def div(input, other, *, rounding_mode=None):
    """True division (integers promote to the default float) unless ``rounding_mode``.

    ``rounding_mode='trunc'`` rounds towards zero, ``'floor'`` towards minus infinity; both
    keep integer dtypes and have zero gradient.
    """
    if rounding_mode is None and same_float(input, other):
        return apply_binary(Div, input, other)
    check_operands("div", input, other)
    x, y = promote_pair(input, other)
    if rounding_mode is None:
        if array_of(x).dtype.kind != "f":
            x, y = promote(x, y, dtype=get_default_dtype())
        return apply_binary(Div, x, y)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    refuse_bool(x, f"div_{rounding_mode}")
    _check_int_zero(y, "div")
    return apply_binary(RoundedDiv, x, y, mode=rounding_mode)


@takes_out
def true_divide(input, other):
    return div(input, other)


@takes_out
def floor_divide(input, other):
    """floor(input / other), keeping integer dtypes."""
    return div(input, other, rounding_mode="floor")


@takes_out
def remainder(input, other):
    """Python's modulus: the result has the sign of ``other``."""
    return _modulus(Remainder, "remainder", input, other)


@takes_out
def fmod(input, other):
    """C's fmod: the result has the sign of ``input``."""
    return _modulus(Fmod, "fmod", input, other)


def _modulus(kernel, name, input, other):
    """The checks remainder and fmod share (no bool, no integer division by zero)."""
    check_operands(name, input, other)
    x, y = promote(input, other)
    refuse_bool(x, name)
    _check_int_zero(y, name)
    return apply_binary(kernel, x, y)


subtract, multiply, divide = sub, mul, div


@takes_out
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return add(input, mul(tensor1, tensor2), alpha=value)


@takes_out
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (true division)."""
    if all(array_of(t).dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future "
                           "release addcdiv will perform a true division of tensor1 and tensor2.")
    return add(input, div(tensor1, tensor2), alpha=value)
