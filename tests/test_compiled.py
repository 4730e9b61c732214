"""backend.compiled: the numba kernels give what their NumPy reference gives.

Each compiled kernel (2-D max pooling, batch norm) runs beside the array code it replaces,
switched with ``compiled.ENABLED``: outputs, indices and gradients must agree, on the edge
cases the reference handles (ties, NaN, windows of padding only, eval-mode statistics).
"""
import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.backend import compiled

pytestmark = pytest.mark.skipif(not compiled.numba, reason="numba is a test dependency")


def run(enabled, monkeypatch, fn, *arrays):
    monkeypatch.setattr(compiled, "ENABLED", enabled)
    leaves = [minidl.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    outs = out if isinstance(out, tuple) else (out,)
    g = np.random.default_rng(7).standard_normal(outs[0].shape).astype(arrays[0].dtype)
    outs[0].backward(minidl.tensor(g))
    grads = [t.grad.numpy() for t in leaves if t.grad is not None]
    return [o.detach().numpy() for o in outs] + grads


def assert_compiled_matches_reference(monkeypatch, fn, *arrays, tol=1e-5):
    ref = run(False, monkeypatch, fn, *arrays)
    fast = run(True, monkeypatch, fn, *arrays)
    for r, f in zip(ref, fast):
        np.testing.assert_allclose(f, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=1, padding=1),           # GoogLeNet's branch pool
    dict(kernel_size=2),                                # LeNet / VGG
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=2),
    dict(kernel_size=3, stride=2, return_indices=True),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d(monkeypatch, kwargs, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 10)).astype(dtype)
    assert_compiled_matches_reference(monkeypatch, lambda x: F.max_pool2d(x, **kwargs), x)


def test_max_pool2d_ties_nan_and_padding_windows(monkeypatch):
    x = np.round(np.random.default_rng(1).standard_normal((1, 2, 7, 7))).astype(np.float32)
    x[0, 0, 2, 3] = x[0, 1, 5, 5] = x[0, 1, 5, 6] = np.nan            # NaN wins: the last
    x[0, 1, 0, :] = -np.inf
    for kw in (dict(kernel_size=3, padding=1, return_indices=True),
               dict(kernel_size=2, stride=1, return_indices=True)):
        ref = run(False, monkeypatch, lambda x, kw=kw: F.max_pool2d(x, **kw), x)
        fast = run(True, monkeypatch, lambda x, kw=kw: F.max_pool2d(x, **kw), x)
        np.testing.assert_array_equal(fast[0], ref[0])                 # values, NaN included
        np.testing.assert_array_equal(fast[1], ref[1])                 # indices
        np.testing.assert_allclose(fast[2], ref[2], rtol=1e-6)  # gradient (summed in
        #                                              another order where windows overlap)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm(monkeypatch, training, affine, dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((4, 5, 6, 3)) * 3 + 2).astype(dtype)
    w, b = rng.standard_normal(5).astype(dtype), rng.standard_normal(5).astype(dtype)
    rm, rv = rng.standard_normal(5).astype(dtype), (rng.random(5) + 0.5).astype(dtype)

    def bn(x, w, b):
        return F.batch_norm(x, minidl.tensor(rm.copy()), minidl.tensor(rv.copy()),
                            w if affine else None, b if affine else None, training=training)
    assert_compiled_matches_reference(monkeypatch, bn, x, w, b,
                                      tol=1e-4 if dtype == np.float32 else 1e-10)


def test_batch_norm_running_statistics(monkeypatch):
    x = np.random.default_rng(3).standard_normal((8, 4, 5)).astype(np.float32)
    stats = []
    for enabled in (False, True):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        layer = minidl.nn.BatchNorm1d(4)
        layer(minidl.tensor(x))
        stats.append((layer.running_mean.numpy(), layer.running_var.numpy()))
    np.testing.assert_allclose(stats[1][0], stats[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats[1][1], stats[0][1], rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("shape, normalized", [((4, 6, 16), (16,)), ((3, 5, 4, 4), (4, 4)),
                                               ((7, 9), (9,))])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm(monkeypatch, shape, normalized, affine, dtype):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 2 - 1).astype(dtype)
    w, b = (rng.standard_normal(normalized).astype(dtype) for _ in "wb")

    def ln(x, w, b):
        return F.layer_norm(x, normalized, w if affine else None, b if affine else None)
    assert_compiled_matches_reference(monkeypatch, ln, x, w, b,
                                      tol=1e-4 if dtype == np.float32 else 1e-10)
