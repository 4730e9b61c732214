"""Where values fall among others: ``isin`` (membership in a set of values) and
``bucketize`` (the bucket among sorted boundaries, ``searchsorted`` with the roles of the
arguments swapped). Results are bool / integer: no gradient."""
import numpy as np

from .._out import takes_out
from ..tensor import Tensor
from ._operands import is_number
from .sort import searchsorted

__all__ = ["isin", "bucketize"]


def _values(x, fn, arg):
    if isinstance(x, Tensor):
        return x._data
    if is_number(x):
        return np.asarray(x)
    raise TypeError(f"{fn}(): argument '{arg}' must be Tensor or Number, not "
                    f"{type(x).__name__}")


@takes_out(dtypes="exact")
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Bool tensor of ``elements``' shape: whether each is in ``test_elements`` (not in,
    with ``invert``); ``assume_unique`` lets both be treated as duplicate-free."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): at least one of 'elements' and 'test_elements' must be a "
                        "Tensor")
    a = _values(elements, "isin", "elements")
    b = _values(test_elements, "isin", "test_elements")
    return Tensor(np.isin(a, b, assume_unique=bool(assume_unique), invert=bool(invert)))


@takes_out(dtypes="exact")
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index ``i`` of each value's bucket, ``boundaries[i-1] < x <= boundaries[i]`` (with
    ``right``: ``boundaries[i-1] <= x < boundaries[i]``); ``boundaries`` is 1-D, sorted."""
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize(): argument 'boundaries' must be Tensor, not "
                        f"{type(boundaries).__name__}")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    _values(input, "bucketize", "input")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
