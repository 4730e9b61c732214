"""Stateless image transforms (``torchvision.transforms.functional``).

Images are PIL Images, NumPy arrays laid out H x W x C, or minidl tensors laid out
(..., C, H, W). The conversions follow torchvision: ``to_tensor`` scales 8-bit images to
floats in [0, 1]; ``pil_to_tensor`` keeps the integer values.
"""
import numpy as np

from ...backend import as_dtype, get_default_dtype
from ...tensor import Tensor

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a dependency
    Image = None

__all__ = ["to_tensor", "pil_to_tensor", "to_pil_image", "normalize", "convert_image_dtype"]

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
