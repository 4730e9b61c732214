"""backend.parallel: kernels split over threads give the serial path's results.

Every threaded kernel (convolution shares of the batch, norm shares of the free axis,
cross-entropy rows, chunked activations) is run with one thread and with two, on inputs
made small enough to be split by lowering the thresholds; the two must agree, and the
split must really have happened.
"""
import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.backend import parallel


@pytest.fixture
def split_small(monkeypatch):
    """Thresholds low enough that test-sized inputs are split; counts the splits."""
    before = minidl.get_num_threads()
    monkeypatch.setattr(parallel, "MIN_PART_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "CHUNK_ELEMENTS", 64)
    calls = []
    original = parallel.run_parts

    def counting(fn, parts):
        parts = list(parts)
        calls.append(len(parts))
        return original(fn, parts)
    for module in ("minidl.ops.conv_gemm", "minidl.ops.normalize", "minidl.ops.cross_entropy",
                   "minidl.ops.normalize_compiled", "minidl.ops.conv_depthwise",
                   "minidl.ops.pool_compiled"):
        monkeypatch.setattr(f"{module}.run_parts", counting)
    monkeypatch.setattr(parallel, "run_parts", counting)
    yield calls
    minidl.set_num_threads(before)


def grads_at(threads, fn, *arrays):
    """(output, input grads) of ``fn`` on fresh leaves with ``threads`` threads."""
    minidl.set_num_threads(threads)
    leaves = [minidl.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*leaves)
    out.backward(minidl.tensor(np.random.default_rng(9).standard_normal(out.shape)
                               .astype(out.dtype.itemsize == 8 and np.float64 or np.float32)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in leaves if t.grad is not None]


def assert_same_at_1_and_2_threads(calls, fn, *arrays):
    one = grads_at(1, fn, *arrays)
    calls.clear()
    two = grads_at(2, fn, *arrays)
    assert max(calls, default=1) >= 2, "the kernel did not split its work"
    for a, b in zip(one, two):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("kwargs, wshape", [
    (dict(padding=1), (8, 3, 3, 3)),                    # runs layout, padded
    (dict(stride=2, padding=1), (8, 3, 3, 3)),          # dense layout (strided)
    (dict(), (8, 3, 1, 1)),                             # 1x1: the input is its columns
    (dict(groups=3, dilation=2, padding=2), (6, 1, 3, 3)),
])
def test_conv2d_shares_of_the_batch(split_small, kwargs, wshape):
    assert_same_at_1_and_2_threads(split_small, lambda x, w: F.conv2d(x, w, **kwargs),
                                   rand(5, 3, 9, 9), rand(*wshape, seed=1))


def test_conv2d_wide_layout_and_transposed(split_small):
    x, w = rand(6, 4, 4, 4), rand(5, 4, 3, 3, seed=1)   # 4x4 maps: the wide layout
    assert_same_at_1_and_2_threads(split_small, lambda x, w: F.conv2d(x, w, padding=1), x, w)
    wt = rand(4, 3, 3, 3, seed=2)
    assert_same_at_1_and_2_threads(
        split_small, lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), x, wt)


@pytest.mark.parametrize("norm", ["batch", "layer", "group", "instance", "batch_eval"])
def test_norms_share_the_free_axis(split_small, norm):
    x, w, b = rand(4, 6, 5, 5), rand(6, seed=1), rand(6, seed=2)
    rm, rv = rand(6, seed=3), np.abs(rand(6, seed=4)) + 0.5
    fns = {
        "batch": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        "batch_eval": lambda x, w, b: F.batch_norm(x, minidl.tensor(rm), minidl.tensor(rv), w, b),
        "layer": lambda x, w, b: F.layer_norm(x.permute(0, 2, 3, 1), (6,), w, b),
        "group": lambda x, w, b: F.group_norm(x, 3, w, b),
        "instance": lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
    }
    assert_same_at_1_and_2_threads(split_small, fns[norm], x, w, b)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_rows(split_small, smoothing):
    x, y = rand(12, 7), np.random.default_rng(5).integers(0, 7, 12)
    assert_same_at_1_and_2_threads(
        split_small, lambda x, y: F.cross_entropy(x, y, label_smoothing=smoothing), x, y)


@pytest.mark.parametrize("act", [F.relu, F.tanh, F.sigmoid, F.relu6, F.gelu, F.leaky_relu])
def test_activations_in_chunks(split_small, act):
    assert_same_at_1_and_2_threads(split_small, act, rand(7, 100))


def test_split_covers_the_range():
    for n, parts in [(10, 3), (2, 5), (0, 2), (7, 7)]:
        slices = parallel.split(n, parts)
        covered = [i for s in slices for i in range(n)[s]]
        assert covered == list(range(n))
        sizes = [s.stop - s.start for s in slices]
        assert not sizes or max(sizes) - min(sizes) <= 1


def test_run_parts_order_errors_and_blas_threads():
    before = minidl.get_num_threads()
    try:
        minidl.set_num_threads(2)
        inside = parallel.run_parts(lambda i: (i, minidl.get_num_threads(),
                                               parallel.num_threads()), range(4))
        assert [r[0] for r in inside] == [0, 1, 2, 3]
        assert {r[1] for r in inside} == {1}     # BLAS single-threaded inside the parts
        assert {r[2] for r in inside} == {1}     # and no nested splitting
        assert minidl.get_num_threads() == 2     # restored afterwards

        def fail(i):
            if i == 2:
                raise ValueError("part 2 failed")
            return i
        with pytest.raises(ValueError, match="part 2 failed"):
            parallel.run_parts(fail, range(3))
        assert minidl.get_num_threads() == 2
        minidl.set_num_threads(1)
        assert parallel.parts_for(10 ** 9, 64) == 1   # one thread: the serial path
    finally:
        minidl.set_num_threads(before)
