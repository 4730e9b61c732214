"""In-place semantics, version counters, random fills, conversions and bad input."""
import math

import numpy as np
import pytest
import torch

import minidl
import minidl.nn.functional as F
from minidl.ops._erf import erf_without_scipy, erfc_continued_fraction, normal_cdf_and_density
from tests.reference.harness import compare


def pair(values, requires_grad=False, dtype="float64"):
    a = np.asarray(values, dtype=dtype)
    return (minidl.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


# -------------------------------------------------------------------- in place
@pytest.mark.parametrize("stmt", ["x += 1", "x -= 1", "x *= 2", "x /= 2", "x **= 2",
                                  "x.add_(1)", "x.mul_(2)", "x.exp_()", "x.clamp_(0, 1)",
                                  "x.zero_()", "x.fill_(3)", "x.uniform_()", "x.relu_()",
                                  "x.copy_(x.detach() * 2)"])
def test_inplace_on_leaf_requiring_grad_raises(stmt):
    for lib in (minidl, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            exec(stmt, {"x": x})


INPLACE_CHAINS = {
    "operators": "y += 1; y *= z; y -= 0.5; y /= 3; y **= 2",
    "methods": "y.add_(z, alpha=2); y.sub_(1); y.mul_(z); y.div_(2); y.pow_(2)",
    "math": "y.exp_(); y.log_(); y.sqrt_(); y.sigmoid_(); y.tanh_(); y.neg_(); y.abs_()",
    "math_then_save_input": "y.sqrt_(); y.mul_(z); y.pow_(2); y.add_(1)",
    "saves_input": "y.pow_(3); y.mul_(2); y.clamp_(0.1, 4.0); y.sub_(z)",
    "clamp": "y.clamp_(min=0.2, max=1.5); y.relu_(); y.clamp_min_(0.3); y.clip_(0.1, 1.2)",
    "functional": "F.relu(y, inplace=True); lib.relu_(y); lib.sigmoid_(y); lib.exp_(y)",
    "copy_and_fill": "y.copy_(z * 3); y.mul_(2); y.add_(1)",
    "comparison": "y.add_(z); y.lt_(1.0); y.mul_(z)",
    "rounding": "y.mul_(z); y.floor_(); y.add_(z)",
}


@pytest.mark.parametrize("name", list(INPLACE_CHAINS))
def test_inplace_in_graph_on_non_leaf_matches_torch(name):
    """Same chain in both libraries: equal values and gradients, or the same version error
    (an in-place op that saved its output, followed by another in-place op)."""
    values = [[0.3, 1.2, 0.7], [1.5, 0.9, 0.4]]
    results = {}
    for lib in (minidl, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        z = lib.tensor([1.1, 0.8, 1.3], dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        exec(INPLACE_CHAINS[name], {"y": y, "z": z, "lib": lib,
                                    "F": F if lib is minidl else torch.nn.functional})
        try:
            (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        except RuntimeError as e:
            results[lib.__name__] = str(e)
            continue
        results[lib.__name__] = [np.zeros(np.shape(v)) if g is None else np.array(g.tolist())
                                 for v, g in ((values, y.detach()), (values, x.grad),
                                              ([0.0] * 3, z.grad))]
    m, t = results["minidl"], results["torch"]
    if isinstance(t, str):
        assert isinstance(m, str) and "modified by an inplace operation" in m, (m, t)
        assert "modified by an inplace operation" in t
        return
    assert not isinstance(m, str), m
    for a, b in zip(m, t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_inplace_returns_self_and_bumps_version():
    x = minidl.zeros(3)
    v = x._version
    assert x.add_(1) is x and x._version == v + 1
    x += 1
    assert x._version == v + 2 and x.tolist() == [2.0, 2.0, 2.0]
    y = x
    y *= 3
    assert y is x and x.tolist() == [6.0, 6.0, 6.0]


def test_no_grad_inplace_writes_shared_memory():
    arr = np.zeros(4, np.float32)
    w = minidl.from_numpy(arr).requires_grad_(True)
    alias = w.detach()
    with minidl.no_grad():
        w.mul_(2).add_(1.5)
        w -= 0.5
    assert arr.tolist() == [1.0] * 4 and alias.tolist() == [1.0] * 4
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    with minidl.no_grad():
        w.uniform_(-1, 1)
        w.zero_()
    assert not arr.any()
    d = w.data
    d.fill_(2.0)  # .data shares memory and is outside the graph
    assert arr.tolist() == [2.0] * 4


def test_modified_saved_tensor_raises_version_error():
    for lib in (minidl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()          # exp saves its output
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        a = x * 2
        b = a * a            # mul saves its inputs
        a.mul_(3)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()
        c = x * 2
        d = c + 1            # add saves nothing: modifying c is fine
        c.mul_(3)
        d.sum().backward()


def test_inplace_dtype_and_shape_errors():
    for lib in (minidl, torch):
        i = lib.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="result type .*can't be cast to the desired "
                                               "output type"):
            i += 1.5
        with pytest.raises(RuntimeError, match="result type .*can't be cast"):
            i.div_(2)
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            lib.zeros(3).add_(lib.ones(2, 3))
    i = minidl.tensor([1, 2, 3])
    i *= 2
    i //= 3
    assert i.tolist() == [0, 1, 2] and i.dtype == minidl.int64
    b = minidl.tensor([True, False])
    b &= minidl.tensor([True, True])
    b |= minidl.tensor([False, True])
    b ^= minidl.tensor([True, False])
    assert b.tolist() == [False, True]


def test_copy_broadcasts_and_converts():
    for lib in (minidl, torch):
        x = lib.zeros(2, 3, dtype=lib.int64)
        x.copy_(lib.tensor([1.7, -2.2, 3.9]))
        assert x.tolist() == [[1, -2, 3], [1, -2, 3]] and x.dtype == lib.int64
        with pytest.raises(RuntimeError, match="must match the size"):
            lib.zeros(3).copy_(lib.zeros(2))
        with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension"):
            lib.zeros(3).fill_(lib.ones(1))
    # gradient flows into the source of a copy and a tensor fill value
    src, t_src = pair([1.0, 2.0, 3.0], requires_grad=True)
    v, t_v = pair(2.5, requires_grad=True)
    for lib, s, val in ((minidl, src, v), (torch, t_src, t_v)):
        y = lib.zeros(2, 3, dtype=lib.float64).requires_grad_(True) * 1.0
        y.copy_(s)
        w = lib.zeros(3, dtype=lib.float64) * 1.0
        w.fill_(val)
        ((y * 2).sum() + (w * w).sum()).backward()
    assert src.grad.tolist() == t_src.grad.tolist() == [4.0, 4.0, 4.0]
    assert v.grad.item() == t_v.grad.item() == 15.0


def test_clone_is_differentiable_and_separate():
    x, tx = pair([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c._data is not x._data
    with minidl.no_grad():
        c.add_(5)
    assert x.tolist() == [1.0, 2.0]
    (minidl.clone(x) * 3).sum().backward()
    (torch.clone(tx) * 3).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()


# ------------------------------------------------------------------ random fills
@pytest.mark.parametrize("fill", ["uniform_(-2, 3)", "normal_(1.0, 0.5)", "bernoulli_(0.3)",
                                  "exponential_(2.0)", "random_(0, 10)", "random_(5)",
                                  "geometric_(0.4)", "log_normal_(0.0, 0.25)", "cauchy_()",
                                  "random_()"])
def test_random_fills_are_seeded_and_keep_dtype(fill):
    outs = []
    for _ in range(2):
        minidl.manual_seed(123)
        x = minidl.empty(2000, dtype=minidl.float32)
        assert eval("x." + fill) is x
        assert x.dtype == minidl.float32
        outs.append(x._data.copy())
    np.testing.assert_array_equal(outs[0], outs[1])
    g = minidl.Generator().manual_seed(5)
    y = minidl.empty(10, dtype=minidl.float64)
    eval("y." + fill.replace(")", ", generator=g)").replace("(, ", "("), {"y": y, "g": g})
    assert y.dtype == minidl.float64


def test_random_fill_distributions():
    minidl.manual_seed(0)
    n = 20000
    u = minidl.empty(n).uniform_(-2, 3)._data
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.05
    z = minidl.empty(n).normal_(1.0, 0.5)._data
    assert abs(z.mean() - 1.0) < 0.02 and abs(z.std() - 0.5) < 0.02
    b = minidl.empty(n).bernoulli_(0.3)._data
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.02
    p = minidl.empty(3, n).bernoulli_(minidl.tensor([[0.0], [1.0], [0.5]]))._data
    assert p[0].sum() == 0 and p[1].min() == 1 and abs(p[2].mean() - 0.5) < 0.03
    e = minidl.empty(n).exponential_(2.0)._data
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.02
    r = minidl.empty(n, dtype=minidl.int64).random_(3, 7)._data
    assert set(np.unique(r)) == {3, 4, 5, 6}
    r = minidl.empty(n).random_(4)._data
    assert set(np.unique(r)) == {0.0, 1.0, 2.0, 3.0}
    big = minidl.empty(n).random_()._data
    assert big.min() >= 0 and big.max() <= 2 ** 24 and big.max() > 2 ** 20
    with pytest.raises(RuntimeError, match="from.*less than.*to"):
        minidl.empty(3).random_(5, 2)
    with pytest.raises(RuntimeError, match="std >= 0"):
        minidl.empty(3).normal_(0, -1)


# ------------------------------------------------------------------ conversions
def test_to_type_and_converters_match_torch():
    for lib in (minidl, torch):
        x = lib.tensor([1.5, -2.7])
        assert x.to(lib.float64).dtype == lib.float64
        assert x.to("cpu") is x and x.to(x) is x and x.to(lib.float32) is x
        assert x.to(lib.float32, copy=True) is not x
        assert x.to("cpu", lib.int64).tolist() == [1, -2]
        assert x.to(lib.tensor([1])).dtype == lib.int64
        assert x.to(device="cpu", dtype=lib.float16).dtype == lib.float16
        assert x.type() == "torch.FloatTensor"
        assert x.type(lib.float64).dtype == lib.float64
        assert x.type("torch.DoubleTensor").dtype == lib.float64
        assert x.type_as(lib.tensor([1])).dtype == lib.int64
        for name in ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"]:
            assert str(getattr(x, name)().dtype).split(".")[-1] == \
                str(getattr(torch.tensor([1.0]), name)().dtype).split(".")[-1]
        assert x.float() is x
        assert x.long().type() == "torch.LongTensor"
    with pytest.raises(RuntimeError, match="CPU only"):
        minidl.tensor([1.0]).to("cuda")


def test_conversion_gradients_flow_between_float_dtypes():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == minidl.float32 and x.grad.tolist() == [3.0, 3.0]
    assert not x.long().requires_grad


def test_new_tensor_factories():
    for lib in (minidl, torch):
        i = lib.tensor([1, 2])
        f = lib.tensor([1.0], dtype=lib.float64)
        assert i.new_zeros(2, 3).dtype == lib.int64 and i.new_zeros((2, 3)).shape == (2, 3)
        assert f.new_ones(2).dtype == lib.float64 and f.new_ones(2).tolist() == [1.0, 1.0]
        assert i.new_full((2,), 1.5).tolist() == [1, 1]
        assert f.new_empty(4).shape == (4,) and f.new_empty(4).dtype == lib.float64
        assert i.new_tensor([1.5]).dtype == lib.int64 and f.new_tensor([1]).dtype == lib.float64
        assert f.new_zeros(2, dtype=lib.int32).dtype == lib.int32
        assert f.new_ones(3, requires_grad=True).requires_grad


# ----------------------------------------------------------------- bad input
def test_non_broadcastable_shapes_name_both_shapes():
    a, b = minidl.zeros(2, 3), minidl.zeros(4)
    for op in [lambda: a + b, lambda: a * b, lambda: minidl.maximum(a, b), lambda: a == b,
               lambda: minidl.where(a > 0, a, b), lambda: a.lerp(b, 0.5), lambda: a ** b,
               lambda: minidl.atan2(a, b), lambda: a.long() & b.long()]:
        with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                                               r"tensor b \(4\) at non-singleton dimension 1 "
                                               r"\(shapes \[2, 3\] and \[4\]\)"):
            op()


def test_bad_operands_raise_like_torch():
    x = minidl.tensor([1.0, 2.0])
    b = minidl.tensor([True, False])
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        minidl.exp([1.0])
    with pytest.raises(TypeError, match="Tensor"):
        minidl.maximum(x, 1.0)
    assert (x == None) is False  # noqa: E711  (Python falls back to identity)
    assert (x != None) is True  # noqa: E711
    with pytest.raises(RuntimeError, match="Negation.*bool"):
        _ = -b
    with pytest.raises(RuntimeError, match="Subtraction.*bool"):
        b - b
    with pytest.raises(RuntimeError, match=r"\+.*bool"):
        _ = +b
    with pytest.raises(NotImplementedError, match="Bool"):
        b.abs()
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        b.relu()
    with pytest.raises(NotImplementedError, match="Float"):
        x & x
    with pytest.raises(TypeError, match="invert"):
        _ = ~x
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        x.clamp()
    with pytest.raises(RuntimeError, match="condition to be a boolean tensor.*Float"):
        minidl.where(x, x, x)
    with pytest.raises(RuntimeError, match="expected dtype float32 for `end`"):
        x.lerp(x.double(), 0.5)
    with pytest.raises(RuntimeError, match="did not match"):
        minidl.isclose(x, x.double())
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        minidl.tensor([2]) ** -1
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        minidl.tensor([2]) // minidl.tensor([0])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        minidl.tensor([1]).add(2, alpha=1.5)
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(2, rounding_mode="round")
    with pytest.raises(NotImplementedError, match="frac"):
        minidl.tensor([1]).frac()


def _assert_integer_division_by_zero_raises(lib):
    i = lib.tensor([3, -4])
    for op in (lambda: i // 0, lambda: i % 0, lambda: lib.fmod(i, 0),
               lambda: i.div(0, rounding_mode="trunc")):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op()


def test_integer_division_by_zero_matches_torch():
    for lib in (minidl, torch):
        _assert_integer_division_by_zero_raises(lib)
    compare(lambda x: x / 0.0, lambda x: x / 0.0, [np.array([1.0, -1.0, 0.0])], dtype="float64",
            grad=False)


def test_functional_names_and_top_level_inplace():
    x = minidl.tensor([-1.0, 0.5])
    assert F.relu is minidl.relu and F.sigmoid is minidl.sigmoid and F.tanh is minidl.tanh
    y = x.clone()
    assert F.relu(y, inplace=True) is y and y.tolist() == [0.0, 0.5]
    assert minidl.relu_(x.clone()).tolist() == [0.0, 0.5]
    z = x.clone()
    minidl.exp_(z)
    minidl.clamp_(z, max=1.0)
    np.testing.assert_allclose(z._data, [math.exp(-1.0), 1.0], rtol=1e-6)
    for name in ["sigmoid_", "tanh_", "sqrt_", "abs_", "neg_", "clamp_min_", "clip_", "fill_",
                 "zero_"]:
        assert hasattr(torch, name) and callable(getattr(minidl, name))


def test_erf_without_scipy_is_accurate():
    """The pure-NumPy erf/erfc fallback (used when SciPy is absent) against math.erf."""
    x = np.concatenate([np.linspace(-7, 7, 4001), [0.0, -0.0, 1e-300, 2.4999, 2.5, 5.99, 6.0]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf_without_scipy(x), expected, rtol=2e-15, atol=1e-16)
    big = x[x >= 2.5]
    tail = erfc_continued_fraction(big)
    np.testing.assert_allclose(tail, [math.erfc(v) for v in big], rtol=1e-13)
    assert np.isnan(erf_without_scipy(np.array([np.nan]))).all()
    assert erf_without_scipy(np.array([np.inf, -np.inf])).tolist() == [1.0, -1.0]


def test_float32_normal_cdf_is_accurate_block_by_block():
    """GELU's float32 Phi / phi (A&S 7.1.26, in cache-sized blocks) against math.erf in
    float64: within 4e-7 absolute over the line, the lower tail (-6 < x < -3) to 1 %
    relative, any shape, strides and block boundaries, and inf / nan passed through."""
    x = np.concatenate([np.linspace(-12, 12, 200_003), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    x32 = x.astype(np.float32)
    cdf, pdf = normal_cdf_and_density(x32[::-1].reshape(8, -1).T)  # strided, 2-D
    cdf, pdf = cdf.T.reshape(-1)[::-1], pdf.T.reshape(-1)[::-1]
    assert cdf.dtype == pdf.dtype == np.float32
    xf = x32.astype(np.float64)[:-5]
    phi = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in xf])
    np.testing.assert_allclose(cdf[:-5], phi, rtol=0, atol=4e-7)
    tail = (xf > -6) & (xf < -3)
    np.testing.assert_allclose(cdf[:-5][tail], phi[tail], rtol=1e-2)
    np.testing.assert_allclose(pdf[:-5], np.exp(-xf * xf / 2) / math.sqrt(2 * math.pi),
                               rtol=1e-5, atol=1e-30)
    assert cdf[-5:-1].tolist() == [0.5, 0.5, 1.0, 0.0] and np.isnan(cdf[-1])
    c64, p64 = normal_cdf_and_density(xf)  # float64 keeps the exact erf
    np.testing.assert_allclose(c64, phi, rtol=1e-14, atol=1e-16)
