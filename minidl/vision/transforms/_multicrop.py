"""Multi-crop testing (``torchvision.transforms``): ``five_crop`` / ``FiveCrop`` (the four
corners and the centre) and ``ten_crop`` / ``TenCrop`` (those and the same five of the
flipped image), as in Krizhevsky et al. 2012's ten-patch test-time averaging."""
import numbers
from collections.abc import Sequence

from ...nn import Module
from . import _functional_core as F

__all__ = ["five_crop", "ten_crop", "FiveCrop", "TenCrop"]


def _crop_size(size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for size. Got {size!r}")
    return tuple(size)


def five_crop(img, size):
    """``(top_left, top_right, bottom_left, bottom_right, center)`` crops of ``size``
    ((h, w); an int: square)."""
    crop_h, crop_w = _crop_size(size)
    _, h, w = F.get_dimensions(img)
    if crop_w > w or crop_h > h:
        raise ValueError(f"Requested crop size {(crop_h, crop_w)} is bigger than input size "
                         f"{(h, w)}")
    return (F.crop(img, 0, 0, crop_h, crop_w), F.crop(img, 0, w - crop_w, crop_h, crop_w),
            F.crop(img, h - crop_h, 0, crop_h, crop_w),
            F.crop(img, h - crop_h, w - crop_w, crop_h, crop_w),
            F.center_crop(img, [crop_h, crop_w]))


def ten_crop(img, size, vertical_flip=False):
    """``five_crop`` of the image, then of its mirror (left-right, or top-bottom when
    ``vertical_flip``): ten crops."""
    size = _crop_size(size)
    flipped = F.vflip(img) if vertical_flip else F.hflip(img)
    return five_crop(img, size) + five_crop(flipped, size)


def _setup_size(size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for size. Got {size!r}")
    return size


class FiveCrop(Module):
    """``five_crop``: returns a tuple of five images (stack them for a batch)."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size)

    def forward(self, img):
        return five_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class TenCrop(Module):
    """``ten_crop``: returns a tuple of ten images (stack them for a batch)."""

    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = _setup_size(size)
        self.vertical_flip = vertical_flip

    def forward(self, img):
        return ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, vertical_flip={self.vertical_flip})"
