"""Shape, statistics and small-product additions and the Tensor extras, against torch:
values, dtypes, shapes, errors and gradients."""
import warnings

import numpy as np
import pytest
import torch

import minidl

RNG = np.random.default_rng(0)


def both(a, grad=False):
    return minidl.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def same(ours, theirs, rtol=0.0, atol=0.0):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t, rtol, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol, equal_nan=True)


def grads_match(fn_ours, fn_torch, a, rtol=1e-10):
    x, xt = both(a, grad=True)
    fn_ours(x).sum().backward()
    fn_torch(xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("spec", ["3", "[-1]", "[3, 1]", "[-10, 20]", "[2, 2, 5]", "1"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split(spec, dim):
    a = RNG.standard_normal((7, 5))
    x, xt = both(a)
    same(minidl.tensor_split(x, eval(spec), dim), torch.tensor_split(xt, eval(spec), dim))
    same(x.tensor_split(minidl.tensor(eval(spec)), dim),
         xt.tensor_split(torch.tensor(eval(spec)), dim))
    grads_match(lambda t: sum((p * i).sum() for i, p in enumerate(t.tensor_split(eval(spec),
                                                                                 dim))),
                lambda t: sum((p * i).sum() for i, p in enumerate(t.tensor_split(eval(spec),
                                                                                 dim))), a)


def test_tensor_split_errors():
    x = minidl.arange(7)
    with pytest.raises(RuntimeError, match="larger than 0, got 0"):
        minidl.tensor_split(x, 0)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        minidl.tensor_split(minidl.tensor(1.0), 2)
    with pytest.raises(RuntimeError, match="dtype of long, but got Float"):
        minidl.tensor_split(x, minidl.tensor([1.0]))
    with pytest.raises(RuntimeError, match="with 2 dims"):
        minidl.tensor_split(x, minidl.tensor([[1]]))


def test_ravel_and_numel():
    a = RNG.standard_normal((3, 4))
    x, xt = both(a)
    same(minidl.ravel(x.T), torch.ravel(xt.T))
    assert x.ravel()._base is x and x.T.ravel()._base is None
    assert minidl.numel(x) == torch.numel(xt)


@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", [(3, 3, 0), (3, 5, 1), (4, 2, -1), (0, 3, 0), (3, 3, -5)])
def test_triangle_indices(fn, args):
    same(getattr(minidl, fn)(*args), getattr(torch, fn)(*args))
    same(getattr(minidl, fn)(*args, dtype=minidl.int32),
         getattr(torch, fn)(*args, dtype=torch.int32))
    with pytest.raises(NotImplementedError, match="'Byte'"):
        getattr(minidl, fn)(*args, dtype=minidl.uint8)
    with pytest.raises(RuntimeError, match="row must be non-negative"):
        getattr(minidl, fn)(-1, 3)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("dim", [0, -1])
def test_diff(n, dim):
    a = RNG.standard_normal((4, 5))
    x, xt = both(a)
    same(minidl.diff(x, n, dim), torch.diff(xt, n, dim), atol=1e-12)
    pre, app = RNG.standard_normal((2, 5)), RNG.standard_normal((1, 5))
    if dim == -1:
        pre, app = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 1))
    same(x.diff(n, dim, minidl.tensor(pre), minidl.tensor(app)),
         xt.diff(n, dim, torch.tensor(pre), torch.tensor(app)), atol=1e-12)
    grads_match(lambda t: minidl.diff(t, n, dim) * 3, lambda t: torch.diff(t, n, dim) * 3, a)
    i = minidl.tensor([1, 3, 6, 10])
    same(minidl.diff(i, n), torch.diff(torch.tensor([1, 3, 6, 10]), n))
    same(minidl.diff(minidl.tensor([True, False, False])),
         torch.diff(torch.tensor([True, False, False])))


def test_diff_errors():
    with pytest.raises(RuntimeError, match="order must be non-negative"):
        minidl.diff(minidl.arange(3), -1)
    with pytest.raises(RuntimeError, match="at least one-dimensional"):
        minidl.diff(minidl.tensor(1.0))
    with pytest.raises(RuntimeError, match="same dimension as input"):
        minidl.diff(minidl.arange(3), prepend=minidl.tensor([[1]]))
    with pytest.raises(TypeError, match="'prepend'"):
        minidl.diff(minidl.arange(3), prepend=1)


def test_trace_kron_cross():
    a = RNG.standard_normal((3, 4))
    x, xt = both(a)
    same(minidl.trace(x), torch.trace(xt))
    same(minidl.arange(6).reshape(2, 3).trace(), torch.arange(6).reshape(2, 3).trace())
    grads_match(minidl.trace, torch.trace, a)
    with pytest.raises(RuntimeError, match="expected a matrix"):
        minidl.trace(minidl.ones(3))
    with pytest.raises(NotImplementedError, match="'Bool'"):
        minidl.trace(minidl.ones(2, 2, dtype=minidl.bool))
    b = RNG.standard_normal((2, 1, 3))
    for p, q in ((a, b), (b, a), (a[0], a)):
        same(minidl.kron(minidl.tensor(p), minidl.tensor(q)),
             torch.kron(torch.tensor(p), torch.tensor(q)), atol=1e-15)
        grads_match(lambda t, q=q: minidl.kron(t, minidl.tensor(q)) ** 2,
                    lambda t, q=q: torch.kron(t, torch.tensor(q)) ** 2, p)
    same(minidl.kron(minidl.tensor(2), minidl.tensor([1, 2])),
         torch.kron(torch.tensor(2), torch.tensor([1, 2])))
    u, v = RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    same(minidl.cross(minidl.tensor(u), minidl.tensor(v), dim=1),
         torch.cross(torch.tensor(u), torch.tensor(v), dim=1), atol=1e-15)
    grads_match(lambda t: minidl.cross(t, minidl.tensor(v), dim=-1) * minidl.tensor(u),
                lambda t: torch.cross(t, torch.tensor(v), dim=-1) * torch.tensor(u), u)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same(minidl.tensor(u.T).cross(minidl.tensor(u.T[::-1].copy())),
             torch.tensor(u.T).cross(torch.tensor(u.T[::-1].copy())), atol=1e-15)
    assert any("deprecated" in str(w.message) for w in caught)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        minidl.cross(minidl.ones(2, 3), minidl.ones(3), dim=-1)
    with pytest.raises(RuntimeError, match="must have length 3"):
        minidl.cross(minidl.ones(2, 4), minidl.ones(2, 4), dim=1)
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        minidl.cross(minidl.tensor([1, 2, 3]), minidl.tensor([1.0, 0, 0]), dim=0)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1])
def test_cummax_cummin(name, dim):
    a = np.array([[1.0, 3, 3, np.nan, 5, np.nan], [2, 1, 1, 0, 4, 4], [0, 0, -1, -1, 7, 7]])
    x, xt = both(a)
    same(getattr(minidl, name)(x, dim), getattr(torch, name)(xt, dim))
    same(getattr(minidl.tensor([3, 1, 3, 5]), name)(0),
         getattr(torch.tensor([3, 1, 3, 5]), name)(0))
    b = a[1:]
    grads_match(lambda t: getattr(t, name)(dim).values * 2,
                lambda t: getattr(t, name)(dim).values * 2, b)
    same(getattr(minidl, name)(minidl.tensor(2.0), 0), getattr(torch, name)(torch.tensor(2.0), 0))


@pytest.mark.parametrize("k, dim, keepdim", [(1, -1, False), (3, 0, True), (5, 1, False)])
def test_kthvalue(k, dim, keepdim):
    a = RNG.standard_normal((4, 5))
    x, xt = both(a)
    if k > a.shape[dim]:
        with pytest.raises(IndexError, match="k out of range"):
            minidl.kthvalue(x, k, dim)
        return
    same(minidl.kthvalue(x, k, dim, keepdim), torch.kthvalue(xt, k, dim, keepdim))
    grads_match(lambda t: t.kthvalue(k, dim, keepdim).values,
                lambda t: t.kthvalue(k, dim, keepdim).values, a)


MODES = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quantile(fn, mode, dim, keepdim, dtype):
    a = RNG.standard_normal((4, 5)).astype(dtype)
    a[1, 2] = np.nan
    a[3] = np.nan
    rtol = 1e-6 if dtype == "float32" else 1e-13  # torch's lerp uses a fused multiply-add
    for q in (0.3, 1.0, np.array([0.0, 0.25, 0.5, 0.9], dtype)):
        mq = minidl.tensor(q) if isinstance(q, np.ndarray) else q
        tq = torch.tensor(q) if isinstance(q, np.ndarray) else q
        x, xt = both(a)
        same(getattr(minidl, fn)(x, mq, dim, keepdim, interpolation=mode),
             getattr(torch, fn)(xt, tq, dim, keepdim, interpolation=mode), rtol=rtol,
             atol=rtol / 10)
    c = np.abs(RNG.standard_normal((4, 5))) + np.arange(20).reshape(4, 5)
    qs = [0.3, 0.7]
    grads_match(lambda t: getattr(t, fn)(minidl.tensor(qs).double(), dim, interpolation=mode),
                lambda t: getattr(t, fn)(torch.tensor(qs).double(), dim, interpolation=mode), c)


def test_quantile_errors():
    x = minidl.ones(3)
    with pytest.raises(RuntimeError, match="float or double"):
        minidl.quantile(minidl.ones(3, dtype=minidl.int64), 0.5)
    with pytest.raises(RuntimeError, match=r"in the range \[0, 1\]"):
        minidl.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="same dtype as the input"):
        minidl.quantile(x, minidl.tensor([0.5], dtype=minidl.float64))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        minidl.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="non-empty"):
        minidl.quantile(minidl.ones(0), 0.5)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, True), (1, False), ((0, 1), True)])
def test_nanmean(dim, keepdim):
    a = RNG.standard_normal((4, 5))
    a[1, 2], a[:, 3] = np.nan, np.nan
    x, xt = both(a)
    same(minidl.nanmean(x, dim, keepdim), torch.nanmean(xt, dim, keepdim), rtol=1e-14)
    same(x.nanmean(dim, keepdim, dtype=minidl.float32),
         xt.nanmean(dim, keepdim, dtype=torch.float32), rtol=1e-6)
    b = np.where(np.isnan(a), 1.0, a)
    grads_match(lambda t: minidl.nanmean(minidl.where(t > 1, minidl.nan, t), dim),
                lambda t: torch.nanmean(torch.where(t > 1, torch.nan, t), dim), b)
    with pytest.raises(RuntimeError, match="got Long"):
        minidl.nanmean(minidl.arange(3))


def test_isin_bucketize():
    e, t = np.array([[1, 2, 3], [4, 5, 2]]), np.array([2, 5, 9])
    for invert in (False, True):
        same(minidl.isin(minidl.tensor(e), minidl.tensor(t), invert=invert),
             torch.isin(torch.tensor(e), torch.tensor(t), invert=invert))
        same(minidl.isin(minidl.tensor(e), 2, invert=invert),
             torch.isin(torch.tensor(e), 2, invert=invert))
    same(minidl.isin(2, minidl.tensor(t)), torch.isin(2, torch.tensor(t)))
    same(minidl.isin(minidl.tensor([1.5, 2.0]), minidl.tensor([2])),
         torch.isin(torch.tensor([1.5, 2.0]), torch.tensor([2])))
    b, v = np.array([1, 3, 5, 7, 9]), np.array([[3, 6, 9], [0, 10, 5]])
    for right in (False, True):
        for int32 in (False, True):
            same(minidl.bucketize(minidl.tensor(v), minidl.tensor(b), out_int32=int32,
                                  right=right),
                 torch.bucketize(torch.tensor(v), torch.tensor(b), out_int32=int32,
                                 right=right))
    same(minidl.bucketize(3, minidl.tensor(b)), torch.bucketize(3, torch.tensor(b)))
    with pytest.raises(RuntimeError, match="1 dimension, but got dim"):
        minidl.bucketize(minidl.tensor(v), minidl.tensor(v))


@pytest.mark.parametrize("p", [0, 1, 1.5, 2, 3, float("inf")])
@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary",
                                  "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
@pytest.mark.parametrize("shapes", [((5, 3), (4, 3)), ((2, 30, 3), (1, 4, 3)),
                                    ((2, 1, 2, 3), (3, 4, 3))])
def test_cdist(p, mode, shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    same(minidl.cdist(minidl.tensor(a), minidl.tensor(b), p, mode),
         torch.cdist(torch.tensor(a), torch.tensor(b), p, mode), rtol=1e-12, atol=1e-12)
    if p:
        grads_match(lambda t: minidl.cdist(t, minidl.tensor(b), p, mode) ** 2,
                    lambda t: torch.cdist(t, torch.tensor(b), p, mode) ** 2, a, rtol=1e-9)


def test_cdist_zero_distance_gradient_and_errors():
    grads_match(lambda t: minidl.cdist(t, t.detach()), lambda t: torch.cdist(t, t.detach()),
                np.array([[0.0, 1.0], [2.0, 3.0]]))
    for x1, x2, match in ((minidl.ones(3), minidl.ones(3), "at least 2D"),
                          (minidl.ones(2, 3), minidl.ones(2, 4), "same number of columns"),
                          (minidl.ones(2, 3, dtype=minidl.int64),
                           minidl.ones(2, 3, dtype=minidl.int64), "floating-point dtypes")):
        with pytest.raises(RuntimeError, match=match):
            minidl.cdist(x1, x2)
    with pytest.raises(RuntimeError, match="non-negative p"):
        minidl.cdist(minidl.ones(2, 3), minidl.ones(2, 3), p=-1)
    with pytest.raises(ValueError, match="compute_mode"):
        minidl.cdist(minidl.ones(2, 3), minidl.ones(2, 3), compute_mode="x")


def test_tensor_probes_and_random_methods():
    x, xt = both(RNG.standard_normal((3, 4)).astype(np.float32))
    assert (x.is_cpu, x.get_device(), x.nbytes, x.itemsize) == \
        (xt.is_cpu, xt.get_device(), xt.nbytes, xt.itemsize)
    i = minidl.arange(4, dtype=minidl.int16)
    assert (i.nbytes, i.itemsize) == (8, 2)
    assert 2 in i and 7 not in i and minidl.tensor(3) in i
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in i  # noqa: B015
    p = minidl.full((1000,), 0.3)
    minidl.manual_seed(0)
    draws = p.bernoulli()
    minidl.manual_seed(0)
    assert minidl.equal(draws, minidl.bernoulli(p))
    assert 200 < draws.sum().item() < 400
    assert minidl.bernoulli(p, 0.0).sum().item() == p.bernoulli(0.0).sum().item() == 0
    w = minidl.tensor([0.0, 1.0, 3.0])
    g = minidl.Generator().manual_seed(1)
    s = w.multinomial(5, replacement=True, generator=g)
    assert s.shape == (5,) and (s != 0).all()
    assert sorted(w.multinomial(2).tolist()) == [1, 2]


@pytest.mark.parametrize("op, args", [("squeeze_", ()), ("squeeze_", (1,)), ("unsqueeze_", (0,)),
                                      ("t_", ()), ("transpose_", (0, 2))])
def test_inplace_views(op, args):
    a = RNG.standard_normal((3, 1, 2)) if op != "t_" else RNG.standard_normal((3, 2))
    x, xt = both(a)
    v, vt = x[0], xt[0]
    assert getattr(x, op)(*args) is x
    getattr(xt, op)(*args)
    same(x, xt)
    assert x._version == xt._version and x.stride() == xt.stride()
    x.mul_(2)  # the same memory: an earlier view sees the write
    xt.mul_(2)
    same(v, vt)
    w, wt = both(a, grad=True)
    y, yt = w * 2, wt * 2
    getattr(y, op)(*args)
    getattr(yt, op)(*args)
    (y * minidl.tensor(np.arange(y.numel()).reshape(tuple(y.shape)))).sum().backward()
    (yt * torch.tensor(np.arange(yt.numel()).reshape(tuple(yt.shape)))).sum().backward()
    same(w.grad, wt.grad)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(w, op)(*args)


def test_t__refuses_3d():
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        minidl.ones(2, 3, 4).t_()
