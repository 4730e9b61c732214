"""Detection losses of torchvision's ``ops``: the IoU-based box-regression losses on matched
pairs of xyxy boxes, and the focal loss for dense classification.

For boxes A (predicted) and B (target), C the smallest box enclosing both:
  GIoU loss (Rezatofighi et al. 2019)  1 - IoU + (|C| - |A u B|) / (|C| + eps)
  DIoU loss (Zheng et al. 2020)        1 - IoU + rho^2 / (c^2 + eps), rho the distance of the
                                       centres, c the diagonal of C
  CIoU loss (Zheng et al. 2020)        DIoU loss + alpha v, v = 4 / pi^2 (atan(w_B / h_B) -
                                       atan(w_A / h_A))^2, alpha = v / (1 - IoU + v + eps)
                                       held constant for the gradient
with IoU = |A n B| / (|A u B| + eps). Focal loss (Lin et al. 2017, RetinaNet):
alpha_t (1 - p_t)^gamma BCE(p, y), p = sigmoid(x), p_t = p y + (1 - p)(1 - y).
"""
import math

from ..._creation import zeros_like
from ...autograd import no_grad
from ...backend.dtypes import float32, float64
from ...nn.functional import binary_cross_entropy_with_logits
from ...ops._util import check_tensor
from ...ops.binary import maximum, minimum, where
from .boxes import check_boxes, check_broadcast

__all__ = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss",
           "sigmoid_focal_loss"]

REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction, fn):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}(): invalid value for 'reduction': {reduction!r}; "
                         f"the modes are {REDUCTIONS}")


def _matched_boxes(boxes1, boxes2, reduction, fn):
    """Checked pair of xyxy box sets (..., 4), cast to float32 unless float32 / float64."""
    _check_reduction(reduction, fn)
    check_boxes(boxes1, fn, "boxes1")
    check_boxes(boxes2, fn, "boxes2")
    check_broadcast(boxes1, boxes2, fn)
    return [b if b.dtype in (float32, float64) else b.float() for b in (boxes1, boxes2)]


def _reduce_box_loss(loss, reduction):
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


def _matched_geometry(boxes1, boxes2):
    """Intersection, union, and the enclosing box's corners of each matched pair."""
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    left, top = maximum(x1, x1g), maximum(y1, y1g)
    right, bottom = minimum(x2, x2g), minimum(y2, y2g)
    overlap = (bottom > top) & (right > left)
    inter = where(overlap, (right - left) * (bottom - top), zeros_like(x1))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    enclosing = (minimum(x1, x1g), minimum(y1, y1g), maximum(x2, x2g), maximum(y2, y2g))
    return inter, union, enclosing


def _diou_loss_and_iou(boxes1, boxes2, eps):
    inter, union, (xc1, yc1, xc2, yc2) = _matched_geometry(boxes1, boxes2)
    iou = inter / (union + eps)
    diagonal_squared = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    centre1 = (boxes1[..., :2] + boxes1[..., 2:]) / 2
    centre2 = (boxes2[..., :2] + boxes2[..., 2:]) / 2
    centres_squared = ((centre1 - centre2) ** 2).sum(-1)
    return 1 - iou + centres_squared / diagonal_squared, iou


def generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """GIoU loss of matched xyxy boxes (..., 4): 1 - IoU + (|C| - |A u B|) / (|C| + eps)
    (Rezatofighi et al. 2019, arXiv:1902.09630); symmetric in the two sets."""
    boxes1, boxes2 = _matched_boxes(boxes1, boxes2, reduction, "generalized_box_iou_loss")
    inter, union, (xc1, yc1, xc2, yc2) = _matched_geometry(boxes1, boxes2)
    iou = inter / (union + eps)
    enclosing = (xc2 - xc1) * (yc2 - yc1)
    loss = 1 - (iou - (enclosing - union) / (enclosing + eps))
    return _reduce_box_loss(loss, reduction)


def distance_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """DIoU loss of matched xyxy boxes (..., 4): 1 - IoU + rho^2 / (c^2 + eps)
    (Zheng et al. 2020, arXiv:1911.08287)."""
    boxes1, boxes2 = _matched_boxes(boxes1, boxes2, reduction, "distance_box_iou_loss")
    return _reduce_box_loss(_diou_loss_and_iou(boxes1, boxes2, eps)[0], reduction)


def complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """CIoU loss of matched xyxy boxes (..., 4): DIoU loss + alpha v (Zheng et al. 2020,
    arXiv:1911.08287). As torchvision, ``eps`` enters alpha only; the DIoU part keeps 1e-7."""
    boxes1, boxes2 = _matched_boxes(boxes1, boxes2, reduction, "complete_box_iou_loss")
    diou_loss, iou = _diou_loss_and_iou(boxes1, boxes2, 1e-7)
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    v = (4 / math.pi ** 2) * (((x2g - x1g) / (y2g - y1g)).atan()
                              - ((x2 - x1) / (y2 - y1)).atan()) ** 2
    with no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce_box_loss(diou_loss + alpha * v, reduction)


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """Focal loss (Lin et al. 2017, arXiv:1708.02002) of logits ``inputs`` against binary
    ``targets`` of the same shape: alpha_t (1 - p_t)^gamma BCE-with-logits; ``alpha = -1``
    drops the alpha_t weighting."""
    check_tensor(inputs, "sigmoid_focal_loss", "inputs")
    check_tensor(targets, "sigmoid_focal_loss", "targets")
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(f"sigmoid_focal_loss(): invalid alpha {alpha}: it must be in [0, 1], "
                         "or -1 for no weighting")
    _check_reduction(reduction, "sigmoid_focal_loss")
    if tuple(inputs.shape) != tuple(targets.shape):
        raise ValueError(f"sigmoid_focal_loss(): 'targets' must have the shape of 'inputs' "
                         f"{tuple(inputs.shape)}, got {tuple(targets.shape)}")
    p = inputs.sigmoid()
    ce_loss = binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
