"""SlidingWindowDataset: lengths, contents, horizon, stride, (T, F) series, the DataLoader
batch path, errors."""
import numpy as np
import pytest

import minidl
from minidl.utils.data import DataLoader, SlidingWindowDataset


@pytest.mark.parametrize("steps, window, horizon, stride, expected", [
    (10, 3, 1, 1, 7), (10, 3, 2, 1, 6), (10, 3, 2, 2, 3), (10, 3, 2, 3, 2), (5, 4, 1, 1, 1),
    (11, 3, 2, 3, 3)])
def test_length_is_every_window_with_its_whole_future(steps, window, horizon, stride, expected):
    ds = SlidingWindowDataset(np.arange(steps), window, horizon, stride)
    assert len(ds) == expected
    last = (expected - 1) * stride
    assert last + window + horizon <= steps < last + stride + window + horizon


def test_contents_horizon_and_stride():
    ds = SlidingWindowDataset(np.arange(12.0), window=4, horizon=2, stride=3)
    x, y = ds[1]
    assert isinstance(x, minidl.Tensor) and x.dtype == minidl.float64
    assert x.tolist() == [3.0, 4.0, 5.0, 6.0] and y.tolist() == [7.0, 8.0]
    assert [ds[i][1].tolist() for i in range(len(ds))] == [[4, 5], [7, 8], [10, 11]]
    assert ds[-1][0].tolist() == ds[len(ds) - 1][0].tolist()


def test_horizon_one_keeps_its_axis_and_features_their_columns():
    series = minidl.arange(30.0).reshape(10, 3)
    x, y = SlidingWindowDataset(series, 4)[2]
    assert tuple(x.shape) == (4, 3) and tuple(y.shape) == (1, 3)
    np.testing.assert_array_equal(x.numpy(), series.numpy()[2:6])
    np.testing.assert_array_equal(y.numpy(), series.numpy()[6:7])
    x1, y1 = SlidingWindowDataset(np.arange(10), 4)[0]
    assert tuple(y1.shape) == (1,) and y1.dtype == minidl.int64


def test_loader_batches_equal_the_samples_stacked():
    series = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    ds = SlidingWindowDataset(series, 5, horizon=3, stride=2)
    order = [5, 0, 14, 2]
    xb, yb = next(iter(DataLoader(ds, batch_size=4, sampler=order)))
    assert tuple(xb.shape) == (4, 5, 2) and tuple(yb.shape) == (4, 3, 2)
    assert xb.dtype == minidl.float32
    for i, row in enumerate(order):
        np.testing.assert_array_equal(xb.numpy()[i], ds[row][0].numpy())
        np.testing.assert_array_equal(yb.numpy()[i], ds[row][1].numpy())
    assert ds._get_batch([-1])[0].numpy().tolist() == [ds[-1][0].numpy().tolist()]


@pytest.mark.parametrize("series, kwargs, error, match", [
    (np.zeros((4, 2, 2)), {}, ValueError, r"1-D \(T,\) or 2-D"),
    (np.array(["a", "b", "c", "d"]), {}, TypeError, "numeric"),
    (minidl.zeros(6, requires_grad=True), {}, ValueError, "detach"),
    (np.zeros(4), {"window": 3, "horizon": 2}, ValueError, "too short"),
    (np.zeros(9), {"window": 0}, ValueError, "window"),
    (np.zeros(9), {"horizon": 1.0}, TypeError, "horizon"),
    (np.zeros(9), {"stride": -1}, ValueError, "stride"),
])
def test_bad_arguments_are_refused_by_name(series, kwargs, error, match):
    with pytest.raises(error, match=match):
        SlidingWindowDataset(series, **{"window": 2, **kwargs})


def test_bad_indices():
    ds = SlidingWindowDataset(np.arange(6), 2)
    with pytest.raises(IndexError, match="out of range"):
        ds[4]
    with pytest.raises(IndexError, match="out of range"):
        ds[-5]
    with pytest.raises(TypeError, match="integers"):
        ds[1.0]
    with pytest.raises(IndexError, match="out of range"):
        ds._get_batch([0, 4])
