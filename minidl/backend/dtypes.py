"""dtypes with torch's names and torch's type-promotion rules.

Promotion (https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc):
operands fall into three priority groups -- tensors with dimensions, zero-dimensional
tensors, Python scalars. A lower group only changes the result when its *category*
(bool < integer < floating) is higher than the result of the groups above it.
"""
import numpy as np

__all__ = ["dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "bool", "half", "float", "double", "short", "int", "long",
           "get_default_dtype", "set_default_dtype", "as_dtype", "result_type", "category"]


class dtype:
    """A tensor element type: torch's name on the outside, a NumPy dtype inside."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"minidl.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)

_BY_NP = {d.np: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool)}
_BY_NAME = {d.name: d for d in _BY_NP.values()}
_default = [float32]


def get_default_dtype():
    """The floating dtype that creation functions and Python floats use (float32)."""
    return _default[0]


def set_default_dtype(d):
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype only supports floating point dtypes, got {d}")
    _default[0] = d


def as_dtype(d):
    """minidl dtype from a minidl dtype, NumPy dtype, Python type or name."""
    if isinstance(d, dtype):
        return d
    if d is builtins_float:
        return get_default_dtype()
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        return _BY_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"unsupported dtype {d!r}; minidl supports "
                        f"{', '.join(sorted(_BY_NAME))}") from None


import builtins as _b  # noqa: E402  (names shadowed above by the dtype objects)

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool


def category(d):
    """0 for bool, 1 for integers, 2 for floating point."""
    k = d.np.kind
    return 0 if k == "b" else (2 if k == "f" else 1)


def _scalar_dtype(x):
    if isinstance(x, (builtins_bool, np.bool_)):
        return bool
    if isinstance(x, (builtins_int, np.integer)):
        return int64
    return get_default_dtype()


def result_type(*operands):
    """The dtype torch gives an op on ``operands`` (tensors, arrays or Python scalars)."""
    groups = ([], [], [])  # dimensioned tensors, zero-dim tensors, scalars
    for x in operands:
        d = getattr(x, "dtype", None)
        if d is None:
            groups[2].append(_scalar_dtype(x))
        else:
            groups[0 if len(x.shape) else 1].append(as_dtype(d))
    result = None
    for g in groups:
        if not g:
            continue
        promoted = g[0]
        # within a group the higher category wins outright (int64 + float32 -> float32)
        for d in g[1:]:
            if category(d) != category(promoted):
                promoted = d if category(d) > category(promoted) else promoted
            else:
                promoted = _BY_NP[np.promote_types(promoted.np, d.np)]
        if g is groups[2]:  # a scalar keeps its category, the size comes from the default
            promoted = {0: bool, 1: int64, 2: get_default_dtype()}[category(promoted)]
        if result is None:
            result = promoted
        elif category(promoted) > category(result):
            result = promoted
    return result
