"""The two engine paths of a recorded backward: a traced kernel and a ``reference``."""
import numpy as np
import pytest

from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)

CASES = [
    Case("exp*sin+x^3 (traced kernels)", lambda lib, x: lib.exp(x) * lib.sin(x) + x ** 3,
         (rng.standard_normal((3, 4)),)),
    Case("tanh(x @ w) (matmul, tanh)", lambda lib, x, w: lib.tanh(x @ w),
         (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
