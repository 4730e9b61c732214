"""Counting values: ``bincount`` (occurrences of each non-negative integer) and ``histc``
(equal-width bins over [min, max]). Counts have no gradient, as in torch."""
import numpy as np

from .._out import takes_out
from ..tensor import Tensor
from ._util import check_tensor

__all__ = ["bincount", "histc"]


def bincount(input, weights=None, minlength=0):
    """``out[k]`` = number of ``input == k`` (or the sum of their ``weights``), for k up to
    max(input) or ``minlength - 1``; int64 counts, float32 weights stay float32, other
    weights give float64 (torch's rule)."""
    check_tensor(input, "bincount")
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        if a.dtype.kind == "f":
            raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                      f"'{input.dtype}'")
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if isinstance(minlength, bool) or not isinstance(minlength, int):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not "
                        f"{type(minlength).__name__}")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor(np.bincount(a, minlength=minlength).astype(np.int64))
    check_tensor(weights, "bincount", "weights")
    w = weights._data
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = np.float32 if w.dtype == np.float32 else np.float64
    return Tensor(np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt))


@takes_out(dtypes="exact")
def histc(input, bins=100, min=0, max=0):
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0;
    widened by 1 on each side if that range is empty); values outside are ignored."""
    check_tensor(input, "histc")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_histc_out" not implemented for '
                                  f"'{input.dtype}'")
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0")
    a = input._data.astype(np.float64).ravel()
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc(): max must be larger than min")
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=int(bins), range=(lo, hi))
    return Tensor(counts.astype(input._data.dtype))
