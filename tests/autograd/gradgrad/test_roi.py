"""Second derivatives of roi_align and roi_pool (minidl.vision.ops), against torch.

Both are linear in the input (roi_pool piecewise): what is tested is the derivative of the
backward with respect to the incoming gradient, and that the input's own second derivative
is zero. torchvision cannot be imported, so torch applies the same linear map as a matrix
built by the loop references of tests/vision/test_roi.py (for roi_pool: the selection of
each bin's maximum at the case's input, whose values are distinct).
"""
import numpy as np
import pytest

import minidl
from minidl.vision import ops
from tests.autograd.gradgrad.harness import Case, check
from tests.vision.test_roi import align_terms, ref_roi_pool

rng = np.random.default_rng(0)
ROIS = np.array([[0, 0.3, -0.6, 3.9, 2.2], [1, 1.0, 1.0, 4.5, 3.7], [1, 2.1, 0.2, 2.3, 0.4],
                 [0, 2.6, 1.4, 6.0, 5.0]])
SHAPE = (2, 2, 4, 5)


def matrix_apply(lib, x, matrix, pooled):
    out = lib.tensor(matrix) @ x.reshape(-1)
    return out.reshape(len(ROIS), SHAPE[1], *pooled)


def align(pooled, scale, sampling_ratio, aligned):
    def fn(lib, x):
        if lib is minidl:
            return ops.roi_align(x, minidl.tensor(ROIS), pooled, scale, sampling_ratio, aligned)
        matrix = np.zeros((len(ROIS), SHAPE[1]) + pooled + SHAPE)
        channels = np.arange(SHAPE[1])
        for (k, ph, pw), cell in align_terms(ROIS, SHAPE, pooled, scale, sampling_ratio,
                                             aligned).items():
            for n, row, col, w in cell:
                matrix[k, channels, ph, pw, n, channels, row, col] += w
        return matrix_apply(lib, x, matrix.reshape(-1, int(np.prod(SHAPE))), pooled)
    return fn


def pool(pooled, scale):
    def fn(lib, x):
        if lib is minidl:
            return ops.roi_pool(x, minidl.tensor(ROIS), pooled, scale)
        _, arg = ref_roi_pool(x.detach().numpy(), ROIS, pooled, scale)
        matrix = np.zeros((len(ROIS), SHAPE[1]) + pooled + SHAPE)
        for out_at, where in arg.items():
            if where is not None:
                matrix[out_at + where] = 1.0
        return matrix_apply(lib, x, matrix.reshape(-1, int(np.prod(SHAPE))), pooled)
    return fn


# Distinct values keep every maximum strict, so finite differences never cross a tie.
DISTINCT = rng.permutation(int(np.prod(SHAPE))).reshape(SHAPE) / np.prod(SHAPE) + 0.1

CASES = [
    Case("roi_align_adaptive_legacy", align((2, 3), 1.0, -1, False), (rng.standard_normal(SHAPE),)),
    Case("roi_align_fixed_aligned_scaled", align((2, 2), 0.5, 2, True),
         (rng.standard_normal(SHAPE),)),
    Case("roi_pool", pool((2, 3), 1.0), (DISTINCT,)),
    Case("roi_pool_scaled", pool((2, 2), 0.5), (DISTINCT,)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
