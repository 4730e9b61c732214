"""Exponentially weighted averages: the recursion, bias correction, and Adam's moments."""
import io

import numpy as np
import pytest
import torch

import minidl
from minidl.optim.ewma import EWMA, ewma
from minidl.serialization import load, save


def test_recursion_and_correction_by_hand():
    avg = EWMA(0.5)
    assert avg.update(4.0) == 2.0  # 0.5 * 0 + 0.5 * 4
    assert avg.corrected == 4.0  # 2 / (1 - 0.5)
    assert avg.update(2.0) == 2.0  # 0.5 * 2 + 0.5 * 2
    assert avg.corrected == pytest.approx(2.0 / 0.75)
    assert avg.t == 2


def test_corrected_average_of_a_constant_is_the_constant():
    out = ewma([3.0] * 50, beta=0.98)
    np.testing.assert_allclose(out, 3.0, rtol=1e-12)
    raw = ewma([3.0] * 50, beta=0.98, bias_correction=False)
    np.testing.assert_allclose(raw, 3.0 * (1 - 0.98 ** np.arange(1, 51)), rtol=1e-12)


def test_sequence_function_equals_explicit_weights():
    x = np.random.default_rng(0).normal(size=(30, 3))
    beta = 0.9
    t = len(x)
    weights = (1 - beta) * beta ** np.arange(t - 1, -1, -1)
    v = weights @ x
    out = ewma(x, beta)
    assert out.shape == (30, 3)
    np.testing.assert_allclose(out[-1], v / (1 - beta ** t), rtol=1e-12)
    np.testing.assert_allclose(ewma(x, beta, bias_correction=False)[-1], v, rtol=1e-12)
    assert ewma([], 0.9).shape == (0,)


def test_adam_first_moment_is_the_corrected_ewma_of_the_gradients():
    rng = np.random.default_rng(1)
    beta1, beta2 = 0.8, 0.95
    w = torch.tensor(rng.normal(size=4), requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05, betas=(beta1, beta2))
    m, v = EWMA(beta1), EWMA(beta2)
    target = torch.tensor(rng.normal(size=4))
    for t in range(1, 26):
        opt.zero_grad()
        ((w - target) ** 4).sum().backward()
        g = w.grad.numpy().copy()
        opt.step()
        m.update(g)
        v.update(g * g)
        state = opt.state[w]
        np.testing.assert_allclose(m.corrected, state["exp_avg"].numpy() / (1 - beta1 ** t),
                                   rtol=1e-10)
        np.testing.assert_allclose(v.corrected, state["exp_avg_sq"].numpy() / (1 - beta2 ** t),
                                   rtol=1e-10)
        np.testing.assert_allclose(m.value, state["exp_avg"].numpy(), rtol=1e-10)


def test_minidl_adam_matches_ewma():
    w = minidl.tensor([1.0, -2.0, 0.5], dtype=minidl.float64, requires_grad=True)
    opt = minidl.optim.Adam([w], lr=0.1)
    m = EWMA(0.9)
    for _ in range(10):
        opt.zero_grad()
        (w ** 3).sum().backward()
        m.update(w.grad)
        opt.step()
    np.testing.assert_allclose(m.value, opt.state[w]["exp_avg"].numpy(), rtol=1e-12)


def test_state_dict_round_trip():
    xs = np.random.default_rng(2).normal(size=(12, 2))
    full = EWMA(0.7)
    for x in xs:
        full.update(x)
    part = EWMA(0.7)
    for x in xs[:5]:
        part.update(x)
    buf = io.BytesIO()
    save(part.state_dict(), buf)
    buf.seek(0)
    resumed = EWMA(0.1)
    resumed.load_state_dict(load(buf))
    for x in xs[5:]:
        resumed.update(x)
    assert resumed.t == 12 and resumed.beta == 0.7
    np.testing.assert_array_equal(resumed.corrected, full.corrected)
    empty = EWMA(0.5)
    empty.load_state_dict(EWMA(0.3).state_dict())
    assert empty.t == 0 and empty.beta == 0.3


def test_errors():
    for beta in (1.0, -0.1, "0.9", True):
        with pytest.raises(ValueError, match="beta must be a number in"):
            EWMA(beta)
    with pytest.raises(RuntimeError, match="before the first update"):
        _ = EWMA().corrected
    avg = EWMA()
    avg.update(np.zeros(3))
    with pytest.raises(ValueError, match=r"got shape \(2,\), but the average has shape \(3,\)"):
        avg.update(np.zeros(2))
    with pytest.raises(TypeError, match="must be numbers or arrays"):
        EWMA().update({"a": 1})
