"""The PIL-image side of ``functional``: geometry and colour on ``PIL.Image`` objects.

Pillow does the pixel work (``crop``, ``transpose``, ``resize``, ``rotate``, ``ImageEnhance``);
the modes other than constant padding go through ``numpy.pad``, as in torchvision.
"""
import numbers

import numpy as np
from PIL import Image, ImageEnhance


def _is_pil(img):
    return isinstance(img, Image.Image)


def get_dimensions(img):
    """``[channels, height, width]`` of a PIL image."""
    width, height = img.size
    return [len(img.getbands()), height, width]


def hflip(img):
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def crop(img, top, left, height, width):
    """The box ``[top, top + height) x [left, left + width)``; outside the image reads 0."""
    return img.crop((left, top, left + width, top + height))


def parse_fill(fill, img, name="fillcolor"):
    """``fill`` as Pillow wants it for ``img``: one value per band, ints unless mode 'F'."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise ValueError(f"The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def pad(img, ltrb, fill=0, padding_mode="constant"):
    """Pad by ``ltrb = (left, top, right, bottom)``; negative amounts crop that side."""
    left, top, right, bottom = ltrb
    if padding_mode == "constant":
        w, h = img.size
        color = parse_fill(fill, img, "fill")["fill"]
        out = Image.new(img.mode, (w + left + right, h + top + bottom), color)
        out.paste(img, (left, top))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    cut = [max(-v, 0) for v in ltrb]
    if any(cut):
        img = img.crop((cut[0], cut[1], img.width - cut[2], img.height - cut[3]))
    left, top, right, bottom = (max(v, 0) for v in ltrb)
    palette = img.getpalette() if img.mode == "P" else None
    a = np.asarray(img)
    widths = ((top, bottom), (left, right)) + ((0, 0),) * (a.ndim - 2)
    out = Image.fromarray(np.pad(a, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def resize(img, size, resample):
    """Resize to ``size = [height, width]`` with Pillow's filter ``resample``."""
    h, w = size
    return img.resize((w, h), resample)


def rotate(img, angle, resample, expand, center, fill):
    """Counter-clockwise rotation by ``angle`` degrees about ``center`` (default: the middle)."""
    return img.rotate(angle, resample, expand, center, **parse_fill(fill, img))


# ----------------------------------------------------------------------------- colour
def to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma ('L'), repeated into an RGB image when ``num_output_channels`` is 3."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = img.convert("L")
    return gray if num_output_channels == 1 else Image.merge("RGB", (gray, gray, gray))


def adjust_brightness(img, factor):
    return ImageEnhance.Brightness(img).enhance(factor)


def adjust_contrast(img, factor):
    return ImageEnhance.Contrast(img).enhance(factor)


def adjust_saturation(img, factor):
    return ImageEnhance.Color(img).enhance(factor)


def adjust_hue(img, hue_factor):
    """Shift the hue channel of the HSV image by ``hue_factor`` turns (it wraps around)."""
    if img.mode in ("L", "1", "I", "F"):
        return img
    h, s, v = img.convert("HSV").split()
    shift = np.uint8(int(hue_factor * 255) % 256)
    h = Image.fromarray(np.asarray(h, np.uint8) + shift)  # uint8 addition wraps
    return Image.merge("HSV", (h, s, v)).convert(img.mode)
