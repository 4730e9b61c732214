"""L2 / L1 penalties: values, gradients, and how they relate to weight_decay and AdamW."""
import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from minidl import optim
from minidl.train.regularization import l1_penalty, l2_penalty

STEPS = 15
WD = 0.1


def data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(8, 4)),
            rng.normal(size=(8, 3)))


def train(lib, opt_name, penalty=None, **opt_kw):
    """A linear least-squares fit; ``penalty='l2'`` adds WD/2 * sum ||w||^2 to the loss."""
    w0, b0, x, y = data()
    if lib == "torch":
        w, b = (torch.tensor(a, requires_grad=True) for a in (w0, b0))
        x, y = torch.tensor(x), torch.tensor(y)
        opt = getattr(torch.optim, opt_name)([w, b], lr=0.05, **opt_kw)
    else:
        w, b = (minidl.tensor(a, dtype=minidl.float64, requires_grad=True) for a in (w0, b0))
        x, y = minidl.tensor(x, dtype=minidl.float64), minidl.tensor(y, dtype=minidl.float64)
        opt = getattr(optim, opt_name)([w, b], lr=0.05, **opt_kw)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        if penalty == "l2":
            loss = loss + l2_penalty([w, b], WD)
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in (w, b)]


def close(a, b):
    return all(np.allclose(p, q, rtol=1e-10, atol=1e-12) for p, q in zip(a, b))


def test_sgd_weight_decay_equals_explicit_l2_penalty():
    penalised = train("minidl", "SGD", penalty="l2", momentum=0.9)
    decayed = train("minidl", "SGD", weight_decay=WD, momentum=0.9)
    torch_decayed = train("torch", "SGD", weight_decay=WD, momentum=0.9)
    assert close(penalised, decayed)
    assert close(penalised, torch_decayed)
    assert not close(penalised, train("minidl", "SGD", momentum=0.9))


def test_adam_with_l2_is_coupled_decay_and_differs_from_adamw():
    adam_l2 = train("minidl", "Adam", penalty="l2")
    assert close(adam_l2, train("minidl", "Adam", weight_decay=WD))
    assert close(adam_l2, train("torch", "Adam", weight_decay=WD))
    adamw = train("minidl", "AdamW", weight_decay=WD)
    assert close(adamw, train("torch", "AdamW", weight_decay=WD))
    assert not close(adam_l2, adamw)
    assert np.abs(adam_l2[0] - adamw[0]).max() > 1e-4


def test_penalty_values_and_gradients_equal_torch():
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    ours = [minidl.tensor(a, dtype=minidl.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    l2 = l2_penalty(ours, 0.3)
    l2_t = 0.3 / 2 * sum((t ** 2).sum() for t in theirs)
    l1 = l1_penalty(iter(ours), 0.2)
    l1_t = 0.2 * sum(t.abs().sum() for t in theirs)
    assert l2.shape == () and l1.shape == ()
    np.testing.assert_allclose(l2.item(), l2_t.item(), rtol=1e-12)
    np.testing.assert_allclose(l1.item(), l1_t.item(), rtol=1e-12)
    (l2 + l1).backward()
    (l2_t + l1_t).backward()
    for o, t, a in zip(ours, theirs, arrays):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(o.grad.numpy(), 0.3 * a + 0.2 * np.sign(a), rtol=1e-12)


def test_accepts_a_module_or_a_tensor():
    lin = nn.Linear(3, 2)
    expected = sum(float((p.detach().numpy().astype(np.float64) ** 2).sum())
                   for p in lin.parameters())
    np.testing.assert_allclose(l2_penalty(lin, 2.0).item(), expected, rtol=1e-5)
    np.testing.assert_allclose(l1_penalty(lin.weight, 1.0).item(),
                               np.abs(lin.weight.detach().numpy()).sum(), rtol=1e-5)
    assert l2_penalty(lin, 0.0).item() == 0.0


@pytest.mark.parametrize("call,error,match", [
    (lambda: l2_penalty([minidl.ones(2)], -1.0), ValueError, "weight_decay must be a finite"),
    (lambda: l1_penalty([minidl.ones(2)], float("inf")), ValueError, "strength must be a finite"),
    (lambda: l2_penalty([], 0.1), ValueError, "got no parameters"),
    (lambda: l2_penalty(5, 0.1), TypeError, "must be a Module, a Tensor or an iterable"),
    (lambda: l1_penalty([minidl.ones(2), np.ones(2)], 0.1), TypeError,
     r"parameters\[1\] is a ndarray"),
    (lambda: l2_penalty([minidl.ones(2, dtype=minidl.int64)], 0.1), TypeError,
     "floating-point"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
