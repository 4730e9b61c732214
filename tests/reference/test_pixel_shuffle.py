"""pixel_shuffle / pixel_unshuffle against torch: outputs, gradients, round trips, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((3, 9, 2, 2), 3), ((8, 3, 3), 2),
                                      ((2, 3, 4, 2, 5), 1), ((2, 1, 18, 2, 3), 3)], ids=str)
def test_pixel_shuffle(shape, r, dtype):
    compare(lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r), [_rand(shape)],
            dtype=dtype, noncontiguous=True)
    unshape = shape[:-3] + (shape[-3] // (r * r) or 1, shape[-2] * r, shape[-1] * r)
    compare(lambda a: F.pixel_unshuffle(a, r), lambda a: TF.pixel_unshuffle(a, r),
            [_rand(unshape)], dtype=dtype, noncontiguous=True)


def test_pixel_shuffle_roundtrip_ints_and_gradcheck():
    x = np.arange(2 * 8 * 3 * 2).reshape(2, 8, 3, 2)
    compare(lambda a: minidl.pixel_shuffle(a, 2), lambda a: torch.pixel_shuffle(a, 2), [x],
            grad=False)
    y = F.pixel_unshuffle(F.pixel_shuffle(minidl.from_numpy(x), 2), 2)
    np.testing.assert_array_equal(y.numpy(), x)
    gradcheck(lambda a: F.pixel_shuffle(a, 2), [_rand((1, 4, 2, 3))])
    gradcheck(lambda a: F.pixel_unshuffle(a, 2), [_rand((1, 1, 4, 2))])


@pytest.mark.parametrize("fn, shape, r, exc, match", [
    ("pixel_shuffle", (2, 5, 3, 3), 2, RuntimeError,
     r"divisible by the square of upscale_factor, but input.size\(-3\)=5 is not divisible by 4"),
    ("pixel_shuffle", (3, 3), 2, RuntimeError, "at least 3 dimensions.*2 dimension"),
    ("pixel_shuffle", (2, 4, 3, 3), 0, RuntimeError, "positive upscale_factor, but got 0"),
    ("pixel_shuffle", (2, 4, 3, 3), 2.0, TypeError, "'upscale_factor'.*must be int, not float"),
    ("pixel_unshuffle", (2, 1, 5, 6), 2, RuntimeError,
     r"height to be divisible by downscale_factor, but input.size\(-2\)=5"),
    ("pixel_unshuffle", (2, 1, 4, 5), 2, RuntimeError,
     r"width to be divisible by downscale_factor, but input.size\(-1\)=5"),
    ("pixel_unshuffle", (1, 4, 4), -1, RuntimeError, "positive downscale_factor, but got -1"),
])
def test_pixel_shuffle_errors(fn, shape, r, exc, match):
    with pytest.raises(exc, match=match):
        getattr(F, fn)(minidl.zeros(*shape), r)
    with pytest.raises(exc):
        getattr(TF, fn)(torch.zeros(*shape), r)
