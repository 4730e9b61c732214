"""Image grids (``torchvision.utils``): ``make_grid`` and ``save_image``.

``draw_bounding_boxes`` and ``draw_segmentation_masks`` live in ``drawing.py``.
"""
import math

import numpy as np

from ..tensor import Tensor
from .drawing import draw_bounding_boxes, draw_segmentation_masks

__all__ = ["make_grid", "save_image", "draw_bounding_boxes", "draw_segmentation_masks"]


def _as_batch(tensor):
    """A float array B x C x H x W from a tensor (2-d, 3-d, 4-d) or a list of C x H x W tensors."""
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("tensor or list of tensors expected, got a list holding "
                            f"{sorted({type(t).__name__ for t in tensor})}")
        a = np.stack([t.detach().numpy() for t in tensor])
    elif isinstance(tensor, Tensor):
        a = tensor.detach().numpy()
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"expected a 2-, 3- or 4-d image tensor, got shape {a.shape}")
    if a.shape[1] == 1:  # single-channel images become RGB, as in torchvision
        a = np.concatenate([a, a, a], axis=1)
    return a


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile a batch of images B x C x H x W into one image, ``nrow`` images per row.

    ``normalize`` shifts and scales to [0, 1] using ``value_range`` (low, high) or the
    min / max of the batch (of each image with ``scale_each``), after clamping.
    """
    a = _as_batch(tensor)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
    if normalize:
        a = a.copy()
        images = a if scale_each else a[None]
        for img in images:
            low, high = value_range if value_range is not None else (img.min(), img.max())
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)
    if a.shape[0] == 1:
        return Tensor(np.ascontiguousarray(a[0]))
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    ph, pw = h + padding, w + padding
    # one (h + padding) x (w + padding) cell per image, the image in its bottom-right corner
    cells = np.full((rows * cols, c, ph, pw), pad_value, dtype=a.dtype)
    cells[:n, :, padding:, padding:] = a
    grid = np.full((c, ph * rows + padding, pw * cols + padding), pad_value, dtype=a.dtype)
    grid[:, :ph * rows, :pw * cols] = cells.reshape(rows, cols, c, ph, pw).transpose(
        2, 0, 3, 1, 4).reshape(c, rows * ph, cols * pw)
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or a batch, tiled by ``make_grid(**kwargs)``) as an image file."""
    from PIL import Image
    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
