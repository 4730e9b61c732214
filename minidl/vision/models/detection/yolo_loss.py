"""The YOLO v1 training objective (Redmon et al. 2016, "You Only Look Once", section 2.2).

Prediction layout (``pred``, (N, S, S, 5 B + C), after ``activate_predictions``): per cell,
B boxes of five numbers (x, y, sqrt w, sqrt h, confidence), then C class probabilities
Pr(class | object) for the labels 1..C (C = num_classes - 1: the background is not a class).
x, y are the box centre's offset inside its cell in [0, 1]; sqrt w, sqrt h are the square
roots of the box's width and height as fractions of the image's (the network predicts the
roots, as darknet's v1 detection layer with ``sqrt=1``, so the loss's sqrt needs no clamp).

Assignment: an object belongs to the cell holding its centre; of that cell's B predictors
the one whose box has the highest IoU with the object (ties: the lowest index) is
"responsible" for it. A cell has one class vector, so it can hold one object only (v1's
limitation, section 2.4): when several centres fall in one cell, the object of largest box
area is kept (ties: the first in the target list) and the others are not trained on.

Loss (sum-squared error, equation 3), with 1_ij = predictor j of cell i is responsible:

    lambda_coord sum 1_ij [(x - x^)^2 + (y - y^)^2]                           loss_xy
  + lambda_coord sum 1_ij [(sqrt w - sqrt w^)^2 + (sqrt h - sqrt h^)^2]       loss_wh
  + sum 1_ij (C_ij - C^_ij)^2        C^ = IoU(pred, truth), held constant     loss_obj
  + lambda_noobj sum (1 - 1_ij) C_ij^2                                        loss_noobj
  + sum_i 1_i sum_c (p_i(c) - p^_i(c))^2   1_i = cell i holds an object        loss_class

Each term is summed over the cells, predictors and classes of the batch and divided by the
number of images, so the parts are per-image sums (the scale of the paper's equation).
"""
import numpy as np

from ....ops._util import check_tensor
from ....tensor import Tensor

__all__ = ["encode_targets", "cell_boxes_to_xyxy", "responsible_predictors", "yolo_v1_loss"]

CONFIDENCE_TARGETS = ("iou", "one")


def _check_targets(targets, image_sizes, num_classes, fn):
    if not isinstance(targets, (list, tuple)) or len(targets) != len(image_sizes):
        got = len(targets) if isinstance(targets, (list, tuple)) else type(targets).__name__
        raise ValueError(f"{fn}(): 'targets' must be a list of one dict per image "
                         f"({len(image_sizes)} images), got {got}")
    checked = []
    for i, target in enumerate(targets):
        if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
            raise ValueError(f"{fn}(): targets[{i}] must be a dict with 'boxes' and 'labels'")
        boxes = np.asarray(target["boxes"].numpy() if isinstance(target["boxes"], Tensor)
                           else target["boxes"], np.float64)
        labels = np.asarray(target["labels"].numpy() if isinstance(target["labels"], Tensor)
                            else target["labels"])
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"{fn}(): targets[{i}]['boxes'] must have shape (K, 4) xyxy, "
                             f"got {boxes.shape}")
        if labels.shape != (len(boxes),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{fn}(): targets[{i}]['labels'] must be integers of shape "
                             f"({len(boxes)},), got {labels.dtype} {labels.shape}")
        if ((labels < 1) | (labels >= num_classes)).any():
            raise ValueError(f"{fn}(): targets[{i}]['labels'] must lie in 1..{num_classes - 1} "
                             f"(num_classes={num_classes} counts the background 0), got "
                             f"{sorted(set(labels.tolist()))}")
        if ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])).any():
            raise ValueError(f"{fn}(): targets[{i}]['boxes'] must have positive width and "
                             f"height (x1 < x2, y1 < y2)")
        checked.append((boxes, labels.astype(np.int64)))
    return checked


def encode_targets(targets, image_sizes, grid_size, num_classes):
    """The cell-level ground truth of a batch, NumPy arrays for ``S = grid_size``:
    ``box`` (N, S, S, 4) float64 (x, y in the cell, sqrt w, sqrt h of the image),
    ``labels`` (N, S, S) int64 (0 = no object) and ``object_cell`` (N, S, S) bool.
    ``targets``: one dict per image of xyxy pixel ``boxes`` and ``labels`` in
    1..num_classes-1; ``image_sizes``: (height, width) of each image. One object per cell,
    the largest (module doc)."""
    checked = _check_targets(targets, image_sizes, num_classes, "encode_targets")
    n, s = len(checked), grid_size
    box = np.zeros((n, s, s, 4))
    labels = np.zeros((n, s, s), np.int64)
    area = np.full((n, s, s), -1.0)
    for i, ((boxes, image_labels), (height, width)) in enumerate(zip(checked, image_sizes)):
        cx = (boxes[:, 0] + boxes[:, 2]) / (2 * width)
        cy = (boxes[:, 1] + boxes[:, 3]) / (2 * height)
        w = (boxes[:, 2] - boxes[:, 0]) / width
        h = (boxes[:, 3] - boxes[:, 1]) / height
        cols = np.clip(np.floor(cx * s).astype(np.int64), 0, s - 1)
        rows = np.clip(np.floor(cy * s).astype(np.int64), 0, s - 1)
        for k in range(len(boxes)):
            r, c = rows[k], cols[k]
            if w[k] * h[k] > area[i, r, c]:
                area[i, r, c] = w[k] * h[k]
                box[i, r, c] = (cx[k] * s - c, cy[k] * s - r, np.sqrt(w[k]), np.sqrt(h[k]))
                labels[i, r, c] = image_labels[k]
    return {"box": box, "labels": labels, "object_cell": labels > 0}


def cell_boxes_to_xyxy(cell_boxes):
    """(x, y in the cell, sqrt w, sqrt h) boxes (N, S, S, ..., 4), NumPy -> xyxy in fractions
    of the image (same shape); a box's cell is its position in the array."""
    s = cell_boxes.shape[1]
    extra = (1,) * (cell_boxes.ndim - 4)
    grid = np.arange(s, dtype=np.float64)
    cols = grid.reshape((1, 1, s) + extra)
    rows = grid.reshape((1, s, 1) + extra)
    cx = (cell_boxes[..., 0] + cols) / s
    cy = (cell_boxes[..., 1] + rows) / s
    half_w = cell_boxes[..., 2] ** 2 / 2
    half_h = cell_boxes[..., 3] ** 2 / 2
    return np.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), axis=-1)


def _pairwise_iou(a, b):
    """IoU of xyxy arrays broadcast against each other (..., 4) -> (...)."""
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
             + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter)
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def responsible_predictors(pred_boxes, encoded):
    """``(responsible, iou)``: (N, S, S, B) bool, the predictor of each object cell whose box
    (``pred_boxes`` (N, S, S, B, 4) NumPy, cell coordinates) has the highest IoU with the
    cell's object (ties: the lowest index), and the IoU of every predictor with it."""
    truth = cell_boxes_to_xyxy(encoded["box"])[:, :, :, None, :]
    iou = _pairwise_iou(cell_boxes_to_xyxy(np.asarray(pred_boxes, np.float64)), truth)
    best = iou.argmax(axis=-1)
    responsible = np.arange(iou.shape[-1]) == best[..., None]
    return responsible & encoded["object_cell"][..., None], iou


def yolo_v1_loss(pred, targets, image_sizes, boxes_per_cell=2, lambda_coord=5.0,
                 lambda_noobj=0.5, confidence_target="iou"):
    """The five YOLO v1 loss parts (module doc) as a dict of scalar Tensors, per image.

    ``pred``: (N, S, S, 5 B + C) activated predictions (``boxes_per_cell`` = B);
    ``targets``: one dict per image of xyxy pixel ``boxes`` (K, 4) and ``labels`` (K,) in
    1..C; ``image_sizes``: (height, width) per image. ``confidence_target``: "iou" (the
    paper: the responsible predictor's confidence learns IoU(pred, truth), held constant)
    or "one"."""
    check_tensor(pred, "yolo_v1_loss", "pred")
    if confidence_target not in CONFIDENCE_TARGETS:
        raise ValueError(f"yolo_v1_loss(): 'confidence_target' must be one of "
                         f"{CONFIDENCE_TARGETS}, got {confidence_target!r}")
    b = boxes_per_cell
    if pred.ndim != 4 or pred.shape[1] != pred.shape[2] or pred.shape[3] <= 5 * b:
        raise ValueError(f"yolo_v1_loss(): 'pred' must have shape (N, S, S, 5 B + C) with "
                         f"B = {b} and C >= 1, got {tuple(pred.shape)}")
    n, s = pred.shape[0], pred.shape[1]
    if len(image_sizes) != n:
        raise ValueError(f"yolo_v1_loss(): {len(image_sizes)} image_sizes for {n} predictions")
    num_classes = pred.shape[3] - 5 * b + 1
    encoded = encode_targets(targets, image_sizes, s, num_classes)
    boxes = pred[..., :5 * b].reshape(n, s, s, b, 5)
    responsible, iou = responsible_predictors(boxes.detach().numpy()[..., :4], encoded)
    dtype = pred.detach().numpy().dtype
    mask = Tensor(responsible.astype(dtype))
    box_target = Tensor(np.broadcast_to(encoded["box"][:, :, :, None, :],
                                         (n, s, s, b, 4)).astype(dtype))
    confidence = (iou * responsible if confidence_target == "iou" else responsible)
    one_hot = (encoded["labels"][..., None] == np.arange(1, num_classes)).astype(dtype)
    squared = (boxes[..., :4] - box_target) ** 2
    conf = boxes[..., 4]
    return {
        "loss_xy": lambda_coord * (mask * squared[..., 0:2].sum(-1)).sum() / n,
        "loss_wh": lambda_coord * (mask * squared[..., 2:4].sum(-1)).sum() / n,
        "loss_obj": (mask * (conf - Tensor(confidence.astype(dtype))) ** 2).sum() / n,
        "loss_noobj": lambda_noobj * ((1 - mask) * conf ** 2).sum() / n,
        "loss_class": (Tensor(encoded["object_cell"][..., None].astype(dtype))
                       * (pred[..., 5 * b:] - Tensor(one_hot)) ** 2).sum() / n,
    }
