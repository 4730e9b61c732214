"""Machine limits of the dtypes (``finfo``, ``iinfo``) and torch's dtype-level promotion
queries (``promote_types``, ``can_cast``, ``result_type``). The limits are NumPy's
``finfo`` / ``iinfo`` of the same IEEE / two's-complement types; torch's reprs print them
with ``%g``."""
import numpy as np

from .dtypes import _BY_NP, bool, category, dtype, get_default_dtype
from .dtypes import result_type as _result

__all__ = ["finfo", "iinfo", "promote_types", "can_cast", "result_type"]


def _check_dtype(d, fn, arg):
    if not isinstance(d, dtype):
        raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be torch.dtype, "
                        f"not {type(d).__name__}")
    return d


class finfo:
    """Limits of a floating dtype (the default dtype when none is given): ``bits``, ``eps``
    (1.0's distance to the next value), ``max``, ``min`` (= -max), ``tiny`` (=
    ``smallest_normal``, the smallest positive normal), ``resolution`` (10^-decimal
    digits), ``dtype`` (its name)."""

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else _check_dtype(type, "finfo", "type")
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        info = np.finfo(d.np)
        self.bits = info.bits
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min``, ``dtype`` (its name)."""

    def __init__(self, type):
        d = _check_dtype(type, "iinfo", "type")
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min = info.bits, int(info.max), int(info.min)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` cast to without changing category
    (bool < integer < floating); within a category NumPy's lattice (uint8 + int8 -> int16)."""
    a = _check_dtype(type1, "promote_types", "type1")
    b = _check_dtype(type2, "promote_types", "type2")
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def can_cast(from_, to):
    """Whether torch's type promotion allows casting ``from_`` to ``to``: never floating to
    integer, nor anything but bool to bool."""
    a = _check_dtype(from_, "can_cast", "from_")
    b = _check_dtype(to, "can_cast", "to")
    return category(a) <= category(b)


def _is_number(x):
    return isinstance(x, (int, float, np.number, np.bool_))


def result_type(tensor, other):
    """The dtype of an arithmetic op on ``tensor`` and ``other`` (each a tensor or a Python
    number), by torch's promotion rules (dimensioned tensors > 0-d tensors > numbers)."""
    for name, x in (("tensor", tensor), ("other", other)):
        if not (_is_number(x) or hasattr(x, "_data")):
            raise TypeError(f"result_type(): argument '{name}' must be Tensor or Number, "
                            f"not {type(x).__name__}")
    return _result(tensor, other)
