"""dtype queries, constants and the elementwise additions (inverse hyperbolics, arc*
aliases, deg2rad / rad2deg, logit, sgn / fix methods) against torch."""
import math

import numpy as np
import pytest
import torch

import minidl

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("name", DTYPES)
def test_finfo_iinfo_match_torch(name):
    ours, theirs = getattr(minidl, name), getattr(torch, name)
    if theirs.is_floating_point:
        f, t = minidl.finfo(ours), torch.finfo(theirs)
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                     "dtype"):
            assert getattr(f, attr) == getattr(t, attr), attr
        assert repr(f) == repr(t)
        with pytest.raises(TypeError, match="iinfo"):
            minidl.iinfo(ours)
    elif name != "bool":
        i, t = minidl.iinfo(ours), torch.iinfo(theirs)
        assert (i.bits, i.max, i.min, i.dtype) == (t.bits, t.max, t.min, t.dtype)
        assert repr(i) == repr(t)
        with pytest.raises(TypeError, match="finfo"):
            minidl.finfo(ours)
    else:
        with pytest.raises(TypeError, match="torch.bool is not supported"):
            minidl.iinfo(ours)


def test_finfo_default_and_bad_type():
    assert repr(minidl.finfo()) == repr(torch.finfo())
    with pytest.raises(TypeError, match="'type'"):
        minidl.finfo("float32")


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promote_types_and_can_cast(a, b):
    assert minidl.promote_types(getattr(minidl, a), getattr(minidl, b)).name == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]
    assert minidl.can_cast(getattr(minidl, a), getattr(minidl, b)) == \
        torch.can_cast(getattr(torch, a), getattr(torch, b))


@pytest.mark.parametrize("pair", ["1, 2.0", "True, 2", "x, 2.5", "i, 2.5", "i0, x", "x, i"])
def test_result_type(pair):
    def ns(lib):
        return {"x": lib.ones(2, dtype=lib.float16), "i": lib.ones(2, dtype=lib.int32),
                "i0": lib.tensor(1.0, dtype=lib.float64)}
    ours = eval(f"minidl.result_type({pair})", {"minidl": minidl, **ns(minidl)})
    theirs = eval(f"torch.result_type({pair})", {"torch": torch, **ns(torch)})
    assert ours.name == str(theirs).split(".")[1]
    with pytest.raises(TypeError, match="'tensor'"):
        minidl.result_type([1], 2)


def test_constants_numel_and_modes():
    assert (minidl.pi, minidl.e, minidl.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(minidl.nan)
    assert minidl.numel(minidl.zeros(2, 3)) == 6
    with pytest.raises(TypeError, match="'input'"):
        minidl.numel([1])
    assert not minidl.is_inference_mode_enabled()
    with minidl.inference_mode():
        assert minidl.is_inference_mode_enabled()
        with minidl.no_grad():
            assert minidl.is_inference_mode_enabled()
        with minidl.inference_mode(False):
            assert not minidl.is_inference_mode_enabled()
    with minidl.no_grad():
        assert not minidl.is_inference_mode_enabled()

    @minidl.inference_mode()
    def inside():
        return minidl.is_inference_mode_enabled()
    assert inside() and not minidl.is_inference_mode_enabled()


def test_default_device():
    assert str(minidl.get_default_device()) == "cpu"
    minidl.set_default_device("cpu")
    minidl.set_default_device(None)
    with pytest.raises(RuntimeError, match="'cuda'"):
        minidl.set_default_device("cuda")


UNARY = {"asinh": (-3, 3), "acosh": (0.5, 4), "atanh": (-1.2, 1.2), "arcsin": (-1.1, 1.1),
         "arccos": (-1.1, 1.1), "arctan": (-3, 3), "arcsinh": (-3, 3), "arccosh": (0.5, 4),
         "arctanh": (-1.2, 1.2), "deg2rad": (-400, 400), "rad2deg": (-7, 7)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients(name, dtype):
    lo, hi = UNARY[name]
    a = np.random.default_rng(0).uniform(lo, hi, 40).astype(dtype)
    x = minidl.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = getattr(minidl, name)(x), getattr(torch, name)(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=5e-7 if dtype ==
                               "float32" else 1e-15, equal_nan=True)
    g = np.linspace(-1, 1, 40).astype(dtype)
    y.backward(minidl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, equal_nan=True)
    # the method, the in-place method and the in-place function
    np.testing.assert_array_equal(getattr(minidl.tensor(a), name)().numpy(), y.detach().numpy())
    z = minidl.tensor(a)
    assert getattr(z, name + "_")() is z
    np.testing.assert_array_equal(z.numpy(), y.detach().numpy())
    getattr(minidl, name + "_")(z)
    np.testing.assert_allclose(z.numpy(), getattr(torch, name)(yt.detach()).numpy(),
                               rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", ["asinh", "acosh", "atanh", "deg2rad", "rad2deg", "logit"])
def test_integer_inputs_become_float_and_inplace_refuses(name):
    assert getattr(minidl, name)(minidl.tensor([1, 2])).dtype == minidl.float32
    assert getattr(torch, name)(torch.tensor([1, 2])).dtype == torch.float32
    with pytest.raises(RuntimeError, match="Float can't be cast"):
        getattr(minidl.tensor([1, 2]), name + "_")()


@pytest.mark.parametrize("eps", [None, 0.1, 0.6, -1.0, 0.0])
def test_logit(eps):
    a = np.array([0.0, 0.05, 0.1, 0.3, 0.5, 0.9, 0.95, 1.0], np.float32)
    x, xt = minidl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = minidl.logit(x, eps=eps), torch.logit(xt, eps=eps)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="'eps'"):
        minidl.logit(x, eps="0.1")


def test_sgn_and_fix_methods():
    a = np.array([-2.5, -0.0, 0.0, 1.7, 3.0, np.nan, -np.inf], np.float32)
    for name in ("sgn", "fix"):
        np.testing.assert_array_equal(getattr(minidl.tensor(a), name)().numpy(),
                                      getattr(torch.tensor(a), name)().numpy())
        z = minidl.tensor(a)
        getattr(z, name + "_")()
        np.testing.assert_array_equal(z.numpy(), getattr(torch.tensor(a), name)().numpy())
