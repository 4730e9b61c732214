import numpy as np
import pytest
import torch

import minidl
from tests.reference.harness import compare, gradcheck


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5))])
def test_binary_arith(dtype, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s) for s in shapes)
    b = b + 3 * np.sign(b)
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y):
        compare(op, op, [a, b], dtype=dtype, noncontiguous=True)
    gradcheck(lambda x, y: x * y / (y + 10), [a, b])
