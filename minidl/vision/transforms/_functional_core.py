"""The core of ``functional`` (``torchvision.transforms.functional``): conversions, flips,
crops, padding, resizing, rotation and the colour adjustments.

Images are PIL Images, NumPy arrays laid out H x W x C, or minidl tensors laid out
(..., C, H, W). The conversions follow torchvision: ``to_tensor`` scales 8-bit images to
floats in [0, 1]; ``pil_to_tensor`` keeps the integer values.
"""
import numbers
from enum import Enum

import numpy as np

from ...backend import as_dtype, get_default_dtype
from ...tensor import Tensor
from . import _functional_pil as _FP
from . import _functional_tensor as _FT

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a dependency
    Image = None

__all__ = ["to_tensor", "pil_to_tensor", "to_pil_image", "normalize", "convert_image_dtype",
           "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
           "hflip", "vflip", "crop", "center_crop", "pad", "resize", "resized_crop", "rotate",
           "rgb_to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation",
           "adjust_hue"]

# PIL modes whose pixels are not 8-bit: the NumPy type their values need.
_PIL_MODE_DTYPES = {"I": np.int32, "I;16": np.int16, "I;16B": np.int16, "F": np.float32}


def _is_pil(pic):
    return Image is not None and isinstance(pic, Image.Image)


def _pil_array(pic):
    """The pixels of a PIL image as an H x W x C array (mode '1' becomes 0/255 uint8)."""
    a = np.array(pic, _PIL_MODE_DTYPES.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        a = a * np.uint8(255)
    return a.reshape(pic.size[1], pic.size[0], len(pic.getbands()))


def to_tensor(pic):
    """PIL Image or ndarray (H x W x C) -> tensor C x H x W; uint8 values are scaled to [0, 1].

    Other dtypes (int32 'I' images, float arrays) keep their values and dtype, as in torchvision.
    """
    if _is_pil(pic):
        a = _pil_array(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        a = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(a.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        d = get_default_dtype().np
        chw = chw.astype(d) / d.type(255)
    return Tensor(chw)


def pil_to_tensor(pic):
    """PIL Image -> tensor C x H x W with the image's own integer values (no scaling)."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return Tensor(np.ascontiguousarray(_pil_array(pic).transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """Tensor C x H x W (floats in [0, 1] are scaled by 255) or ndarray H x W x C -> PIL Image."""
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        a = pic.detach().numpy()
        a = a[None] if a.ndim == 2 else a
        a = a.transpose(1, 2, 0)
        if a.dtype.kind == "f" and mode != "F":
            a = (a * 255).astype(np.uint8)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        a = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if a.shape[2] == 1:
        a = a[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(a), mode=mode) if mode else Image.fromarray(
        np.ascontiguousarray(a))


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float tensor image (..., C, H, W)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tuple(tensor.shape)}.")
    d = tensor.dtype.np
    m = np.asarray(mean.detach().numpy() if isinstance(mean, Tensor) else mean, dtype=d)
    s = np.asarray(std.detach().numpy() if isinstance(std, Tensor) else std, dtype=d)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to "
                         f"division by zero.")
    if m.ndim == 1:
        m = m.reshape(-1, 1, 1)
    if s.ndim == 1:
        s = s.reshape(-1, 1, 1)
    m, s = Tensor(m), Tensor(s)
    if inplace:
        return tensor.sub_(m).div_(s)
    return (tensor - m) / s


def _max_value(np_dtype):
    return np.iinfo(np_dtype).max if np_dtype.kind in "iu" else 1.0


def convert_image_dtype(image, dtype=None):
    """Convert an image tensor to ``dtype``, rescaling (ints span [0, max], floats [0, 1])."""
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image, got {type(image)}")
    src = image.dtype.np
    dst = as_dtype(dtype if dtype is not None else get_default_dtype()).np
    a = image.detach().numpy()
    if src == dst:
        return image
    if src.kind == "f":
        if dst.kind == "f":
            return Tensor(a.astype(dst))
        if (src == np.float32 and dst in (np.int32, np.int64)) or (src == np.float64 and
                                                                  dst == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {as_dtype(dst)} cannot be "
                               f"performed safely.")
        eps = 1e-3
        return Tensor((a * (float(_max_value(dst)) + 1.0 - eps)).astype(dst))
    if dst.kind == "f":
        return Tensor(a.astype(dst) / dst.type(_max_value(src)))
    # int -> int: shift by the difference in bit widths (torchvision's rule)
    src_max, dst_max = int(_max_value(src)), int(_max_value(dst))
    if src_max > dst_max:
        factor = (src_max + 1) // (dst_max + 1)
        return Tensor((a // factor).astype(dst))
    factor = (dst_max + 1) // (src_max + 1)
    return Tensor(a.astype(dst) * dst.type(factor))


# ============================================================================ geometry
# Each function takes a PIL Image or a tensor image (..., C, H, W) and returns the same kind;
# the work is done in ``_functional_pil`` / ``_functional_tensor``.
class InterpolationMode(Enum):
    """Interpolation filters (torchvision's names and values)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's filter constants for each mode (nearest-exact is Pillow's nearest).
pil_modes_mapping = {
    InterpolationMode.NEAREST: 0, InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
    InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}
_PIL_TO_MODE = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
                5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def interpolation_mode(interpolation):
    """``interpolation`` as an ``InterpolationMode`` (Pillow's integer constants accepted)."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        if interpolation not in _PIL_TO_MODE:
            raise ValueError(f"interpolation {interpolation} is not one of Pillow's filters "
                             f"{sorted(_PIL_TO_MODE)}")
        return _PIL_TO_MODE[interpolation]
    raise TypeError(f"Argument interpolation should be a InterpolationMode or a corresponding "
                    f"Pillow integer constant, got {interpolation!r}")


def _backend(img):
    """The implementation module for ``img`` (PIL or tensor); TypeError for anything else."""
    if isinstance(img, Tensor):
        return _FT
    if _is_pil(img):
        return _FP
    raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_dimensions(img):
    """``[channels, height, width]`` of a PIL image or tensor image."""
    return _backend(img).get_dimensions(img)


def get_image_size(img):
    """``[width, height]`` of a PIL image or tensor image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


def hflip(img):
    """Mirror left-right."""
    return _backend(img).hflip(img)


def vflip(img):
    """Mirror top-bottom."""
    return _backend(img).vflip(img)


def crop(img, top, left, height, width):
    """The ``height x width`` box with top-left corner ``(top, left)``; zero outside the image."""
    return _backend(img).crop(img, int(top), int(left), int(height), int(width))


def _pair(size, name):
    """An int or a 1- / 2-sequence as ``(h, w)``."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) in (1, 2):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"{name} should be an int or a sequence of 1 or 2 ints (h, w), got {size!r}")


def center_crop(img, output_size):
    """Crop the centre ``output_size`` (an int: square); pads with 0 when the image is smaller.

    The top-left corner is ``(int(round((H - h) / 2)), int(round((W - w) / 2)))``.
    """
    crop_h, crop_w = _pair(output_size, "output_size")
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        ltrb = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                (crop_w - w + 1) // 2 if crop_w > w else 0,
                (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if (crop_h, crop_w) == (h, w):
            return img
    return crop(img, int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0)), crop_h,
                crop_w)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def check_padding_mode(padding_mode):
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")


def _parse_padding(padding):
    """``padding`` (int, or 1 / 2 / 4 ints) as ``[left, top, right, bottom]``."""
    if isinstance(padding, bool) or not isinstance(padding, (numbers.Integral, tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: expected an int or a sequence of 1, 2 "
                        f"or 4 ints, got {padding!r}")
    if isinstance(padding, numbers.Integral):
        return [int(padding)] * 4
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if not all(isinstance(p, numbers.Integral) for p in padding):
        raise TypeError(f"Got inappropriate padding arg: expected ints, got {padding!r}")
    p = [int(v) for v in padding]
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return [p[0], p[1], p[0], p[1]]
    return p


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` is one int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom). ``padding_mode``: 'constant' (``fill``), 'edge' (repeat the
    border), 'reflect' (mirror without the border: 1 2 3 -> 3 2 | 1 2 3 | 2 1) or 'symmetric'
    (mirror with it: 2 1 | 1 2 3 | 3 2)."""
    ltrb = _parse_padding(padding)
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate fill arg: {fill!r}")
    check_padding_mode(padding_mode)
    return _backend(img).pad(img, ltrb, fill, padding_mode)


def _resized_output_size(h, w, size, max_size):
    """torchvision's output size: (h, w) as given, or the shorter side set to ``size[0]``
    (the longer one scaled and truncated), capped so that the longer side <= ``max_size``."""
    if len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the "
                             "smaller edge, i.e. size should be an int or a sequence of length 1")
        return [int(size[0]), int(size[1])]
    short, long = (w, h) if w <= h else (h, w)
    new_short = int(size[0])
    new_long = int(new_short * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                             f"size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return [new_long, new_short] if w <= h else [new_short, new_long]


def _check_size(size, name="size"):
    """``size`` as a list of 1 or 2 positive ints."""
    if isinstance(size, bool) or not isinstance(size, (numbers.Integral, tuple, list)):
        raise TypeError(f"{name} should be int or sequence. Got {type(size)}")
    sizes = [size] if isinstance(size, numbers.Integral) else list(size)
    if len(sizes) not in (1, 2):
        raise ValueError(f"{name} must be an int or a 1 or 2 element tuple/list, not a "
                         f"{len(sizes)} element tuple/list")
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {size!r}")
    return [int(s) for s in sizes]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``: (h, w), or an int / 1-sequence for the shorter side (aspect ratio
    kept, the longer side truncated). PIL images are always antialiased; tensors when
    ``antialias`` and the mode is bilinear / bicubic (Pillow's filter, torchvision's default)."""
    interpolation = interpolation_mode(interpolation)
    sizes = _check_size(size)
    _, h, w = get_dimensions(img)
    out = _resized_output_size(h, w, sizes, max_size)
    if out == [h, w]:
        return img
    if _backend(img) is _FT:
        return _FT.resize(img, out, interpolation.value, antialias)
    return _FP.resize(img, out, pil_modes_mapping[interpolation])


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` ((x, y) in pixels;
    default the image centre). ``expand`` grows the output to hold the whole rotated image;
    ``fill`` colours the area outside the source (tensors: nearest or bilinear only)."""
    interpolation = interpolation_mode(interpolation)
    if isinstance(angle, bool) or not isinstance(angle, numbers.Real):
        raise TypeError(f"Argument angle should be int or float, got {type(angle).__name__}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    backend = _backend(img)
    if backend is _FP:
        return _FP.rotate(img, float(angle), pil_modes_mapping[interpolation], expand, center,
                          fill)
    _, h, w = get_dimensions(img)
    c = (0.0, 0.0) if center is None else (center[0] - w * 0.5, center[1] - h * 0.5)
    return _FT.rotate(img, _FT.rotation_matrix(float(angle), c), interpolation.value, expand,
                      fill)


# ============================================================================== colour
def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B, with 1 or 3 (equal) output channels."""
    if _backend(img) is _FP:
        return _FP.to_grayscale(img, num_output_channels)
    return _FT.rgb_to_grayscale(img, num_output_channels)


def _check_factor(value, name):
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    """Scale the intensities by ``brightness_factor`` (0: black, 1: unchanged)."""
    _check_factor(brightness_factor, "brightness_factor")
    return _backend(img).adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level (0: uniform grey, 1: unchanged)."""
    _check_factor(contrast_factor, "contrast_factor")
    return _backend(img).adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blend with the greyscale image (0: grey, 1: unchanged, 2: doubled saturation)."""
    _check_factor(saturation_factor, "saturation_factor")
    return _backend(img).adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor):
    """Rotate the hue by ``hue_factor`` in [-0.5, 0.5] turns of the colour circle."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _backend(img) is _FP:
        return _FP.adjust_hue(img, hue_factor)
    return _FT.adjust_hue(img, hue_factor, convert_image_dtype)

