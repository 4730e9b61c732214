"""nn.utils against torch: gradient clipping and flat parameter vectors."""
import math

import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from minidl.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def _pair(grads):
    m = [nn.Parameter(minidl.tensor(np.ones_like(g))) for g in grads]
    t = [torch.nn.Parameter(torch.tensor(np.ones_like(g))) for g in grads]
    for mp, tp, g in zip(m, t, grads):
        mp.grad = minidl.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())
    return m, t


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_equals_torch(norm_type, max_norm, dtype):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(5).astype(dtype)]
    m, t = _pair(grads)
    m_total = clip_grad_norm_(m, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t, max_norm, norm_type)
    assert m_total.dtype.name == str(t_total.dtype).split(".")[-1]
    np.testing.assert_allclose(m_total.item(), t_total.item(), rtol=1e-5)
    for mp, tp in zip(m, t):
        np.testing.assert_allclose(mp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(minidl.ones(3))
    assert clip_grad_norm_([p], 1.0).item() == 0  # no gradients at all
    p.grad = minidl.tensor([np.inf, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = nn.Parameter(minidl.ones(2))
    q.grad = minidl.tensor([3.0, 4.0])
    assert clip_grad_norm_(q, 1.0).item() == pytest.approx(5.0)  # a single tensor works
    np.testing.assert_allclose(q.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_value_equals_torch():
    rng = np.random.default_rng(1)
    m, t = _pair([rng.standard_normal((4, 4)) * 3])
    clip_grad_value_(m, 1.5)
    torch.nn.utils.clip_grad_value_(t, 1.5)
    np.testing.assert_array_equal(m[0].grad.numpy(), t[0].grad.numpy())


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    v = parameters_to_vector(lin.parameters())
    assert v.shape == (8,)
    np.testing.assert_array_equal(v.detach().numpy()[:6], lin.weight.detach().numpy().ravel())
    vector_to_parameters(minidl.arange(8, dtype=minidl.float32), lin.parameters())
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [6, 7])
    (parameters_to_vector(lin.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(lin.bias.grad.numpy(), [12, 14])
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        vector_to_parameters([1, 2], lin.parameters())
