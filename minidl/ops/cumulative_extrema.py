"""Running extrema along a dim: ``cummax`` / ``cummin`` give (values, indices), the index
of the latest element equal to the running extremum (torch's ``>=`` / ``<=``); from the
first NaN on, the value is NaN and the index that of the latest NaN."""
import collections

import numpy as np

from .._out import takes_out
from ..tensor import Tensor
from ._util import check_tensor, normalize_dim
from .gather import gather

__all__ = ["cummax", "cummin"]

cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _running_index(a, d, better):
    """Positions of the running extremum of ``a`` along ``d`` (``better(new, best)``)."""
    a = np.moveaxis(a, d, 0)
    index = np.zeros(a.shape, np.int64)
    if a.shape[0]:
        best, at = a[0], np.zeros(a.shape[1:], np.int64)
        for i in range(1, a.shape[0]):
            with np.errstate(invalid="ignore"):
                take = better(a[i], best)
            if a.dtype.kind == "f":
                take = np.isnan(a[i]) | (take & ~np.isnan(best))
            best, at = np.where(take, a[i], best), np.where(take, i, at)
            index[i] = at
    return np.moveaxis(index, 0, d)


def _cumulative(input, dim, fn, better, result):
    check_tensor(input, fn)
    d = normalize_dim(dim, input.ndim, fn)
    if input.ndim == 0:
        index = Tensor(np.zeros((), np.int64))
    else:
        index = Tensor(_running_index(input._data, d, better))
    return result(gather(input, d, index), index)


@takes_out(dtypes="exact")
def cummax(input, dim):
    """(values, indices) of the running maximum along ``dim``; values' gradient goes to
    the indexed elements (``gather``)."""
    return _cumulative(input, dim, "cummax", np.greater_equal, cummax_result)


@takes_out(dtypes="exact")
def cummin(input, dim):
    """(values, indices) of the running minimum along ``dim``, as ``cummax``."""
    return _cumulative(input, dim, "cummin", np.less_equal, cummin_result)
