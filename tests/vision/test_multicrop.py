"""``five_crop`` / ``ten_crop`` / ``FiveCrop`` / ``TenCrop`` against NumPy slicing."""
import numpy as np
import pytest
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.transforms import functional as F

RNG = np.random.default_rng(0)


def _five(a, h, w):
    """tl, tr, bl, br, centre of the last two axes (centre offsets rounded as center_crop)."""
    H, W = a.shape[-2:]
    top, left = int(round((H - h) / 2)), int(round((W - w) / 2))
    return [a[..., :h, :w], a[..., :h, W - w:], a[..., H - h:, :w], a[..., H - h:, W - w:],
            a[..., top:top + h, left:left + w]]


def test_five_crop_tensor_is_corners_and_centre():
    x = RNG.random((2, 3, 9, 12)).astype(np.float32)
    crops = F.five_crop(minidl.tensor(x), (4, 5))
    assert len(crops) == 5
    for got, ref in zip(crops, _five(x, 4, 5)):
        np.testing.assert_array_equal(got.numpy(), ref)


@pytest.mark.parametrize("vertical", [False, True])
def test_ten_crop_adds_the_flipped_five(vertical):
    x = RNG.random((3, 8, 10)).astype(np.float32)
    crops = T.TenCrop(4, vertical_flip=vertical)(minidl.tensor(x))
    flipped = x[:, ::-1] if vertical else x[:, :, ::-1]
    for got, ref in zip(crops, _five(x, 4, 4) + _five(flipped, 4, 4)):
        np.testing.assert_array_equal(got.numpy(), ref)


def test_five_crop_pil_matches_tensor():
    a = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    crops = T.FiveCrop([3])(Image.fromarray(a))
    for got, ref in zip(crops, _five(a.transpose(2, 0, 1), 3, 3)):
        assert got.size == (3, 3)
        np.testing.assert_array_equal(np.asarray(got).transpose(2, 0, 1), ref)


def test_multicrop_errors_and_repr():
    x = minidl.rand(3, 5, 5)
    with pytest.raises(ValueError, match="bigger than input size"):
        F.five_crop(x, 6)
    with pytest.raises(ValueError, match="two dimensions"):
        F.ten_crop(x, (1, 2, 3))
    with pytest.raises(ValueError, match="two dimensions"):
        T.FiveCrop((1, 2, 3))
    assert repr(T.FiveCrop(3)) == "FiveCrop(size=(3, 3))"
    assert repr(T.TenCrop(3, True)) == "TenCrop(size=(3, 3), vertical_flip=True)"
