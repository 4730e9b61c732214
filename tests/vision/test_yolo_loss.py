"""The YOLO v1 loss and target assignment (``minidl.vision.models.detection.yolo_loss``)
against a straightforward torch version of the paper's equation 3 written here (float64,
loops over images and objects), plus hand examples of the assignment rules."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision.models.detection.yolo_loss import (
    encode_targets,
    responsible_predictors,
    yolo_v1_loss,
)

# ---------------------------------------------------------------- torch reference


def torch_iou(a, b):
    """IoU of two cxcywh boxes (4,) in image fractions."""
    ax1, ay1, ax2, ay2 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx1, by1, bx2, by2 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    w = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
    h = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def torch_yolo_loss(pred, targets, sizes, b, lambda_coord, lambda_noobj, rescore):
    """Equation 3, one object and one cell at a time."""
    n, s = pred.shape[0], pred.shape[1]
    num_classes = pred.shape[3] - 5 * b
    parts = dict.fromkeys(["loss_xy", "loss_wh", "loss_obj", "loss_noobj", "loss_class"],
                          torch.zeros((), dtype=torch.float64))
    for i in range(n):
        height, width = sizes[i]
        cells = {}
        for box, label in zip(targets[i]["boxes"].tolist(), targets[i]["labels"].tolist()):
            cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
            w, h = (box[2] - box[0]) / width, (box[3] - box[1]) / height
            cell = (min(int(cy * s), s - 1), min(int(cx * s), s - 1))
            if cell not in cells or w * h > cells[cell][2] * cells[cell][3]:
                cells[cell] = (cx, cy, w, h, label)
        responsible = torch.zeros((s, s, b), dtype=torch.bool)
        for (r, c), (cx, cy, w, h, label) in cells.items():
            truth = torch.tensor([cx, cy, w, h], dtype=torch.float64)
            with torch.no_grad():
                ious = [torch_iou(torch.stack([(c + pred[i, r, c, 5 * j]) / s,
                                               (r + pred[i, r, c, 5 * j + 1]) / s,
                                               pred[i, r, c, 5 * j + 2] ** 2,
                                               pred[i, r, c, 5 * j + 3] ** 2]), truth)
                        for j in range(b)]
            j = int(np.argmax([v.item() for v in ious]))
            responsible[r, c, j] = True
            p = pred[i, r, c, 5 * j:5 * j + 5]
            parts["loss_xy"] = parts["loss_xy"] + lambda_coord * (
                (p[0] - (cx * s - c)) ** 2 + (p[1] - (cy * s - r)) ** 2)
            parts["loss_wh"] = parts["loss_wh"] + lambda_coord * (
                (p[2] - w ** 0.5) ** 2 + (p[3] - h ** 0.5) ** 2)
            target_conf = ious[j] if rescore else 1.0
            parts["loss_obj"] = parts["loss_obj"] + (p[4] - target_conf) ** 2
            one_hot = torch.zeros(num_classes, dtype=torch.float64)
            one_hot[label - 1] = 1
            parts["loss_class"] = parts["loss_class"] + ((pred[i, r, c, 5 * b:] - one_hot) ** 2
                                                         ).sum()
        for r in range(s):
            for c in range(s):
                for j in range(b):
                    if not responsible[r, c, j]:
                        parts["loss_noobj"] = parts["loss_noobj"] + lambda_noobj * (
                            pred[i, r, c, 5 * j + 4] ** 2)
    return {k: v / n for k, v in parts.items()}


# ---------------------------------------------------------------- cases

SIZES = [(64, 96), (64, 96), (64, 96)]
TARGETS = [
    # two objects, separate cells; one box touching the image border
    {"boxes": np.array([[4.0, 6, 30, 40], [50, 20, 96, 64]], np.float32),
     "labels": np.array([2, 3])},
    # two centres in one cell (cell (1, 1) at S = 3): the larger is kept
    {"boxes": np.array([[30.0, 22, 50, 40], [36, 26, 42, 34], [70, 2, 90, 12]], np.float32),
     "labels": np.array([1, 3, 2])},
    # no objects
    {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)},
]


def _case(seed, s=3, b=2, c=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, (len(SIZES), s, s, 5 * b + c))


@pytest.mark.parametrize("confidence_target", ["iou", "one"])
@pytest.mark.parametrize("weights", [(5.0, 0.5), (2.0, 1.5)])
def test_loss_equals_torch_reference_values_and_gradients(confidence_target, weights):
    values = _case(0)
    pred = minidl.tensor(values, requires_grad=True)
    ref_pred = torch.tensor(values, requires_grad=True)
    md = yolo_v1_loss(pred, [{k: minidl.tensor(v) for k, v in t.items()} for t in TARGETS],
                      SIZES, 2, *weights, confidence_target=confidence_target)
    ref = torch_yolo_loss(ref_pred, [{k: torch.tensor(v) for k, v in t.items()}
                                     for t in TARGETS], SIZES, 2, *weights,
                          confidence_target == "iou")
    assert sorted(md) == sorted(ref)
    upstream = np.random.default_rng(1).uniform(0.5, 2, len(md))
    for k in md:
        assert md[k].dtype == minidl.float64 and md[k].ndim == 0
        np.testing.assert_allclose(md[k].item(), ref[k].item(), rtol=1e-12, err_msg=k)
    sum(u * md[k] for u, k in zip(upstream, md)).backward()
    sum(u * ref[k] for u, k in zip(upstream, md)).backward()
    np.testing.assert_allclose(pred.grad.numpy(), ref_pred.grad.numpy(), rtol=1e-12,
                               atol=1e-14)


def test_loss_float32_and_no_objects():
    pred = minidl.tensor(_case(2).astype(np.float32), requires_grad=True)
    empty = [TARGETS[2]] * 3
    out = yolo_v1_loss(pred, empty, SIZES)
    assert out["loss_xy"].item() == out["loss_wh"].item() == out["loss_obj"].item() == 0
    assert out["loss_class"].item() == 0 and out["loss_noobj"].dtype == minidl.float32
    conf = pred.detach().numpy()[..., [4, 9]]
    np.testing.assert_allclose(out["loss_noobj"].item(), 0.5 * (conf ** 2).sum() / 3, rtol=1e-6)


def test_responsible_predictor_is_highest_iou_hand_example():
    # S = 2 on a 100 x 100 image: the object (centre (30, 20), 40 x 20) sits in cell (0, 0);
    # its cell box is x = 0.6, y = 0.4, sqrt w = sqrt 0.4, sqrt h = sqrt 0.2.
    encoded = encode_targets([{"boxes": np.array([[10.0, 10, 50, 30]]), "labels": np.array([1])}],
                             [(100, 100)], 2, 2)
    np.testing.assert_allclose(encoded["box"][0, 0, 0], [0.6, 0.4, 0.4 ** 0.5, 0.2 ** 0.5])
    assert encoded["object_cell"].sum() == 1 and encoded["labels"][0, 0, 0] == 1
    pred = np.zeros((1, 2, 2, 3, 4))
    pred[..., 2:] = 0.1
    # predictor 0: 20 x 20 at the same centre -> IoU 400 / 800 = 0.5
    pred[0, 0, 0, 0] = [0.6, 0.4, 0.2 ** 0.5, 0.2 ** 0.5]
    # predictor 1: 40 x 20 shifted 10 px right -> IoU 600 / 1000 = 0.6 (responsible)
    pred[0, 0, 0, 1] = [0.8, 0.4, 0.4 ** 0.5, 0.2 ** 0.5]
    # predictor 2: disjoint -> 0
    pred[0, 0, 0, 2] = [0.0, 0.0, 0.1, 0.1]
    responsible, iou = responsible_predictors(pred, encoded)
    np.testing.assert_allclose(iou[0, 0, 0], [0.5, 0.6, 0.0], atol=1e-12)
    assert responsible.sum() == 1 and responsible[0, 0, 0].tolist() == [False, True, False]
    # a tie goes to the lowest index
    pred[0, 0, 0, 1] = pred[0, 0, 0, 0]
    responsible, _ = responsible_predictors(pred, encoded)
    assert responsible[0, 0, 0].tolist() == [True, False, False]


def test_two_centres_in_one_cell_keep_the_larger_object():
    """v1's limitation: one class vector per cell, so one object per cell -- the larger;
    the loss is that of the scene without the smaller object."""
    big, small = [30.0, 22, 50, 40], [36, 26, 42, 34]
    both = {"boxes": np.array([small, big], np.float32), "labels": np.array([3, 1])}
    alone = {"boxes": np.array([big], np.float32), "labels": np.array([1])}
    encoded = encode_targets([both], [(64, 96)], 3, 4)
    assert encoded["object_cell"].sum() == 1 and encoded["labels"][0, 1, 1] == 1
    pred = minidl.tensor(_case(3)[:1])
    with_both = yolo_v1_loss(pred, [both], SIZES[:1])
    only_big = yolo_v1_loss(pred, [alone], SIZES[:1])
    for k in with_both:
        assert with_both[k].item() == only_big[k].item(), k
    # equal areas: the first in the list is kept
    twin = {"boxes": np.array([[36.0, 26, 42, 34], [37, 27, 43, 35]], np.float32),
            "labels": np.array([2, 3])}
    assert encode_targets([twin], [(64, 96)], 3, 4)["labels"][0, 1, 1] == 2


def test_centre_on_the_far_border_goes_to_the_last_cell():
    encoded = encode_targets([{"boxes": np.array([[80.0, 90, 100, 100]]),
                               "labels": np.array([1])}], [(100, 100)], 4, 2)
    assert encoded["object_cell"][0, 3, 3]
    np.testing.assert_allclose(encoded["box"][0, 3, 3, :2], [0.6, 0.8])


@pytest.mark.parametrize("target, message", [
    ({"boxes": np.array([[1.0, 1, 5, 5]]), "labels": np.array([0])}, r"labels.*1\.\.3"),
    ({"boxes": np.array([[1.0, 1, 5, 5]]), "labels": np.array([4])}, r"labels.*1\.\.3"),
    ({"boxes": np.array([[1.0, 1, 5, 5]]), "labels": np.array([1.0])}, "integers"),
    ({"boxes": np.array([1.0, 1, 5, 5]), "labels": np.array([1])}, r"\(K, 4\)"),
    ({"boxes": np.array([[5.0, 1, 5, 5]]), "labels": np.array([1])}, "positive width"),
    ({"labels": np.array([1])}, "'boxes' and 'labels'"),
])
def test_bad_targets_are_refused_by_name(target, message):
    pred = minidl.tensor(_case(0)[:1])
    with pytest.raises(ValueError, match=message):
        yolo_v1_loss(pred, [target], SIZES[:1])


def test_bad_arguments_are_refused():
    pred = minidl.tensor(_case(0)[:1])
    with pytest.raises(ValueError, match="confidence_target"):
        yolo_v1_loss(pred, [TARGETS[2]], SIZES[:1], confidence_target="max")
    with pytest.raises(ValueError, match=r"\(N, S, S, 5 B \+ C\)"):
        yolo_v1_loss(pred, [TARGETS[2]], SIZES[:1], boxes_per_cell=3)
    with pytest.raises(ValueError, match="one dict per image"):
        yolo_v1_loss(pred, TARGETS[:2], SIZES[:1])
    with pytest.raises(TypeError, match="'pred' must be Tensor"):
        yolo_v1_loss(_case(0), [TARGETS[2]], SIZES[:1])
