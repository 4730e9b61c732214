"""Printing matches torch character for character, under every print option."""
import math

import numpy as np
import pytest
import torch

import minidl

VALUES = [
    [1.0, 10000.0], [1.0, 1e9], [0.5, 1e-5], [1.0, float("nan")], [123456.5, 1.0],
    [1e-5, float("nan")], [0.0, 0.0], [1.0, float("inf"), float("-inf")], [-0.5, 2.25, 3.0],
    [[1.5, -2.123456789], [3.0, 4.0]], 3.14159, -2.0, [True, False], [[1, -200], [3, 4]],
    list(range(30)), [[0.001, 0.5], [2.0, 7.0]],
]
ARRAYS = [np.arange(2000, dtype=np.float32).reshape(40, 50) / 7,
          np.arange(1200, dtype=np.int64).reshape(3, 20, 20),
          np.linspace(-3, 3, 1001, dtype=np.float32),
          np.arange(60, dtype=np.float64).reshape(3, 4, 5) * 1.5,
          np.zeros((0, 3), np.float32), np.zeros((0,), np.int32), np.ones(5, np.float16) / 3]
OPTIONS = [{}, {"precision": 2}, {"sci_mode": True}, {"sci_mode": False},
           {"threshold": 5, "edgeitems": 2}, {"linewidth": 33}, {"profile": "short"},
           {"profile": "full"}, {"threshold": 10, "edgeitems": 0}]


@pytest.fixture(autouse=True)
def _default_options():
    yield
    minidl.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _same(m, t):
    """Equal up to the module name. ``dtype=minidl.int32`` is one character longer than
    torch's, so a suffix that ends exactly at ``linewidth`` would wrap in minidl only; the
    cases here keep clear of that boundary."""
    assert repr(m).replace("minidl.", "torch.") == repr(t)


@pytest.mark.parametrize("opts", OPTIONS, ids=str)
def test_repr_matches_torch_under_print_options(opts):
    minidl.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for v in VALUES:
        _same(minidl.tensor(v), torch.tensor(v))
    for a in ARRAYS:
        _same(minidl.tensor(a), torch.from_numpy(a))


def test_suffixes_wrap_like_torch():
    a = np.arange(30, dtype=np.float64).reshape(2, 15)
    _same(minidl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
    _same(minidl.tensor([1.0, 2.0], dtype=minidl.float64) * 2,
          torch.tensor([1.0, 2.0], dtype=torch.float64) * 2)
    _same(minidl.ones(3, requires_grad=True), torch.ones(3, requires_grad=True))


def test_printoptions_context_restores_and_get_reports():
    with minidl._tensor_str.printoptions(precision=1):
        assert repr(minidl.tensor([1.25])) == "tensor([1.2])"
    assert minidl._tensor_str.get_printoptions() == {
        "precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
    minidl.set_printoptions(profile="full")
    assert minidl._tensor_str.get_printoptions()["threshold"] == math.inf


def test_set_printoptions_refuses_bad_values():
    with pytest.raises(ValueError, match="profile"):
        minidl.set_printoptions(profile="long")
    with pytest.raises(TypeError, match="precision"):
        minidl.set_printoptions(precision="4")
    with pytest.raises(TypeError, match="sci_mode"):
        minidl.set_printoptions(sci_mode=1)


@pytest.mark.parametrize("spec", ["", "+.2f", ".3e", "10.4f", "g"])
def test_format_spec_of_a_scalar_tensor_matches_torch(spec):
    for v in (3.14159, -2.5, 7):
        assert format(minidl.tensor(v), spec) == format(torch.tensor(v), spec)


def test_format_spec_of_a_vector_is_refused_as_in_torch():
    with pytest.raises(TypeError, match="unsupported format string"):
        format(minidl.tensor([1.5]), ".2f")
    assert f"{minidl.tensor([1.5, 2.0])}" == "tensor([1.5000, 2.0000])"


def test_size_arithmetic_returns_size_as_in_torch():
    s, t = minidl.Size([2, 3]), torch.Size([2, 3])
    for m, r in ((s + (4,), t + (4,)), ((4,) + s, (4,) + t), (s * 2, t * 2), (2 * s, 2 * t),
                 (s + minidl.Size([5]), t + torch.Size([5])), (s[1:], t[1:])):
        assert isinstance(m, minidl.Size) and tuple(m) == tuple(r)
    with pytest.raises(TypeError, match="concatenate"):
        s + [1]
