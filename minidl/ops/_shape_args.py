"""Argument readers the shape and indexing families share: ints, int tuples, index arrays."""
import numpy as np

from ..tensor import Tensor
from ._util import check_tensor

__all__ = ["INDEX_DTYPES", "as_int", "int_tuple", "along", "index_array"]

INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))


def as_int(x, fn, arg):
    """A Python int from an int, NumPy integer or one-element integer tensor."""
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "iu" or x.numel() != 1:
            raise TypeError(f"{fn}(): argument '{arg}' must be an int, not a {x.dtype} tensor "
                            f"of shape {list(x.shape)}")
        return int(x.item())
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{arg}' must be int, not {type(x).__name__}")
    return int(x)


def int_tuple(args, fn, arg="size"):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` -> (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    if all(type(s) is int for s in args):  # the common case, kept cheap
        return tuple(args)
    elif len(args) == 1 and isinstance(args[0], Tensor) and args[0].ndim == 1:
        args = args[0].tolist()
    out = []
    for i, s in enumerate(args):
        if isinstance(s, Tensor) and s.numel() == 1 and s._data.dtype.kind in "iu":
            s = int(s.item())
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{fn}(): argument '{arg}' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} at pos {i}")
        out.append(int(s))
    return tuple(out)


def sizes_or_named(args, named, fn, arg):
    """A method's sizes, given as ``*args`` (``x.view(2, 3)``) or by the keyword ``arg``
    (``x.view(size=(2, 3))``), not both."""
    if named is None:
        return args
    if args:
        raise TypeError(f"{fn}(): got the sizes both positionally and as {arg}=")
    return (named,)


def along(dim, idx):
    """The index tuple that applies ``idx`` to axis ``dim``: ``(:, :, idx)``."""
    return (slice(None),) * dim + (idx,)


def index_array(t, fn, arg="index"):
    """The int64/int32 NumPy array of an index tensor (clear error otherwise)."""
    check_tensor(t, fn, arg)
    a = t._data
    if a.dtype not in INDEX_DTYPES:
        raise RuntimeError(f"{fn}(): Expected dtype int32 or int64 for {arg}, but got {t.dtype}")
    return a
