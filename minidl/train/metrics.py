"""Classification metrics on predictions and class scores (NumPy arrays or tensors).

- ``accuracy(pred, target)``: the share of ``pred == target``; ``pred`` may be class
  scores ``N x C`` (their argmax is the prediction).
- ``top_k_accuracy(scores, target, k)``: the share of samples whose class is among the
  ``k`` largest of its ``C`` scores (ties go to the lower class index, as ``argsort``
  stable on the negated scores).
- ``confusion_matrix(pred, target, num_classes)``: ``M[i, j]`` counts samples of class
  ``i`` predicted as ``j`` (rows: truth, columns: prediction).
- ``precision_recall_f1(pred, target, num_classes, average='macro' | None)``: per class
  ``c``, precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)`` and
  ``F1 = 2 P R / (P + R)``, each 0 where its denominator is 0; ``'macro'`` averages them
  over the classes with unweighted means (the macro F1 is the mean of the per-class F1s).
"""
import numpy as np

__all__ = ["accuracy", "top_k_accuracy", "top_k_correct", "confusion_matrix",
           "precision_recall_f1"]


def _array(x):
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def _labels(x, name):
    a = _array(x)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a 1-D array of integer class indices, got shape "
                         f"{a.shape} and dtype {a.dtype}")
    return a


def _predictions(pred, target):
    """``pred`` as class indices (the argmax of scores ``N x C``), checked against
    ``target``."""
    p = _array(pred)
    if p.ndim == 2:
        p = p.argmax(1)
    p, t = _labels(p, "pred"), _labels(target, "target")
    if len(p) != len(t):
        raise ValueError(f"pred and target must hold one entry per sample, got {len(p)} "
                         f"predictions and {len(t)} targets")
    if len(t) == 0:
        raise ValueError("the metrics need at least one sample, got none")
    return p, t


def accuracy(pred, target):
    """The share of correct predictions (``pred``: class indices ``N`` or scores ``N x C``)."""
    p, t = _predictions(pred, target)
    return float(np.count_nonzero(p == t)) / len(t)


def top_k_correct(scores, target, k):
    """How many samples have their class among the ``k`` largest scores (see the module)."""
    s, t = _array(scores), _labels(target, "target")
    if s.ndim != 2 or len(s) != len(t):
        raise ValueError(f"scores must be N x C class scores for the N = {len(t)} targets, "
                         f"got shape {s.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be an integer from 1 to the number of classes "
                         f"{s.shape[1]}, got {k!r}")
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return int(np.count_nonzero((top == t[:, None]).any(1)))


def top_k_accuracy(scores, target, k=5):
    """The share of samples whose class is among their ``k`` largest scores."""
    n = top_k_correct(scores, target, k)
    if len(target) == 0:
        raise ValueError("the metrics need at least one sample, got none")
    return n / len(target)


def confusion_matrix(pred, target, num_classes=None):
    """``num_classes x num_classes`` int64 counts: row = true class, column = predicted.

    ``num_classes`` defaults to one more than the largest label seen.
    """
    p, t = _predictions(pred, target)
    if num_classes is None:
        num_classes = int(max(p.max(), t.max())) + 1
    if min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes:
        raise ValueError(f"class indices must lie in [0, {num_classes}); got predictions in "
                         f"[{p.min()}, {p.max()}] and targets in [{t.min()}, {t.max()}]")
    return np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(
        num_classes, num_classes).astype(np.int64)


def precision_recall_f1(pred, target, num_classes=None, average="macro"):
    """``(precision, recall, f1)``: floats averaged over the classes (``'macro'``), or
    per-class float64 arrays (``average=None``). See the module for the formulas."""
    if average not in ("macro", None):
        raise ValueError(f"average must be 'macro' or None, got {average!r}")
    m = confusion_matrix(pred, target, num_classes).astype(np.float64)
    tp = np.diag(m)
    predicted, actual = m.sum(0), m.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    if average is None:
        return precision, recall, f1
    return float(precision.mean()), float(recall.mean()), float(f1.mean())
