"""``minidl.testing.assert_close`` passes and fails where torch's does, with its messages."""
import numpy as np
import pytest
import torch

import minidl


def _cases(lib):
    t = lib.tensor
    return [
        (t([1.0, 2.0, 3.0]), t([1.0, 2.5, 3.0]), {}), (t([1, 2, 3]), t([1, 3, 3]), {}),
        (1.0, 1.5, {}), (1, 2, {}), (1, 1.0, {}), (1, 1.0, {"check_dtype": False}),
        (True, False, {}), (t([1.0, 2.0]), t([1.0, 2.0], dtype=lib.float64), {}),
        (t([1.0, 2.0]), t([1.0, 2.0], dtype=lib.float64), {"check_dtype": False}),
        (t([1.0, 2.0]), t([1.0, 2.0, 3.0]), {}),
        ([t(1.0), t([2.0, 3.0])], [t(1.0), t([2.0, 4.0])], {}),
        ({"a": [t([1.0]), t(2.0)]}, {"a": [t([1.0]), t(3.0)]}, {}),
        ({"a": 1}, {"b": 1}, {}), ((1, 2), [1, 2], {}), ([1, 2], [1, 2, 3], {}),
        (t([float("nan")]), t([float("nan")]), {}),
        (t([float("nan")]), t([float("nan")]), {"equal_nan": True}),
        (t([1.0, float("inf")]), t([1.0, float("inf")]), {}),
        (t([1.0, 2.0]), t([1.0, 2.0]), {"rtol": 1e-3}),
        (t([1.0, 2.0]), t([1.0, 2.1]), {"rtol": 0.1, "atol": 0.0}),
        (t(1.0), 1.0, {}), ("a", "a", {}), (None, None, {}),
        (t([True, False]), t([True, True]), {}),
        (t([[1.0, 2.0], [3.0, 4.0]]), t([[1.0, 2.0], [3.0, 4.1]]), {"msg": "custom"}),
        (t([1.0, 2.0]), t([1.0, 2.1]), {"msg": lambda m: "X:" + m[:10]}),
        (t([[1.0, 2.0], [3.0, 4.0]]).t(), t([[1.0, 3.0], [2.0, 4.0]]), {"check_stride": True}),
        (t([[1.0, 2.0], [3.0, 4.0]]).t(), t([[1.0, 3.0], [2.0, 4.0]]), {}),
        (t([0.0, 2.0]), t([1e-3, 2.0]), {}),
        (t([1.0, 2.0], dtype=lib.float16), t([1.0, 2.001], dtype=lib.float16), {}),
        (t(np.arange(12.0).reshape(3, 4)), t(np.arange(12.0).reshape(3, 4) + 1e-8), {}),
        (t(np.arange(12.0).reshape(3, 4)), t(np.arange(12.0).reshape(3, 4) * 1.01), {}),
    ]


def _outcome(lib, a, e, kw):
    try:
        lib.testing.assert_close(a, e, **kw)
    except Exception as err:  # noqa: BLE001 -- the outcome is what is compared
        return type(err).__name__, str(err).replace("minidl.tensor.Tensor", "torch.Tensor")
    return "passed", ""


@pytest.mark.parametrize("i", range(len(_cases(torch))))
def test_assert_close_matches_torch(i):
    mine = _outcome(minidl, *_cases(minidl)[i])
    theirs = _outcome(torch, *_cases(torch)[i])
    assert (mine[0], mine[1].replace("minidl.", "torch.")) == theirs


def test_assert_close_refuses_half_given_tolerances():
    with pytest.raises(ValueError, match="no atol"):
        minidl.testing.assert_close(minidl.ones(1), minidl.ones(1), rtol=1e-3)


def test_allow_subclasses_false_refuses_a_parameter_against_a_tensor():
    p, t = minidl.nn.Parameter(minidl.ones(2)), minidl.ones(2)
    minidl.testing.assert_close(p, t)
    with pytest.raises(AssertionError, match="types do not match"):
        minidl.testing.assert_close(p, t, allow_subclasses=False)
