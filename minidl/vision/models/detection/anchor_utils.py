"""Anchor boxes of two-stage detectors (torchvision's ``detection.anchor_utils``).

``AnchorGenerator`` places, at every cell of every feature map, a set of boxes of given
sizes and aspect ratios (Ren et al. 2015, "Faster R-CNN", section 3.1.1; one size set per
pyramid level in FPN, Lin et al. 2017). An anchor of size s and ratio a = h / w has
h = s sqrt(a) and w = s / sqrt(a), centred on (0, 0) and rounded to whole pixels; the cell
(i, j) of a map shifts it by (j stride_w, i stride_h), stride = image size // map size.
``forward`` takes the images as an ``ImageList`` (``image_list.py``), as torchvision's.
"""
import numpy as np

from .... import nn
from ....backend.dtypes import float32
from ....ops._util import check_tensor
from ....ops.join import cat
from ....tensor import Tensor
from .image_list import ImageList

__all__ = ["ImageList", "AnchorGenerator"]  # ImageList re-exported, as torchvision's module


def _as_nested(values, name):
    """``values`` as a tuple of tuples (one per feature map)."""
    if not isinstance(values, (list, tuple)) or len(values) == 0:
        raise ValueError(f"AnchorGenerator(): '{name}' must be a non-empty tuple (of tuples), "
                         f"got {values!r}")
    return tuple(tuple(v) if isinstance(v, (list, tuple)) else v for v in values)


class AnchorGenerator(nn.Module):
    """Anchors for a list of feature maps: ``sizes[i]`` x ``aspect_ratios[i]`` boxes per
    location of map i (aspect ratio = height / width).

    A flat ``sizes`` (32, 64, 128) means one size per map; a flat ``aspect_ratios`` is used
    for every map. ``forward(image_list, feature_maps)`` returns, per image, the anchors
    (sum over maps of H W A, 4) in xyxy, ordered by map, then location (row-major), then
    anchor (ratio-major, then size).
    """

    def __init__(self, sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),)):
        super().__init__()
        sizes = _as_nested(sizes, "sizes")
        aspect_ratios = _as_nested(aspect_ratios, "aspect_ratios")
        if not isinstance(sizes[0], tuple):
            sizes = tuple((s,) for s in sizes)
        if not isinstance(aspect_ratios[0], tuple):
            aspect_ratios = (aspect_ratios,) * len(sizes)
        if len(sizes) != len(aspect_ratios):
            raise ValueError(f"AnchorGenerator(): 'sizes' has {len(sizes)} levels but "
                             f"'aspect_ratios' has {len(aspect_ratios)}; give one tuple of "
                             "each per feature map")
        self.sizes = sizes
        self.aspect_ratios = aspect_ratios
        self.cell_anchors = [self.generate_anchors(s, a) for s, a in zip(sizes, aspect_ratios)]

    def generate_anchors(self, scales, aspect_ratios, dtype=float32, device="cpu"):
        """Zero-centred anchors (len(aspect_ratios) len(scales), 4): (-w, -h, w, h) / 2 rounded
        (half to even), h = scale sqrt(ratio), w = scale / sqrt(ratio), computed in ``dtype``."""
        np_dtype = dtype.np
        scales = np.asarray(scales, dtype=np_dtype)
        ratios = np.asarray(aspect_ratios, dtype=np_dtype)
        if np.any(ratios <= 0) or np.any(scales <= 0):
            raise ValueError(f"generate_anchors(): sizes {tuple(scales.tolist())} and aspect "
                             f"ratios {tuple(ratios.tolist())} must be positive")
        h_ratios = np.sqrt(ratios)
        w_ratios = np_dtype.type(1) / h_ratios
        ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
        hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
        base = np.stack([-ws, -hs, ws, hs], axis=1) / np_dtype.type(2)
        return Tensor(np.round(base).astype(np_dtype)).to(device=device)

    def set_cell_anchors(self, dtype, device):
        self.cell_anchors = [a.to(dtype=dtype, device=device) for a in self.cell_anchors]

    def num_anchors_per_location(self):
        """Anchors per location of each feature map: len(sizes[i]) len(aspect_ratios[i])."""
        return [len(s) * len(a) for s, a in zip(self.sizes, self.aspect_ratios)]

    def grid_anchors(self, grid_sizes, strides):
        """Per map, the cell anchors shifted to every location: (H W A, 4), location-major."""
        if not len(grid_sizes) == len(strides) == len(self.cell_anchors):
            raise ValueError(f"AnchorGenerator: {len(grid_sizes)} feature maps and "
                             f"{len(strides)} strides for {len(self.cell_anchors)} levels of "
                             "sizes / aspect ratios; they must match")
        anchors = []
        for (grid_h, grid_w), (stride_h, stride_w), base in zip(grid_sizes, strides,
                                                                  self.cell_anchors):
            np_dtype = base.dtype.np
            xs = np.arange(int(grid_w), dtype=np.int64) * int(stride_w)
            ys = np.arange(int(grid_h), dtype=np.int64) * int(stride_h)
            shift_y, shift_x = np.meshgrid(ys, xs, indexing="ij")
            shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
            shifts = np.stack([shift_x, shift_y, shift_x, shift_y], axis=1).astype(np_dtype)
            grid = shifts[:, None, :] + base.detach().numpy()[None, :, :]
            anchors.append(Tensor(grid.reshape(-1, 4)).to(device=base.device))
        return anchors

    def forward(self, image_list, feature_maps):
        if not isinstance(image_list, ImageList):
            raise TypeError(f"AnchorGenerator: 'image_list' must be an ImageList, got "
                            f"{type(image_list).__name__}")
        if not isinstance(feature_maps, (list, tuple)) or len(feature_maps) == 0:
            raise TypeError("AnchorGenerator: 'feature_maps' must be a non-empty list of "
                            "(N, C, H, W) tensors")
        for i, fmap in enumerate(feature_maps):
            check_tensor(fmap, "AnchorGenerator", f"feature_maps[{i}]")
        image_h, image_w = image_list.tensors.shape[-2:]
        grid_sizes = [tuple(f.shape[-2:]) for f in feature_maps]
        if any(len(g) != 2 or min(g) < 1 for g in grid_sizes):
            raise ValueError(f"AnchorGenerator: feature maps must end in (H, W) with H, W >= 1, "
                             f"got sizes {grid_sizes}")
        strides = [(image_h // h, image_w // w) for h, w in grid_sizes]
        self.set_cell_anchors(feature_maps[0].dtype, feature_maps[0].device)
        per_level = self.grid_anchors(grid_sizes, strides)
        return [cat(per_level, dim=0) for _ in image_list.image_sizes]
