"""Reductions, cumulative ops, norms and softmax against PyTorch."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]


def call(name, *args, **kwargs):
    """A function that calls ``name`` from whichever library its tensor argument belongs to."""
    def fn(x):
        lib = minidl if isinstance(x, minidl.Tensor) else torch
        return getattr(lib, name)(x, *args, **kwargs)
    return fn


def method(name, *args, **kwargs):
    return lambda x: getattr(x, name)(*args, **kwargs)


REDUCTIONS = {  # name: (fn usable on both libraries, input domain)
    "sum": (call("sum"), "any"),
    "sum_dim": (call("sum", 1), "any"),
    "sum_dims_keep": (call("sum", (0, -1), keepdim=True), "any"),
    "sum_neg_dim": (method("sum", -1), "any"),
    "sum_empty_dims": (call("sum", dim=[]), "any"),
    "sum_dtype": (lambda x: x.sum(dtype=minidl.float64 if isinstance(x, minidl.Tensor)
                                  else torch.float64), "any"),
    "mean": (call("mean"), "any"),
    "mean_dim": (method("mean", 0), "any"),
    "mean_dims_keep": (call("mean", dim=(1, 2), keepdim=True), "any"),
    "mean_empty_tuple": (call("mean", ()), "any"),
    "var": (call("var"), "any"),
    "var_dim": (call("var", 1), "any"),
    "var_biased": (call("var", 1, unbiased=False), "any"),
    "var_correction": (call("var", (0, 2), correction=2, keepdim=True), "any"),
    "var_positional": (lambda x: x.var(0, False, True), "any"),
    "std": (method("std"), "any"),
    "std_dim": (call("std", -1, keepdim=True), "any"),
    "std_unbiased_flag": (call("std", False), "any"),
    "std_correction0": (call("std", 0, correction=0), "any"),
    "var_mean": (call("var_mean", 1), "any"),
    "std_mean": (call("std_mean", (0, 1), keepdim=True), "any"),
    "amax": (call("amax", 1), "round"),
    "amax_all": (method("amax"), "round"),
    "amin": (call("amin", (0, 2), keepdim=True), "round"),
    "max_all": (method("max"), "round"),
    "min_all": (call("min"), "round"),
    "max_dim": (call("max", 1), "any"),
    "max_dim_keep": (method("max", dim=0, keepdim=True), "any"),
    "min_dim": (call("min", -1), "any"),
    "median_all": (call("median"), "any"),
    "median_dim": (call("median", 1), "any"),
    "prod": (call("prod"), "any"),
    "prod_dim": (call("prod", 1), "any"),
    "prod_keep": (method("prod", -1, keepdim=True), "any"),
    "prod_with_zeros": (call("prod", 1), "zeros"),
    "prod_all_with_zeros": (call("prod"), "zeros"),
    "logsumexp": (call("logsumexp", 1), "any"),
    "logsumexp_dims": (call("logsumexp", (0, 2), keepdim=True), "any"),
    "logsumexp_big": (lambda x: (x * 500).logsumexp(-1), "any"),
    "norm": (call("norm"), "any"),
    "norm_dim": (call("norm", dim=1), "any"),
    "norm_p1": (call("norm", 1, 0), "any"),
    "norm_p3": (call("norm", p=3, dim=-1, keepdim=True), "any"),
    "norm_p_half": (call("norm", p=0.5), "any"),
    "norm_inf": (call("norm", float("inf"), 1), "round"),
    "norm_neg_inf": (call("norm", float("-inf")), "any"),
    "norm_fro": (call("norm", "fro", (0, 1)), "any"),
    "norm_p0": (call("norm", 0), "zeros"),
    "cumsum": (call("cumsum", 1), "any"),
    "cumsum_neg": (method("cumsum", -1), "any"),
    "cumprod": (call("cumprod", 1), "any"),
    "cumprod_zeros": (call("cumprod", -1), "zeros"),
    "softmax": (call("softmax", 1), "any"),
    "softmax_last": (method("softmax", -1), "any"),
    "softmax_big": (lambda x: (x * 1000).softmax(0), "any"),
    "log_softmax": (call("log_softmax", 1), "any"),
    "log_softmax_big": (lambda x: (x * 1000).log_softmax(-1), "any"),
    "F.softmax": (lambda x: (F if isinstance(x, minidl.Tensor) else torch.nn.functional).softmax(
        x, dim=0), "any"),
    "F.log_softmax": (lambda x: (F if isinstance(x, minidl.Tensor) else
                                 torch.nn.functional).log_softmax(x, -1), "any"),
    "F.softmin": (lambda x: (F if isinstance(x, minidl.Tensor) else torch.nn.functional).softmin(
        x, 1), "any"),
    "softmax_dtype": (lambda x: x.softmax(0, dtype=minidl.float64 if isinstance(x, minidl.Tensor)
                                          else torch.float64), "any"),
    "nansum": (call("nansum", 1), "any"),
}
NEEDS_3D = {"mean_dims_keep", "var_correction", "amin", "logsumexp_dims", "std_mean"}
SHAPES = [(3, 4, 5), (2, 5, 3)]


def sample(domain, shape, rng):
    if domain == "any":
        return rng.standard_normal(shape)
    if domain == "round":  # ties between extrema
        return np.round(rng.uniform(-2, 2, shape))
    if domain == "zeros":  # some zero entries (one or two per slice)
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
        mask = rng.random(shape) < 0.25
        return np.where(mask, 0.0, x)
    raise ValueError(domain)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction(name, shape, dtype):
    fn, domain = REDUCTIONS[name]
    x = sample(domain, shape, np.random.default_rng(len(name)))
    compare(fn, fn, [x], dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("name", [n for n in REDUCTIONS if n not in NEEDS_3D])
def test_reduction_2d(name):
    fn, domain = REDUCTIONS[name]
    x = sample(domain, (4, 3), np.random.default_rng(1))
    compare(fn, fn, [x], dtype="float64", noncontiguous=True)


ZERO_D_OK = ["sum", "mean", "amax_all", "max_all", "prod", "norm", "norm_p3", "median_all",
             "sum_empty_dims", "mean_empty_tuple", "std_unbiased_flag"]


@pytest.mark.parametrize("name", ZERO_D_OK)
def test_reduction_of_0d_and_1d(name):
    fn, domain = REDUCTIONS[name]
    rng = np.random.default_rng(2)
    compare(fn, fn, [np.asarray(rng.standard_normal(()) + 1.0)], dtype="float64")
    compare(fn, fn, [rng.standard_normal(5)], dtype="float64")


@pytest.mark.parametrize("fn", [call("max", 0), call("min", 0, True), call("cumsum", 0),
                                call("cumprod", -1), call("softmax", 0), call("argmax", 0),
                                call("logsumexp", 0), call("median", 0), call("sum", 0),
                                call("amax", 0)])
def test_dim_reductions_of_0d(fn):
    compare(fn, fn, [np.asarray(1.5)], dtype="float64")


GRADCHECK = [n for n in REDUCTIONS if not n.startswith(("norm_inf", "norm_neg_inf", "max_all",
                                                        "min_all", "amax", "amin", "norm_p0",
                                                        "logsumexp_big", "softmax_big",
                                                        "log_softmax_big", "median"))]


@pytest.mark.parametrize("name", GRADCHECK)
def test_reduction_gradcheck(name):
    fn, domain = REDUCTIONS[name]
    x = sample(domain if domain != "round" else "any", (2, 3, 2), np.random.default_rng(3))
    gradcheck(fn, [x])


@pytest.mark.parametrize("fn", [call("amax", 1), call("amin"), method("max"), call("min", 0),
                                call("median", 1), call("median"), call("norm", float("inf")),
                                call("max", -1)])
def test_extrema_gradcheck_without_ties(fn):
    x = np.random.default_rng(4).permutation(12).reshape(3, 4) * 0.5 + 0.1
    gradcheck(fn, [x])


def test_cumprod_gradcheck_with_zeros():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0, 1.2, 0.7], [1.1, 0.9, 1.3, 0.8, 0.0]])
    gradcheck(call("cumprod", 1), [x])
    compare(call("cumprod", 1), call("cumprod", 1), [x], dtype="float64")
    gradcheck(call("prod", 1), [x])
    compare(call("prod", 1), call("prod", 1), [x], dtype="float64")


def test_reduction_edge_values():
    """Torch's conventions for degenerate inputs: ties, constant slices, infinities."""
    cases = [
        (call("std"), np.ones((3,))),               # zero std: zero gradient
        (call("var"), np.array([2.0])),               # n - correction = 0: nan
        (call("logsumexp", 0), np.array([-np.inf, -np.inf])),
        (call("logsumexp", 0), np.array([np.inf, 1.0])),
        (call("norm"), np.zeros(3)),                  # zero norm: zero gradient
        (call("norm", 3), np.zeros(3)),
        (call("norm", 0.5), np.array([0.0, 1.0, 2.0])),
        (call("norm", float("inf")), np.array([1.0, -3.0, 3.0])),
        (call("amax", 0), np.array([3.0, 1.0, 3.0])),
        (method("max"), np.array([1.0, 3.0, 3.0])),
        (call("max", 0), np.array([3.0, 1.0, 3.0])),
        (call("median"), np.array([1.0, 2.0, 3.0, 4.0])),
        (call("softmax", 0), np.array([-np.inf, 0.0, 1.0])),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn, x in cases:
            compare(fn, fn, [x], dtype="float64")


def test_empty_reductions():
    e = np.zeros((2, 0))
    for fn in [call("sum"), call("sum", 1), call("sum", 0), call("mean", 1), call("mean"),
               call("prod", 1), call("logsumexp", 1), call("cumsum", 1), call("softmax", 1),
               call("max", 0), call("amax", 0), call("norm", dim=1), call("count_nonzero", 1),
               call("all", 1), call("any", 1)]:
        compare(fn, fn, [e], dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(call("var", 1), call("var", 1), [e], dtype="float64")
        compare(call("median"), call("median"), [np.zeros(0)], dtype="float64", grad=False)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)], ids=str)
def test_index_reductions(shape):
    x = np.random.default_rng(5).standard_normal(shape)
    ties = np.round(x)
    for a in (x, ties):
        for fn in [call("argmax"), call("argmin"), call("argmax", 1), call("argmin", -1, True),
                   call("argmax", keepdim=True), method("argmax", dim=0)]:
            compare(fn, fn, [a], grad=False)
    out = minidl.max(minidl.from_numpy(x), 1)
    assert isinstance(out, tuple) and out.values is out[0] and out.indices.dtype == minidl.int64
    values, indices = minidl.min(minidl.from_numpy(x), dim=0, keepdim=True)
    assert values.shape == indices.shape == (1,) + shape[1:]


def test_logical_reductions():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    for fn in [call("all"), call("any"), call("all", 1), call("any", 0, True), call("all", (0, 1)),
               call("count_nonzero"), call("count_nonzero", 0), call("count_nonzero", (0, 1)),
               method("all"), method("any", dim=1)]:
        compare(fn, fn, [x], grad=False)
        compare(fn, fn, [x.astype(np.int64)], grad=False)
        compare(fn, fn, [x > 0], grad=False)
    compare(call("all"), call("all"), [x.astype(np.uint8)], grad=False)


INT_REDUCTIONS = [call("sum"), call("sum", 0), call("prod", 1), call("cumsum", 1),
                  call("cumprod", 0), method("max"), call("max", 1), call("amin", 0),
                  call("median"), call("argmax"),
                  lambda x: x.sum(dtype=minidl.float32 if isinstance(x, minidl.Tensor) else
                                  torch.float32),
                  lambda x: x.mean(dtype=minidl.float64 if isinstance(x, minidl.Tensor) else
                                   torch.float64),
                  call("logsumexp", 1)]


@pytest.mark.parametrize("kind", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("i", range(len(INT_REDUCTIONS)))
def test_integer_reductions_dtype(kind, i):
    x = np.random.default_rng(6).integers(0, 4, (3, 4)).astype(kind)
    fn = INT_REDUCTIONS[i]
    try:
        fn(torch.from_numpy(x))
    except RuntimeError as e:  # torch refuses some ops on bool: so must we
        with pytest.raises(type(e)):
            fn(minidl.from_numpy(x))
        return
    compare(fn, fn, [x], grad=False)


# -------------------------------------------------------------------- hypothesis
@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    nd = len(shape)
    dims = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                         unique_by=lambda d: d % nd))
    return shape, tuple(dims)


HYP_OPS = {
    "sum": lambda lib, x, d, k: lib.sum(x, d, k),
    "mean": lambda lib, x, d, k: x.mean(d, keepdim=k),
    "amax": lambda lib, x, d, k: lib.amax(x, d, k),
    "amin": lambda lib, x, d, k: x.amin(d, k),
    "var": lambda lib, x, d, k: lib.var(x, d, keepdim=k, correction=0),
    "std": lambda lib, x, d, k: (x.std(d, keepdim=k) if _count(x, d) > 1 else
                                 lib.std(x, d, keepdim=k, correction=0)),
    "logsumexp": lambda lib, x, d, k: lib.logsumexp(x, d, k),
    "norm": lambda lib, x, d, k: lib.norm(x, 2, d, keepdim=k),
    "norm_fro": lambda lib, x, d, k: lib.norm(x, dim=d[:2], keepdim=k),
    "norm_p3": lambda lib, x, d, k: x.norm(3, d, k),
    "prod": lambda lib, x, d, k: x.prod(d[0], keepdim=k),
    "max": lambda lib, x, d, k: lib.max(x, d[0], k),
    "cumsum": lambda lib, x, d, k: lib.cumsum(x, d[0]),
    "softmax": lambda lib, x, d, k: lib.softmax(x, d[0]),
    "log_softmax": lambda lib, x, d, k: x.log_softmax(d[0]),
}


def _count(x, dims):
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


@settings(max_examples=60, deadline=None)
@given(shape_and_dims(), st.booleans(), st.sampled_from(sorted(HYP_OPS)), st.sampled_from(DTYPES),
       st.integers(0, 2 ** 16))
def test_hypothesis_reductions(sd, keepdim, name, dtype, seed):
    shape, dims = sd
    x = np.random.default_rng(seed).standard_normal(shape)
    op = HYP_OPS[name]

    def fn(t):
        return op(minidl if isinstance(t, minidl.Tensor) else torch, t, dims, keepdim)
    compare(fn, fn, [x], dtype=dtype, noncontiguous=True)


# ----------------------------------------------------------------------- errors
def test_mean_of_integer_tensor_raises():
    with pytest.raises(RuntimeError, match=r"mean\(\).*floating point.*Long"):
        minidl.tensor([1, 2, 3]).mean()
    assert minidl.tensor([1, 2, 3]).mean(dtype=minidl.float32).item() == 2.0
    with pytest.raises(RuntimeError, match="floating point"):
        minidl.tensor([1, 2]).var()
    with pytest.raises(RuntimeError, match="floating point"):
        minidl.norm(minidl.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="Long"):
        minidl.tensor([1, 2]).softmax(0)


@pytest.mark.parametrize("call_", [lambda x: x.sum(3), lambda x: x.mean(-4), lambda x: x.max(3),
                                   lambda x: x.argmax(5), lambda x: x.cumsum(3),
                                   lambda x: x.softmax(-4), lambda x: minidl.var(x, (0, 7)),
                                   lambda x: x.logsumexp(3), lambda x: x.norm(dim=9),
                                   lambda x: x.all(4), lambda x: x.prod(-5)])
def test_bad_dim_raises_index_error(call_):
    x = minidl.zeros(2, 3, 4)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-3, 2\]"):
        call_(x)


def test_other_reduction_errors():
    x = minidl.zeros(2, 3)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(RuntimeError, match="numel\\(\\) == 0"):
        minidl.zeros(0).max()
    with pytest.raises(IndexError, match="non-zero size"):
        minidl.zeros(2, 0).amax(1)
    with pytest.raises(TypeError, match="dim"):
        x.prod((0, 1))
    with pytest.raises(TypeError):
        minidl.sum([1, 2])
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        minidl.zeros(2, 3, 4).norm(dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="unbiased and correction"):
        minidl.var(x, 0, unbiased=True, correction=1)


def test_max_with_tensor_is_maximum_and_namedtuples():
    a, b = minidl.tensor([1.0, 5.0]), minidl.tensor([3.0, 2.0])
    assert minidl.max(a, b).tolist() == [3.0, 5.0] and minidl.min(a, b).tolist() == [1.0, 2.0]
    assert a.max(b).tolist() == [3.0, 5.0]
    r = minidl.median(minidl.tensor([[1.0, 5.0, 3.0]]), 1)
    assert r.values.tolist() == [3.0] and r.indices.tolist() == [2]
    assert type(r).__name__ == "median" and type(minidl.max(a, 0)).__name__ == "max"


def test_softmax_implicit_dim_warns_like_torch():
    x = np.random.default_rng(7).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        got = F.softmax(minidl.from_numpy(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.functional.softmax(torch.from_numpy(x))
    np.testing.assert_allclose(got._data, expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(minidl.softmax(minidl.from_numpy(x), 1, minidl.float32)._data,
                               torch.softmax(torch.from_numpy(x), 1, torch.float32).numpy(),
                               rtol=1e-6)


def test_softmax_keeps_float32_and_is_stable():
    x = minidl.tensor([[1000.0, 0.0, -1000.0]])
    for out in (x.softmax(-1), x.log_softmax(-1), x.logsumexp(-1)):
        assert out.dtype == minidl.float32 and np.all(np.isfinite(out._data))
    np.testing.assert_allclose(x.softmax(-1).sum(-1)._data, 1.0, rtol=1e-6)


def test_inplace_cumulative_methods():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.clone()
    y.cumsum_(1)
    assert y.tolist() == [[1.0, 3.0], [3.0, 7.0]]
    y.cumprod_(0)
    assert y.tolist() == [[1.0, 3.0], [3.0, 21.0]]
