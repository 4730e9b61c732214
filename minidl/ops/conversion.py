"""Copies and conversions: ``clone``, ``Tensor.to`` / ``type`` / ``type_as`` and the dtype
shorthands (``.float()``, ``.long()`` ...), and the ``new_*`` makers that take this tensor's
dtype. All casts go through the differentiable ``cast``."""
from .. import _creation, backend
from ..autograd import Kernel
from ..backend import as_dtype, check_device, layout_order
from ..tensor import Tensor
from ._util import check_tensor
from .cast import cast

__all__ = ["clone", "is_floating_point", "is_complex", "is_nonzero"]


class Clone(Kernel):
    """y = a copy of x in NumPy ``order`` ('K': x's layout, 'C': row-major); dy/dx = 1."""

    @staticmethod
    def forward(ctx, x, order):
        return x.copy(order=order)

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=backend.preserve_format):
    """A copy of ``input`` in new memory that stays in the graph, laid out like ``input``
    (``preserve_format``, as torch) or row-major (``contiguous_format``)."""
    return Clone.apply(check_tensor(input, "clone"), layout_order("clone", memory_format))


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


def _looks_channels_last(x):
    """torch's ``suggest_memory_format``: a 4-D tensor whose strides put channels innermost."""
    return x.ndim == 4 and not x.is_contiguous() and x.is_contiguous(backend.channels_last)


def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
       memory_format=backend.preserve_format):
    """Tensor.to(dtype) / to(device, dtype) / to(other), as torch's: ``self`` itself unless
    the dtype changes, ``copy=True`` or ``memory_format`` asks another layout; a new tensor
    keeps this one's layout (``preserve_format``) or is row-major (``contiguous_format``).
    ``non_blocking`` has no effect from the CPU to the CPU, as in torch."""
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
    order = layout_order("to", memory_format)
    converts = dtype is not None and as_dtype(dtype).np != self._data.dtype
    if not converts and not copy and (order == "K" or not _looks_channels_last(self)):
        return self
    out = cast(self, dtype) if converts else clone(self)
    return out.contiguous() if order == "C" else out


def type_method(self, dtype=None, non_blocking=False):
    """With no argument: the type name ('torch.FloatTensor'); else ``to(dtype)``
    (``non_blocking``: no effect from the CPU to the CPU)."""
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
    def method(self, memory_format=backend.preserve_format):
        return to(self, d, memory_format=memory_format)
    method.__name__ = d.name
    method.__doc__ = f"``self.to({d!r})``."
    return method


def new_method(maker):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
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


def is_floating_point(input):
    check_tensor(input, "is_floating_point")
    return input.is_floating_point()


def is_complex(input):
    """minidl has no complex dtypes: always False for a tensor."""
    check_tensor(input, "is_complex")
    return input.is_complex()


def is_nonzero(input):
    """``bool`` of a one-element tensor; more or fewer elements are ambiguous, as in torch."""
    check_tensor(input, "is_nonzero")
    n = input._data.size
    if n != 1:
        raise RuntimeError(f"Boolean value of Tensor with "
                           f"{'no values' if n == 0 else 'more than one value'} is ambiguous")
    return bool(input._data.reshape(()))
