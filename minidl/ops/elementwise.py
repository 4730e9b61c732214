"""Elementwise kernels: arithmetic with broadcasting, math functions, comparisons.

Each kernel's backward is the derivative of its forward, reduced back to each input's
shape with ``unbroadcast`` where broadcasting stretched it. Ops whose result is a step
function of the input (sign, floor, round, comparisons ...) have zero gradient, as in torch.
The second half of the module holds the non-differentiable ops (comparisons, logical and
bitwise ops), the in-place forms, random fills and dtype conversions.
"""
import builtins
import math

import numpy as np

from .. import _creation, backend
from ..autograd import Kernel
from ..backend import as_dtype, check_device, get_default_dtype, result_type, rng
from ..tensor import Tensor
from ._util import check_tensor, promote, unbroadcast

__all__ = [
    "cast", "clone", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "addcmul", "addcdiv", "pow", "float_power", "neg",
    "negative", "positive",
    "abs", "absolute", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
    "square", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
    "atan2", "arctan2", "sigmoid", "relu", "erf", "erfc", "clamp", "clip", "clamp_min",
    "clamp_max", "maximum", "minimum", "fmax", "fmin", "where", "sign", "sgn", "floor", "ceil",
    "round", "trunc", "fix", "frac", "lerp", "nan_to_num", "logaddexp", "xlogy", "hypot",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_not",
    "logical_xor", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "signbit",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "fill_", "zero_",
]

# Tensor methods and operators this module provides: method name -> function.
TENSOR_METHODS = {}
# Names this module contributes to minidl.nn.functional.
FUNCTIONAL = ["relu", "relu_", "sigmoid", "tanh"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ---------------------------------------------------------------- argument helpers
def _binary(kernel, x, y, **attrs):
    """``kernel.apply(x, y)`` with numpy's broadcasting failure turned into torch's error."""
    try:
        return kernel.apply(x, y, **attrs)
    except ValueError:
        _check_broadcast(x.shape, y.shape)
        raise


def _check_broadcast(sa, sb):
    """Raise torch's RuntimeError when shapes ``sa`` and ``sb`` do not broadcast."""
    sa, sb = tuple(sa), tuple(sb)
    n = builtins.max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i, (a, b) in enumerate(zip(pa, pb)):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                               f"at non-singleton dimension {i} (shapes {list(sa)} and {list(sb)})")


def _pair(input, other):
    """Both operands promoted to torch's result dtype; scalars become 0-d arrays.

    Fast paths skip the general promotion for the common cases (two tensors of one dtype,
    a tensor and a Python scalar that does not change its dtype).
    """
    if isinstance(input, Tensor):
        d = input._data.dtype
        if isinstance(other, Tensor):
            if other._data.dtype == d:
                return input, other
        elif _keeps_dtype(other, d):
            return input, np.asarray(other, d)
    elif isinstance(other, Tensor) and _keeps_dtype(input, other._data.dtype):
        return np.asarray(input, other._data.dtype), other
    return promote(input, other)


def _keeps_dtype(scalar, d):
    """Whether ``tensor(d) op scalar`` has dtype ``d`` (float into float, int into int/float)."""
    t = type(scalar)
    return (t is float and d.kind == "f") or (t is int and d.kind in "fiu")


def _is_number(x):
    return isinstance(x, (int, float, bool, np.number, np.bool_))


def _check_operands(fn, *xs):
    """TypeError unless every operand is a tensor or a Python/NumPy number (or array)."""
    for x in xs:
        if not isinstance(x, (Tensor, np.ndarray)) and not _is_number(x):
            raise TypeError(f"{fn}(): expected Tensor or Number operands, got {type(x).__name__}")


def _float_input(x, fn):
    """``x`` as a floating tensor: integer and bool tensors become the default float dtype."""
    check_tensor(x, fn)
    if x._data.dtype.kind == "f":
        return x
    return Tensor(x._data.astype(get_default_dtype().np))


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _dtype_name(x):
    """torch's scalar-type name of a tensor's dtype ('Float', 'Long', ...)."""
    return _SCALAR_NAMES[as_dtype(_raw(x).dtype).name]


# ------------------------------------------------------------------------- casts
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


class Clone(Kernel):
    """y = a copy of x; dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    """A copy of ``input`` in new memory that stays in the graph."""
    return Clone.apply(check_tensor(input, "clone"))


# -------------------------------------------------------------------- arithmetic
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

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = unbroadcast(g, x.shape) if ctx.needs_input_grad[0] else None
        with np.errstate(divide="ignore", invalid="ignore"):
            gy = (unbroadcast(-g * np.floor_divide(x, y), y.shape) if ctx.needs_input_grad[1]
                  else None)
        return gx, gy


class Fmod(Kernel):
    """z = x - y * trunc(x / y) (sign of x); dz/dx = 1, dz/dy = -trunc(x / y)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = unbroadcast(g, x.shape) if ctx.needs_input_grad[0] else None
        with np.errstate(divide="ignore", invalid="ignore"):
            gy = unbroadcast(-g * np.trunc(x / y), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def _check_alpha(x, alpha):
    if alpha != 1 and _raw(x).dtype.kind in "iub" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and torch's type promotion."""
    _check_operands("add", input, other)
    x, y = _pair(input, other)
    _check_alpha(x, alpha)
    return _binary(Add, x, y, alpha=alpha)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other (bool tensors are refused, as in torch)."""
    _check_operands("sub", input, other)
    a_bool, b_bool = (isinstance(v, (builtins.bool, np.bool_)) or
                      isinstance(v, (Tensor, np.ndarray)) and _raw(v).dtype.kind == "b"
                      for v in (input, other))
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    x, y = _pair(input, other)
    _check_alpha(x, alpha)
    return _binary(Sub, x, y, alpha=alpha)


def mul(input, other, *, out=None):
    _check_operands("mul", input, other)
    x, y = _pair(input, other)
    return _binary(Mul, x, y)


def _refuse_bool(x, fn):
    if _raw(x).dtype.kind == "b":
        raise NotImplementedError(f"\"{fn}\" not implemented for 'Bool' (both operands are bool)")


def _check_int_zero(y, fn):
    if _raw(y).dtype.kind in "iub" and not np.all(_raw(y)):
        raise RuntimeError(f"ZeroDivisionError: {fn}() of an integer tensor by zero")


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers promote to the default float) unless ``rounding_mode``.

    ``rounding_mode='trunc'`` rounds towards zero, ``'floor'`` towards minus infinity; both
    keep integer dtypes and have zero gradient.
    """
    _check_operands("div", input, other)
    x, y = _pair(input, other)
    if rounding_mode is None:
        if _raw(x).dtype.kind != "f":
            x, y = promote(x, y, dtype=get_default_dtype())
        return _binary(Div, x, y)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    _refuse_bool(x, f"div_{rounding_mode}")
    _check_int_zero(y, "div")
    return _binary(RoundedDiv, x, y, mode=rounding_mode)


def true_divide(input, other, *, out=None):
    return div(input, other)


def floor_divide(input, other, *, out=None):
    """floor(input / other), keeping integer dtypes."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of ``other``."""
    _check_operands("remainder", input, other)
    x, y = promote(input, other)
    _refuse_bool(x, "remainder")
    _check_int_zero(y, "remainder")
    return _binary(Remainder, x, y)


def fmod(input, other, *, out=None):
    """C's fmod: the result has the sign of ``input``."""
    _check_operands("fmod", input, other)
    x, y = promote(input, other)
    _refuse_bool(x, "fmod")
    _check_int_zero(y, "fmod")
    return _binary(Fmod, x, y)


subtract, multiply, divide = sub, mul, div


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    return add(input, mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (true division)."""
    if all(_raw(t).dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future "
                           "release addcdiv will perform a true division of tensor1 and tensor2.")
    return add(input, div(tensor1, tensor2), alpha=value)


# ------------------------------------------------------------------------- powers
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
        if b == 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(x >= 0, 0.0, g * z * -np.inf).astype(g.dtype, copy=False), None
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


def pow(input, exponent, *, out=None):
    """input ** exponent for tensor ** scalar, scalar ** tensor and tensor ** tensor."""
    _check_operands("pow", input, exponent)
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow(): at least one of 'input' and 'exponent' must be a Tensor")
        x, = promote(exponent, dtype=result_type(input, exponent))
        base = input.item() if isinstance(input, np.generic) else input
        return RPowScalar.apply(x, base=x._data.dtype.type(base) if x._data.dtype.kind != "f"
                                else builtins.float(base))
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
    _refuse_bool(x, "pow")
    return _binary(Pow, x, y)


def float_power(input, exponent, *, out=None):
    """pow computed in float64."""
    cast64 = [promote(a, dtype=backend.float64)[0] if isinstance(a, Tensor) else builtins.float(a)
              for a in (input, exponent)]
    return pow(*cast64)


# --------------------------------------------------------------- unary functions
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


class Tanh(Kernel):
    """y = tanh x; dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1.0 - y * y)


class Sigmoid(Kernel):
    """y = 1/(1 + e^-x); dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = np.negative(x, out=np.empty_like(x))  # an array also when x is 0-d
        with np.errstate(over="ignore"):  # e^-x = inf for x << 0 gives y = 0 exactly
            np.exp(y, out=y)
        y += 1.0
        np.reciprocal(y, out=y)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y * (1.0 - y))


class Relu(Kernel):
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0 (0 at x = 0, as torch)."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y > 0)


class Erf(Kernel):
    """y = erf x; dy/dx = 2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (_TWO_OVER_SQRT_PI * np.exp(-x * x))


class Erfc(Kernel):
    """y = 1 - erf x; dy/dx = -2/sqrt(pi) e^(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erfc(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x))


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


# ---- erf without SciPy: a series for small |x|, Laplace's continued fraction beyond.
_SERIES_TERMS, _CF_TERMS, _SPLIT = 60, 80, 2.5


def _erf_numpy(x):
    """erf in float64 to ~1e-15: erf x = 2/sqrt(pi) x e^(-x^2) sum_n (2x^2)^n / (2n+1)!!."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    out = np.where(np.isnan(a), np.nan, 1.0)  # erf is 1.0 in float64 from |x| = 6 on
    small = a < _SPLIT
    if small.any():
        s = a[small]
        two_x2 = 2.0 * s * s
        term = np.ones_like(s)
        total = np.ones_like(s)
        for n in range(1, _SERIES_TERMS):
            term *= two_x2 / (2 * n + 1)
            total += term
        out[small] = _TWO_OVER_SQRT_PI * s * np.exp(-s * s) * total
    mid = (a >= _SPLIT) & (a < 6.0)
    if mid.any():
        out[mid] = 1.0 - _erfc_cf(a[mid])
    return np.copysign(out, x)


def _erfc_cf(z):
    """erfc z = e^(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), z >= 2.5."""
    f = z.copy()
    for k in range(_CF_TERMS, 0, -1):
        f = z + (0.5 * k) / f
    return np.exp(-z * z) / (math.sqrt(math.pi) * f)


def _scipy_special():
    try:
        from scipy import special
    except ImportError:  # pragma: no cover - scipy is optional
        return None
    return special


def _erf(x):
    special = _scipy_special()
    if special is not None:
        return special.erf(x).astype(x.dtype, copy=False)
    return _erf_numpy(x).astype(x.dtype, copy=False)


def _erfc(x):
    special = _scipy_special()
    if special is not None:
        return special.erfc(x).astype(x.dtype, copy=False)
    x64 = np.asarray(x, dtype=np.float64)
    big = x64 >= _SPLIT
    out = 1.0 - _erf_numpy(x64)
    if big.any():
        out[big] = _erfc_cf(x64[big])  # keeps the tiny tail accurate
    return out.astype(x.dtype, copy=False)


def _unary(kernel, fn, floating=True):
    """The public function for a unary kernel (integer inputs become float if ``floating``)."""
    def op(input, *, out=None):
        x = _float_input(input, fn) if floating else check_tensor(input, fn)
        return kernel.apply(x)
    op.__name__ = op.__qualname__ = fn
    op.__doc__ = kernel.__doc__
    return op


exp = _unary(Exp, "exp")
exp2 = _unary(Exp2, "exp2")
expm1 = _unary(Expm1, "expm1")
log = _unary(Log, "log")
log2 = _unary(Log2, "log2")
log10 = _unary(Log10, "log10")
log1p = _unary(Log1p, "log1p")
sqrt = _unary(Sqrt, "sqrt")
rsqrt = _unary(Rsqrt, "rsqrt")
reciprocal = _unary(Reciprocal, "reciprocal")
sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tan = _unary(Tan, "tan")
asin = _unary(Asin, "asin")
acos = _unary(Acos, "acos")
atan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
tanh = _unary(Tanh, "tanh")
sigmoid = _unary(Sigmoid, "sigmoid")
erf = _unary(Erf, "erf")
erfc = _unary(Erfc, "erfc")


def neg(input, *, out=None):
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


def abs(input, *, out=None):
    check_tensor(input, "abs")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(input)


absolute = abs


def square(input, *, out=None):
    """input ** 2 (bool becomes int64, integers stay integers)."""
    check_tensor(input, "square")
    if input._data.dtype.kind == "b":
        input = Tensor(input._data.astype(np.int64))
    return Square.apply(input)


def relu(input, inplace=False):
    """max(input, 0); ``inplace=True`` (F.relu) overwrites ``input``."""
    check_tensor(input, "relu")
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input._inplace(Relu.apply)
    return Relu.apply(input)


def relu_(input):
    return relu(input, inplace=True)


def frac(input, *, out=None):
    check_tensor(input, "frac")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_dtype_name(input)}'")
    return Frac.apply(input)


def _step(fn, name, keep_ints=True):
    def op(input, *, out=None):
        check_tensor(input, name)
        if input._data.dtype.kind != "f" and keep_ints:
            return Tensor(input._data.copy())
        return StepFunction.apply(input, fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name}(input) elementwise; integers are returned unchanged; zero gradient."
    return op


floor = _step(np.floor, "floor")
ceil = _step(np.ceil, "ceil")
trunc = _step(np.trunc, "trunc")
fix = trunc


def sign(input, *, out=None):
    """-1, 0 or +1 by the sign of each element (bool stays bool); zero gradient."""
    check_tensor(input, "sign")
    if input._data.dtype.kind == "b":
        return Tensor(input._data.copy())
    return StepFunction.apply(input, np.sign)


sgn = sign


def round(input, *, decimals=0, out=None):
    """Round half to even, to ``decimals`` decimal places; zero gradient."""
    check_tensor(input, "round")
    if input._data.dtype.kind != "f":
        if decimals != 0:
            raise RuntimeError("round_cpu: rounding with decimals is only supported for floating "
                               "point tensors")
        return Tensor(input._data.copy())
    return StepFunction.apply(input, np.round, int(decimals))


# ------------------------------------------------------ binary math and selection
class Atan2(Kernel):
    """z = atan2(y, x); dz/dy = x/(x^2+y^2), dz/dx = -y/(x^2+y^2)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = x * x + y * y
            gy = unbroadcast(g * x / r2, y.shape) if ctx.needs_input_grad[0] else None
            gx = unbroadcast(-g * y / r2, x.shape) if ctx.needs_input_grad[1] else None
        return gy, gx


class Hypot(Kernel):
    """z = sqrt(x^2 + y^2); dz/dx = x/z, dz/dy = y/z."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.hypot(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = unbroadcast(g * x / z, x.shape) if ctx.needs_input_grad[0] else None
            gy = unbroadcast(g * y / z, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class LogAddExp(Kernel):
    """z = ln(e^x + e^y); dz/dx = e^(x-z), dz/dy = e^(y-z)."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.logaddexp(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        gx = unbroadcast(g * np.exp(x - z), x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(g * np.exp(y - z), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Xlogy(Kernel):
    """z = x ln y (0 where x = 0); dz/dx = ln y (0 where x = 0), dz/dy = x/y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(x == 0, 0.0, x * np.log(y))
        return np.where(np.isnan(y), np.nan, z).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = (unbroadcast(np.where(x == 0, 0.0, g * np.log(y)).astype(g.dtype, copy=False),
                              x.shape) if ctx.needs_input_grad[0] else None)
            gy = unbroadcast(g * x / y, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def _float_binary(kernel, fn):
    def op(input, other, *, out=None):
        _check_operands(fn, input, other)
        d = result_type(input, other)
        x, y = promote(input, other, dtype=d if d.is_floating_point else get_default_dtype())
        return _binary(kernel, x, y)
    op.__name__ = op.__qualname__ = fn
    op.__doc__ = kernel.__doc__
    return op


atan2 = arctan2 = _float_binary(Atan2, "atan2")
hypot = _float_binary(Hypot, "hypot")
logaddexp = _float_binary(LogAddExp, "logaddexp")
xlogy = _float_binary(Xlogy, "xlogy")


class Extremum(Kernel):
    """z = max(x, y) (or min); the gradient goes to the larger (smaller), split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y, fn):
        ctx.save_for_backward(x, y)
        ctx.fn = fn
        return fn(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        wins = (x > y) if ctx.fn in (np.maximum, np.fmax) else (x < y)
        wx = np.where(x == y, 0.5, wins).astype(g.dtype, copy=False)
        gx = unbroadcast(g * wx, x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(g * (1.0 - wx), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def _extremum(fn, name):
    def op(input, other, *, out=None):
        check_tensor(input, name)
        check_tensor(other, name, "other")
        x, y = promote(input, other)
        return _binary(Extremum, x, y, fn=fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} of two tensors (broadcast); ties split the gradient."
    return op


maximum = _extremum(np.maximum, "maximum")
minimum = _extremum(np.minimum, "minimum")
fmax = _extremum(np.fmax, "fmax")
fmin = _extremum(np.fmin, "fmin")


class Clamp(Kernel):
    """y = min(max(x, lo), hi); the gradient goes to whichever of x, lo, hi y equals."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        if lo is not None and hi is not None:
            return np.minimum(np.maximum(x, lo), hi)
        return np.maximum(x, lo) if lo is not None else np.minimum(x, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        gx = glo = ghi = None
        if ctx.needs_input_grad[0]:  # x passes through where lo <= x <= hi
            inside = (x >= lo) if lo is not None else np.True_
            if hi is not None:
                inside = inside & (x <= hi)
            gx = unbroadcast(g * inside, x.shape)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            below = (x < lo) if lo is not None else np.False_          # lo wins over x
            above = ((np.maximum(x, lo) if lo is not None else x) > hi if hi is not None
                     else np.False_)                                  # hi wins over both
            if ctx.needs_input_grad[1]:
                glo = unbroadcast(g * (below & ~above), lo.shape)
            if ctx.needs_input_grad[2]:
                ghi = unbroadcast(g * above, hi.shape)
        return gx, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    """Limit ``input`` to [min, max]; bounds are numbers or tensors (broadcast)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _check_operands("clamp", *(b for b in (min, max) if b is not None))
    bounds = [b for b in (min, max) if b is not None]
    d = result_type(input, *bounds)
    x, = promote(input, dtype=d)
    lo = promote(min, dtype=d)[0] if min is not None else None
    hi = promote(max, dtype=d)[0] if max is not None else None
    try:
        return Clamp.apply(x, lo, hi)
    except ValueError:
        for b in (lo, hi):
            if b is not None:
                _check_broadcast(x.shape, b.shape)
        raise


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


clip = clamp


class Where(Kernel):
    """z = x where condition else y; dz/dx = condition, dz/dy = not condition."""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        ctx.shapes = (x.shape, y.shape)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        sx, sy = ctx.shapes
        zero = g.dtype.type(0)
        gx = unbroadcast(np.where(cond, g, zero), sx) if ctx.needs_input_grad[1] else None
        gy = unbroadcast(np.where(cond, zero, g), sy) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def where(condition, input=None, other=None, *, out=None):
    """Pick ``input`` where ``condition`` holds, else ``other`` (tensors or scalars).

    ``where(condition)`` alone returns the indices of the true elements, one tensor per dim.
    """
    check_tensor(condition, "where", "condition")
    c = condition._data
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(c))
    if c.dtype.kind not in "bu":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_dtype_name(condition)}")
    _check_operands("where", input, other)
    x, y = promote(input, other)
    try:
        return Where.apply(c.astype(bool, copy=False), x, y)
    except ValueError:
        _check_broadcast(x.shape, y.shape)
        _check_broadcast(c.shape, np.broadcast_shapes(x.shape, y.shape))
        raise


class Lerp(Kernel):
    """z = a + w (b - a); dz/da = 1 - w, dz/db = w, dz/dw = b - a."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        return a + w * (b - a)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        ga = unbroadcast(g * (1.0 - w), a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g * w, b.shape) if ctx.needs_input_grad[1] else None
        gw = unbroadcast(g * (b - a), np.shape(w)) if ctx.needs_input_grad[2] else None
        return ga, gb, gw


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); ``input`` and ``end`` must share a dtype."""
    check_tensor(input, "lerp")
    check_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {input.dtype.name} for `end` but got dtype "
                           f"{end.dtype.name}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for "
                                  f"'{_dtype_name(input)}'")
    w = (promote(weight, dtype=input.dtype)[0] if isinstance(weight, Tensor)
         else input._data.dtype.type(weight))
    try:
        return Lerp.apply(input, end, w)
    except ValueError:
        _check_broadcast(input.shape, end.shape)
        raise


class NanToNum(Kernel):
    """y = x with nan/inf replaced by finite values; dy/dx = 1 where x is finite, else 0."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.isfinite(x), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN by ``nan`` and +/-inf by ``posinf``/``neginf`` (default: dtype max/min)."""
    check_tensor(input, "nan_to_num")
    if input._data.dtype.kind != "f":
        return Tensor(input._data.copy())
    return NanToNum.apply(input, nan, posinf, neginf)


# -------------------------------------------- comparisons, logical and bitwise ops
def _arrays(fn, input, other):
    """NumPy arrays for both operands, promoted to torch's common dtype (no graph)."""
    _check_operands(fn, input, other)
    d = result_type(input, other).np
    a, b = np.asarray(_raw(input), dtype=d), np.asarray(_raw(other), dtype=d)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        _check_broadcast(a.shape, b.shape)
    return a, b


def _compare(ufunc, name):
    def op(input, other, *, out=None):
        a, b = _arrays(name, input, other)
        return Tensor(np.asarray(ufunc(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` after type promotion; a bool tensor, no grad."
    return op


eq = _compare(np.equal, "eq")
ne = not_equal = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def logical_not(input, *, out=None):
    return Tensor(np.asarray(np.logical_not(check_tensor(input, "logical_not")._data)))


def _bitwise(ufunc, name):
    def op(input, other, *, out=None):
        a, b = _arrays(name, input, other)
        if a.dtype.kind == "f":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Float' (bitwise ops "
                                      f"need integer or bool tensors)")
        return Tensor(np.asarray(ufunc(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` of integer/bool tensors."
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")


def bitwise_not(input, *, out=None):
    check_tensor(input, "bitwise_not")
    if input._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor(np.asarray(np.invert(input._data)))


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    check_tensor(input, "equal")
    check_tensor(other, "equal", "other")
    return input.shape == other.shape and builtins.bool(np.array_equal(input._data, other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise (inputs must share a dtype)."""
    check_tensor(input, "isclose")
    check_tensor(other, "isclose", "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_dtype_name(input)} did not match {_dtype_name(other)} (isclose "
                           f"needs tensors of one dtype, got {input.dtype} and {other.dtype})")
    return Tensor(np.asarray(np.isclose(input._data, other._data, rtol=rtol, atol=atol,
                                        equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _predicate(ufunc, name):
    def op(input):
        x = check_tensor(input, name)._data
        return Tensor(np.asarray(ufunc(x)) if x.dtype.kind == "f" else np.zeros(x.shape, bool))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` (always False for integer tensors)."
    return op


isnan = _predicate(np.isnan, "isnan")
isinf = _predicate(np.isinf, "isinf")
isposinf = _predicate(np.isposinf, "isposinf")
isneginf = _predicate(np.isneginf, "isneginf")


def isfinite(input):
    x = check_tensor(input, "isfinite")._data
    return Tensor(np.asarray(np.isfinite(x)) if x.dtype.kind == "f" else np.ones(x.shape, bool))


def isreal(input):
    return Tensor(np.ones(check_tensor(input, "isreal").shape, bool))


def signbit(input, *, out=None):
    return Tensor(np.asarray(np.signbit(check_tensor(input, "signbit")._data)))


# ---------------------------------------------------------- in-place and filling
class CopyFrom(Kernel):
    """y = src broadcast to x's shape and dtype (x's values are discarded); dy/dsrc = 1."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.shapes = (x.shape, np.shape(src))
        out = np.empty_like(x)
        np.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        sx, ss = ctx.shapes
        gx = np.zeros(sx, g.dtype) if ctx.needs_input_grad[0] else None
        return gx, unbroadcast(g, ss) if ctx.needs_input_grad[1] else None


def _copy_from(self, src):
    if isinstance(src, Tensor):
        try:
            np.broadcast_to(src._data, self.shape)
        except ValueError:
            _check_broadcast(self.shape, src.shape)
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(self.shape, src.shape))}"
                               ) from None
    return CopyFrom.apply(self, src)


def copy_(self, src, non_blocking=False):
    """Write ``src`` (broadcast, converted to this dtype) into this tensor."""
    check_tensor(src, "copy_", "src")
    return self._inplace(_copy_from, src)


def fill_(input, value):
    """Set every element to ``value`` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return input._inplace(_copy_from, value)
    return input._inplace(_copy_from, np.asarray(value))


def zero_(input):
    return fill_(input, 0)


def _random_fill(self, draw, generator):
    """Overwrite ``self`` with ``draw(numpy_generator, shape)`` (float64 or int samples)."""
    sample = draw(rng(generator), self.shape)
    return self._inplace(_copy_from, sample)


def _float_dtype_np(self):
    d = self._data.dtype
    return d if d in (np.float32, np.float64) else np.float64


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kw):
    """Fill with samples from U[from, to)."""
    lo, hi = builtins.float(kw.pop("from", a)), builtins.float(kw.pop("to", b))
    return _random_fill(self, lambda g, s: lo + (hi - lo) * g.random(s, _float_dtype_np(self)),
                        generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2)."""
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    m, s = builtins.float(mean), builtins.float(std)
    return _random_fill(self, lambda g, sh: m + s * g.standard_normal(sh, _float_dtype_np(self)),
                        generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a number or a broadcastable tensor), else 0."""
    prob = p._data if isinstance(p, Tensor) else builtins.float(p)
    if np.any((np.asarray(prob) < 0) | (np.asarray(prob) > 1)):
        raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
    return _random_fill(self, lambda g, s: g.random(s) < prob, generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from the exponential distribution with rate ``lambd``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambd > 0.0, but found lambd={lambd}")
    return _random_fill(self, lambda g, s: g.standard_exponential(s) / lambd, generator)


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    return _random_fill(self, lambda g, s: g.geometric(p, s), generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _random_fill(self, lambda g, s: g.lognormal(mean, std, s), generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _random_fill(self, lambda g, s: median + sigma * g.standard_cauchy(s), generator)


def random_(self, *args, generator=None, **kw):
    """Fill with integers from [from, to - 1]; ``random_(to)`` means [0, to - 1]."""
    if kw:
        lo, hi = kw.get("from", args[0] if args else 0), kw.get("to")
    else:
        lo, hi = (0, args[0]) if len(args) == 1 else (tuple(args) + (0, None))[:2]
    if hi is None:  # every value the dtype holds exactly
        d = self._data.dtype
        hi = (2 ** (np.finfo(d).nmant + 1) + 1 if d.kind == "f" else
              2 if d.kind == "b" else builtins.int(np.iinfo(d).max) + 1)
        hi = builtins.min(hi, 2 ** 63)
    if hi <= lo:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    return _random_fill(self, lambda g, s: g.integers(lo, hi - 1, s, dtype=np.int64,
                                                      endpoint=True), generator)


def _inplace_method(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place form of ``{fn.__name__}``."
    return method


# ------------------------------------------------------------ dtype conversion
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def to(self, *args, **kwargs):
    """Tensor.to(dtype) / to(device, dtype) / to(other) with ``copy=`` (CPU only)."""
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    flags = []
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, backend.dtype):
            dtype = a
        elif isinstance(a, (str, backend.device)):
            device = a
        elif isinstance(a, builtins.bool):
            flags.append(a)  # (non_blocking, copy) positionally
        elif a is not None:
            raise TypeError(f"to() received an invalid argument of type {type(a).__name__}")
    copy = copy or (len(flags) > 1 and flags[1])
    check_device(device)
    if dtype is None or as_dtype(dtype).np == self._data.dtype:
        return clone(self) if copy else self
    return cast(self, dtype)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument: the type name ('torch.FloatTensor'); else ``to(dtype)``."""
    if dtype is None:
        return "torch." + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        if name not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: {dtype!r}")
        dtype = _BY_TYPE_NAME[name]
    return cast(self, dtype)


def type_as(self, other):
    return cast(self, other.dtype)


def _converter(d):
    def method(self, memory_format=None):
        return cast(self, d)
    method.__name__ = d.name
    method.__doc__ = f"``self.to({d!r})``."
    return method


def _new(maker):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return maker(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)
    method.__name__ = "new_" + maker.__name__
    method.__doc__ = f"``{maker.__name__}`` with this tensor's dtype (unless ``dtype`` is given)."
    return method


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                            device=device, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return _creation.tensor(data, dtype=self.dtype if dtype is None else dtype, device=device,
                              requires_grad=requires_grad)


# ------------------------------------------------------------------ registration
def _reflected(fn):
    def method(self, other):
        return fn(other, self)
    method.__name__ = method.__qualname__ = "__r" + fn.__name__ + "__"
    return method


def _operator(fn):
    """A binary operator method: ``NotImplemented`` for operands torch would refuse too."""
    def method(self, other):
        if not isinstance(other, (Tensor, np.ndarray)) and not _is_number(other):
            return NotImplemented
        return fn(self, other)
    method.__name__ = method.__qualname__ = fn.__name__
    return method


def _rpow(self, other):
    return pow(other, self)


_UNARY_INPLACE = [neg, abs, exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, square,
                  reciprocal, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, sigmoid, relu,
                  erf, erfc, frac, floor, ceil, round, trunc, fix, sign, sgn, nan_to_num,
                  logical_not, bitwise_not]
_BINARY = [add, sub, mul, div, true_divide, floor_divide, remainder, fmod, pow, float_power,
           atan2, hypot, logaddexp, xlogy, maximum, minimum, fmax, fmin, eq, ne, lt, le, gt, ge,
           logical_and, logical_or, logical_xor, bitwise_and, bitwise_or, bitwise_xor,
           bitwise_left_shift, bitwise_right_shift]
_ALIASES = {"subtract": sub, "multiply": mul, "divide": div, "negative": neg, "absolute": abs,
            "arctan2": atan2, "greater": gt, "greater_equal": ge, "less": lt, "less_equal": le,
            "not_equal": ne, "clip": clamp}

for _fn in _UNARY_INPLACE + _BINARY + [clamp, clamp_min, clamp_max, lerp, addcmul, addcdiv]:
    TENSOR_METHODS[_fn.__name__] = _fn
    TENSOR_METHODS[_fn.__name__ + "_"] = _inplace_method(_fn)
for _name, _fn in _ALIASES.items():
    TENSOR_METHODS[_name] = _fn
    TENSOR_METHODS[_name + "_"] = _inplace_method(_fn)
TENSOR_METHODS.update({
    "clone": clone, "positive": positive, "where": lambda self, condition, other:
        where(condition, self, other),
    "equal": equal, "isclose": isclose, "allclose": allclose, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "isposinf": isposinf, "isneginf": isneginf, "isreal": isreal,
    "signbit": signbit,
    "copy_": copy_, "fill_": fill_, "zero_": zero_, "uniform_": uniform_, "normal_": normal_,
    "bernoulli_": bernoulli_, "exponential_": exponential_, "geometric_": geometric_,
    "log_normal_": log_normal_, "cauchy_": cauchy_, "random_": random_,
    "to": to, "type": _type, "type_as": type_as,
    "float": _converter(backend.float32), "double": _converter(backend.float64),
    "half": _converter(backend.float16), "long": _converter(backend.int64),
    "int": _converter(backend.int32), "short": _converter(backend.int16),
    "char": _converter(backend.int8), "byte": _converter(backend.uint8),
    "bool": _converter(backend.bool),
    "new_full": new_full, "new_tensor": new_tensor,
    # operators
    "__neg__": neg, "__abs__": abs, "__pos__": positive, "__invert__": bitwise_not,
    "__rpow__": _rpow,
})


for _maker in (_creation.zeros, _creation.ones, _creation.empty):
    TENSOR_METHODS["new_" + _maker.__name__] = _new(_maker)

_OPERATORS = {"add": add, "sub": sub, "mul": mul, "truediv": div, "floordiv": floor_divide,
              "mod": remainder, "pow": pow, "and": bitwise_and, "or": bitwise_or,
              "xor": bitwise_xor, "lshift": bitwise_left_shift, "rshift": bitwise_right_shift}
for _name, _fn in _OPERATORS.items():
    TENSOR_METHODS[f"__{_name}__"] = _operator(_fn)
    TENSOR_METHODS[f"__i{_name}__"] = _operator(_inplace_method(_fn))
    if _name != "pow":
        TENSOR_METHODS[f"__r{_name}__"] = _operator(_reflected(_fn))
for _name, _fn in {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}.items():
    TENSOR_METHODS[f"__{_name}__"] = _operator(_fn)

# In-place functions torch also exposes at the top level (torch.relu_, torch.exp_, ...).
for _fn in [sigmoid, tanh, exp, log, sqrt, abs, neg, clamp, clamp_min, clamp_max, sin, cos,
            tan, asin, acos, atan, sinh, cosh, floor, ceil, round, trunc, fix, rsqrt, reciprocal,
            erf, erfc, frac, square, exp2, expm1, log2, log10, log1p, nan_to_num]:
    globals()[_fn.__name__ + "_"] = _inplace_method(_fn)
    __all__.append(_fn.__name__ + "_")
__all__ += ["relu_", "clip_"]
clip_ = globals()["clamp_"]
del _fn, _name, _maker
