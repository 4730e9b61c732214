"""``minidl.vision.detection_metrics``: average precision on hand-computed rankings and a
known precision / recall curve, mean AP against a slow pure-Python reference on random
detections (COCO-style thresholds), and the errors. pycocotools is not installed here, so
the reference follows COCOeval's matching and accumulation loops instead."""
import math

import numpy as np
import pytest

import minidl
from minidl.vision.detection_metrics import average_precision, mean_average_precision

METHODS = ("coco", "voc11", "voc")
COCO_THRESHOLDS = np.arange(0.5, 0.96, 0.05)


def curve(hits, n_gt):
    """Cumulative (recall, precision) of a ranked list of TP (1) / FP (0)."""
    tp = np.cumsum(hits)
    return tp / n_gt, tp / np.arange(1, len(hits) + 1)


def one_image(dets, gts, gt_label=0, det_label=0):
    """Lists for one image from detection (box, score) pairs and ground-truth boxes."""
    boxes = [np.array([b for b, _ in dets], float).reshape(-1, 4)]
    scores = [np.array([s for _, s in dets], float)]
    return (boxes, scores, [np.full(len(dets), det_label)], [np.array(gts, float).reshape(-1, 4)],
            [np.full(len(gts), gt_label)])


A, B, C, D = [0, 0, 10, 10], [20, 20, 30, 30], [40, 0, 50, 10], [0, 40, 10, 50]
FAR = [100, 100, 110, 110]


def test_known_curve_by_hand():
    recall, precision = curve([1, 0, 1, 1, 0, 0, 1], n_gt=4)
    # envelope 1, .75, .75, .75, .6, 4/7, 4/7 at recalls .25, .25, .5, .75, .75, .75, 1
    assert math.isclose(average_precision(recall, precision, "voc"), 43 / 56)
    assert math.isclose(average_precision(recall, precision, "voc11"), 237 / 308)
    assert math.isclose(average_precision(recall, precision, "coco"), 1089 / 1414)
    assert average_precision([], [], "voc") == 0.0
    # the same ranking through mean_average_precision
    dets = [(A, 0.9), (FAR, 0.8), (B, 0.7), (C, 0.6), (FAR, 0.5), (FAR, 0.4), (D, 0.3)]
    for method, expected in zip(METHODS, (1089 / 1414, 237 / 308, 43 / 56)):
        result = mean_average_precision(*one_image(dets, [A, B, C, D]), method=method)
        assert math.isclose(result["map"], expected)


@pytest.mark.parametrize("method", METHODS)
def test_hand_cases(method):
    # a perfect detector
    assert mean_average_precision(*one_image([(A, 0.9), (B, 0.8)], [A, B]),
                                  method=method)["map"] == 1.0
    # a false positive ranked above the only true positive: precision 1/2 at recall 1
    result = mean_average_precision(*one_image([(FAR, 0.9), (A, 0.8)], [A]), method=method)
    assert math.isclose(result["map"], 0.5)
    # a duplicate of A is a false positive: TP, FP, TP over two objects
    dup = [(A, 0.9), ([0, 0, 10, 9], 0.8), (B, 0.7)]
    expected = {"voc": 0.5 + 0.5 * 2 / 3, "voc11": (6 + 5 * 2 / 3) / 11,
                "coco": (51 + 50 * 2 / 3) / 101}[method]
    assert math.isclose(mean_average_precision(*one_image(dup, [A, B]), method=method)["map"],
                        expected)
    # a missed object: recall stops at 1/2
    expected = {"voc": 0.5, "voc11": 6 / 11, "coco": 51 / 101}[method]
    assert math.isclose(mean_average_precision(*one_image([(A, 0.9)], [A, B]),
                                               method=method)["map"], expected)


def test_iou_threshold_and_classes_left_out():
    shifted = [2, 0, 12, 10]  # IoU 8 / 12 = 2/3 with A
    result = mean_average_precision(*one_image([(shifted, 0.9)], [A]),
                                    iou_thresholds=(0.5, 2 / 3, 0.7))
    assert result["map_per_threshold"] == {0.5: 1.0, round(2 / 3, 6): 1.0, 0.7: 0.0}
    assert math.isclose(result["map"], 2 / 3) and result["ap_per_class"] == {0: 2 / 3}
    # class 1 has a ground truth and no detection (AP 0, counted); class 7 is only predicted
    boxes, scores, labels, gt_boxes, gt_labels = one_image([(A, 0.9), (B, 0.8)], [A, C])
    labels[0][1] = 7
    gt_labels[0][1] = 1
    result = mean_average_precision(boxes, scores, labels, gt_boxes, gt_labels)
    assert result["ap"] == {0.5: {0: 1.0, 1: 0.0}} and result["map"] == 0.5
    # a detection of the wrong class is no match
    wrong = mean_average_precision(*one_image([(A, 0.9)], [A], gt_label=0, det_label=1))
    assert wrong["map"] == 0.0 and list(wrong["ap_per_class"]) == [0]
    nothing = mean_average_precision([np.zeros((0, 4))], [[]], [[]], [np.zeros((0, 4))], [[]])
    assert math.isnan(nothing["map"]) and nothing["ap_per_class"] == {}


# ---------------------------------------------------------------- pure-Python reference


def py_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def py_ap(recall, precision, method):
    """VOC devkit's loops ("voc11", "voc") and COCOeval's accumulation ("coco")."""
    if method == "voc11":
        total = 0.0
        for t in np.linspace(0, 1, 11):
            reached = [p for r, p in zip(recall, precision) if r >= t]
            total += max(reached) if reached else 0.0
        return total / 11
    mpre = [0.0, *precision, 0.0] if method == "voc" else list(precision)
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    if method == "voc":
        mrec = [0.0, *recall, 1.0]
        return sum((mrec[i] - mrec[i - 1]) * mpre[i] for i in range(1, len(mrec))
                   if mrec[i] != mrec[i - 1])
    total = 0.0
    for t in np.linspace(0, 1, 101):
        first = next((i for i, r in enumerate(recall) if r >= t), None)
        total += mpre[first] if first is not None else 0.0
    return total / 101


def py_map(images, thresholds, method):
    labels = sorted({int(g) for img in images for g in img[4]})
    table = []
    for t in thresholds:
        row = []
        for label in labels:
            ranked, n_gt = [], 0
            for pb, ps, pl, gb, gl in images:
                gts = [list(b) for b, g in zip(gb, gl) if g == label]
                n_gt += len(gts)
                dets = sorted([(s, list(b)) for b, s, p in zip(pb, ps, pl) if p == label],
                              key=lambda d: -d[0])
                taken = [False] * len(gts)
                for score, box in dets:
                    best, best_iou = None, -1.0
                    for j, g in enumerate(gts):
                        iou = py_iou(box, g)
                        if not taken[j] and iou >= t and iou > best_iou:
                            best, best_iou = j, iou
                    if best is not None:
                        taken[best] = True
                    ranked.append((score, best is not None))
            ranked.sort(key=lambda d: -d[0])
            tp = fp = 0
            recall, precision = [], []
            for _, hit in ranked:
                tp, fp = tp + hit, fp + (not hit)
                recall.append(tp / n_gt)
                precision.append(tp / (tp + fp))
            row.append(py_ap(recall, precision, method))
        table.append(row)
    return float(np.mean(table)), table


def random_images(rng, n_images=6, classes=3):
    images = []
    for _ in range(n_images):
        m = rng.integers(0, 6)
        corner = rng.uniform(0, 60, (m, 2))
        gt = np.concatenate([corner, corner + rng.uniform(5, 25, (m, 2))], axis=1)
        gt_labels = rng.integers(0, classes, m)
        jitter = gt[rng.integers(0, m, 2 * m)] + rng.normal(0, 2, (2 * m, 4)) if m else \
            np.zeros((0, 4))
        corner = rng.uniform(0, 60, (3, 2))
        noise = np.concatenate([corner, corner + rng.uniform(5, 25, (3, 2))], axis=1)
        boxes = np.concatenate([jitter, noise])
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
        labels = np.concatenate([gt_labels[rng.integers(0, m, 2 * m)] if m else [],
                                 rng.integers(0, classes, 3)]).astype(int)
        labels[rng.random(len(labels)) < 0.1] = rng.integers(0, classes)
        images.append((boxes, rng.random(len(boxes)), labels, gt, gt_labels))
    return images


@pytest.mark.parametrize("method", METHODS)
def test_equals_pure_python_reference_on_random_detections(method):
    rng = np.random.default_rng(3)
    for _ in range(3):
        images = random_images(rng)
        columns = [list(c) for c in zip(*images)]
        columns[0] = [minidl.tensor(b) for b in columns[0]]  # Tensors are accepted too
        result = mean_average_precision(*columns, iou_thresholds=COCO_THRESHOLDS,
                                        method=method)
        expected_map, table = py_map(images, COCO_THRESHOLDS, method)
        assert abs(result["map"] - expected_map) < 1e-12
        assert len(result["map_per_threshold"]) == 10 and 0.95 in result["map_per_threshold"]
        ours = np.array([list(per_class.values()) for per_class in result["ap"].values()])
        np.testing.assert_allclose(ours, table, rtol=0, atol=1e-12)
        assert 0 < result["map"] < 1


def test_errors():
    good = one_image([(A, 0.9)], [A])
    with pytest.raises(ValueError, match="method must be one of"):
        mean_average_precision(*good, method="voc12")
    with pytest.raises(ValueError, match="one entry per image"):
        mean_average_precision(good[0] * 2, *good[1:])
    with pytest.raises(ValueError, match=r"'gt_boxes\[0\]' must have shape \(N, 4\)"):
        mean_average_precision(*good[:3], [np.zeros((1, 5))], good[4])
    with pytest.raises(ValueError, match="1 pred_boxes, 2 pred_scores"):
        mean_average_precision(good[0], [np.ones(2)], *good[2:])
    with pytest.raises(ValueError, match="'iou_thresholds' must be"):
        mean_average_precision(*good, iou_thresholds=(1.5,))
    with pytest.raises(ValueError, match="non-decreasing"):
        average_precision([0.5, 0.25], [1.0, 1.0])
    with pytest.raises(ValueError, match="1-D of one length"):
        average_precision([0.5, 0.75], [1.0])
