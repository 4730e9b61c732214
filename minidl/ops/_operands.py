"""Operand handling shared by the elementwise families: torch's operand checks, type
promotion fast paths, broadcasting errors and scalar-type names."""
import numpy as np

from .._out import takes_out
from ..backend import as_dtype, get_default_dtype
from ..tensor import Tensor
from ._util import check_tensor, promote


def apply_binary(kernel, x, y, **attrs):
    """``kernel.apply(x, y)`` with numpy's broadcasting failure turned into torch's error."""
    try:
        return kernel.apply(x, y, **attrs)
    except ValueError:
        check_broadcast(x.shape, y.shape)
        raise


def check_broadcast(sa, sb):
    """Raise torch's RuntimeError when shapes ``sa`` and ``sb`` do not broadcast."""
    sa, sb = tuple(sa), tuple(sb)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i, (a, b) in enumerate(zip(pa, pb)):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                               f"at non-singleton dimension {i} (shapes {list(sa)} and {list(sb)})")


def same_float(x, y):
    """Whether ``x`` and ``y`` are tensors of one floating dtype: nothing to check or promote."""
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        d = x._data.dtype
        return d is y._data.dtype and d.kind == "f"
    return False


def promote_pair(input, other):
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


def is_number(x):
    return isinstance(x, (int, float, bool, np.number, np.bool_))


def check_operands(fn, *xs):
    """TypeError unless every operand is a tensor or a Python/NumPy number (or array)."""
    for x in xs:
        if not isinstance(x, (Tensor, np.ndarray)) and not is_number(x):
            raise TypeError(f"{fn}(): expected Tensor or Number operands, got {type(x).__name__}")


def float_input(x, fn):
    """``x`` as a floating tensor: integer and bool tensors become the default float dtype."""
    check_tensor(x, fn)
    if x._data.dtype.kind == "f":
        return x
    return Tensor(x._data.astype(get_default_dtype().np))


def array_of(x):
    return x._data if isinstance(x, Tensor) else x


_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def dtype_name(x):
    """torch's scalar-type name of a tensor's dtype ('Float', 'Long', ...)."""
    return _SCALAR_NAMES[as_dtype(array_of(x).dtype).name]


def refuse_bool(x, fn):
    if array_of(x).dtype.kind == "b":
        raise NotImplementedError(f"\"{fn}\" not implemented for 'Bool' (both operands are bool)")


def unary_function(kernel, fn):
    """The public function for a unary kernel on a floating input (integer and bool inputs
    become the default float dtype)."""
    def op(input):
        return kernel.apply(float_input(input, fn))
    op.__name__ = op.__qualname__ = fn
    op.__doc__ = kernel.__doc__
    return takes_out(op)
