"""The two engine paths of a recorded backward: a traced kernel and a ``reference``."""
import numpy as np
import pytest

from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)

def _rms_norm_gradient(lib, x):
    """d/dx sum(rms_norm(x)^3): its second derivative is a third one of a `reference`
    kernel, so the identity nodes where a reference re-run meets the graph are recorded.
    (Not layer_norm: torch 2.13's third derivative of layer_norm disagrees with finite
    differences, minidl's agrees.)"""
    y = lib.nn.functional.rms_norm(x, x.shape[-1:])
    return lib.autograd.grad((y ** 3).sum(), x, create_graph=True)[0]


CASES = [
    Case("third derivative through a reference kernel (rms_norm)", _rms_norm_gradient,
         (rng.standard_normal((2, 4)),)),
    Case("exp*sin+x^3 (traced kernels)", lambda lib, x: lib.exp(x) * lib.sin(x) + x ** 3,
         (rng.standard_normal((3, 4)),)),
    Case("tanh(x @ w) (matmul, tanh)", lambda lib, x, w: lib.tanh(x @ w),
         (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
