"""``Parameter`` (a tensor a Module trains) and ``Buffer`` (a tensor a Module keeps)."""
import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer"]


def _as_array(data, what):
    if data is None:
        return np.empty((0,), get_default_dtype().np)
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    raise TypeError(f"{what}(): data must be a Tensor (or NumPy array), got {type(data).__name__}")


class Parameter(Tensor):
    """A leaf tensor that a ``Module`` registers as trainable when assigned as an attribute.

    It shares memory with ``data``; ``requires_grad`` defaults to True.
    """

    def __init__(self, data=None, requires_grad=True):
        array = _as_array(data, "Parameter")
        if requires_grad and array.dtype.kind != "f":
            raise RuntimeError(f"Only Tensors of floating point and complex dtype can require "
                               f"gradients (got a Parameter of dtype {array.dtype})")
        Tensor.__init__(self, array, requires_grad=bool(requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self._data, self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.__dict__.get("_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    ``Buffer(data, persistent=True)`` returns a plain tensor (detached from ``data``, sharing
    its memory) carrying the mark; ``persistent=False`` keeps it out of ``state_dict``.
    """

    def __new__(cls, data=None, *, persistent=True):
        t = Tensor(_as_array(data, "Buffer"))
        if isinstance(data, Tensor) and data.requires_grad:
            t.requires_grad = True
        t._is_buffer = True
        t.persistent = persistent
        return t
