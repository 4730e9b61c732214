"""Multi-sample augmentation: ``MixUp`` and ``CutMix`` (``torchvision.transforms.v2``
semantics) on a batch ``(images, labels)``, and ``Mosaic`` (YOLOv4, Bochkovskiy et al. 2020)
for detection samples.

MixUp (Zhang et al. 2018): ``lam ~ Beta(alpha, alpha)``, ``x' = lam x + (1 - lam) roll(x)``
and ``y' = lam y + (1 - lam) roll(y)``, where ``roll`` pairs sample i with sample i - 1
(the batch rolled by 1) and y is one-hot. CutMix (Yun et al. 2019): a box centred at a
uniform pixel with sides ``sqrt(1 - lam)`` times the image's, clipped to the image, is
pasted from the rolled batch and the labels are mixed with the corrected
``lam' = 1 - box_area / image_area``. The mixed labels are probabilities that
``nn.CrossEntropyLoss`` takes as targets. All draws come from minidl's default generator
(Mosaic: ``generator`` when given).
"""
import math
import numbers

import numpy as np

from ...backend import rng as _rng
from ...nn import Module
from ...nn import functional as NF
from ...tensor import Tensor

__all__ = ["MixUp", "CutMix", "Mosaic"]


class _BaseMixUpCutMix(Module):
    """Shared checks: ``forward(images, labels)`` or ``forward((images, labels))``; labels
    are class indices (N,) (``num_classes`` required) or probabilities (N, num_classes)."""

    def __init__(self, *, alpha=1.0, num_classes=None, labels_getter="default"):
        super().__init__()
        if labels_getter != "default":
            raise ValueError(f"labels_getter={labels_getter!r} is not supported: minidl's "
                             f"{type(self).__name__} takes (images, labels) (the 'default')")
        if not alpha > 0:
            raise ValueError(f"alpha must be positive (the Beta(alpha, alpha) parameter), "
                             f"got {alpha}")
        self.alpha = float(alpha)
        self.num_classes = num_classes

    def forward(self, *inputs):
        packed = len(inputs) == 1
        if packed:
            if not isinstance(inputs[0], (tuple, list)):
                raise ValueError(f"{type(self).__name__} takes (images, labels), got one "
                                 f"{type(inputs[0]).__name__}")
            inputs = tuple(inputs[0])
        if len(inputs) != 2:
            raise ValueError(f"{type(self).__name__} takes (images, labels), got {len(inputs)} "
                             f"inputs")
        images, labels = inputs
        if not isinstance(labels, Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.ndim not in (1, 2):
            raise ValueError(f"labels should be index based with shape (batch_size,) or "
                             f"probability based with shape (batch_size, num_classes), but "
                             f"got a tensor of shape {tuple(labels.shape)} instead.")
        if labels.ndim == 2 and self.num_classes is not None and \
                labels.shape[-1] != self.num_classes:
            raise ValueError(f"When passing 2D labels, the number of elements in last dimension "
                             f"must match num_classes: {labels.shape[-1]} != "
                             f"{self.num_classes}. You can Leave num_classes to None.")
        if labels.ndim == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        if not isinstance(images, Tensor) or images.ndim != 4:
            raise ValueError(f"Expected a batched image tensor (N, C, H, W), got "
                             f"{getattr(images, 'shape', type(images))}")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"The batch size of the image or video does not match the batch "
                             f"size of the labels: {images.shape[0]} != {labels.shape[0]}.")
        images, lam = self._mix_images(images)
        out = (images, self._mix_labels(labels, lam))
        return type(inputs)(out) if packed and isinstance(inputs, list) else out

    def _mix_labels(self, labels, lam):
        if labels.ndim == 1:
            labels = NF.one_hot(labels.long(), num_classes=self.num_classes)
        if not labels.is_floating_point():
            labels = labels.float()
        return labels.roll(1, 0) * (1.0 - lam) + labels * lam

    def _sample_lam(self):
        return float(_rng().beta(self.alpha, self.alpha))

    def __repr__(self):
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


class MixUp(_BaseMixUpCutMix):
    """MixUp of a batch with itself rolled by one (see the module docstring)."""

    def _mix_images(self, images):
        lam = self._sample_lam()
        return self.mix(images, lam), lam

    @staticmethod
    def mix(images, lam):
        """``lam images + (1 - lam) roll(images, 1)`` for a given ``lam``."""
        return images.roll(1, 0) * (1.0 - lam) + images * lam


class CutMix(_BaseMixUpCutMix):
    """CutMix of a batch with itself rolled by one (see the module docstring)."""

    def get_params(self, height, width):
        """``((x1, y1, x2, y2), lam_adjusted)``: the pasted box and the label weight."""
        lam = self._sample_lam()
        g = _rng()
        r_x, r_y = int(g.integers(0, width)), int(g.integers(0, height))
        r = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(r * width), int(r * height)
        x1, y1 = max(r_x - half_w, 0), max(r_y - half_h, 0)
        x2, y2 = min(r_x + half_w, width), min(r_y + half_h, height)
        return (x1, y1, x2, y2), float(1.0 - (x2 - x1) * (y2 - y1) / (width * height))

    def _mix_images(self, images):
        box, lam = self.get_params(images.shape[-2], images.shape[-1])
        return self.paste(images, box), lam

    @staticmethod
    def paste(images, box):
        """``images`` with the box ``(x1, y1, x2, y2)`` taken from ``roll(images, 1)``."""
        x1, y1, x2, y2 = box
        out = images.clone()
        out[..., y1:y2, x1:x2] = images.roll(1, 0)[..., y1:y2, x1:x2]
        return out


def _as_array(x, name, dtype=None):
    a = x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x, dtype)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if name == "boxes":
        a = a.reshape(-1, 4)
    return a


class Mosaic:
    """Four detection samples tiled into one image of ``output_size`` (h, w) around a random
    centre ``(xc, yc)``, each coordinate uniform over the integers in
    ``[center_range[0], center_range[1]]`` times the output side.

    Image 0 fills the top-left tile with its bottom-right corner at the centre, image 1 the
    top-right tile with its bottom-left corner there, image 2 the bottom-left and image 3 the
    bottom-right (parts past the output edge are cut; uncovered pixels are ``fill``). Each
    sample's boxes (xyxy pixels) are shifted by its tile offset, clipped to the visible part
    of its image, and dropped when they end up with zero width or height; their labels go
    with them. ``__call__(images, boxes, labels)`` takes four of each (images (C, H, W)
    tensors) and returns ``(image, boxes (M, 4), labels (M,))``.
    """

    def __init__(self, output_size, center_range=(0.25, 0.75), fill=0, generator=None):
        if isinstance(output_size, numbers.Integral):
            output_size = (int(output_size), int(output_size))
        if len(output_size) != 2 or not all(int(s) > 0 for s in output_size):
            raise ValueError(f"output_size should be a positive int or (h, w), got "
                             f"{output_size!r}")
        lo, hi = center_range
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"center_range should be (lo, hi) with 0 <= lo <= hi <= 1, got "
                             f"{center_range!r}")
        self.output_size = tuple(int(s) for s in output_size)
        self.center_range = (float(lo), float(hi))
        self.fill = fill
        self.generator = generator

    def get_params(self):
        """The random centre ``(yc, xc)`` in output pixels."""
        g = _rng(self.generator)
        (h, w), (lo, hi) = self.output_size, self.center_range
        yc = int(g.integers(math.ceil(lo * h), math.floor(hi * h) + 1))
        xc = int(g.integers(math.ceil(lo * w), math.floor(hi * w) + 1))
        return yc, xc

    @staticmethod
    def tile(k, yc, xc, height, width, out_h, out_w):
        """Where image ``k`` (height x width) goes: its visible source box and the output
        box, each ``(x1, y1, x2, y2)``."""
        right, bottom = k in (1, 3), k in (2, 3)
        ox1, ox2 = (xc, min(xc + width, out_w)) if right else (max(xc - width, 0), xc)
        oy1, oy2 = (yc, min(yc + height, out_h)) if bottom else (max(yc - height, 0), yc)
        sx1 = 0 if right else width - (ox2 - ox1)
        sy1 = 0 if bottom else height - (oy2 - oy1)
        return (sx1, sy1, sx1 + ox2 - ox1, sy1 + oy2 - oy1), (ox1, oy1, ox2, oy2)

    def __call__(self, images, boxes, labels):
        if not (len(images) == len(boxes) == len(labels) == 4):
            raise ValueError(f"Mosaic takes four images, four box sets and four label sets, "
                             f"got {len(images)}, {len(boxes)} and {len(labels)}")
        if not all(isinstance(im, Tensor) and im.ndim == 3 for im in images):
            raise TypeError("Mosaic images should be tensors (C, H, W)")
        channels = {int(im.shape[0]) for im in images}
        if len(channels) != 1:
            raise ValueError(f"Mosaic images should have the same number of channels, got "
                             f"{sorted(channels)}")
        out_h, out_w = self.output_size
        first = images[0].detach().numpy()
        canvas = np.empty((first.shape[0], out_h, out_w), first.dtype)
        fill = np.asarray(self.fill, first.dtype)
        canvas[...] = fill.reshape(-1, 1, 1) if fill.ndim == 1 else fill
        yc, xc = self.get_params()
        kept_boxes, kept_labels = [], []
        for k, (im, bx, lb) in enumerate(zip(images, boxes, labels)):
            a = im.detach().numpy()
            (sx1, sy1, sx2, sy2), (ox1, oy1, ox2, oy2) = self.tile(k, yc, xc, a.shape[1],
                                                                   a.shape[2], out_h, out_w)
            canvas[:, oy1:oy2, ox1:ox2] = a[:, sy1:sy2, sx1:sx2]
            b = _as_array(bx, "boxes", np.float64)
            lab = _as_array(lb, "labels")
            if len(b) != len(lab):
                raise ValueError(f"sample {k} has {len(b)} boxes but {len(lab)} labels")
            shifted = b + np.array([ox1 - sx1, oy1 - sy1] * 2, np.float64)
            shifted[:, 0::2] = shifted[:, 0::2].clip(ox1, ox2)
            shifted[:, 1::2] = shifted[:, 1::2].clip(oy1, oy2)
            keep = (shifted[:, 2] > shifted[:, 0]) & (shifted[:, 3] > shifted[:, 1])
            kept_boxes.append(shifted[keep])
            kept_labels.append(lab[keep])
        box_dtype = np.dtype(boxes[0].dtype.np if isinstance(boxes[0], Tensor) else np.float32)
        out_boxes = np.concatenate(kept_boxes).astype(box_dtype if box_dtype.kind == "f"
                                                      else np.float32)
        return Tensor(canvas), Tensor(out_boxes), Tensor(np.concatenate(kept_labels))

    def __repr__(self):
        return (f"{type(self).__name__}(output_size={self.output_size}, "
                f"center_range={self.center_range}, fill={self.fill})")
