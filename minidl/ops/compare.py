"""Comparisons, logical and bitwise ops, closeness and floating-point predicates. None is
differentiable: each returns a plain (mostly bool) tensor after torch's type promotion."""
import numpy as np

from .._out import takes_out
from ..backend import result_type
from ..tensor import Tensor
from ._operands import array_of, check_broadcast, check_operands, dtype_name
from ._util import check_tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
           "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or",
           "logical_not", "logical_xor", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
           "isreal", "signbit", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "bitwise_left_shift", "bitwise_right_shift"]


def _arrays(fn, input, other):
    """NumPy arrays for both operands, promoted to torch's common dtype (no graph)."""
    check_operands(fn, input, other)
    d = result_type(input, other).np
    a, b = np.asarray(array_of(input), dtype=d), np.asarray(array_of(other), dtype=d)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        check_broadcast(a.shape, b.shape)
    return a, b


def _compare(ufunc, name):
    def op(input, other):
        a, b = _arrays(name, input, other)
        return Tensor(np.asarray(ufunc(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` after type promotion; a bool tensor, no grad."
    return takes_out(op)


eq = _compare(np.equal, "eq")
ne = not_equal = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


@takes_out
def logical_not(input):
    return Tensor(np.asarray(np.logical_not(check_tensor(input, "logical_not")._data)))


def _bitwise(ufunc, name):
    def op(input, other):
        a, b = _arrays(name, input, other)
        if a.dtype.kind == "f":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Float' (bitwise ops "
                                      f"need integer or bool tensors)")
        return Tensor(np.asarray(ufunc(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}`` of integer/bool tensors."
    return takes_out(op)


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")


@takes_out(dtypes="exact")
def bitwise_not(input):
    check_tensor(input, "bitwise_not")
    if input._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor(np.asarray(np.invert(input._data)))


def equal(input, other):
    """True if both tensors have the same shape and elements."""
    check_tensor(input, "equal")
    check_tensor(other, "equal", "other")
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise (inputs must share a dtype)."""
    check_tensor(input, "isclose")
    check_tensor(other, "isclose", "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{dtype_name(input)} did not match {dtype_name(other)} (isclose "
                           f"needs tensors of one dtype, got {input.dtype} and {other.dtype})")
    return Tensor(np.asarray(np.isclose(input._data, other._data, rtol=rtol, atol=atol,
                                        equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


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


@takes_out(dtypes="exact")
def signbit(input):
    return Tensor(np.asarray(np.signbit(check_tensor(input, "signbit")._data)))
