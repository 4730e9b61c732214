"""Copies and conversions: ``clone``, ``Tensor.to`` / ``type`` / ``type_as`` and the dtype
shorthands (``.float()``, ``.long()`` ...), and the ``new_*`` makers that take this tensor's
dtype. All casts go through the differentiable ``cast``."""
from .. import _creation, backend
from ..autograd import Kernel
from ..backend import as_dtype, check_device
from ..tensor import Tensor
from ._util import check_tensor
from .cast import cast

__all__ = ["clone"]


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
        elif isinstance(a, bool):
            flags.append(a)  # (non_blocking, copy) positionally
        elif a is not None:
            raise TypeError(f"to() received an invalid argument of type {type(a).__name__}")
    copy = copy or (len(flags) > 1 and flags[1])
    check_device(device)
    if dtype is None or as_dtype(dtype).np == self._data.dtype:
        return clone(self) if copy else self
    return cast(self, dtype)


def type_method(self, dtype=None, non_blocking=False, **kwargs):
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


def cast_method(d):
    def method(self, memory_format=None):
        return cast(self, d)
    method.__name__ = d.name
    method.__doc__ = f"``self.to({d!r})``."
    return method


def new_method(maker):
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
