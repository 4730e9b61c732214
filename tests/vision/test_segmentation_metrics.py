"""Segmentation metrics against a direct NumPy computation on hand-made label maps."""
import numpy as np
import pytest

import minidl
from minidl.vision.segmentation_metrics import (
    ConfusionMatrix,
    confusion_matrix,
    mean_iou,
    per_class_iou,
    pixel_accuracy,
)

# 4 classes; class 3 is in neither map, class 2 only in the prediction
TARGET = np.array([[0, 0, 1, 1],
                   [0, 0, 1, 1],
                   [0, 0, 0, 1],
                   [255, 255, 0, 0]])
PRED = np.array([[0, 1, 1, 1],
                 [0, 0, 1, 2],
                 [0, 0, 0, 0],
                 [1, 2, 0, 0]])


def _direct(pred, target, num_classes, ignore_index=None):
    """IoU per class from boolean masks, pixel accuracy by counting, no matrix."""
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    p, t = pred[keep], target[keep]
    iou = []
    for c in range(num_classes):
        union = np.sum((p == c) | (t == c))
        iou.append(np.sum((p == c) & (t == c)) / union if union else np.nan)
    return np.array(iou), np.mean(p == t)


def test_confusion_matrix_counts_true_rows_predicted_columns():
    m = confusion_matrix(PRED, TARGET, 4, ignore_index=255)
    want = np.zeros((4, 4), np.int64)
    for t, p in zip(TARGET.ravel(), PRED.ravel()):
        if t != 255:
            want[t, p] += 1
    np.testing.assert_array_equal(m, want)
    assert m.dtype == np.int64 and m.sum() == 14


def test_iou_and_pixel_accuracy_equal_the_direct_computation():
    m = confusion_matrix(minidl.from_numpy(PRED), minidl.from_numpy(TARGET), 4,
                         ignore_index=255)
    iou, acc = _direct(PRED, TARGET, 4, 255)
    np.testing.assert_allclose(per_class_iou(m), iou)
    # by hand: class 0 8 / 10, class 1 3 / 6, class 2 0 / 1 (predicted, absent), class 3 none
    np.testing.assert_allclose(per_class_iou(m)[:3], [8 / 10, 3 / 6, 0.0])
    assert np.isnan(per_class_iou(m)[3])
    assert pixel_accuracy(m) == pytest.approx(acc) == pytest.approx(11 / 14)
    # the class in neither map is left out; the one only predicted counts with IoU 0
    assert mean_iou(m) == pytest.approx((8 / 10 + 3 / 6 + 0) / 3)


def test_random_maps_match_the_direct_computation():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 6, (3, 17, 9))
    pred = np.where(rng.random(target.shape) < 0.6, target, rng.integers(0, 5, target.shape))
    target[0, :4] = -1
    m = confusion_matrix(pred, target, 6, ignore_index=-1)
    iou, acc = _direct(pred, target, 6, -1)
    np.testing.assert_allclose(per_class_iou(m), iou)
    assert pixel_accuracy(m) == pytest.approx(acc)
    assert mean_iou(m) == pytest.approx(np.nanmean(iou))


def test_accumulating_batches_equals_one_call():
    rng = np.random.default_rng(1)
    target, pred = rng.integers(0, 3, (2, 5, 5)), rng.integers(0, 3, (2, 5, 5))
    cm = ConfusionMatrix(3).update(pred[0], target[0]).update(pred[1], target[1])
    np.testing.assert_array_equal(cm.matrix, confusion_matrix(pred, target, 3))
    result = cm.compute()
    assert set(result) == {"pixel_acc", "miou", "iou"}
    assert result["miou"] == pytest.approx(mean_iou(cm.matrix))
    assert "pixels=50" in repr(cm)


def test_empty_and_perfect_cases():
    assert mean_iou(confusion_matrix(TARGET % 4, TARGET % 4, 4)) == 1.0
    empty = confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 9), 3, ignore_index=9)
    assert empty.sum() == 0 and np.isnan(mean_iou(empty)) and np.isnan(pixel_accuracy(empty))


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="same shape, got \\(4, 4\\) and \\(2, 8\\)"):
        confusion_matrix(PRED, TARGET.reshape(2, 8), 4)
    with pytest.raises(TypeError, match="integer class indices.*argmax"):
        confusion_matrix(PRED.astype(np.float32), TARGET, 4)
    with pytest.raises(ValueError, match="target holds class 255, outside \\[0, 4\\)"):
        confusion_matrix(PRED, TARGET, 4)
    with pytest.raises(ValueError, match="pred holds class 2, outside \\[0, 2\\) or "
                                         "ignore_index 255"):
        confusion_matrix(PRED, np.minimum(TARGET, 1), 2, ignore_index=255)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        ConfusionMatrix(0)
    with pytest.raises(ValueError, match="square confusion matrix"):
        mean_iou(np.zeros((2, 3)))
