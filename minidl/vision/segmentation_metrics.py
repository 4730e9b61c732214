"""Semantic segmentation metrics from a confusion matrix: pixel accuracy, per-class IoU,
mean IoU (the figures of torchvision's segmentation reference scripts).

``confusion_matrix(pred, target, num_classes)`` counts pixels: row = true class, column =
predicted class. Target pixels equal to ``ignore_index`` are left out (prediction and
truth); any other target or prediction outside ``[0, num_classes)`` is refused. From the
matrix ``M``:

- pixel accuracy = ``trace(M) / sum(M)``;
- IoU of class c = ``M[c, c] / (sum_j M[c, j] + sum_i M[i, c] - M[c, c])`` (true
  positives over the union of the true and the predicted pixels of c);
- mean IoU = the mean of the IoUs of the classes that occur in the truth or in the
  prediction. A class absent from both has union 0: its IoU is undefined (NaN in
  ``per_class_iou``) and it is left out of the mean, so a test set without, say, class 7
  is not scored as if class 7 were perfectly (or wrongly) segmented. A class absent from
  the truth but predicted has IoU 0 and counts.

``ConfusionMatrix`` accumulates the matrix over batches (``update``) and gives all three
(``compute``).
"""
import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["confusion_matrix", "pixel_accuracy", "per_class_iou", "mean_iou",
           "ConfusionMatrix"]


def _as_labels(value, name):
    a = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {a.dtype}"
                        + (" (take argmax over the class dimension of scores first)"
                           if a.dtype.kind == "f" else ""))
    return a


def _check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or num_classes < 1:
        raise ValueError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    return int(num_classes)


def confusion_matrix(pred, target, num_classes, ignore_index=None):
    """(num_classes, num_classes) int64 pixel counts, ``[true, predicted]``, of integer
    label maps ``pred`` and ``target`` of one shape (tensors or arrays, any number of
    dimensions). Pixels whose target is ``ignore_index`` are not counted."""
    n = _check_num_classes(num_classes)
    p, t = _as_labels(pred, "pred"), _as_labels(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(p.shape)} and "
                         f"{tuple(t.shape)}")
    p, t = p.ravel().astype(np.int64), t.ravel().astype(np.int64)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    for name, a in (("target", t), ("pred", p)):
        bad = (a < 0) | (a >= n)
        if bad.any():
            hint = "" if ignore_index is None else f" or ignore_index {ignore_index}"
            raise ValueError(f"{name} holds class {int(a[bad][0])}, outside [0, {n}){hint}")
    return np.bincount(t * n + p, minlength=n * n).reshape(n, n)


def _check_matrix(matrix):
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"expected a square confusion matrix, got shape {m.shape}")
    return m.astype(np.float64)


def pixel_accuracy(matrix):
    """Share of the counted pixels whose predicted class is the true one (NaN if none)."""
    m = _check_matrix(matrix)
    total = m.sum()
    return float(np.trace(m) / total) if total else float("nan")


def per_class_iou(matrix):
    """(C,) float64 IoU of every class; NaN for a class absent from truth and prediction."""
    m = _check_matrix(matrix)
    tp = np.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)


def mean_iou(matrix):
    """Mean IoU over the classes present in the truth or the prediction (NaN if none)."""
    iou = per_class_iou(matrix)
    present = ~np.isnan(iou)
    return float(iou[present].mean()) if present.any() else float("nan")


class ConfusionMatrix:
    """Accumulates ``confusion_matrix`` over batches: ``update(pred, target)``, then
    ``compute()`` -> ``{'pixel_acc', 'miou', 'iou' (per class, NaN where undefined)}``."""

    def __init__(self, num_classes, ignore_index=None):
        self.num_classes = _check_num_classes(num_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.num_classes, self.num_classes), np.int64)

    def update(self, pred, target):
        self.matrix += confusion_matrix(pred, target, self.num_classes, self.ignore_index)
        return self

    def compute(self):
        return {"pixel_acc": pixel_accuracy(self.matrix), "miou": mean_iou(self.matrix),
                "iou": per_class_iou(self.matrix)}

    def __repr__(self):
        return (f"ConfusionMatrix(num_classes={self.num_classes}, ignore_index="
                f"{self.ignore_index!r}, pixels={int(self.matrix.sum())})")
