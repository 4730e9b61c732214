"""``SlidingWindowDataset``: a time series as (past window, future values) pairs.

For a series s of length T (1-D, or (T, F) with F features per step), sample i starts at
step t = i * stride and is

    x_i = s[t : t + window]                       shape (window,)  or (window, F)
    y_i = s[t + window : t + window + horizon]    shape (horizon,) or (horizon, F)

so there are floor((T - window - horizon) / stride) + 1 samples, each target strictly after
its window (many-to-one forecasting for horizon=1, multi-step for horizon > 1). The samples
are views of the series, in its dtype; a ``DataLoader`` batch is built with one fancy index.
"""
import numpy as np

from ...tensor import Tensor
from .dataset import Dataset, _index_array

__all__ = ["SlidingWindowDataset"]


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"SlidingWindowDataset: {name} must be a positive int, not {value!r}")
    if value < 1:
        raise ValueError(f"SlidingWindowDataset: {name} must be >= 1, but got {name}={value}")
    return int(value)


def _as_array(series):
    """The series' data as a (T,) or (T, F) NumPy array (a Tensor's own, not a copy)."""
    if isinstance(series, Tensor):
        if series.requires_grad:
            raise ValueError("SlidingWindowDataset: the series requires grad; windows are data, "
                             "pass series.detach()")
        a = series._data
    else:
        a = np.asarray(series)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"SlidingWindowDataset: series must be numeric, but has dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"SlidingWindowDataset: series must be 1-D (T,) or 2-D (T, F), but has "
                         f"shape {list(a.shape)}")
    return a


class SlidingWindowDataset(Dataset):
    """(window, future) pairs over a 1-D (T,) or (T, F) array or Tensor ``series``.

    Args:
        series: the time series, time along the first axis.
        window: the number of past steps in each input.
        horizon: the number of future steps in each target (default 1).
        stride: the step between the starts of consecutive windows (default 1).
    """

    def __init__(self, series, window, horizon=1, stride=1):
        self._array = _as_array(series)
        self.window = _count(window, "window")
        self.horizon = _count(horizon, "horizon")
        self.stride = _count(stride, "stride")
        steps = self._array.shape[0]
        if steps < self.window + self.horizon:
            raise ValueError(f"SlidingWindowDataset: a series of {steps} steps is too short for "
                             f"window={self.window} + horizon={self.horizon} "
                             f"({self.window + self.horizon} steps)")
        self._len = (steps - self.window - self.horizon) // self.stride + 1

    @property
    def series(self):
        return Tensor(self._array)

    def __len__(self):
        return self._len

    def _start(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"SlidingWindowDataset indices must be integers, not "
                            f"{type(index).__name__}")
        i = int(index) + (self._len if index < 0 else 0)
        if not 0 <= i < self._len:
            raise IndexError(f"index {index} is out of range for a SlidingWindowDataset of "
                             f"{self._len} windows")
        return i * self.stride

    def __getitem__(self, index):
        t = self._start(index)
        a, end = self._array, t + self.window
        return Tensor(a[t:end]), Tensor(a[end:end + self.horizon])

    @property
    def _get_batch(self):
        """indices -> [X (B, window, ...), Y (B, horizon, ...)], as default_collate stacks them."""
        a, w, h = self._array, self.window, self.horizon

        def get_batch(indices):
            idx = _index_array(indices)
            idx = np.where(idx < 0, idx + self._len, idx)
            if idx.size and (idx.min() < 0 or idx.max() >= self._len):
                raise IndexError(f"indices out of range for a SlidingWindowDataset of "
                                 f"{self._len} windows")
            starts = idx * self.stride
            x = a[starts[:, None] + np.arange(w)]
            y = a[starts[:, None] + (w + np.arange(h))]
            return [Tensor(x), Tensor(y)]
        return get_batch

    def __repr__(self):
        return (f"SlidingWindowDataset(series of shape {list(self._array.shape)}, "
                f"window={self.window}, horizon={self.horizon}, stride={self.stride}: "
                f"{self._len} samples)")
