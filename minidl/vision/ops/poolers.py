"""``MultiScaleRoIAlign`` (torchvision's ``ops.poolers``): RoIAlign over one or several
feature maps of a pyramid.

The scale of each map is inferred as 2^round(log2(map size / image size)) (from the height,
the image size being the largest in the batch). With several maps, an RoI of width w and
height h goes to level k = floor(k0 + log2(sqrt(w h) / s0) + 1e-6) clamped to the levels
present (Lin et al. 2017, "Feature Pyramid Networks", eq. 1; s0 = ``canonical_scale`` 224,
k0 = ``canonical_level`` 4). Every RoI is pooled with ``roi_align`` (``aligned=False``)
from its level's map at its scale.
"""
import math

import numpy as np

from ... import nn
from ...ops._util import check_tensor
from ...ops.join import cat
from ...tensor import Tensor
from .boxes import box_area
from .roi import roi_align

__all__ = ["MultiScaleRoIAlign", "LevelMapper", "initLevelMapper"]


class LevelMapper:
    """The pyramid level (0 = ``k_min``) of each box of a list of (N_i, 4) boxes (FPN eq. 1)."""

    def __init__(self, k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists):
        areas = np.concatenate([box_area(b).detach().numpy() for b in boxlists])
        s = np.sqrt(areas)
        with np.errstate(divide="ignore"):
            levels = np.floor(self.lvl0 + np.log2(s / self.s0) + s.dtype.type(self.eps))
        levels = np.clip(levels, self.k_min, self.k_max)
        return Tensor(levels.astype(np.int64) - self.k_min)


def initLevelMapper(k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):  # noqa: N802
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature, original_size):
    """2^round(log2(map height / image height)) (torchvision takes the first axis)."""
    approx = float(feature.shape[-2]) / float(original_size[0])
    return 2.0 ** float(np.round(np.log2(np.float32(approx))))


def _setup_scales(features, image_shapes, canonical_scale, canonical_level):
    if not image_shapes:
        raise ValueError("images list should not be empty")
    largest = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
    scales = [_infer_scale(f, largest) for f in features]
    lvl_min = -math.log2(scales[0])
    lvl_max = -math.log2(scales[-1])
    return scales, initLevelMapper(int(lvl_min), int(lvl_max), canonical_scale=canonical_scale,
                                   canonical_level=canonical_level)


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign from the feature maps ``featmap_names`` of a dict of maps; each RoI from the
    map its size selects (one map: all from it). ``forward(x, boxes, image_shapes)``:
    ``x`` the dict of (N, C, H_l, W_l) maps, ``boxes`` a list of (L_i, 4) xyxy boxes in
    image pixels, ``image_shapes`` the (H, W) of each image; returns (sum L_i, C, *output_size).
    The scales and the level mapper are inferred at the first call and kept."""

    def __init__(self, featmap_names, output_size, sampling_ratio, *, canonical_scale=224,
                 canonical_level=4):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x, boxes, image_shapes):
        if not isinstance(x, dict):
            raise TypeError(f"MultiScaleRoIAlign: 'x' must be a dict of feature maps, got "
                            f"{type(x).__name__}")
        x_filtered = [v for k, v in x.items() if k in self.featmap_names]
        if not x_filtered:
            raise ValueError(f"MultiScaleRoIAlign: none of featmap_names {self.featmap_names} "
                             f"is among the feature maps {list(x)}")
        for i, b in enumerate(boxes):
            check_tensor(b, "MultiScaleRoIAlign", f"boxes[{i}]")
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(
                x_filtered, image_shapes, self.canonical_scale, self.canonical_level)
        rois = cat([cat([b.new_full((b.shape[0], 1), float(i)), b], dim=1)
                    for i, b in enumerate(boxes)], dim=0)
        if len(x_filtered) == 1:
            return roi_align(x_filtered[0], rois, self.output_size, self.scales[0],
                             self.sampling_ratio)
        levels = self.map_levels(boxes).numpy()
        pooled, order = [], []
        for level, (feature, scale) in enumerate(zip(x_filtered, self.scales)):
            idx = np.flatnonzero(levels == level)
            if idx.size:
                pooled.append(roi_align(feature, rois[Tensor(idx)], self.output_size, scale,
                                        self.sampling_ratio))
                order.append(idx)
        if not pooled:
            c = x_filtered[0].shape[1]
            return x_filtered[0].new_zeros((0, c) + self.output_size)
        inverse = np.argsort(np.concatenate(order), kind="stable")
        return cat(pooled, dim=0)[Tensor(inverse)]

    def __repr__(self):
        return (f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
                f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})")
