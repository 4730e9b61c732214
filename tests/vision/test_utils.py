"""make_grid / save_image with torchvision's layout rules."""
import numpy as np
import pytest
from PIL import Image

import minidl
from minidl.vision.utils import make_grid, save_image


def _reference_grid(a, nrow, padding, pad_value):
    """The grid built image by image (torchvision's documented placement)."""
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    grid = np.full((c, (h + padding) * rows + padding, (w + padding) * cols + padding), pad_value,
                   a.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = a[k]
    return grid


@pytest.mark.parametrize("n, nrow, padding", [(5, 2, 2), (8, 8, 0), (7, 3, 1), (3, 8, 2)])
def test_layout(n, nrow, padding):
    a = np.random.default_rng(0).random((n, 3, 4, 5)).astype(np.float32)
    out = make_grid(minidl.from_numpy(a), nrow=nrow, padding=padding, pad_value=0.5)
    np.testing.assert_array_equal(out.numpy(), _reference_grid(a, nrow, padding, 0.5))


def test_grayscale_single_and_list():
    a = np.random.default_rng(1).random((4, 1, 3, 3)).astype(np.float32)
    out = make_grid(minidl.from_numpy(a), nrow=2, padding=1)
    assert tuple(out.shape) == (3, 9, 9)  # one channel is repeated to RGB
    np.testing.assert_array_equal(out.numpy()[0], out.numpy()[2])
    single = make_grid(minidl.from_numpy(a[0]))
    assert tuple(single.shape) == (3, 3, 3)  # a single image is returned without padding
    listed = make_grid([minidl.from_numpy(x) for x in a], nrow=2, padding=1)
    np.testing.assert_array_equal(listed.numpy(), out.numpy())
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(a)


def test_normalize():
    a = np.array([[[[-1.0, 0.0], [1.0, 3.0]]], [[[0.0, 0.5], [1.0, 1.0]]]], np.float32)
    out = make_grid(minidl.from_numpy(a), padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(out, [[0.0, 0.25, 0.25, 0.375], [0.5, 1.0, 0.5, 0.5]])
    each = make_grid(minidl.from_numpy(a), padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0.0, 0.25, 0.0, 0.5], [0.5, 1.0, 1.0, 1.0]])
    ranged = make_grid(minidl.from_numpy(a), padding=0, normalize=True,
                       value_range=(0.0, 1.0)).numpy()[0]
    np.testing.assert_allclose(ranged, [[0.0, 0.0, 0.0, 0.5], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(a[0, 0, 0], [-1.0, 0.0])  # the input is untouched


def test_save_image(tmp_path):
    a = np.random.default_rng(2).random((6, 3, 5, 5)).astype(np.float32)
    save_image(minidl.from_numpy(a), tmp_path / "grid.png", nrow=3)
    img = np.asarray(Image.open(tmp_path / "grid.png"))
    expected = _reference_grid(a, 3, 2, 0.0)
    assert img.shape == (expected.shape[1], expected.shape[2], 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8)
                                  .transpose(1, 2, 0))
