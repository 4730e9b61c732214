"""nn.init against torch: gains, fans, the bounds / spreads of every initialiser, seeding."""
import math
import warnings

import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from minidl.nn import init


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None),
                                                ("sigmoid", None), ("tanh", None),
                                                ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_equals_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_fans_and_errors():
    assert init._calculate_fan_in_and_fan_out(minidl.empty(8, 4, 3, 3)) == (36, 72)
    assert init._calculate_fan_in_and_fan_out(minidl.empty(5, 7)) == (7, 5)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(minidl.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(minidl.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")


def _spread(a):
    a = a.detach().numpy().astype(np.float64)
    return np.abs(a).max(), a.std(), a.mean()


@pytest.mark.parametrize("name,kwargs,kind,scale", [
    ("uniform_", {"a": -2.0, "b": 3.0}, "range", (-2.0, 3.0)),
    ("normal_", {"mean": 1.0, "std": 0.5}, "normal", (1.0, 0.5)),
    ("xavier_uniform_", {"gain": 2.0}, "uniform", 2.0 * math.sqrt(6 / (60 + 40))),
    ("xavier_normal_", {}, "normal", (0.0, math.sqrt(2 / (60 + 40)))),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, "uniform", 1 / math.sqrt(60)),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, "uniform",
     math.sqrt(2) * math.sqrt(3 / 40)),
    ("kaiming_normal_", {}, "normal", (0.0, math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(60))),
    ("trunc_normal_", {"std": 0.5, "a": -0.6, "b": 0.4}, "range", (-0.6, 0.4)),
])
def test_initialisers_match_torch_distribution(name, kwargs, kind, scale):
    shape = (40, 60)
    minidl.manual_seed(0)
    torch.manual_seed(0)
    m = getattr(init, name)(minidl.empty(*shape), **kwargs)
    t = getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs)
    mv, tv = m.numpy().astype(np.float64), t.numpy().astype(np.float64)
    assert m.dtype == minidl.float32
    if kind == "range":
        lo, hi = scale
        assert mv.min() >= lo and mv.max() <= hi
    elif kind == "uniform":
        assert np.abs(mv).max() <= scale * (1 + 1e-6) and np.abs(mv).max() > 0.95 * scale
    else:
        mean, std = scale
        assert abs(mv.mean() - mean) < 5 * std / math.sqrt(mv.size)
    # the same distribution as torch's samples: means and spreads agree closely
    assert abs(mv.mean() - tv.mean()) < 6 * tv.std() / math.sqrt(mv.size)
    assert abs(mv.std() - tv.std()) < 0.1 * tv.std()  # 5 standard errors


def test_constant_eye_dirac_orthogonal():
    assert (init.constant_(minidl.empty(2, 3), 0.3).numpy() == np.float32(0.3)).all()
    assert (init.ones_(minidl.empty(2)).numpy() == 1).all()
    assert (init.zeros_(minidl.empty(2)).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(minidl.empty(2, 3)).numpy(),
                                  torch.nn.init.eye_(torch.empty(2, 3)).numpy())
    np.testing.assert_array_equal(init.dirac_(minidl.empty(4, 2, 3, 3), groups=2).numpy(),
                                  torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2).numpy())
    q = init.orthogonal_(minidl.empty(3, 5, dtype=minidl.float64), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-12)
    q = init.orthogonal_(minidl.empty(6, 2, 2, dtype=minidl.float64)).numpy().reshape(6, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-12)


def test_init_is_seeded_writes_in_place_and_accepts_generator():
    p = nn.Parameter(minidl.empty(3, 4))
    before = p._version
    minidl.manual_seed(0)
    out = init.kaiming_normal_(p)
    assert out is p and p._version > before and p.requires_grad and p.grad_fn is None
    a = p.detach().numpy().copy()
    minidl.manual_seed(0)
    init.kaiming_normal_(p)
    np.testing.assert_array_equal(a, p.detach().numpy())
    g1, g2 = minidl.Generator().manual_seed(7), minidl.Generator().manual_seed(7)
    x = init.uniform_(minidl.empty(5), generator=g1).numpy()
    y = init.uniform_(minidl.empty(5), generator=g2).numpy()
    np.testing.assert_array_equal(x, y)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.kaiming_uniform_(minidl.empty(0, 3))
    assert "zero-element" in str(w[0].message)


def test_init_outside_the_graph():
    lin = nn.Linear(3, 2)
    init.xavier_uniform_(lin.weight)
    y = lin(minidl.randn(4, 3)).sum()
    y.backward()
    assert lin.weight.grad.shape == (2, 3)


@pytest.mark.parametrize("shape,sparsity", [((20, 30), 0.1), ((7, 50), 0.5), ((10, 4), 0.0),
                                            ((5, 3), 1.0), ((9, 40), 0.34)])
def test_sparse_zeros_per_column_and_spread_match_torch(shape, sparsity):
    minidl.manual_seed(0)
    torch.manual_seed(0)
    m = init.sparse_(minidl.empty(*shape), sparsity, std=0.5).numpy().astype(np.float64)
    t = torch.nn.init.sparse_(torch.empty(*shape), sparsity, std=0.5).numpy().astype(np.float64)
    assert m.dtype == t.dtype and m.shape == t.shape
    # the same number of zeros in every column as torch: ceil(sparsity * rows)
    np.testing.assert_array_equal((m == 0).sum(0), (t == 0).sum(0))
    assert ((m == 0).sum(0) == math.ceil(sparsity * shape[0])).all()
    kept = m[m != 0]
    if kept.size > 100:
        assert abs(kept.std() - 0.5) < 0.1 and abs(kept.mean()) < 0.15


def test_sparse_rows_are_random_and_seeded():
    minidl.manual_seed(1)
    a = init.sparse_(minidl.empty(50, 200), 0.1).numpy()
    assert np.abs(a[a != 0]).max() < 0.01 * 6  # default std=0.01
    hits = (a == 0).mean(1)  # each row zeroed in about 10% of the columns
    assert hits.min() > 0.0 and hits.max() < 0.3
    minidl.manual_seed(1)
    np.testing.assert_array_equal(a, init.sparse_(minidl.empty(50, 200), 0.1).numpy())
    g1, g2 = minidl.Generator().manual_seed(3), minidl.Generator().manual_seed(3)
    np.testing.assert_array_equal(init.sparse_(minidl.empty(6, 5), 0.5, generator=g1).numpy(),
                                  init.sparse_(minidl.empty(6, 5), 0.5, generator=g2).numpy())


def test_sparse_errors():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(minidl.empty(2, 3, 4), 0.1)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        torch.nn.init.sparse_(torch.empty(2, 3, 4), 0.1)
    for bad in (-0.1, 1.5, "half", None):
        with pytest.raises(ValueError, match=r"sparsity must be a fraction in \[0, 1\]"):
            init.sparse_(minidl.empty(3, 3), bad)
    with pytest.raises(ValueError, match="std must be >= 0"):
        init.sparse_(minidl.empty(3, 3), 0.1, std=-1.0)
    with pytest.raises(TypeError, match="argument 'tensor' must be Tensor"):
        init.sparse_(np.zeros((3, 3)), 0.1)


@pytest.mark.parametrize("old,args", [("sparse", (0.5,)), ("eye", ()), ("dirac", ())])
def test_deprecated_spellings_warn_like_torch(old, args):
    shape = (4, 4, 3) if old == "dirac" else (4, 4)
    with pytest.warns(FutureWarning, match=f"nn.init.{old} is now deprecated"):
        m = getattr(init, old)(minidl.empty(*shape), *args)
    with pytest.warns(FutureWarning, match=f"nn.init.{old}` is now deprecated"):
        t = getattr(torch.nn.init, old)(torch.empty(*shape), *args)
    if old == "sparse":
        np.testing.assert_array_equal((m.numpy() == 0).sum(0), (t.numpy() == 0).sum(0))
    else:
        np.testing.assert_array_equal(m.numpy(), t.numpy())
