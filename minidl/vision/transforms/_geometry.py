"""Geometric transforms (``torchvision.transforms``): resizing, cropping, padding, flips and
rotation, as ``nn.Module``s over ``functional``; the random ones draw from minidl's default
generator."""
import math
import numbers
import warnings
from collections.abc import Sequence

from ...backend import rng as _rng
from ...nn import Module
from . import _functional_core as F
from ._functional_core import InterpolationMode

__all__ = ["Resize", "CenterCrop", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomResizedCrop", "RandomRotation"]


def _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."):
    """``size`` (an int, or 1 / 2 ints) as a positive ``(h, w)`` tuple."""
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, Sequence) and len(size) == 1:
        size = (size[0], size[0])
    elif not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"{error_msg} Got {size!r}")
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in size):
        raise ValueError(f"size must hold positive integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _mode(interpolation):
    return F.interpolation_mode(interpolation)


class Resize(Module):
    """Resize to ``size``: (h, w), or an int for the shorter side (aspect ratio kept).

    ``max_size`` caps the longer side when ``size`` is an int; ``antialias`` applies to
    bilinear / bicubic resizing of tensors (PIL images are always antialiased).
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        F._check_size(size)
        self.size = size
        self.max_size = max_size
        self.interpolation = _mode(interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(Module):
    """Crop the centre ``size`` (an int: square); images smaller than that are padded with 0."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size)

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(Module):
    """Pad the borders (see ``functional.pad`` for ``padding`` and ``padding_mode``)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError(f"Got inappropriate padding arg: {padding!r}")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"Got inappropriate fill arg: {fill!r}")
        F.check_padding_mode(padding_mode)
        F._parse_padding(padding)
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop(Module):
    """Crop a random ``size`` window, after optional ``padding`` of the borders.

    ``pad_if_needed`` pads an image smaller than ``size`` up to it (right / bottom first
    applied as symmetric amounts, as torchvision). ``fill`` / ``padding_mode`` as in ``Pad``.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        super().__init__()
        self.size = _setup_size(size)
        if padding is not None:
            F._parse_padding(padding)
        F.check_padding_mode(padding_mode)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """Random ``(i, j, h, w)`` for ``crop``: a uniform top-left corner of the window."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        g = _rng()
        return int(g.integers(0, h - th + 1)), int(g.integers(0, w - tw + 1)), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip(Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        if _rng().random() < self.p:
            return self._flip(img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p``."""
    _flip = staticmethod(F.hflip)


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p``."""
    _flip = staticmethod(F.vflip)


class RandomResizedCrop(Module):
    """Crop a random area fraction in ``scale`` with aspect ratio (w / h) in ``ratio``, then
    resize it to ``size`` (the Inception / ImageNet training augmentation)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = _setup_size(size)
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise TypeError(f"Scale should be a sequence of two numbers, got {scale!r}")
        if not isinstance(ratio, Sequence) or len(ratio) != 2:
            raise TypeError(f"Ratio should be a sequence of two numbers, got {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            # stacklevel as torchvision's (its default, 1)
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=1)
        if scale[0] < 0 or ratio[0] <= 0:
            raise ValueError(f"scale must be >= 0 and ratio > 0, got scale={scale}, "
                             f"ratio={ratio}")
        self.interpolation = _mode(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """Random ``(i, j, h, w)``: up to 10 tries of an area fraction ~ U(scale) and a
        log-uniform aspect ratio in ``ratio`` that fits; else the central crop with the aspect
        ratio clamped into ``ratio`` (the whole image when it already is)."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        g = _rng()
        log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            target_area = area * g.uniform(scale[0], scale[1])
            aspect = math.exp(g.uniform(log_lo, log_hi))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                i = int(g.integers(0, height - h + 1))
                j = int(g.integers(0, width - w + 1))
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, "
                f"scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _setup_angle(x, name, req_sizes=(2,)):
    """A number d as ``[-d, d]`` (d >= 0), or a (min, max) pair, as floats."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive. Got {x}")
        x = [-x, x]
    elif not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {req_sizes[0]}.")
    elif len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {req_sizes[0]}. Got {len(x)}")
    return [float(d) for d in x]


class RandomRotation(Module):
    """Rotate by an angle ~ U(degrees) (a number d: U(-d, d)), counter-clockwise.

    ``expand`` enlarges the output to hold the whole rotated image; ``center`` is (x, y) in
    pixels (default: the image centre); ``fill`` colours the area outside the source.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees")
        if center is not None:
            if not isinstance(center, Sequence):
                raise TypeError("center should be a sequence of length 2.")
            if len(center) != 2:
                raise ValueError(f"center should be a sequence of length 2. Got {len(center)}")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.interpolation = _mode(interpolation)
        self.expand = expand
        self.center = center
        self.fill = fill

    @staticmethod
    def get_params(degrees):
        """A random angle ~ U(degrees[0], degrees[1])."""
        return float(_rng().uniform(float(degrees[0]), float(degrees[1])))

    def forward(self, img):
        fill = self.fill
        channels, _, _ = F.get_dimensions(img)
        if not F._is_pil(img):
            fill = [float(fill)] * channels if isinstance(fill, numbers.Number) else \
                [float(f) for f in fill]
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self):
        s = (f"{type(self).__name__}(degrees={self.degrees}, "
             f"interpolation={self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            s += f", center={self.center}"
        return s + f", fill={self.fill})"
