"""Box operations of torchvision's ``ops``: format conversion, areas, pairwise IoU and its
generalised / distance / complete variants, clipping, filtering, masks to boxes, and greedy
non-maximum suppression.

Axis-aligned boxes are ``(x1, y1, x2, y2)`` ("xyxy") unless a ``fmt`` says otherwise;
"xywh" is the top-left corner and the size, "cxcywh" the centre and the size. The rotated
formats "xywhr", "cxcywhr" (r in degrees, counter-clockwise) and "xyxyxyxy" (the four
corners) are converted by ``box_convert``. The measures are compositions of minidl ops, so
they differentiate through autograd; ``nms``, ``batched_nms`` and ``remove_small_boxes``
return int64 indices computed in NumPy on the detached values.

IoU = |A n B| / |A u B|; GIoU (Rezatofighi et al. 2019) = IoU - |C \\ (A u B)| / |C| with C
the smallest enclosing box; DIoU (Zheng et al. 2020) = IoU - rho^2 / c^2 with rho the
distance of the centres and c the diagonal of C; CIoU = DIoU - alpha v with
v = 4 / pi^2 (atan(w_gt / h_gt) - atan(w / h))^2 and alpha = v / (1 - IoU + v), alpha held
constant for the gradient.
"""
import math

import numpy as np

from ...autograd import no_grad
from ...backend.dtypes import float32, float64, int32, int64
from ...ops._util import check_tensor
from ...ops.binary import maximum, minimum
from ...ops.join import stack
from ...tensor import Tensor

__all__ = ["box_convert", "box_area", "box_iou", "generalized_box_iou", "distance_box_iou",
           "complete_box_iou", "clip_boxes_to_image", "remove_small_boxes", "masks_to_boxes",
           "nms", "batched_nms"]

AXIS_ALIGNED_FORMATS = ("xyxy", "xywh", "cxcywh")
ROTATED_FORMATS = ("xywhr", "cxcywhr", "xyxyxyxy")
COORDINATES = {"xyxy": 4, "xywh": 4, "cxcywh": 4, "xywhr": 5, "cxcywhr": 5, "xyxyxyxy": 8}
# Beyond this many box coordinates batched_nms runs one nms per class (torchvision's CPU rule).
PER_CLASS_NMS_ABOVE = 4000


def check_boxes(boxes, fn, arg="boxes", coordinates=4, min_ndim=1):
    """``boxes`` as a Tensor of shape (..., coordinates) with at least ``min_ndim`` dims."""
    check_tensor(boxes, fn, arg)
    if boxes.ndim < min_ndim or boxes.shape[-1] != coordinates:
        lead = "N, " if min_ndim > 1 else "..., "
        raise ValueError(f"{fn}(): '{arg}' must have shape ({lead}{coordinates}), "
                         f"got {tuple(boxes.shape)}")
    return boxes


def check_broadcast(boxes1, boxes2, fn, lead=0):
    """Refuse two box sets whose shapes (less the last ``lead`` dims) do not broadcast."""
    s1, s2 = tuple(boxes1.shape), tuple(boxes2.shape)
    try:
        np.broadcast_shapes(s1[:len(s1) - lead], s2[:len(s2) - lead])
    except ValueError:
        raise ValueError(f"{fn}(): the shapes of 'boxes1' {s1} and 'boxes2' {s2} do not "
                         "broadcast") from None


def upcast(t):
    """float16 to float32 and the small integer types to int32, as torchvision's ``_upcast``."""
    if t.is_floating_point():
        return t if t.dtype in (float32, float64) else t.float()
    return t if t.dtype in (int32, int64) else t.int()


def _keep_integer_dtype(converted, dtype):
    """Rotated conversions of integer boxes round back to the input's dtype."""
    if dtype.is_floating_point:
        return converted
    return converted.round().to(dtype)


def _xywh_to_xyxy(boxes):
    x, y, w, h = boxes.unbind(-1)
    return stack((x, y, x + w, y + h), dim=-1)


def _xyxy_to_xywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return stack((x1, y1, x2 - x1, y2 - y1), dim=-1)


def _cxcywh_to_xyxy(boxes):
    cx, cy, w, h = boxes.unbind(-1)
    return stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)


def _xyxy_to_cxcywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def _radians(r):
    r_rad = r * math.pi / 180.0
    return r_rad.cos(), r_rad.sin()


def _cxcywhr_to_xywhr(boxes):
    cx, cy, w, h, r = boxes.unbind(-1)
    cos, sin = _radians(r)
    x1 = cx - w / 2 * cos - h / 2 * sin
    y1 = cy - h / 2 * cos + w / 2 * sin
    return _keep_integer_dtype(stack((x1, y1, w, h, r), dim=-1), boxes.dtype)


def _xywhr_to_cxcywhr(boxes):
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _radians(r)
    cx = x1 + w / 2 * cos + h / 2 * sin
    cy = y1 - w / 2 * sin + h / 2 * cos
    return _keep_integer_dtype(stack((cx, cy, w, h, r), dim=-1), boxes.dtype)


def _xywhr_to_xyxyxyxy(boxes):
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _radians(r)
    x2, y2 = x1 + w * cos, y1 - w * sin
    corners = (x1, y1, x2, y2, x2 + h * sin, y2 + h * cos, x1 + h * sin, y1 + h * cos)
    return _keep_integer_dtype(stack(corners, dim=-1), boxes.dtype)


def _xyxyxyxy_to_xywhr(boxes):
    x1, y1, x2, y2, x3, y3, _, _ = boxes.unbind(-1)
    r = (y1 - y2).atan2(x2 - x1) * 180 / math.pi
    w = ((x2 - x1) ** 2 + (y1 - y2) ** 2).sqrt()
    h = ((x3 - x2) ** 2 + (y3 - y2) ** 2).sqrt()
    return _keep_integer_dtype(stack((x1, y1, w, h, r), dim=-1), boxes.dtype)


def _identity(boxes):
    return boxes


# Each family converts through one hub format: "xyxy" for the axis-aligned boxes, "xywhr" for
# the rotated ones (the routes torchvision takes, so integer rounding happens at the same steps).
_TO_HUB = {"xyxy": _identity, "xywh": _xywh_to_xyxy, "cxcywh": _cxcywh_to_xyxy,
           "xywhr": _identity, "cxcywhr": _cxcywhr_to_xywhr, "xyxyxyxy": _xyxyxyxy_to_xywhr}
_FROM_HUB = {"xyxy": _identity, "xywh": _xyxy_to_xywh, "cxcywh": _xyxy_to_cxcywh,
             "xywhr": _identity, "cxcywhr": _xywhr_to_cxcywhr, "xyxyxyxy": _xywhr_to_xyxyxyxy}


def box_convert(boxes, in_fmt, out_fmt):
    """``boxes`` (..., K) from ``in_fmt`` to ``out_fmt``, within the axis-aligned formats
    ("xyxy", "xywh", "cxcywh") or within the rotated ones ("xywhr", "cxcywhr", "xyxyxyxy");
    a copy when the formats agree."""
    if in_fmt not in COORDINATES or out_fmt not in COORDINATES:
        raise ValueError(f"box_convert(): unsupported conversion from in_fmt {in_fmt!r} to "
                         f"out_fmt {out_fmt!r}; the formats are {tuple(COORDINATES)}")
    check_boxes(boxes, "box_convert", coordinates=COORDINATES[in_fmt])
    if in_fmt == out_fmt:
        return boxes.clone()
    if (in_fmt in ROTATED_FORMATS) != (out_fmt in ROTATED_FORMATS):
        raise NotImplementedError(f"box_convert(): no conversion between the axis-aligned and "
                                  f"the rotated formats (in_fmt {in_fmt!r}, out_fmt {out_fmt!r})")
    return _FROM_HUB[out_fmt](_TO_HUB[in_fmt](boxes))


def _check_axis_aligned(fmt, fn):
    if fmt not in AXIS_ALIGNED_FORMATS:
        raise ValueError(f"{fn}(): unsupported fmt {fmt!r}; the formats are "
                         f"{AXIS_ALIGNED_FORMATS}")


def box_area(boxes, fmt="xyxy"):
    """Areas of ``boxes`` (..., 4): (x2 - x1)(y2 - y1), or w h for "xywh" / "cxcywh"."""
    _check_axis_aligned(fmt, "box_area")
    boxes = upcast(check_boxes(boxes, "box_area"))
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _corners(boxes, fmt):
    """Top-left and bottom-right corners (..., 2) of axis-aligned boxes in ``fmt``."""
    if fmt == "xyxy":
        return boxes[..., :2], boxes[..., 2:]
    if fmt == "xywh":
        return boxes[..., :2], boxes[..., :2] + boxes[..., 2:]
    return boxes[..., :2] - boxes[..., 2:] / 2, boxes[..., :2] + boxes[..., 2:] / 2


def _pairwise(boxes1, boxes2):
    """(..., N, 1, K) and (..., 1, M, K) views for pairwise (..., N, M) results."""
    return boxes1[..., :, None, :], boxes2[..., None, :, :]


def _inter_union(boxes1, boxes2, fmt="xyxy"):
    area1, area2 = box_area(boxes1, fmt), box_area(boxes2, fmt)
    (lo1, hi1), (lo2, hi2) = _corners(boxes1, fmt), _corners(boxes2, fmt)
    (lo1, lo2), (hi1, hi2) = _pairwise(lo1, lo2), _pairwise(hi1, hi2)
    wh = upcast(minimum(hi1, hi2) - maximum(lo1, lo2)).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[..., :, None] + area2[..., None, :] - inter


def _check_pair(boxes1, boxes2, fn):
    check_boxes(boxes1, fn, "boxes1", min_ndim=2)
    check_boxes(boxes2, fn, "boxes2", min_ndim=2)
    check_broadcast(boxes1, boxes2, fn, lead=2)


def box_iou(boxes1, boxes2, fmt="xyxy"):
    """Pairwise IoU (..., N, M) of ``boxes1`` (..., N, 4) and ``boxes2`` (..., M, 4):
    intersection / union (the Jaccard index)."""
    if fmt in ROTATED_FORMATS:
        raise NotImplementedError(f"box_iou(): fmt {fmt!r} (rotated boxes) needs the rotated "
                                  "polygon intersection, which minidl does not have")
    _check_axis_aligned(fmt, "box_iou")
    _check_pair(boxes1, boxes2, "box_iou")
    inter, union = _inter_union(boxes1, boxes2, fmt)
    return inter / union


def _enclosing_size(boxes1, boxes2):
    """Width and height (..., N, M) of the smallest box enclosing each pair (xyxy)."""
    a, b = _pairwise(boxes1, boxes2)
    wh = upcast(maximum(a[..., 2:], b[..., 2:]) - minimum(a[..., :2], b[..., :2])).clamp(min=0)
    return wh[..., 0], wh[..., 1]


def generalized_box_iou(boxes1, boxes2):
    """Pairwise GIoU (..., N, M) of xyxy boxes: IoU - (|C| - |A u B|) / |C|, C the smallest
    box enclosing both (Rezatofighi et al. 2019)."""
    _check_pair(boxes1, boxes2, "generalized_box_iou")
    inter, union = _inter_union(boxes1, boxes2)
    w, h = _enclosing_size(boxes1, boxes2)
    enclosing = w * h
    return inter / union - (enclosing - union) / enclosing


def _diou_and_iou(boxes1, boxes2, eps):
    iou = box_iou(boxes1, boxes2)
    w, h = _enclosing_size(boxes1, boxes2)
    diagonal_squared = w ** 2 + h ** 2 + eps
    centre1 = (boxes1[..., :2] + boxes1[..., 2:]) / 2
    centre2 = (boxes2[..., :2] + boxes2[..., 2:]) / 2
    dx = upcast(centre1[..., :, None, 0] - centre2[..., None, :, 0])
    dy = upcast(centre1[..., :, None, 1] - centre2[..., None, :, 1])
    return iou - (dx ** 2 + dy ** 2) / diagonal_squared, iou


def distance_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise DIoU (..., N, M) of xyxy boxes: IoU - rho^2 / (c^2 + eps), rho the distance of
    the centres, c the diagonal of the enclosing box (Zheng et al. 2020)."""
    _check_pair(boxes1, boxes2, "distance_box_iou")
    return _diou_and_iou(upcast(boxes1), upcast(boxes2), eps)[0]


def complete_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise CIoU (..., N, M) of xyxy boxes: DIoU - alpha v, v the aspect-ratio term
    4 / pi^2 (atan(w1 / h1) - atan(w2 / h2))^2, alpha = v / (1 - IoU + v + eps) held constant
    (Zheng et al. 2020)."""
    _check_pair(boxes1, boxes2, "complete_box_iou")
    boxes1, boxes2 = upcast(boxes1), upcast(boxes2)
    diou, iou = _diou_and_iou(boxes1, boxes2, eps)
    a, b = _pairwise(boxes1, boxes2)
    aspect1 = ((a[..., 2] - a[..., 0]) / (a[..., 3] - a[..., 1])).atan()
    aspect2 = ((b[..., 2] - b[..., 0]) / (b[..., 3] - b[..., 1])).atan()
    v = (4 / math.pi ** 2) * (aspect1 - aspect2) ** 2
    with no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def clip_boxes_to_image(boxes, size):
    """xyxy ``boxes`` (..., 4) clamped into an image of ``size`` (height, width)."""
    check_boxes(boxes, "clip_boxes_to_image")
    if len(size) != 2:
        raise ValueError(f"clip_boxes_to_image(): 'size' must be (height, width), got {size}")
    height, width = size
    xs = boxes[..., 0::2].clamp(min=0, max=width)
    ys = boxes[..., 1::2].clamp(min=0, max=height)
    return stack((xs, ys), dim=boxes.ndim).reshape(boxes.shape)


def remove_small_boxes(boxes, min_size):
    """int64 indices of the xyxy boxes whose width and height are both >= ``min_size``."""
    check_boxes(boxes, "remove_small_boxes")
    b = boxes._data
    keep = (b[..., 2] - b[..., 0] >= min_size) & (b[..., 3] - b[..., 1] >= min_size)
    return Tensor(np.nonzero(np.atleast_1d(keep))[0].astype(np.int64))


def masks_to_boxes(masks):
    """xyxy float32 boxes (N, 4) around the non-zero pixels of ``masks`` (N, H, W); an empty
    mask gives (0, 0, 0, 0)."""
    check_tensor(masks, "masks_to_boxes", "masks")
    if masks.ndim != 3:
        raise ValueError(f"masks_to_boxes(): 'masks' must have shape (N, H, W), "
                         f"got {tuple(masks.shape)}")
    if masks.numel() == 0:
        return Tensor(np.zeros((0, 4), np.float32))
    m = masks._data.astype(bool)
    _, h, w = m.shape
    rows, cols = m.any(axis=2), m.any(axis=1)
    boxes = np.stack([cols.argmax(1), rows.argmax(1), (w - 1) - cols[:, ::-1].argmax(1),
                      (h - 1) - rows[:, ::-1].argmax(1)], axis=1).astype(np.float32)
    boxes[~rows.any(axis=1)] = 0
    return Tensor(boxes)


def _check_nms_inputs(boxes, scores, fn, idxs=None):
    check_tensor(boxes, fn, "boxes")
    check_tensor(scores, fn, "scores")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{fn}(): 'boxes' must have shape (N, 4), got {tuple(boxes.shape)}")
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"{fn}(): 'scores' must have shape (N,) with N = {boxes.shape[0]} "
                         f"boxes, got {tuple(scores.shape)}")
    if idxs is not None:
        check_tensor(idxs, fn, "idxs")
        if idxs.ndim != 1 or idxs.shape[0] != boxes.shape[0]:
            raise ValueError(f"{fn}(): 'idxs' must have shape (N,) with N = {boxes.shape[0]} "
                             f"boxes, got {tuple(idxs.shape)}")
    if boxes.dtype not in (float32, float64):
        raise TypeError(f"{fn}(): 'boxes' must be float32 or float64, got {boxes.dtype}")
    if scores.dtype != boxes.dtype:
        raise TypeError(f"{fn}(): 'scores' must have the dtype of 'boxes' ({boxes.dtype}), "
                        f"got {scores.dtype}")


def _descending_order(scores):
    """Indices sorting ``scores`` in decreasing order, ties in index order, NaN first (a stable
    descending sort, as torchvision's CPU kernel)."""
    nan = np.isnan(scores)
    rest = np.flatnonzero(~nan)
    return np.concatenate([np.flatnonzero(nan), rest[np.argsort(-scores[rest], kind="stable")]])


def _greedy_nms(boxes, scores, iou_threshold):
    """Visit boxes by decreasing score; keep one unless a kept box overlaps it with
    IoU > ``iou_threshold``. NumPy arrays in, int64 indices out."""
    order = _descending_order(scores)
    x1, y1, x2, y2 = boxes[order].T
    areas = (x2 - x1) * (y2 - y1)
    alive = np.ones(len(order), bool)
    kept = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(len(order)):
            if not alive[i]:
                continue
            kept.append(i)
            rest = np.flatnonzero(alive[i + 1:]) + (i + 1)
            w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
            h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
            inter = w * h
            iou = inter / (areas[i] + areas[rest] - inter)
            alive[rest[iou.astype(np.float64) > iou_threshold]] = False
    return order[np.asarray(kept, np.int64)].astype(np.int64)


def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression of xyxy ``boxes`` (N, 4): the int64 indices of the kept
    boxes by decreasing ``scores`` (ties in index order); a box is dropped when a kept,
    higher-scored box overlaps it with IoU > ``iou_threshold``."""
    _check_nms_inputs(boxes, scores, "nms")
    if boxes.shape[0] == 0:
        return Tensor(np.zeros(0, np.int64))
    return Tensor(_greedy_nms(boxes._data, scores._data, float(iou_threshold)))


def batched_nms(boxes, scores, idxs, iou_threshold):
    """``nms`` within each category ``idxs`` (N,), never across two; the kept indices by
    decreasing score. Up to 4000 coordinates the boxes of category k are shifted by
    k (max coordinate + 1) and suppressed at once; beyond, one ``nms`` runs per category."""
    _check_nms_inputs(boxes, scores, "batched_nms", idxs)
    b, s, k = boxes._data, scores._data, idxs._data
    if b.size == 0:
        return Tensor(np.zeros(0, np.int64))
    threshold = float(iou_threshold)
    if b.size <= PER_CLASS_NMS_ABOVE:
        offsets = k.astype(b.dtype) * (b.max() + b.dtype.type(1))
        return Tensor(_greedy_nms(b + offsets[:, None], s, threshold))
    keep = np.zeros(len(s), bool)
    for category in np.unique(k):
        members = np.flatnonzero(k == category)
        keep[members[_greedy_nms(b[members], s[members], threshold)]] = True
    kept = np.flatnonzero(keep)
    return Tensor(kept[_descending_order(s[kept])].astype(np.int64))
