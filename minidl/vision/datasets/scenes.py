"""``Scenes``: seeded detection / segmentation scenes composed of real MNIST or
Fashion-MNIST glyphs (the bundled subsets) on a black canvas.

Every scene holds between ``objects[0]`` and ``objects[1]`` glyphs (inclusive, uniform).
Each glyph is one real 28 x 28 image, scaled by a factor drawn uniformly from ``scale``
(side ``round(28 * s)`` pixels, bilinear with half-pixel centres -- torch's
``interpolate(mode='bilinear', align_corners=False)``) and placed at a uniform random
top-left corner inside the canvas. The image is the pixelwise maximum of the placed glyphs.

Rules, exact by construction (``threshold`` t, default 0.25 of the [0, 1] range):

- a glyph's pixels are those of its resized image with value > t;
- ``boxes``: xyxy in pixel-edge coordinates around those pixels, (x_min, y_min, x_max + 1,
  y_max + 1): the box covers its pixels, width = number of columns spanned. Boxes are of the
  whole glyph, also where another glyph covers part of it;
- placement: a glyph is accepted when its box has IoU <= ``max_iou`` with every box placed
  before it and every glyph of the scene still owns at least ``min_visible`` of its pixels;
  otherwise a new glyph, scale and corner are drawn (up to ``max_tries`` times, then the
  scene is drawn again);
- ownership: a pixel with image value > t belongs to the glyph brightest there (the later
  glyph on ties); ``masks[k]`` (uint8) marks the pixels object k owns, so the masks are
  disjoint, inside their boxes, and together equal ``image > t``;
- ``labels``: class index + 1 -- 0 is the background, as torchvision's detection models
  expect (``num_classes`` = 11 includes it); ``classes[label]`` names a label;
- ``segmentation(i)``: the (H, W) int64 class map, 0 for background, else the owner's label.

Sources never mix across splits: ``test`` scenes draw from the bundled test split; ``train``
and ``val`` scenes from two disjoint parts of the bundled training split (a fixed
permutation, the last ``VAL_FRACTION`` for ``val``), see ``source_pool``. Every object's
index into its bundled split is kept in ``source_indices``. The same arguments and ``seed``
give byte-identical scenes.
"""
import numbers

import numpy as np

from ...ops.interpolate import interpolate
from ...tensor import Tensor
from ...utils.data import Dataset
from ..ops.boxes import box_iou
from .bundled import BUNDLED, load_bundled

__all__ = ["Scenes", "source_pool", "VAL_FRACTION", "SCENE_DATA", "SCENE_SPLIT_SIZES",
           "open_scenes"]

VAL_FRACTION = 0.2
_POOL_SEED = 20240611  # fixes the train / val partition of the bundled training split
_GLYPH = 28
_SPLITS = ("train", "val", "test")

# The scene data sets the commands know by name (``minidl train yolo --data scenes-mnist``):
# name -> the bundled source of the glyphs; every split has its own seed.
SCENE_DATA = {"scenes-mnist": "mnist-mini", "scenes-fashion": "fashion-mnist-mini"}
SCENE_SPLIT_SIZES = {"train": 4000, "val": 500, "test": 500}
_SPLIT_SEEDS = {"train": 0, "val": 1, "test": 2}


def _check_pair(value, name, kind, least, ordered=True):
    pair = tuple(value) if isinstance(value, (tuple, list)) else None
    ok = pair is not None and len(pair) == 2 and all(
        isinstance(v, kind) and not isinstance(v, bool) and v >= least for v in pair)
    if not ok or (ordered and pair[0] > pair[1]):
        what = "(low, high) with low <= high" if ordered else "(H, W)"
        raise ValueError(f"{name} must be a pair {what} of numbers >= {least}, got {value!r}")
    return pair


def source_pool(source, split):
    """``(bundled split, indices)``: where scenes of ``split`` take their glyphs from --
    'test' from the bundled test split, 'train' / 'val' from disjoint parts of the bundled
    training split."""
    if source not in BUNDLED:
        raise ValueError(f"source must be one of {sorted(BUNDLED)}, got {source!r}")
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    if split == "test":
        return "test", np.arange(len(load_bundled(source, train=False)[1]))
    n = len(load_bundled(source, train=True)[1])
    order = np.random.default_rng(_POOL_SEED).permutation(n)
    n_val = int(round(n * VAL_FRACTION))
    return "train", np.sort(order[n - n_val:] if split == "val" else order[:n - n_val])


def resize_bilinear(image, side):
    """``image`` (h, w) in [0, 1] resized to (side, side), float32: ``F.interpolate``'s
    bilinear mode with half-pixel centres (``align_corners=False``), computed in float64."""
    x = Tensor(np.ascontiguousarray(image, dtype=np.float64)[None, None])
    out = interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    return np.clip(out.numpy()[0, 0], 0, 1).astype(np.float32)


class Scenes(Dataset):
    """``num_images`` scenes; item i is ``(image, target)``: a float32 tensor (1, H, W) in
    [0, 1] and ``{'boxes': (K, 4) float32 xyxy, 'labels': (K,) int64, 'masks': (K, H, W)
    uint8}`` (torchvision's detection targets; rules in the module doc).

    Attributes: ``classes`` (``'__background__'`` then the source's class names),
    ``num_classes``, ``source_split`` (the bundled split glyphs come from), and per object,
    scenes concatenated in order (scene i owns ``scene_starts[i]:scene_starts[i + 1]``):
    ``source_indices`` (index into the bundled split), ``sizes`` (side in pixels),
    ``corners`` (top-left row, column of the resized glyph).
    """

    def __init__(self, source="mnist-mini", split="train", num_images=1000, canvas=(96, 96),
                 objects=(1, 4), scale=(0.7, 1.6), max_iou=0.3, min_visible=0.5,
                 threshold=0.25, seed=0, max_tries=50):
        if isinstance(num_images, bool) or not isinstance(num_images, numbers.Integral) \
                or num_images < 1:
            raise ValueError(f"num_images must be an integer >= 1, got {num_images!r}")
        self.canvas = tuple(int(v) for v in _check_pair(canvas, "canvas", numbers.Integral, 1,
                                                        ordered=False))
        self.objects = tuple(int(v) for v in _check_pair(objects, "objects", numbers.Integral, 1))
        self.scale = _check_pair(scale, "scale", numbers.Real, 0.05)
        for name, v in (("max_iou", max_iou), ("min_visible", min_visible),
                        ("threshold", threshold)):
            if not isinstance(v, numbers.Real) or not 0 <= v <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        self.sides = (max(1, int(round(_GLYPH * self.scale[0]))),
                      int(round(_GLYPH * self.scale[1])))
        if self.sides[1] > min(self.canvas):
            raise ValueError(f"glyphs of up to {self.sides[1]} pixels (scale={scale!r}) do not "
                             f"fit the canvas {self.canvas!r}")
        self.source, self.split, self.num_images = source, split, int(num_images)
        self.max_iou, self.min_visible, self.threshold = max_iou, min_visible, threshold
        if isinstance(max_tries, bool) or not isinstance(max_tries, numbers.Integral) \
                or max_tries < 1:
            raise ValueError(f"max_tries must be an integer >= 1, got {max_tries!r}")
        self.seed, self.max_tries = seed, int(max_tries)
        self.source_split, pool = source_pool(source, split)
        images, labels = load_bundled(source, train=self.source_split == "train")
        self.classes = ["__background__"] + list(BUNDLED[source][1])
        self.num_classes = len(self.classes)
        self._generate(np.random.default_rng(seed), pool,
                       images.numpy().astype(np.float32) / 255, labels.numpy())

    def _draw_glyph(self, rng, pool, glyphs):
        index = pool[rng.integers(len(pool))]
        side = max(1, int(round(_GLYPH * rng.uniform(*self.scale))))
        patch = resize_bilinear(glyphs[index], side)
        return index, side, patch

    def _place(self, rng, pool, glyphs, count):
        """One scene: (values (count, H, W) per glyph, [(index, side, row, col)], boxes)
        or None when a glyph found no place in ``max_tries`` draws."""
        height, width = self.canvas
        values = np.zeros((count, height, width), np.float32)
        placed, boxes, pixels = [], np.zeros((0, 4)), []
        for k in range(count):
            for _ in range(self.max_tries):
                index, side, patch = self._draw_glyph(rng, pool, glyphs)
                on = patch > self.threshold
                if not on.any():
                    continue
                row = int(rng.integers(height - side + 1))
                col = int(rng.integers(width - side + 1))
                ys, xs = np.nonzero(on.any(1))[0], np.nonzero(on.any(0))[0]
                box = np.array([col + xs[0], row + ys[0], col + xs[-1] + 1, row + ys[-1] + 1],
                               np.float64)
                if len(boxes) and box_iou(Tensor(box[None]), Tensor(boxes)).numpy().max() \
                        > self.max_iou:
                    continue
                values[k] = 0
                values[k, row:row + side, col:col + side] = patch
                owned = np.bincount(self._owner(values[:k + 1]).ravel() + 1,
                                    minlength=k + 2)[1:]
                if np.all(owned >= self.min_visible * np.array(pixels + [on.sum()])):
                    break
            else:
                return None
            placed.append((index, side, row, col))
            boxes = np.vstack([boxes, box])
            pixels.append(int(on.sum()))
        return values, placed, boxes

    def _owner(self, values):
        """(H, W) int8: the object owning each pixel (brightest, later on ties), -1 where
        no glyph exceeds the threshold."""
        last_max = len(values) - 1 - np.argmax(values[::-1], axis=0)
        return np.where(values.max(0) > self.threshold, last_max, -1).astype(np.int8)

    def _generate(self, rng, pool, glyphs, glyph_labels):
        n = self.num_images
        self._images = np.zeros((n, 1) + self.canvas, np.float32)
        self._owners = np.zeros((n,) + self.canvas, np.int8)
        starts, placements, all_boxes = [0], [], []
        for i in range(n):
            scene = None
            for _ in range(self.max_tries):
                count = int(rng.integers(self.objects[0], self.objects[1] + 1))
                scene = self._place(rng, pool, glyphs, count)
                if scene is not None:
                    break
            else:
                raise RuntimeError(f"could not place {self.objects} glyphs with max_iou="
                                   f"{self.max_iou}, min_visible={self.min_visible} on the "
                                   f"canvas {self.canvas} in {self.max_tries} tries; use a "
                                   f"larger canvas, fewer objects or a looser rule")
            values, placed, boxes = scene
            self._images[i, 0] = values.max(0)
            self._owners[i] = self._owner(values)
            placements += placed
            all_boxes.append(boxes)
            starts.append(starts[-1] + len(placed))
        table = np.array(placements, np.int64).reshape(-1, 4)
        self.scene_starts = np.array(starts, np.int64)
        self.source_indices = table[:, 0]
        self.sizes = table[:, 1]
        self.corners = table[:, 2:]
        self._boxes = np.concatenate(all_boxes).astype(np.float32)
        self._labels = glyph_labels[self.source_indices].astype(np.int64) + 1

    def __len__(self):
        return self.num_images

    def _target(self, index):
        lo, hi = self.scene_starts[index], self.scene_starts[index + 1]
        owner = self._owners[index]
        masks = (owner[None] == np.arange(hi - lo, dtype=np.int8)[:, None, None])
        return {"boxes": self._boxes[lo:hi].copy(), "labels": self._labels[lo:hi].copy(),
                "masks": masks.astype(np.uint8)}

    def __getitem__(self, index):
        index = range(self.num_images)[index]
        target = {k: Tensor(v) for k, v in self._target(index).items()}
        return Tensor(self._images[index].copy()), target

    def segmentation(self, index):
        """(H, W) int64 class map of scene ``index``: 0 background, else the owner's label."""
        index = range(self.num_images)[index]
        return Tensor(self._segmentation(index))

    def _segmentation(self, index):
        owner = self._owners[index].astype(np.int64)
        labels = np.concatenate([[0], self._labels[self.scene_starts[index]:
                                                   self.scene_starts[index + 1]]])
        return labels[owner + 1]

    def to_arrays(self):
        """``(images, targets, segmentations)`` for fast batched training: float32 images
        (N, 1, H, W), a list of N target dicts of NumPy arrays (as the items), int64 class
        maps (N, H, W)."""
        n = self.num_images
        segmentations = np.stack([self._segmentation(i) for i in range(n)])
        return self._images.copy(), [self._target(i) for i in range(n)], segmentations

    def __repr__(self):
        return (f"Scenes(source={self.source!r}, split={self.split!r}, "
                f"num_images={self.num_images}, canvas={self.canvas}, objects={self.objects}, "
                f"scale={self.scale}, max_iou={self.max_iou}, min_visible={self.min_visible}, "
                f"threshold={self.threshold}, seed={self.seed})")


def open_scenes(name, split, num_images=None):
    """The named scene data set's ``split`` (``SCENE_DATA``): ``SCENE_SPLIT_SIZES[split]``
    (or ``num_images``) scenes of ``Scenes``' default canvas and rules, seeded per split."""
    if name not in SCENE_DATA:
        raise ValueError(f"unknown scene data {name!r}; choose one of "
                         f"{', '.join(sorted(SCENE_DATA))}")
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    return Scenes(SCENE_DATA[name], split, num_images or SCENE_SPLIT_SIZES[split],
                  seed=_SPLIT_SEEDS[split])
