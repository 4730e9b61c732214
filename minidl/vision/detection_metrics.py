"""Mean average precision of object detectors (PASCAL VOC, Everingham et al. 2010; COCO,
Lin et al. 2014).

Per class, the detections of all images are ranked by score (a stable sort, images in list
order, so ties keep their order); each is a true positive when, in its image, an unmatched
ground truth of its class overlaps it with IoU >= the threshold (the unmatched one of
highest IoU, the first on ties, is taken), else a false positive. A duplicate of a matched
object is therefore a false positive. Cumulative precision TP / (TP + FP) and recall
TP / (ground truths) over the ranking give the curve that ``average_precision`` reduces:

- "voc11": the mean over r in {0, 0.1, ..., 1} of the largest precision at recall >= r
  (VOC 2007);
- "voc": the area under the precision envelope, all points (VOC 2010 and later);
- "coco": as "voc11" with 101 recall points {0, 0.01, ..., 1} (COCO's ``COCOeval``).

The recall points are ``np.linspace(0, 1, n)`` as in COCOeval (the 11-point 0.3 is
0.30000000000000004, as ``np.arange(0, 1.1, 0.1)`` gives it too). COCO's mAP@[.5:.95] is
the mean over ``iou_thresholds=np.arange(0.5, 0.96, 0.05)``. Unlike COCOeval there is no cap of 100
detections per image, no area ranges and no crowd regions; unlike the VOC devkit a detection
whose best-overlapping object is taken may still match another one, IoU = the threshold
matches, there are no "difficult" objects, and widths are x2 - x1 (no +1).
"""
import numpy as np

from ..tensor import Tensor
from .ops.boxes import box_iou

__all__ = ["average_precision", "mean_average_precision"]

METHODS = ("coco", "voc11", "voc")
RECALL_POINTS = {"coco": 101, "voc11": 11}


def _check_method(method, fn):
    if method not in METHODS:
        raise ValueError(f"{fn}(): method must be one of {METHODS}, got {method!r}")


def average_precision(recall, precision, method="coco"):
    """Average precision of a ranked list from its cumulative ``recall`` (non-decreasing) and
    ``precision``, both (K,) -- K the number of detections; 0.0 when K = 0. ``method``:
    "coco" (101-point), "voc11" (11-point) or "voc" (all-point area)."""
    _check_method(method, "average_precision")
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if recall.ndim != 1 or recall.shape != precision.shape:
        raise ValueError(f"average_precision(): 'recall' and 'precision' must be 1-D of one "
                         f"length, got shapes {recall.shape} and {precision.shape}")
    if recall.size == 0:
        return 0.0
    if np.any(np.diff(recall) < 0):
        raise ValueError("average_precision(): 'recall' must be non-decreasing (cumulative "
                         "over the detections ranked by score)")
    if method == "voc":
        mrec = np.concatenate([[0.0], recall, [1.0]])
        mpre = np.concatenate([[0.0], precision, [0.0]])
        envelope = np.maximum.accumulate(mpre[::-1])[::-1]
        steps = np.flatnonzero(mrec[1:] != mrec[:-1])
        return float(np.sum((mrec[steps + 1] - mrec[steps]) * envelope[steps + 1]))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    first_reaching = np.searchsorted(recall, np.linspace(0.0, 1.0, RECALL_POINTS[method]),
                                     side="left")
    reached = first_reaching < recall.size
    interpolated = np.where(reached, envelope[np.minimum(first_reaching, recall.size - 1)], 0.0)
    return float(interpolated.mean())


def _as_array(x, fn, arg, trailing):
    """``x`` (a Tensor or array-like) as a NumPy array of shape (N,) + ``trailing``."""
    a = x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)
    if a.size == 0:
        a = a.reshape((0,) + trailing)
    if a.ndim != 1 + len(trailing) or a.shape[1:] != trailing:
        want = ", ".join(["N", *map(str, trailing)])
        raise ValueError(f"{fn}(): '{arg}' must have shape ({want}), got {a.shape}")
    return a


def _images(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels):
    """Per image: (pred boxes, scores, labels, gt boxes, gt labels) as checked arrays."""
    fn = "mean_average_precision"
    lists = {"pred_boxes": pred_boxes, "pred_scores": pred_scores, "pred_labels": pred_labels,
             "gt_boxes": gt_boxes, "gt_labels": gt_labels}
    lengths = {k: len(v) for k, v in lists.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{fn}(): the five lists must have one entry per image, got lengths "
                         f"{lengths}")
    images = []
    for i in range(len(pred_boxes)):
        pb = _as_array(pred_boxes[i], fn, f"pred_boxes[{i}]", (4,)).astype(np.float64)
        ps = _as_array(pred_scores[i], fn, f"pred_scores[{i}]", ()).astype(np.float64)
        pl = _as_array(pred_labels[i], fn, f"pred_labels[{i}]", ()).astype(np.int64)
        gb = _as_array(gt_boxes[i], fn, f"gt_boxes[{i}]", (4,)).astype(np.float64)
        gl = _as_array(gt_labels[i], fn, f"gt_labels[{i}]", ()).astype(np.int64)
        if not len(pb) == len(ps) == len(pl):
            raise ValueError(f"{fn}(): image {i} has {len(pb)} pred_boxes, {len(ps)} "
                             f"pred_scores and {len(pl)} pred_labels; they must agree")
        if len(gb) != len(gl):
            raise ValueError(f"{fn}(): image {i} has {len(gb)} gt_boxes but {len(gl)} "
                             "gt_labels")
        images.append((pb, ps, pl, gb, gl))
    return images


def _greedy_true_positives(iou, threshold):
    """TP flags of detections (rows of ``iou``, best score first) against ground truths
    (columns): each takes the unmatched ground truth of highest IoU >= ``threshold``."""
    taken = np.zeros(iou.shape[1], bool)
    tp = np.zeros(iou.shape[0], bool)
    for d in range(iou.shape[0]):
        candidates = np.where(taken, -np.inf, iou[d])
        if candidates.size and candidates.max() >= threshold:
            taken[candidates.argmax()] = tp[d] = True
    return tp


def _class_detections(images, label):
    """Per image, the scores (best first) of the detections of ``label`` and their IoU with
    the image's ground truths of ``label``; and the number of those ground truths."""
    per_image, n_gt = [], 0
    for pb, ps, pl, gb, gl in images:
        mine, gts = np.flatnonzero(pl == label), gb[gl == label]
        n_gt += len(gts)
        order = mine[np.argsort(-ps[mine], kind="stable")]
        iou = (box_iou(Tensor(pb[order]), Tensor(gts)).numpy() if len(order) and len(gts)
               else np.zeros((len(order), len(gts))))
        per_image.append((ps[order], iou))
    return per_image, n_gt


def _class_curve(per_image, n_gt, threshold):
    """Cumulative (recall, precision) over all images' ranked detections of one class."""
    scores = np.concatenate([s for s, _ in per_image])
    hits = np.concatenate([_greedy_true_positives(iou, threshold) for _, iou in per_image])
    ranked = hits[np.argsort(-scores, kind="stable")]
    tp, fp = np.cumsum(ranked), np.cumsum(~ranked)
    return tp / n_gt, tp / np.maximum(tp + fp, 1)


def mean_average_precision(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels,
                           iou_thresholds=(0.5,), method="coco"):
    """Mean average precision over a list of images.

    Each argument is a list with one entry per image: xyxy boxes (N_i, 4), scores (N_i,),
    integer labels (N_i,) of the detections; xyxy boxes (M_i, 4) and labels (M_i,) of the
    ground truths (Tensors or arrays). Only classes with at least one ground truth enter
    the mean (a class that is only predicted is left out, as in COCOeval; a class never
    detected counts 0). Returns a dict:

    - "map": the mean over thresholds and classes (nan when there is no ground truth);
    - "map_per_threshold": {threshold: mean over classes};
    - "ap_per_class": {label: mean over thresholds};
    - "ap": {threshold: {label: AP}};

    thresholds as keys are rounded to 6 decimals (0.55, not 0.5500000000000002).
    """
    _check_method(method, "mean_average_precision")
    thresholds = [float(t) for t in np.atleast_1d(np.asarray(iou_thresholds, np.float64))]
    if not thresholds or any(not 0 <= t <= 1 for t in thresholds):
        raise ValueError(f"mean_average_precision(): 'iou_thresholds' must be a non-empty "
                         f"list of numbers in [0, 1], got {iou_thresholds!r}")
    images = _images(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels)
    labels = sorted({int(label) for *_, gl in images for label in gl})
    detections = {label: _class_detections(images, label) for label in labels}
    ap = {round(t, 6): {label: average_precision(*_class_curve(*detections[label], t), method)
                        for label in labels} for t in thresholds}
    table = np.array([[per_class[label] for label in labels] for per_class in ap.values()])
    if not labels:
        return {"map": float("nan"), "map_per_threshold": {t: float("nan") for t in ap},
                "ap_per_class": {}, "ap": ap}
    return {"map": float(table.mean()),
            "map_per_threshold": {t: float(row.mean()) for t, row in zip(ap, table)},
            "ap_per_class": {label: float(v) for label, v in zip(labels, table.mean(axis=0))},
            "ap": ap}
