"""Transform classes (``torchvision.transforms.transforms``): callables built from
``functional``. Conversions and the containers (``Compose``, ``RandomApply``, ...) are here,
the geometric transforms in ``_geometry``, the colour ones in ``_color``.

The geometric and colour transforms are ``nn.Module``s, as in torchvision, and take a PIL
Image or a tensor image (..., C, H, W); a batch (N, C, H, W) gets one set of random
parameters for all its images (torchvision's rule; ``transforms.batch`` draws them per
sample). Random draws come from minidl's default generator, so ``minidl.manual_seed``
makes them reproducible.
"""
from collections.abc import Sequence

from ...backend import rng as _rng
from ...nn import Module
from . import _functional_core as F
from ._affine import RandomAffine, RandomPerspective
from ._color import ColorJitter, Grayscale, RandomGrayscale
from ._erase_blur import GaussianBlur, RandomErasing
from ._functional_core import InterpolationMode
from ._geometry import (
    CenterCrop,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)
from ._multicrop import FiveCrop, TenCrop

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Lambda",
           "ConvertImageDtype", "InterpolationMode", "Resize", "CenterCrop", "Pad",
           "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop",
           "RandomRotation", "ColorJitter", "Grayscale", "RandomGrayscale", "RandomApply",
           "RandomChoice", "RandomOrder", "RandomAffine", "RandomPerspective", "RandomErasing",
           "GaussianBlur", "FiveCrop", "TenCrop"]


def _apply_all(transforms, img):
    for t in transforms:
        img = t(img)
    return img


def _listing(transforms):
    """The lines of a container's repr that show its transforms."""
    return "".join(f"\n    {t}" for t in transforms)


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        return _apply_all(self.transforms, img)

    def __repr__(self):
        return f"{type(self).__name__}({_listing(self.transforms)}\n)"


class ToTensor:
    """PIL Image / ndarray H x W x C (uint8) -> float tensor C x H x W in [0, 1]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL Image -> tensor C x H x W of the same integer values (no scaling)."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToPILImage:
    """Tensor C x H x W or ndarray H x W x C -> PIL Image."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode})"


class Normalize:
    """Normalize a float tensor image per channel: ``(x - mean[c]) / std[c]``."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user-defined function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ConvertImageDtype:
    """Convert a tensor image to ``dtype``, rescaling its values."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}(dtype={self.dtype})"


class RandomApply(Module):
    """Apply all of ``transforms`` with probability ``p``, else none."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < _rng().random():
            return img
        return _apply_all(self.transforms, img)

    def __repr__(self):
        return f"{type(self).__name__}(\n    p={self.p}{_listing(self.transforms)}\n)"


class RandomTransforms:
    """Base of the transforms that pick among a list of ``transforms``."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args, **kwargs):
        raise NotImplementedError()

    def __repr__(self):
        return f"{type(self).__name__}({_listing(self.transforms)}\n)"


class RandomChoice(RandomTransforms):
    """Apply one of ``transforms``, picked with the relative weights ``p`` (default equal)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"p should hold one weight per transform ({len(transforms)}), "
                             f"got {len(p)}")
        self.p = p

    def __call__(self, *args):
        g, n = _rng(), len(self.transforms)
        if self.p is None:
            k = int(g.integers(0, n))
        else:
            total = float(sum(self.p))
            k = int(g.choice(n, p=[float(w) / total for w in self.p]))
        return self.transforms[k](*args)

    def __repr__(self):
        return f"{super().__repr__()}(p={self.p})"


class RandomOrder(RandomTransforms):
    """Apply all of ``transforms`` in a random order."""

    def __call__(self, img):
        for k in _rng().permutation(len(self.transforms)):
            img = self.transforms[k](img)
        return img
