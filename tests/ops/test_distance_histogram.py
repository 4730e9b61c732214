"""cosine_similarity / pairwise_distance / normalize (values and gradients) and bincount /
histc against torch, with torch's errors."""
import numpy as np
import pytest
import torch

import minidl

R = np.random.default_rng(0)
A, B = R.standard_normal((4, 5)), R.standard_normal((4, 5))


def _both(name, a, b, **kw):
    out = []
    for lib in (minidl, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        r = getattr(lib.nn.functional, name)(x, y, **kw)
        (r * lib.tensor(np.arange(r.numel(), dtype=np.float64).reshape(tuple(r.shape)))
         ).sum().backward()
        out.append((r.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    return out


@pytest.mark.parametrize("name, b, kw", [
    ("cosine_similarity", B, {}), ("cosine_similarity", B, {"dim": 0}),
    ("cosine_similarity", B[:1], {}), ("cosine_similarity", np.zeros((4, 5)), {}),
    ("cosine_similarity", B, {"eps": 10.0}), ("pairwise_distance", B, {}),
    ("pairwise_distance", B, {"p": 1.0, "keepdim": True}),
    ("pairwise_distance", B[:1], {"p": 3.0, "eps": 0.1})])
def test_distances_and_gradients_match_torch(name, b, kw):
    (m, mga, mgb), (t, tga, tgb) = _both(name, A, b, **kw)
    assert m.shape == t.shape
    for x, y in ((m, t), (mga, tga), (mgb, tgb)):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"p": 1.0}, {"eps": 10.0}])
def test_normalize_matches_torch(kw):
    got = []
    for lib in (minidl, torch):
        x = lib.tensor(A, requires_grad=True)
        y = lib.nn.functional.normalize(x, **kw)
        (y * lib.tensor(B)).sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    for x, y in zip(*got):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_layers_match_functions():
    x, y = minidl.tensor(A), minidl.tensor(B)
    F = minidl.nn.functional
    assert minidl.equal(minidl.nn.CosineSimilarity(dim=0)(x, y), F.cosine_similarity(x, y, 0))
    assert minidl.equal(minidl.nn.PairwiseDistance(p=1.0)(x, y), F.pairwise_distance(x, y, 1.0))


@pytest.mark.parametrize("values, kw", [
    ([1, 1, 3], {}), ([2], {"minlength": 5}), ([], {}), ([0, 4, 4, 1], {"minlength": 2}),
    ([1, 1, 3], {"weights": [0.5, 1.0, 2.0]}), ([1, 1, 3], {"weights": [1, 2, 3]})])
def test_bincount_matches_torch(values, kw):
    res = []
    for lib in (minidl, torch):
        w = kw.get("weights")
        args = dict(kw, weights=None if w is None else lib.tensor(w))
        res.append(lib.bincount(lib.tensor(values, dtype=lib.int64), **args))
    assert str(res[0].dtype).split(".")[1] == str(res[1].dtype).split(".")[1]
    assert res[0].tolist() == res[1].tolist()


@pytest.mark.parametrize("bad, err", [
    (lambda lib: lib.bincount(lib.tensor([-1])), RuntimeError),
    (lambda lib: lib.bincount(lib.tensor([[1]])), RuntimeError),
    (lambda lib: lib.bincount(lib.tensor([1.0])), NotImplementedError),
    (lambda lib: lib.bincount(lib.tensor([1]), minlength=-1), RuntimeError),
    (lambda lib: lib.bincount(lib.tensor([1]), minlength=2.5), TypeError),
    (lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0])), RuntimeError),
    (lambda lib: lib.histc(lib.tensor([1, 2])), NotImplementedError),
    (lambda lib: lib.histc(lib.tensor([1.0]), bins=0), RuntimeError),
    (lambda lib: lib.histc(lib.tensor([1.0]), min=2, max=1), RuntimeError)])
def test_counting_errors_match_torch(bad, err):
    for lib in (minidl, torch):
        with pytest.raises(err):
            bad(lib)


@pytest.mark.parametrize("values, kw", [
    ([1.0, 2, 1], {"bins": 4, "min": 0, "max": 3}), ([1.0, 2, 1, 5], {"bins": 4}),
    ([2.0, 2.0], {"bins": 3}), (list(R.standard_normal(500)), {"bins": 7, "min": -1, "max": 1}),
    (list(R.standard_normal(500)), {}), ([], {"bins": 3})])
def test_histc_matches_torch(values, kw):
    m = minidl.histc(minidl.tensor(values, dtype=minidl.float64), **kw)
    t = torch.histc(torch.tensor(values, dtype=torch.float64), **kw)
    assert m.tolist() == t.tolist() and m.dtype == minidl.float64
