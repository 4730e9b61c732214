"""YOLO v1 (Redmon et al. 2016, "You Only Look Once: Unified, Real-Time Object Detection").

The image is divided into S x S cells; each cell predicts B boxes (x, y in the cell, sqrt w,
sqrt h of the image, confidence) and one set of class probabilities. Training: the
sum-squared loss of ``yolo_loss`` (assignment rules there). Inference: each box's
class-specific confidence, confidence x Pr(class | object), over ``box_score_thresh``, per
class NMS (``box_nms_thresh``), the ``box_detections_per_img`` best, boxes clipped to the
image -- torchvision's detector interface (``model(images, targets)`` -> loss dict in
training, ``model(images)`` -> list of {"boxes", "scores", "labels"} in eval).

Activations: the paper's last layer is linear; here sigmoids bound x, y, sqrt w, sqrt h and
the confidence to [0, 1] and a softmax makes the class scores probabilities (darknet's v1
detection layer also applies a softmax), so the square roots and products stay defined.

=================  ==========================================================  ============
builder            network                                                     parameters
=================  ==========================================================  ============
``yolo_v1``        the paper's figure 3: 24 convolutions (leaky ReLU 0.1),       271,703,550
                   FC 4096 (dropout 0.5), FC S x S x (5 B + C); 448 x 448 RGB     (21 cls)
``yolo_v1_mini``   96 x 96 grey scenes: 3 x 3 conv + batch norm + leaky ReLU         247,684
                   stages halving to the 12 x 12 grid, two at the grid, 1 x 1 head  (11 cls)
=================  ==========================================================  ============
"""
import math

import numpy as np

from .... import nn
from ...._checks import positive_int, probability
from ....autograd import no_grad
from ....nn import functional as F
from ....ops.join import cat
from ....tensor import Tensor
from ...ops.boxes import batched_nms, remove_small_boxes
from ...ops.misc import Permute
from .._api import register_model
from .._utils import _check_weights
from .yolo_loss import CONFIDENCE_TARGETS, cell_boxes_to_xyxy, yolo_v1_loss

__all__ = ["YOLOv1", "activate_predictions", "yolo_v1", "yolo_v1_mini"]

# Figure 3 of the paper after the 7 x 7 / 2 stem: (kernel, channels, stride), "M" = 2 x 2 max-pool.
PAPER_LAYERS = [
    (7, 64, 2), "M", (3, 192, 1), "M",
    (1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1), "M",
    *[(1, 256, 1), (3, 512, 1)] * 4, (1, 512, 1), (3, 1024, 1), "M",
    *[(1, 512, 1), (3, 1024, 1)] * 2, (3, 1024, 1), (3, 1024, 2),
    (3, 1024, 1), (3, 1024, 1),
]
PAPER_STRIDE = 64


def activate_predictions(raw, boxes_per_cell):
    """Raw head outputs (N, S, S, 5 B + C) -> predictions: sigmoid on the B box quintuples,
    softmax over the C class scores."""
    split = 5 * boxes_per_cell
    return cat([raw[..., :split].sigmoid(), F.softmax(raw[..., split:], dim=-1)], dim=-1)


def _pair(value, owner, name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{owner}({name}=) must be an int or (height, width), got {value!r}")
    return tuple(positive_int(owner, name, v) for v in pair)


class YOLOv1(nn.Module):
    """A YOLO v1 detector: ``backbone`` (images -> feature map) and ``head`` (features ->
    raw predictions (N, S, S, 5 B + C)); C = ``num_classes`` - 1. Images whose size is not
    ``image_size`` are resized to it (bilinear); boxes are returned in each input image's
    own pixels."""

    def __init__(self, backbone, head, num_classes, grid_size, image_size, in_channels=3,
                 boxes_per_cell=2, lambda_coord=5.0, lambda_noobj=0.5, confidence_target="iou",
                 box_score_thresh=0.05, box_nms_thresh=0.5, box_detections_per_img=100):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"YOLOv1(num_classes=) must be an int >= 2 (it counts the "
                             f"background), got {num_classes!r}")
        if confidence_target not in CONFIDENCE_TARGETS:
            raise ValueError(f"YOLOv1(confidence_target=) must be one of {CONFIDENCE_TARGETS}, "
                             f"got {confidence_target!r}")
        for name, v in (("lambda_coord", lambda_coord), ("lambda_noobj", lambda_noobj)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"YOLOv1({name}=) must be a number >= 0, got {v!r}")
        self.backbone, self.head = backbone, head
        self.num_classes = num_classes
        self.grid_size = positive_int("YOLOv1", "grid_size", grid_size)
        self.boxes_per_cell = positive_int("YOLOv1", "boxes_per_cell", boxes_per_cell)
        self.image_size = _pair(image_size, "YOLOv1", "image_size")
        self.in_channels = positive_int("YOLOv1", "in_channels", in_channels)
        self.lambda_coord, self.lambda_noobj = float(lambda_coord), float(lambda_noobj)
        self.confidence_target = confidence_target
        self.box_score_thresh = probability("YOLOv1", "box_score_thresh", box_score_thresh)
        if isinstance(box_nms_thresh, bool) or not isinstance(box_nms_thresh, (int, float)) \
                or not 0 <= box_nms_thresh <= 1:
            raise ValueError(f"YOLOv1(box_nms_thresh=) must be an IoU in [0, 1], "
                             f"got {box_nms_thresh!r}")
        self.box_nms_thresh = float(box_nms_thresh)
        self.box_detections_per_img = positive_int("YOLOv1", "box_detections_per_img",
                                                   box_detections_per_img)

    def _check_image(self, image, what):
        if not isinstance(image, Tensor) or image.ndim != 3 or image.shape[0] != self.in_channels:
            got = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
            raise ValueError(f"YOLOv1: {what} must be a ({self.in_channels}, H, W) Tensor "
                             f"(in_channels={self.in_channels}), got {got}")
        if not image.dtype.is_floating_point:
            raise TypeError(f"YOLOv1: images must be floating point in [0, 1], got {image.dtype}")

    def _resize(self, batch):
        if tuple(batch.shape[2:]) == self.image_size:
            return batch
        return F.interpolate(batch, size=self.image_size, mode="bilinear", align_corners=False)

    def _batch(self, images):
        """(N, C, H, W) at ``image_size`` and the original (height, width) of each image."""
        if isinstance(images, Tensor) and images.ndim == 4 and images.shape[0] > 0:
            self._check_image(images[0], "each image of the (N, C, H, W) batch")
            return self._resize(images), [tuple(images.shape[2:])] * images.shape[0]
        if not isinstance(images, (list, tuple)) or not images:
            got = tuple(images.shape) if isinstance(images, Tensor) else repr(images)[:60]
            raise ValueError(f"YOLOv1: 'images' must be a (N, C, H, W) Tensor or a non-empty "
                             f"list of (C, H, W) Tensors, got {got}")
        for i, image in enumerate(images):
            self._check_image(image, f"images[{i}]")
        return (cat([self._resize(image[None]) for image in images], dim=0),
                [tuple(image.shape[1:]) for image in images])

    def forward(self, images, targets=None):
        """Training: the loss dict (``yolo_v1_loss``); eval: one detection dict per image."""
        if self.training and targets is None:
            raise ValueError("YOLOv1: targets should not be None in training mode "
                             "(a list of {'boxes', 'labels'} dicts, one per image)")
        batch, sizes = self._batch(images)
        raw = self.head(self.backbone(batch))
        s, depth = self.grid_size, 5 * self.boxes_per_cell + self.num_classes - 1
        if tuple(raw.shape[1:]) != (s, s, depth):
            raise ValueError(f"YOLOv1: the head gave {tuple(raw.shape)}, expected (N, {s}, "
                             f"{s}, {depth}) for grid_size={s}, boxes_per_cell="
                             f"{self.boxes_per_cell}, num_classes={self.num_classes}")
        pred = activate_predictions(raw, self.boxes_per_cell)
        if self.training:
            return yolo_v1_loss(pred, targets, sizes, self.boxes_per_cell, self.lambda_coord,
                                self.lambda_noobj, self.confidence_target)
        return self.postprocess(pred, sizes)

    def postprocess(self, pred, image_sizes):
        """Detections from activated predictions (N, S, S, 5 B + C): each box x class with
        score confidence x Pr(class | object) > ``box_score_thresh``, boxes in pixels
        clipped to the image, per-class NMS, the ``box_detections_per_img`` best."""
        b = self.boxes_per_cell
        with no_grad():
            values = pred.detach().numpy()
        n, s = values.shape[:2]
        boxes = values[..., :5 * b].reshape(n, s, s, b, 5)
        corners = cell_boxes_to_xyxy(boxes[..., :4].astype(np.float64))
        scores = boxes[..., 4:5] * values[:, :, :, None, 5 * b:]  # (N, S, S, B, C)
        out = []
        for i, (height, width) in enumerate(image_sizes):
            xyxy = (corners[i].reshape(-1, 4) * (width, height, width, height))
            xyxy = np.clip(xyxy, 0, (width, height, width, height)).astype(np.float32)
            score = scores[i].reshape(len(xyxy), -1)
            box_index, label = np.nonzero(score > self.box_score_thresh)
            kept_boxes, kept_scores = xyxy[box_index], score[box_index, label]
            wide = remove_small_boxes(Tensor(kept_boxes), 1e-2).numpy()
            kept_boxes, kept_scores, label = kept_boxes[wide], kept_scores[wide], label[wide] + 1
            keep = batched_nms(Tensor(kept_boxes), Tensor(kept_scores.astype(np.float32)),
                               Tensor(label), self.box_nms_thresh).numpy()
            keep = keep[:self.box_detections_per_img]
            out.append({"boxes": Tensor(kept_boxes[keep]),
                        "scores": Tensor(kept_scores[keep].astype(np.float32)),
                        "labels": Tensor(label[keep].astype(np.int64))})
        return out


def _conv(in_channels, out_channels, kernel, stride=1, batch_norm=False):
    layers = [nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2,
                        bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    return layers + [nn.LeakyReLU(0.1)]


def paper_backbone(in_channels=3):
    """The 24 convolutional layers of the paper's figure 3 (leaky ReLU 0.1 after each)."""
    layers = []
    for spec in PAPER_LAYERS:
        if spec == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        kernel, channels, stride = spec
        layers += _conv(in_channels, channels, kernel, stride)
        in_channels = channels
    return nn.Sequential(*layers)


def _grid_stages(image_size, grid_size, owner):
    """How many 2 x 2 poolings take ``image_size`` to ``grid_size``."""
    ratios = {side / grid_size for side in image_size}
    ratio = ratios.pop()
    if ratios or ratio != int(ratio) or int(ratio) & (int(ratio) - 1) or ratio < 2:
        raise ValueError(f"{owner}(): image_size {image_size} must be grid_size ({grid_size}) "
                         f"times one power of two >= 2 in both directions")
    return int(math.log2(ratio))


@register_model()
def yolo_v1(*, weights=None, progress=True, num_classes=21, in_channels=3, grid_size=7,
            boxes_per_cell=2, image_size=448, dropout=0.5, **kwargs):
    """The paper's network (figure 3) for ``image_size`` x ``image_size`` images (a multiple
    of 64; the convolutions leave a (image_size / 64)^2 x 1024 map): 24 convolutions, then
    FC 4096 with leaky ReLU and dropout, FC to S x S x (5 B + C). num_classes=21 (VOC's 20
    and the background) gives the paper's 7 x 7 x 30 output. Other keywords go to
    ``YOLOv1`` (loss weights, thresholds)."""
    _check_weights("yolo_v1", weights, kwargs)
    side = positive_int("yolo_v1", "image_size", image_size)
    if side % PAPER_STRIDE:
        raise ValueError(f"yolo_v1(image_size=) must be a multiple of {PAPER_STRIDE}, "
                         f"got {image_size!r}")
    s = positive_int("yolo_v1", "grid_size", grid_size)
    depth = 5 * positive_int("yolo_v1", "boxes_per_cell", boxes_per_cell) + num_classes - 1
    feature = (side // PAPER_STRIDE) ** 2 * 1024
    head = nn.Sequential(nn.Flatten(), nn.Linear(feature, 4096), nn.LeakyReLU(0.1),
                         nn.Dropout(probability("yolo_v1", "dropout", dropout)),
                         nn.Linear(4096, s * s * depth), nn.Unflatten(1, (s, s, depth)))
    return YOLOv1(paper_backbone(in_channels), head, num_classes, s, side, in_channels,
                  boxes_per_cell, **kwargs)


@register_model()
def yolo_v1_mini(*, weights=None, progress=True, num_classes=11, in_channels=1, grid_size=12,
                 boxes_per_cell=2, image_size=96, width=32, box_score_thresh=0.01,
                 box_nms_thresh=0.4, **kwargs):
    """A small YOLO v1 for the 96 x 96 grey scenes: stages of 3 x 3 conv + batch norm +
    leaky ReLU 0.1 and a 2 x 2 max-pool (``width``, 2 ``width``, ... channels, the first at
    ``width`` / 2) down to the S x S grid, two 3 x 3 convolutions at the grid, a 1 x 1
    convolution to 5 B + C. ``image_size`` must be S times a power of two. The grid (S = 12
    beat S = 6) and the thresholds (0.01 and 0.4 beat torchvision's 0.05 and 0.5) were
    chosen on the validation scenes of scenes-mnist."""
    _check_weights("yolo_v1_mini", weights, kwargs)
    size = _pair(image_size, "yolo_v1_mini", "image_size")
    s = positive_int("yolo_v1_mini", "grid_size", grid_size)
    width = positive_int("yolo_v1_mini", "width", width)
    depth = 5 * positive_int("yolo_v1_mini", "boxes_per_cell", boxes_per_cell) + num_classes - 1
    layers, channels = [], in_channels
    for stage in range(_grid_stages(size, s, "yolo_v1_mini")):
        out = max(1, width * 2 ** stage // 2)
        layers += _conv(channels, out, 3, batch_norm=True) + [nn.MaxPool2d(2, 2)]
        channels = out
    top = 4 * width
    layers += _conv(channels, top, 3, batch_norm=True) + _conv(top, top, 3, batch_norm=True)
    head = nn.Sequential(nn.Conv2d(top, depth, 1), Permute((0, 2, 3, 1)))
    return YOLOv1(nn.Sequential(*layers), head, num_classes, s, size, in_channels,
                  boxes_per_cell, box_score_thresh=box_score_thresh,
                  box_nms_thresh=box_nms_thresh, **kwargs)
