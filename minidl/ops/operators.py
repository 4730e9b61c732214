"""Tensor's Python operators (``+ - * / // % ** & | ^ << >>`` and comparisons) as wrappers
of the torch functions: a binary operator returns ``NotImplemented`` for operands torch would
refuse, so Python tries the other side. ``tensor_methods`` lists which function each calls."""
import numpy as np

from ..tensor import Tensor
from ._inplace import inplace_method
from ._operands import is_number
from .powers import pow


def binary_operator(fn):
    """``self OP other``: ``fn(self, other)``, ``NotImplemented`` for operands torch refuses.

    An operator never passes ``out=``: it calls the function inside ``@takes_out``."""
    name = fn.__name__
    fn = getattr(fn, "without_out", fn)

    def method(self, other):
        if not isinstance(other, (Tensor, np.ndarray)) and not is_number(other):
            return NotImplemented
        return fn(self, other)
    method.__name__ = method.__qualname__ = name
    return method


def reflected_operator(fn):
    """``other OP self`` (``__radd__`` ...): ``fn(other, self)``."""
    name = "__r" + fn.__name__ + "__"
    fn = getattr(fn, "without_out", fn)

    def method(self, other):
        return fn(other, self)
    method.__name__ = method.__qualname__ = name
    return binary_operator(method)


def inplace_operator(fn):
    """``self OP= other`` (``__iadd__`` ...): ``fn``'s result written back into ``self``."""
    return binary_operator(inplace_method(fn))


def rpow(self, other):
    """``other ** self``."""
    return pow(other, self)
