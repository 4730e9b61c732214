"""Tensor's Python operators: ``+ - * / // % ** & | ^ << >>`` with their reflected
(``__radd__``) and in-place (``__iadd__``) forms, comparisons, and ``- abs + ~``. A binary
operator returns ``NotImplemented`` for operands torch would refuse, so Python tries the other
side."""
import numpy as np

from ..tensor import Tensor
from ._inplace import inplace_method
from ._operands import is_number
from .arithmetic import add, div, floor_divide, mul, remainder, sub
from .compare import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    eq,
    ge,
    gt,
    le,
    lt,
    ne,
)
from .powers import pow
from .unary import abs, neg, positive

__all__ = []

FUNCTIONAL = []


def _reflected(fn):
    def method(self, other):
        return fn(other, self)
    method.__name__ = method.__qualname__ = "__r" + fn.__name__ + "__"
    return method


def _operator(fn):
    """A binary operator method: ``NotImplemented`` for operands torch would refuse too."""
    def method(self, other):
        if not isinstance(other, (Tensor, np.ndarray)) and not is_number(other):
            return NotImplemented
        return fn(self, other)
    method.__name__ = method.__qualname__ = fn.__name__
    return method


def _rpow(self, other):
    return pow(other, self)


TENSOR_METHODS = {"__neg__": neg, "__abs__": abs, "__pos__": positive, "__invert__": bitwise_not,
                  "__rpow__": _rpow}
_OPERATORS = {"add": add, "sub": sub, "mul": mul, "truediv": div, "floordiv": floor_divide,
              "mod": remainder, "pow": pow, "and": bitwise_and, "or": bitwise_or,
              "xor": bitwise_xor, "lshift": bitwise_left_shift, "rshift": bitwise_right_shift}
for _name, _fn in _OPERATORS.items():
    TENSOR_METHODS[f"__{_name}__"] = _operator(_fn)
    TENSOR_METHODS[f"__i{_name}__"] = _operator(inplace_method(_fn))
    if _name != "pow":
        TENSOR_METHODS[f"__r{_name}__"] = _operator(_reflected(_fn))
for _name, _fn in {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}.items():
    TENSOR_METHODS[f"__{_name}__"] = _operator(_fn)
del _name, _fn
