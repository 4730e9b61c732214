"""pdist: the distances between the rows of one matrix, against torch's."""
import numpy as np
import pytest
import torch

import minidl
import minidl.nn.functional as F


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, float("inf")])
def test_values_and_gradients_equal_torch_including_equal_rows(p):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4))
    x[4] = x[1]  # a zero distance: torch's gradient there is 0
    t = torch.tensor(x, requires_grad=True)
    want = torch.pdist(t, p)
    g = rng.normal(size=want.shape)
    want.backward(torch.from_numpy(g))
    m = minidl.tensor(x, requires_grad=True)
    got = F.pdist(m, p)
    got.backward(minidl.from_numpy(g))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert minidl.pdist is F.pdist


def test_refusals_name_the_problem():
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        F.pdist(minidl.zeros(2, 3, 4))
    with pytest.raises(RuntimeError, match="floating-point"):
        F.pdist(minidl.zeros(3, 2, dtype=minidl.int64))
    with pytest.raises(RuntimeError, match="non-negative p"):
        F.pdist(minidl.zeros(3, 2), -1)
    assert tuple(F.pdist(minidl.zeros(1, 3)).shape) == (0,)
