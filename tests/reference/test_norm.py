"""Fused normalisation kernels (batch / layer / group / instance / RMS / local response
norm) against torch and against the same formula composed from minidl's elementary ops."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]
BN_SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 5)]


def _rand(shape, seed=0, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


def _composed_norm(x, axes, w=None, b=None, wshape=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * w + b from elementary minidl ops."""
    mean = x.mean(axes, keepdim=True)
    var = x.var(axes, unbiased=False, keepdim=True)
    y = (x - mean) / (var + eps).sqrt()
    if w is not None:
        y = y * w.reshape(wshape)
    if b is not None:
        y = y + b.reshape(wshape)
    return y


def _fused_vs_composed(fused, composed, arrays, seed=1):
    """Same output and same gradients (for one upstream gradient) from both minidl versions."""
    outs, grads = [], []
    for fn in (fused, composed):
        ts = [minidl.tensor(a, requires_grad=True) for a in arrays]
        y = fn(*ts)
        g = np.random.default_rng(seed).standard_normal(y.shape)
        y.backward(minidl.tensor(g))
        outs.append(y.detach().numpy())
        grads.append([t.grad.numpy() for t in ts])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-11)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------- batch norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(dtype, shape, affine):
    C = shape[1]
    x = _rand(shape, 0, 2.0, 0.5)
    w, b = _rand(C, 1), _rand(C, 2)
    rm_np, rv_np = _rand(C, 3).astype(dtype), (np.abs(_rand(C, 4)) + 0.5).astype(dtype)
    m_rm, m_rv = minidl.tensor(rm_np), minidl.tensor(rv_np)
    t_rm, t_rv = torch.tensor(rm_np), torch.tensor(rv_np)
    if affine:
        compare(lambda x, w, b: F.batch_norm(x, m_rm, m_rv, w, b, True, 0.3, 1e-3),
                lambda x, w, b: TF.batch_norm(x, t_rm, t_rv, w, b, True, 0.3, 1e-3),
                [x, w, b], dtype=dtype, noncontiguous=True)
    else:
        compare(lambda x: F.batch_norm(x, m_rm, m_rv, training=True),
                lambda x: TF.batch_norm(x, t_rm, t_rv, training=True), [x], dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m_rm.numpy(), t_rm.numpy(), **tol)
    np.testing.assert_allclose(m_rv.numpy(), t_rv.numpy(), **tol)  # unbiased variance


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_eval_uses_running_stats(dtype, shape):
    C = shape[1]
    rm, rv = _rand(C, 3).astype(dtype), (np.abs(_rand(C, 4)) + 0.5).astype(dtype)
    m_rm, m_rv = minidl.tensor(rm), minidl.tensor(rv)
    compare(lambda x, w, b: F.batch_norm(x, m_rm, m_rv, w, b),
            lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b),
            [_rand(shape), _rand(C, 1), _rand(C, 2)], dtype=dtype, noncontiguous=True)
    np.testing.assert_array_equal(m_rm.numpy(), rm)  # untouched in eval mode


def test_batch_norm_without_running_stats_and_weight_only():
    x = _rand((4, 3, 2))
    compare(lambda x, w: F.batch_norm(x, None, None, w, None, training=True),
            lambda x, w: TF.batch_norm(x, None, None, w, None, training=True),
            [x, _rand(3, 1)], dtype="float64")
    compare(lambda x, b: F.batch_norm(x, None, None, None, b, training=True),
            lambda x, b: TF.batch_norm(x, None, None, None, b, training=True),
            [x, _rand(3, 1)], dtype="float64")


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_fused_equals_composed(shape):
    C = shape[1]
    axes = (0,) + tuple(range(2, len(shape)))
    wshape = (C,) + (1,) * (len(shape) - 2)
    _fused_vs_composed(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                       lambda x, w, b: _composed_norm(x, axes, w, b, wshape),
                       [_rand(shape, 5), _rand(C, 6), _rand(C, 7)])


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 3), (2, 2, 2, 2)])
def test_batch_norm_gradcheck(shape):
    C = shape[1]
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
              [_rand(shape, 8), _rand(C, 9), _rand(C, 10)])
    rm, rv = minidl.tensor(_rand(C, 3)), minidl.tensor(np.abs(_rand(C, 4)) + 0.5)
    gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), [_rand(shape, 8), _rand(C, 9),
                                                              _rand(C, 10)])


def test_batch_norm_float32_stays_float32():
    x = minidl.randn(4, 3, requires_grad=True)
    w = minidl.ones(3, requires_grad=True)
    y = F.batch_norm(x, minidl.zeros(3), minidl.ones(3), w, None, training=True)
    y.sum().backward()
    assert y.dtype == minidl.float32 and x.grad.dtype == minidl.float32
    assert w.grad.dtype == minidl.float32


def test_batch_norm_errors():
    x = minidl.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(x, minidl.zeros(4), minidl.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 2"):
        F.batch_norm(x, None, None, minidl.ones(2), training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\[1, 3\]"):
        F.batch_norm(minidl.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(RuntimeError, match="float32.*running_mean is minidl.float64"):
        F.batch_norm(x, minidl.zeros(3, dtype=minidl.float64), minidl.ones(3), training=True)
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        F.batch_norm(minidl.randn(3), None, None, training=True)


# --------------------------------------------------------------- layer norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,normalized", [((4, 5), (5,)), ((2, 3, 4), (4,)),
                                              ((2, 3, 4), (3, 4)), ((5,), (5,))])
def test_layer_norm_matches_torch(dtype, shape, normalized):
    compare(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-4),
            lambda x, w, b: TF.layer_norm(x, normalized, w, b, 1e-4),
            [_rand(shape, 0, 3.0, 1.0), _rand(normalized, 1), _rand(normalized, 2)],
            dtype=dtype, noncontiguous=True)
    compare(lambda x: F.layer_norm(x, normalized), lambda x: TF.layer_norm(x, normalized),
            [_rand(shape)], dtype=dtype)


def test_layer_norm_fused_equals_composed_and_gradcheck():
    axes = (1, 2)
    _fused_vs_composed(lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
                       lambda x, w, b: _composed_norm(x, axes, w, b, (3, 4)),
                       [_rand((2, 3, 4), 5), _rand((3, 4), 6), _rand((3, 4), 7)])
    gradcheck(lambda x, w, b: F.layer_norm(x, (3,), w, b),
              [_rand((2, 3), 8), _rand(3, 9), _rand(3, 10)])


def test_layer_norm_errors():
    x = minidl.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[3\], expected input with shape "
                                           r"\[\*, 3\], but got input of size\[2, 3, 4\]"):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError,
                       match=r"weight of shape \[4\] and normalized_shape = \[3, 4\]"):
        F.layer_norm(x, (3, 4), weight=minidl.ones(4))


# --------------------------------------------------------------- group norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((2, 6), 3), ((2, 6, 5), 2), ((2, 4, 3, 3), 4),
                                          ((3, 4, 2, 3), 1)])
def test_group_norm_matches_torch(dtype, shape, groups):
    C = shape[1]
    compare(lambda x, w, b: F.group_norm(x, groups, w, b),
            lambda x, w, b: TF.group_norm(x, groups, w, b),
            [_rand(shape, 0, 2.0), _rand(C, 1), _rand(C, 2)], dtype=dtype, noncontiguous=True)


def test_group_norm_fused_equals_composed_and_gradcheck():
    def composed(x, w, b):
        g = x.reshape(2, 2, 3, 5)
        y = _composed_norm(g, (2, 3)).reshape(2, 6, 5)
        return y * w.reshape(6, 1) + b.reshape(6, 1)
    _fused_vs_composed(lambda x, w, b: F.group_norm(x, 2, w, b), composed,
                       [_rand((2, 6, 5), 5), _rand(6, 6), _rand(6, 7)])
    gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b),
              [_rand((2, 4, 2), 8), _rand(4, 9), _rand(4, 10)])


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape "
                                           r"\[2, 3, 4\] and num_groups=2"):
        F.group_norm(minidl.randn(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match=r"weight of shape \[2\] and input of shape"):
        F.group_norm(minidl.randn(2, 3, 4), 3, weight=minidl.ones(2))


# ------------------------------------------------------------ instance norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4)])
def test_instance_norm_matches_torch(dtype, shape):
    C = shape[1]
    rm, rv = _rand(C, 3).astype(dtype), (np.abs(_rand(C, 4)) + 0.5).astype(dtype)
    m_rm, m_rv = minidl.tensor(rm), minidl.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    compare(lambda x, w, b: F.instance_norm(x, m_rm, m_rv, w, b, momentum=0.2),
            lambda x, w, b: TF.instance_norm(x, t_rm, t_rv, w, b, momentum=0.2),
            [_rand(shape, 0, 2.0), _rand(C, 1), _rand(C, 2)], dtype=dtype, noncontiguous=True)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m_rm.numpy(), t_rm.numpy(), **tol)
    np.testing.assert_allclose(m_rv.numpy(), t_rv.numpy(), **tol)
    compare(lambda x: F.instance_norm(x, m_rm, m_rv, use_input_stats=False),
            lambda x: TF.instance_norm(x, t_rm, t_rv, use_input_stats=False), [_rand(shape)],
            dtype=dtype)


def test_instance_norm_fused_equals_composed_and_gradcheck():
    _fused_vs_composed(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                       lambda x, w, b: _composed_norm(x, (2,), w, b, (3, 1)),
                       [_rand((2, 3, 5), 5), _rand(3, 6), _rand(3, 7)])
    gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
              [_rand((2, 2, 3), 8), _rand(2, 9), _rand(2, 10)])
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(minidl.randn(2, 3, 1))
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(minidl.randn(2, 3, 4), use_input_stats=False)


# ----------------------------------------------------------------- RMS norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_matches_torch(dtype, eps):
    compare(lambda x, w: F.rms_norm(x, (3, 4), w, eps), lambda x, w: TF.rms_norm(x, (3, 4), w, eps),
            [_rand((2, 3, 4)), _rand((3, 4), 1)], dtype=dtype, noncontiguous=True)
    compare(lambda x: F.rms_norm(x, (4,), eps=eps), lambda x: TF.rms_norm(x, (4,), eps=eps),
            [_rand((5, 4))], dtype=dtype)


def test_rms_norm_fused_equals_composed_and_gradcheck():
    _fused_vs_composed(lambda x, w: F.rms_norm(x, (4,), w, 1e-6),
                       lambda x, w: x * ((x * x).mean(-1, keepdim=True) + 1e-6).rsqrt() * w,
                       [_rand((3, 4), 5), _rand(4, 6)])
    gradcheck(lambda x, w: F.rms_norm(x, (3,), w), [_rand((2, 3), 8), _rand(3, 9)])


# ------------------------------------------------------------------------ local response norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, size, kw", [
    ((2, 7, 5), 3, {}),
    ((2, 7, 4, 3), 5, dict(alpha=1e-2, beta=0.75, k=2.0)),
    ((2, 6, 3, 3), 2, dict(alpha=0.5, beta=0.5, k=1.0)),
    ((1, 4, 2, 3, 2), 4, dict(alpha=0.3)),
    ((2, 3, 4), 1, dict(alpha=1.0, beta=1.5)),
    ((2, 3, 4), 9, dict(alpha=2.0)),
    ((0, 3, 4), 2, {}),
], ids=str)
def test_local_response_norm(shape, size, kw, dtype):
    compare(lambda a: F.local_response_norm(a, size, **kw),
            lambda a: TF.local_response_norm(a, size, **kw), [_rand(shape) * 3], dtype=dtype,
            noncontiguous=len(shape) < 5)    # torch's view() refuses strided 5-D inputs


def _lrn_composed(x, size, alpha, beta, k):
    """torch's definition from elementary minidl ops: x / (k + alpha * avg of x^2)^beta."""
    sq = (x * x).unsqueeze(1)
    sq = F.pad(sq, (0, 0, 0, 0, size // 2, (size - 1) // 2))
    avg = F.avg_pool3d(sq, (size, 1, 1), stride=1).squeeze(1)
    return x / (avg * alpha + k) ** beta


@pytest.mark.parametrize("size", [2, 5])
def test_local_response_norm_fused_vs_composed(size):
    a = _rand((2, 6, 3, 4), 3) * 2
    outs, grads = [], []
    for fn in (lambda t: F.local_response_norm(t, size, 0.1, 0.75, 1.5),
               lambda t: _lrn_composed(t, size, 0.1, 0.75, 1.5)):
        t = minidl.tensor(a, requires_grad=True)
        y = fn(t)
        y.backward(minidl.tensor(_rand(a.shape, 9)))
        outs.append(y.detach().numpy())
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((1, 4, 2, 2), 2), ((1, 3, 2), 6)])
def test_local_response_norm_gradcheck(shape, size):
    gradcheck(lambda a: F.local_response_norm(a, size, alpha=0.5, beta=0.75, k=1.0),
              [_rand(shape)])


def test_local_response_norm_errors():
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2"):
        F.local_response_norm(minidl.zeros(2, 3), 2)
    with pytest.raises(RuntimeError, match="size .* must be a positive int, but got 0"):
        F.local_response_norm(minidl.zeros(2, 3, 4), 0)
    with pytest.raises(RuntimeError):
        TF.local_response_norm(torch.zeros(2, 3, 4), 0)
    with pytest.raises(NotImplementedError, match="floating point input, got minidl.int64"):
        F.local_response_norm(minidl.zeros(2, 3, 4, dtype=minidl.int64), 2)
