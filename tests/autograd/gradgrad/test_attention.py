"""Second derivatives of scaled dot-product attention (its ``reference`` composition), against
torch: float mask, causal, boolean mask with a fully masked row, grouped-query heads, scale.
torch runs its composite (math) kernel here: its fused CPU kernel has no second derivative."""
import contextlib

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def sdpa(**kw):
    def fn(lib, q, k, v, mask=None):
        if isinstance(mask, np.ndarray):
            mask = lib.tensor(mask)
        math_only = sdpa_kernel(SDPBackend.MATH) if lib is torch else contextlib.nullcontext()
        with math_only:
            return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kw)
    return fn


BOOL_MASK = rng.random((3, 4)) > 0.3
BOOL_MASK[1] = False
BOOL_MASK[0, 0] = True

CASES = [
    Case("float_mask_broadcast", sdpa(), (normal(2, 3, 2), normal(2, 4, 2), normal(2, 4, 3),
                                          normal(1, 3, 4))),
    Case("causal_scale", sdpa(is_causal=True, scale=0.7),
         (normal(1, 2, 3, 2), normal(1, 2, 4, 2), normal(1, 2, 4, 2))),
    Case("bool_mask_fully_masked_row", sdpa(), (normal(2, 3, 2), normal(2, 4, 2),
                                                normal(2, 4, 2), BOOL_MASK)),
    Case("grouped_query_value_frozen", sdpa(enable_gqa=True),
         (normal(1, 4, 2, 2), normal(1, 2, 3, 2), normal(1, 1, 3, 2)), no_grad=(2,)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
