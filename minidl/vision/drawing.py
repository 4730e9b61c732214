"""Detections drawn over images (``torchvision.utils``): boxes with labels, and segmentation masks.

Boxes are drawn with Pillow's ``ImageDraw``; masks are blended as
``out = image * (1 - alpha) + coloured * alpha``, computed in floating point then cast back
to the image's dtype (truncating, as ``Tensor.to(torch.uint8)`` does).
"""
import math
import warnings

import numpy as np

from ..tensor import Tensor

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks"]

_PALETTE_STEPS = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1], dtype=np.int64)
_DASH, _SPACE = 5, 5  # dash pattern of an oriented box's first edge, in pixels


def _generate_color_palette(num_objects):
    """torchvision's default colours: object ``i`` gets ``(i * [2^25-1, 2^15-1, 2^21-1]) % 255``."""
    return [tuple(int(v) for v in (i * _PALETTE_STEPS) % 255) for i in range(num_objects)]


def _parse_colors(colors, num_objects, floating=False):
    """One RGB tuple per object from None (the palette), a colour, or a list of colours.

    A colour is a Pillow colour string (``"red"``, ``"#FF00FF"``) or an RGB tuple; ``floating``
    scales the values to [0, 1].
    """
    from PIL import ImageColor
    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError("Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError("colors must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * num_objects
    colors = [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    if floating:
        colors = [tuple(v / 255 for v in c) for c in colors]
    return colors


def _check_image(image, name, rgb_only):
    """The image's array after torchvision's checks: a Tensor, uint8 or float, C x H x W."""
    if not isinstance(image, Tensor):
        raise TypeError(f"{name}: Tensor expected, got {type(image)}")
    a = image.detach().numpy()
    if not (a.dtype == np.uint8 or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"{name}: the image dtype must be uint8 or float, got {image.dtype}")
    if a.ndim != 3:
        raise ValueError(f"{name}: pass individual images (C, H, W), not batches; "
                         f"got shape {tuple(a.shape)}")
    if rgb_only and a.shape[0] != 3:
        raise ValueError(f"{name}: pass an RGB image (3, H, W), got {a.shape[0]} channels")
    if not rgb_only and a.shape[0] not in (1, 3):
        raise ValueError("draw_bounding_boxes: only grayscale and RGB images are supported, "
                         f"got {a.shape[0]} channels")
    return a


def _dashed_segment(draw, start, end, fill, width):
    """Draw the segment ``start``-``end`` as alternating 5-pixel dashes and gaps."""
    (x1, y1), (x2, y2) = start, end
    left = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    dash = True
    while left > 0:
        step = min(left, _DASH if dash else _SPACE)
        angle = math.atan2(y2 - y1, x2 - x1)  # from the current point, as torchvision does
        nx, ny = x1 + math.cos(angle) * step, y1 + math.sin(angle) * step
        if dash:
            draw.line([(x1, y1), (nx, ny)], fill, width)
        left -= step
        x1, y1, dash = nx, ny, not dash


def _oriented_box(draw, xy, outline, fill, width):
    """Outline of the quadrilateral (x1, y1, ..., x4, y4), its first edge dashed, then its fill."""
    points = [(xy[i], xy[i + 1]) for i in range(0, 8, 2)]
    _dashed_segment(draw, points[0], points[1], outline, width)
    for i in range(1, 4):
        draw.line([points[i], points[(i + 1) % 4]], width=width, fill=outline)
    draw.polygon(xy, fill=fill, outline=None, width=0)


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None,
                        font_size=None, label_colors=None, label_background_colors=None,
                        fill_labels=False):
    """Draw boxes (N, 4) xyxy, or oriented boxes (N, 8) as four corners, on a (C, H, W) image.

    The image is uint8 in [0, 255] or float in [0, 1] (converted to uint8 as ``x * 255.999``
    truncated, and back as ``x / 255``); a grey image is drawn as RGB. ``fill`` fills each box
    with its colour at alpha 100/255; labels are written with Pillow's default font unless
    ``font`` (a TrueType file) is given. Returns a (3, H, W) tensor of the image's dtype.
    """
    from PIL import Image, ImageDraw, ImageFont
    a = _check_image(image, "draw_bounding_boxes", rgb_only=False)
    if not isinstance(boxes, Tensor):
        raise TypeError(f"draw_bounding_boxes: boxes must be a Tensor, got {type(boxes)}")
    b = boxes.detach().numpy()
    if b.ndim != 2 or b.shape[1] not in (4, 8):
        raise ValueError("draw_bounding_boxes: boxes must be of shape (N, 4) or (N, 8), got "
                         f"{tuple(b.shape)}")
    if b.shape[1] == 4 and ((b[:, 0] > b[:, 2]).any() or (b[:, 1] > b[:, 3]).any()):
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "minidl.vision.ops.box_convert to convert them")
    num_boxes = b.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. "
                         "Please specify labels for each box.")
    colors = _parse_colors(colors, num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else "black", num_boxes)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_boxes)
    else:
        label_background_colors = list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.",
                          stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    if a.shape[0] == 1:
        a = np.concatenate([a, a, a])
    floating = np.issubdtype(a.dtype, np.floating)
    if floating:
        a = np.clip(a * a.dtype.type(255.999), 0, 255).astype(np.uint8)
    canvas = Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)), mode="RGB")
    draw = ImageDraw.ImageDraw(canvas, "RGBA" if fill else None)
    for bbox, color, label, label_color, label_bg in zip(
            np.trunc(b).astype(np.int64).tolist(), colors, labels, label_colors,
            label_background_colors):
        fill_color = color + (100,) if fill else None
        if len(bbox) == 8:
            _oriented_box(draw, bbox, color, fill_color, width)
        else:
            draw.rectangle(bbox, width=width, outline=color, fill=fill_color)
        if label is not None:
            margin = width + 1
            anchor = (bbox[0] + margin, bbox[1] + margin)
            if fill_labels:
                left, top, right, bottom = draw.textbbox(anchor, label, font=txt_font)
                draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=label_bg)
            draw.text(anchor, label, fill=label_color, font=txt_font)
    out = np.asarray(canvas).transpose(2, 0, 1).copy()
    if floating:
        dtype = image.detach().numpy().dtype
        out = out.astype(dtype) * dtype.type(1 / 255)
    return Tensor(out)


def draw_segmentation_masks(image, masks, alpha=0.8, colors=None):
    """Blend boolean masks (H, W) or (N, H, W) over an RGB image (3, H, W), uint8 or float.

    Each mask's pixels take its colour; pixels under two or more masks become black; then
    ``image * (1 - alpha) + drawn * alpha`` (float32 for uint8 images) is cast to the image's dtype.
    """
    a = _check_image(image, "draw_segmentation_masks", rgb_only=True)
    if not isinstance(masks, Tensor):
        raise TypeError(f"draw_segmentation_masks: masks must be a Tensor, got {type(masks)}")
    m = masks.detach().numpy()
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W), got "
                         f"{tuple(masks.shape)}")
    if m.dtype != np.bool_:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if m.shape[-2:] != a.shape[-2:]:
        raise ValueError("The image and the masks must have the same height and width, got "
                         f"image {tuple(a.shape)} and masks {tuple(m.shape)}")
    if m.shape[0] == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
        return image
    floating = np.issubdtype(a.dtype, np.floating)
    drawn = a.copy()
    for mask, color in zip(m, _parse_colors(colors, m.shape[0], floating)):
        drawn[:, mask] = np.asarray(color, dtype=a.dtype)[:, None]
    drawn[:, m.sum(axis=0) > 1] = 0
    ctype = a.dtype.type if floating else np.float32
    out = a.astype(ctype) * ctype(1 - alpha) + drawn.astype(ctype) * ctype(alpha)
    return Tensor(out.astype(a.dtype))
