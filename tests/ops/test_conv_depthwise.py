"""Depthwise convolution by taps (ops.conv_depthwise) against torch and the im2col path."""
import numpy as np
import pytest
import torch

import minidl
from minidl.backend import parallel
from minidl.ops import conv_depthwise


def grads(lib, x, w, b, need_w=True, **kw):
    xt = lib.tensor(x, requires_grad=True)
    wt = lib.tensor(w, requires_grad=need_w)
    bt = lib.tensor(b, requires_grad=True)
    y = lib.nn.functional.conv2d(xt, wt, bt, groups=w.shape[0], **kw)
    y.backward(lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(x.dtype)))
    out = [y.detach().numpy(), xt.grad.numpy(), bt.grad.numpy()]
    return out + ([wt.grad.numpy()] if need_w else [])


@pytest.mark.parametrize("shape, kw", [
    ((4, 12, 4, 4), dict(padding=1)),                   # small maps: MobileNetV2's last stages
    ((3, 8, 14, 13), dict(stride=2, padding=1)),        # strided
    ((2, 6, 9, 9), dict(stride=(2, 1), dilation=2, padding=(2, 1))),
    ((2, 5, 3, 3), dict()),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(shape, kw, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((shape[1], 1, 3, 3)).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for ours, ref in zip(grads(minidl, x, w, b, **kw), grads(torch, x, w, b, **kw)):
        np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol)


def test_taps_path_is_taken_and_equals_im2col(monkeypatch):
    x = np.random.default_rng(1).standard_normal((4, 10, 5, 5)).astype(np.float32)
    w = np.random.default_rng(2).standard_normal((10, 1, 3, 3)).astype(np.float32)
    b = np.zeros(10, np.float32)
    calls = []
    forward = conv_depthwise.depthwise_forward
    monkeypatch.setattr("minidl.ops.conv.depthwise_forward",
                        lambda *a: calls.append(1) or forward(*a))
    taps = grads(minidl, x, w, b, padding=1)
    assert calls
    monkeypatch.setattr(conv_depthwise, "TAPS_MAX_POSITIONS", 0)       # im2col instead
    columns = grads(minidl, x, w, b, padding=1)
    for a, c in zip(taps, columns):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)


def test_frozen_weights_unbatched_and_two_threads(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7, 7)).astype(np.float32)
    w = rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    for a, r in zip(grads(minidl, x, w, b, need_w=False, stride=2),
                    grads(torch, x, w, b, need_w=False, stride=2)):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4)
    xb = np.stack([x, -x, 2 * x])
    before = minidl.get_num_threads()
    monkeypatch.setattr(parallel, "MIN_PART_ELEMENTS", 1)       # split even this batch
    try:
        runs = []
        for threads in (1, 2):
            minidl.set_num_threads(threads)
            runs.append(grads(minidl, xb, w, b, stride=2))
    finally:
        minidl.set_num_threads(before)
    for one, two in zip(*runs):
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn, shape, wshape", [("conv1d", (2, 4, 7), (4, 1, 3)),
                                              ("conv3d", (2, 4, 4, 5, 5), (4, 1, 3, 3, 3))])
def test_one_and_three_spatial_dims(fn, shape, wshape):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(wshape).astype(
        np.float32)
    results = []
    for lib in (minidl, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = getattr(lib.nn.functional, fn)(xt, wt, None, 2, 1, 1, 4)    # stride 2: by taps
        y.square().sum().backward()
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for ours, ref in zip(*results):
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
