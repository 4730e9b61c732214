"""Loss kernels against torch: every option, float32 and float64, float64 gradcheck, and the
fused softmax cross-entropy against log_softmax + nll composed from minidl ops."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]
REDUCTIONS = ["mean", "sum", "none"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _targets(shape, C, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, C, shape)
    if ignore is not None:
        t.flat[0] = ignore
    return t


def _pair(fn_m, fn_t, **kw):
    return (lambda *a: fn_m(*a, **kw)), (lambda *a: fn_t(*a, **kw))


# ------------------------------------------------------------ cross entropy
CE_CASES = [((5, 4), (5,)), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2)), ((4,), ())]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", CE_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_indices(dtype, shapes, reduction, smoothing, weighted):
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    t = _targets(ts, C, 1, ignore=-1 if ts else None)
    w = (np.random.default_rng(2).random(C) + 0.2).astype(dtype) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing, ignore_index=-1)
    mw, tw = (None, None) if w is None else (minidl.tensor(w), torch.tensor(w))
    compare(lambda x: F.cross_entropy(x, minidl.tensor(t), mw, **kw),
            lambda x: TF.cross_entropy(x, torch.tensor(t), tw, **kw),
            [_rand(xs) * 3], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(dtype, shape, reduction, smoothing):
    p = np.random.default_rng(1).random(shape)
    p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    C = shape[1] if len(shape) > 1 else shape[0]
    w = np.random.default_rng(2).random(C).astype(dtype) + 0.5
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    # gradients flow into the logits and into the soft targets
    compare(lambda x, p: F.cross_entropy(x, p, minidl.tensor(w), **kw),
            lambda x, p: TF.cross_entropy(x, p, torch.tensor(w), **kw),
            [_rand(shape) * 2, p], dtype=dtype)


def test_cross_entropy_default_ignore_index_and_all_ignored():
    t = np.array([0, -100, 2, 1])
    compare(lambda x: F.cross_entropy(x, minidl.tensor(t)),
            lambda x: TF.cross_entropy(x, torch.tensor(t)), [_rand((4, 3))], dtype="float64")
    out = F.cross_entropy(minidl.randn(2, 3), minidl.tensor([-100, -100]))
    assert np.isnan(out.item())  # 0 / 0, as torch
    assert F.cross_entropy(minidl.randn(2, 3), minidl.tensor([-100, -100]),
                           reduction="sum").item() == 0


def test_cross_entropy_large_logits_are_stable():
    x = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]])
    compare(lambda x: F.cross_entropy(x, minidl.tensor([0, 2])),
            lambda x: TF.cross_entropy(x, torch.tensor([0, 2])), [x], dtype="float32")


def test_cross_entropy_legacy_reduction_args():
    x, t = minidl.randn(4, 3), minidl.tensor([0, 1, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isclose(F.cross_entropy(x, t, size_average=False).item(),
                          F.cross_entropy(x, t, reduction="sum").item())
        assert F.cross_entropy(x, t, reduce=False).shape == (4,)


def test_cross_entropy_fused_equals_composed():
    """The fused kernel equals log_softmax followed by nll_loss (and a hand-written smoothing)."""
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((6, 5))
    t = minidl.tensor([0, 4, 2, 2, -100, 1])
    w = minidl.tensor(rng.random(5) + 0.5)
    eps = 0.25

    def composed(x):
        logp = x.log_softmax(1)
        nll = F.nll_loss(logp, t, weight=w)
        valid = (t != -100).to(minidl.float64)
        smooth = -(logp * w).sum(1) * valid
        denom = (w[t.clamp(min=0)] * valid).sum()
        return (1 - eps) * nll + eps / 5 * smooth.sum() / denom

    outs, grads = [], []
    for fn in (lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=eps), composed):
        x = minidl.tensor(xs, requires_grad=True)
        y = fn(x)
        y.backward()
        outs.append(y.item())
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_gradcheck(smoothing):
    t = minidl.tensor([1, 0, -100])
    w = minidl.tensor([0.5, 1.0, 2.0], dtype=minidl.float64)
    gradcheck(lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=smoothing),
              [_rand((3, 3))])
    gradcheck(lambda x: F.cross_entropy(x, minidl.tensor([[0, 2]]), reduction="none",
                                        label_smoothing=smoothing), [_rand((1, 3, 2))])
    gradcheck(lambda x, p: F.cross_entropy(x, p, label_smoothing=smoothing),
              [_rand((2, 3)), np.random.default_rng(0).random((2, 3))])


def test_cross_entropy_errors():
    x = minidl.randn(4, 3)
    with pytest.raises(RuntimeError, match=r"Long or Byte.*input of shape \[4, 3\].*dtype "
                                           r"minidl.float32 and shape \[4\]"):
        F.cross_entropy(x, minidl.randn(4))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class "
                                           "probabilities, got minidl.int64"):
        F.cross_entropy(x, minidl.randint(0, 3, (4, 3)))
    with pytest.raises(RuntimeError, match="Long or Byte.*dtype minidl.int32"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, 0], dtype=minidl.int32))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 5\], got \[2, 4\]"):
        F.cross_entropy(minidl.randn(2, 3, 5), minidl.randint(0, 3, (2, 4)))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(RuntimeError, match=r"all 3 classes.*shape: \[4\]"):
        F.cross_entropy(x, minidl.tensor([0, 1, 2, 0]), weight=minidl.ones(4))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(x, minidl.rand(4, 3), ignore_index=1)


# ----------------------------------------------------------------------- NLL
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", CE_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(dtype, shapes, reduction):
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    t = _targets(ts, C, 1, ignore=-100 if ts else None)
    w = (np.random.default_rng(2).random(C) + 0.2).astype(dtype)
    compare(lambda x: F.nll_loss(x, minidl.tensor(t), minidl.tensor(w), reduction=reduction),
            lambda x: TF.nll_loss(x, torch.tensor(t), torch.tensor(w), reduction=reduction),
            [_rand(xs)], dtype=dtype)
    compare(lambda x: F.nll_loss(x, minidl.tensor(t), reduction=reduction),
            lambda x: TF.nll_loss(x, torch.tensor(t), reduction=reduction), [_rand(xs)],
            dtype=dtype, noncontiguous=len(xs) < 4)  # torch's 2-D NLL backward needs contiguity


def test_nll_loss_gradcheck_and_errors():
    gradcheck(lambda x: F.nll_loss(x, minidl.tensor([0, 2, 1]), reduction="sum"), [_rand((3, 3))])
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.nll_loss(minidl.randn(4, 3), minidl.tensor([0, 1, 2, 5]))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.nll_loss(minidl.randn(4, 3), minidl.randn(4))


# ------------------------------------------------------------ regression losses
POINTWISE = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
             ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
             ("huber_loss", {}), ("huber_loss", {"delta": 0.3})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", POINTWISE)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses(dtype, name, kw, reduction):
    x, y = _rand((4, 5)), _rand((4, 5), 1)
    compare(*_pair(getattr(F, name), getattr(TF, name), reduction=reduction, **kw), [x, y],
            dtype=dtype, noncontiguous=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcasting warning, as in torch
        compare(*_pair(getattr(F, name), getattr(TF, name), reduction=reduction, **kw),
                [x, y[:1]], dtype=dtype)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_pointwise_losses(name, reduction):
    x, y, w = _rand((3, 4)), _rand((3, 4), 1), np.random.default_rng(2).random((3, 4))
    for dtype in DTYPES:
        compare(*_pair(getattr(F, name), getattr(TF, name), reduction=reduction),
                [x, y, w][:2] + [], dtype=dtype)
        compare(lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c),
                lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c),
                [x, y, w], dtype=dtype)


@pytest.mark.parametrize("name,kw", POINTWISE)
def test_pointwise_losses_gradcheck(name, kw):
    x, y = _rand((2, 3)), _rand((2, 3), 1)
    gradcheck(lambda a, b: getattr(F, name)(a, b, **kw), [x, y])


def test_pointwise_loss_promotion_and_errors():
    promoted = F.mse_loss(minidl.randn(3), minidl.randn(3, dtype=minidl.float64))
    assert promoted.dtype == minidl.float64
    with pytest.raises(RuntimeError, match=r"shape \[4, 3\].*shape \[5, 1\]"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.mse_loss(minidl.randn(4, 3), minidl.randn(5, 1))
    with pytest.warns(UserWarning, match="target size"):
        F.l1_loss(minidl.randn(4, 3), minidl.randn(4, 1))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(minidl.randn(3), minidl.randn(3), beta=-1)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(minidl.randn(3), minidl.randn(3), delta=0)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(minidl.randn(4, 3), minidl.randn(4, 3), weight=minidl.rand(3))


# ------------------------------------------------------------- binary losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(dtype, reduction, weighted):
    rng = np.random.default_rng(0)
    p, t = rng.random((4, 3)) * 0.9 + 0.05, rng.random((4, 3))
    w = rng.random(3).astype(dtype) if weighted else None
    mw, tw = (None, None) if w is None else (minidl.tensor(w), torch.tensor(w))
    compare(lambda a, b: F.binary_cross_entropy(a, b, mw, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, tw, reduction=reduction), [p, t],
            dtype=dtype, noncontiguous=True)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for dtype in DTYPES:
        compare(lambda a, dtype=dtype: F.binary_cross_entropy(a, minidl.tensor(t.astype(dtype)),
                                                               reduction="none"),
                lambda a, dtype=dtype: TF.binary_cross_entropy(a, torch.tensor(t.astype(dtype)),
                                                                reduction="none"),
                [x], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(dtype, reduction, weighted, pos_weighted):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)) * 5, rng.random((4, 3))
    w = rng.random((4, 1)).astype(dtype) if weighted else None
    pw = (rng.random(3) * 3).astype(dtype) if pos_weighted else None

    def conv(a, lib):
        return None if a is None else lib.tensor(a)
    compare(lambda a, b: F.binary_cross_entropy_with_logits(
                a, b, conv(w, minidl), reduction=reduction, pos_weight=conv(pw, minidl)),
            lambda a, b: TF.binary_cross_entropy_with_logits(
                a, b, conv(w, torch), reduction=reduction, pos_weight=conv(pw, torch)),
            [x, t], dtype=dtype, noncontiguous=True)


def test_binary_cross_entropy_with_logits_extreme_logits_are_stable():
    x = np.array([-200.0, -50.0, 0.0, 50.0, 200.0])
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"), [x, t],
            dtype="float32")


def test_binary_losses_gradcheck():
    rng = np.random.default_rng(1)
    p, t = rng.random((2, 3)) * 0.8 + 0.1, rng.random((2, 3))
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])
    gradcheck(lambda a, b, w: F.binary_cross_entropy(a, b, weight=w, reduction="sum"),
              [p, t, rng.random(3)])
    gradcheck(lambda a, b, w, pw: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw),
              [rng.standard_normal((2, 3)), t, rng.random((2, 1)), rng.random(3) + 0.5])


def test_binary_losses_errors():
    with pytest.raises(ValueError, match=r"target size \(minidl.Size\(\[4, 1\]\)\) that is "
                                         r"different to the input size"):
        F.binary_cross_entropy(minidl.rand(4), minidl.rand(4, 1))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(minidl.rand(4) * 2, minidl.rand(4))
    with pytest.raises(RuntimeError, match="minidl.int64 for target but expected minidl.float32"):
        F.binary_cross_entropy(minidl.rand(4), minidl.randint(0, 2, (4,)))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(minidl.rand(4), minidl.rand(4, 1))
    with pytest.raises(RuntimeError, match=r"pos_weight of shape \[3\]"):
        F.binary_cross_entropy_with_logits(minidl.randn(3, 4), minidl.rand(3, 4),
                                           pos_weight=minidl.rand(3))


# ------------------------------------------------------------------------ KL
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(dtype, reduction, log_target):
    rng = np.random.default_rng(0)
    q = rng.random((3, 4)) + 0.05
    target = np.log(q) if log_target else q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(*_pair(F.kl_div, TF.kl_div, reduction=reduction, log_target=log_target),
                [rng.standard_normal((3, 4)), target], dtype=dtype, noncontiguous=True)


def test_kl_div_zero_targets_and_gradcheck():
    t = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    compare(lambda a: F.kl_div(a, minidl.tensor(t), reduction="batchmean"),
            lambda a: TF.kl_div(a, torch.tensor(t), reduction="batchmean"),
            [_rand((2, 3))], dtype="float64")
    rng = np.random.default_rng(2)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"),
              [rng.standard_normal((2, 3)), rng.random((2, 3)) + 0.1])
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
              [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))])
