"""Stateless image transforms (``torchvision.transforms.functional``).

Images are PIL Images, NumPy arrays laid out H x W x C, or minidl tensors laid out
(..., C, H, W). The conversions follow torchvision: ``to_tensor`` scales 8-bit images to
floats in [0, 1]; ``pil_to_tensor`` keeps the integer values. The functions live in
``_functional_core`` (conversions, geometry, colour), ``_affine`` (affine, perspective),
``_erase_blur`` and ``_multicrop``; this module gathers torchvision's names.
"""
from ._affine import affine, perspective
from ._erase_blur import erase, gaussian_blur
from ._functional_core import *  # noqa: F401,F403
from ._functional_core import __all__ as _core_names
from ._functional_core import pil_modes_mapping  # noqa: F401 (torchvision has it here)
from ._multicrop import five_crop, ten_crop

__all__ = [*_core_names, "affine", "perspective", "erase", "gaussian_blur", "five_crop",
           "ten_crop"]
