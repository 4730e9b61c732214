"""Image files as arrays for the commands that run a trained model on a user's picture
(``minidl detect``, ``segment``, ``caption``): read with Pillow, converted to the model's
channels (``'L'``: ITU-R 601-2 luma, or ``'RGB'``), scaled to [0, 1], optionally resized."""
import numpy as np

__all__ = ["read_image"]


def read_image(path, channels, size=None):
    """``(image, (H, W))``: the file as float32 (C, h, w) in [0, 1] with ``channels`` 1 (grey)
    or 3 (RGB), resized bilinearly to ``size`` = (h, w) when given and different, and the
    file's own height and width. A file Pillow cannot read is a ValueError naming it."""
    from PIL import Image, UnidentifiedImageError
    if channels not in (1, 3):
        raise ValueError(f"read_image: channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            original = (img.height, img.width)
            if size is not None and tuple(size) != original:
                img = img.resize((int(size[1]), int(size[0])), Image.BILINEAR)
            a = np.asarray(img, np.float32) / 255
    except UnidentifiedImageError:
        raise ValueError(f"{path!r} is not an image file Pillow can read") from None
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return np.ascontiguousarray(a), original
