"""``minidl.vision.ops`` box operations against torch versions written here from the formulas
(torchvision itself cannot be imported): values and float64 gradients of the IoU family and
the losses on random, identical, nested, touching, disjoint and zero-width boxes; ``nms``
against a pure-Python greedy loop; ``batched_nms`` against per-class ``nms``; conversions,
masks, and the errors."""
import math
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
from minidl.vision import ops
from tests.reference.harness import compare, gradcheck

F64 = dict(dtype="float64")


def random_boxes(rng, n, spread=10.0):
    """xyxy boxes with x2 > x1, y2 > y1, overlapping often at this spread."""
    corner = rng.uniform(0, spread, (n, 2))
    size = rng.uniform(0.5, 5.0, (n, 2))
    return np.concatenate([corner, corner + size], axis=1)


def special_pairs():
    """Matched pairs (boxes1[i], boxes2[i]): identical, nested, touching on an edge, disjoint,
    zero width, sharing a corner coordinate, partly overlapping."""
    boxes1 = np.array([[1, 1, 4, 5], [0, 0, 10, 10], [0, 0, 2, 2], [0, 0, 1, 1],
                       [2, 2, 2, 6], [1, 2, 5, 6], [0, 0, 3, 3]], np.float64)
    boxes2 = np.array([[1, 1, 4, 5], [2, 3, 5, 7], [2, 0, 4, 2], [5, 6, 7, 9],
                       [1, 1, 3, 4], [1, 0, 3, 4], [1, 2, 5, 4]], np.float64)
    return boxes1, boxes2


def all_test_boxes(seed=0):
    rng = np.random.default_rng(seed)
    b1, b2 = special_pairs()
    return np.concatenate([b1, random_boxes(rng, 6)]), np.concatenate([b2, random_boxes(rng, 5)])


# ---- torch references, from the formulas ------------------------------------------------

def t_area(b):
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def t_pairwise(b1, b2):
    return b1[..., :, None, :], b2[..., None, :, :]


def t_iou_union(b1, b2):
    a, b = t_pairwise(b1, b2)
    w = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    h = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    union = t_area(b1)[..., :, None] + t_area(b2)[..., None, :] - w * h
    return w * h / union, union


def t_hull(a, b):
    """Width and height of the box enclosing a and b (broadcast against each other)."""
    return (torch.maximum(a[..., 2], b[..., 2]) - torch.minimum(a[..., 0], b[..., 0]),
            torch.maximum(a[..., 3], b[..., 3]) - torch.minimum(a[..., 1], b[..., 1]))


def t_rho2(a, b):
    """Squared distance of the centres."""
    return (((a[..., :2] + a[..., 2:]) - (b[..., :2] + b[..., 2:])) / 2).pow(2).sum(-1)


def t_v(a, b):
    """CIoU's aspect term 4 / pi^2 (atan(w_b / h_b) - atan(w_a / h_a))^2."""
    aspect_a = torch.atan((a[..., 2] - a[..., 0]) / (a[..., 3] - a[..., 1]))
    aspect_b = torch.atan((b[..., 2] - b[..., 0]) / (b[..., 3] - b[..., 1]))
    return 4 / math.pi ** 2 * (aspect_b - aspect_a) ** 2


def t_giou(b1, b2):
    iou, union = t_iou_union(b1, b2)
    w, h = t_hull(*t_pairwise(b1, b2))
    return iou - (w * h - union) / (w * h)


def t_diou(b1, b2, eps=1e-7):
    a, b = t_pairwise(b1, b2)
    w, h = t_hull(a, b)
    return t_iou_union(b1, b2)[0] - t_rho2(a, b) / (w ** 2 + h ** 2 + eps)


def t_ciou(b1, b2, eps=1e-7):
    iou, v = t_iou_union(b1, b2)[0], t_v(*t_pairwise(b1, b2))
    alpha = (v / (1 - iou + v + eps)).detach()
    return t_diou(b1, b2, eps) - alpha * v


def t_reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def t_box_loss(kind, b1, b2, reduction="none", eps=1e-7):
    """GIoU / DIoU / CIoU loss of matched pairs; the intersection counts only where the boxes
    strictly overlap, and CIoU's DIoU part keeps eps = 1e-7 (torchvision's semantics)."""
    w = torch.minimum(b1[..., 2], b2[..., 2]) - torch.maximum(b1[..., 0], b2[..., 0])
    h = torch.minimum(b1[..., 3], b2[..., 3]) - torch.maximum(b1[..., 1], b2[..., 1])
    inter = torch.where((w > 0) & (h > 0), w * h, torch.zeros_like(w))
    union = t_area(b1) + t_area(b2) - inter
    inner_eps = 1e-7 if kind == "ciou" else eps
    iou = inter / (union + inner_eps)
    hull_w, hull_h = t_hull(b1, b2)
    if kind == "giou":
        return t_reduce(1 - iou + (hull_w * hull_h - union) / (hull_w * hull_h + eps), reduction)
    loss = 1 - iou + t_rho2(b1, b2) / (hull_w ** 2 + hull_h ** 2 + inner_eps)
    if kind == "ciou":
        v = t_v(b1, b2)
        loss = loss + (v / (1 - iou + v + eps)).detach() * v
    return t_reduce(loss, reduction)


def t_focal(x, y, alpha=0.25, gamma=2, reduction="none"):
    p = torch.sigmoid(x)
    p_t = p * y + (1 - p) * (1 - y)
    loss = TF.binary_cross_entropy_with_logits(x, y, reduction="none") * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return t_reduce(loss, reduction)


def python_greedy_nms(boxes, scores, threshold):
    """The textbook loop: by decreasing score (ties by index), keep a box unless a kept box
    overlaps it with IoU > threshold."""
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union if union else math.nan
    kept = []
    for i in sorted(range(len(scores)), key=lambda i: -scores[i]):
        if not any(iou(boxes[i], boxes[k]) > threshold for k in kept):
            kept.append(i)
    return kept


# ---- pairwise measures ------------------------------------------------------------------

@pytest.mark.parametrize("md_fn, torch_fn", [
    (ops.box_iou, lambda a, b: t_iou_union(a, b)[0]),
    (ops.generalized_box_iou, t_giou),
    (ops.distance_box_iou, t_diou),
    (ops.complete_box_iou, t_ciou),
], ids=["iou", "giou", "diou", "ciou"])
def test_pairwise_measures_match_the_formulas_with_gradients(md_fn, torch_fn):
    b1, b2 = all_test_boxes()
    (out,), _ = compare(md_fn, torch_fn, [b1, b2], **F64)
    assert out.shape == (len(b1), len(b2))


def test_pairwise_measures_on_hand_values():
    a = minidl.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = minidl.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 4.0, 1.0]])
    np.testing.assert_allclose(ops.box_iou(a, b).numpy(), [[1 / 7, 1.0, 0.0]], rtol=1e-6)
    # enclosing boxes 9, 4, 8: GIoU = IoU - (C - U) / C
    np.testing.assert_allclose(ops.generalized_box_iou(a, b).numpy(),
                               [[1 / 7 - 2 / 9, 1.0, -3 / 8]], rtol=1e-6)
    # centre distances^2 2, 0, 6.5 over diagonals^2 18, 8, 20
    np.testing.assert_allclose(ops.distance_box_iou(a, b).numpy(),
                               [[1 / 7 - 2 / 18, 1.0, -6.5 / 20]], rtol=1e-5)


def test_pairwise_measures_keep_leading_batch_dims():
    rng = np.random.default_rng(1)
    b1, b2 = random_boxes(rng, 6).reshape(2, 3, 4), random_boxes(rng, 8).reshape(2, 4, 4)
    for md_fn, torch_fn in [(ops.box_iou, lambda a, b: t_iou_union(a, b)[0]),
                            (ops.generalized_box_iou, t_giou), (ops.complete_box_iou, t_ciou)]:
        (out,), _ = compare(md_fn, torch_fn, [b1, b2], **F64)
        assert out.shape == (2, 3, 4)


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_iou_and_area_in_other_formats_equal_xyxy(fmt):
    b1, b2 = all_test_boxes(2)
    x1, x2 = minidl.tensor(b1), minidl.tensor(b2)
    c1, c2 = ops.box_convert(x1, "xyxy", fmt), ops.box_convert(x2, "xyxy", fmt)
    np.testing.assert_allclose(ops.box_iou(c1, c2, fmt=fmt).numpy(),
                               ops.box_iou(x1, x2).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ops.box_area(c1, fmt=fmt).numpy(), t_area(torch.tensor(b1)),
                               rtol=1e-12)


def test_dtypes_follow_torchvision_upcast():
    ints = minidl.tensor([[0, 0, 2, 3], [1, 1, 4, 4]], dtype=minidl.int16)
    assert ops.box_area(ints).dtype == minidl.int32
    np.testing.assert_array_equal(ops.box_area(ints).numpy(), [6, 9])
    assert ops.box_iou(ints, ints).dtype == minidl.float32
    halves = ints.to(minidl.float16)
    assert ops.box_area(halves).dtype == minidl.float32
    assert ops.generalized_box_iou(halves, halves).dtype == minidl.float32
    assert ops.complete_box_iou(ints, ints).dtype == minidl.float32


# ---- losses -----------------------------------------------------------------------------

LOSSES = [(ops.generalized_box_iou_loss, partial(t_box_loss, "giou")),
          (ops.distance_box_iou_loss, partial(t_box_loss, "diou")),
          (ops.complete_box_iou_loss, partial(t_box_loss, "ciou"))]


@pytest.mark.parametrize("md_fn, torch_fn", LOSSES, ids=["giou", "diou", "ciou"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses_match_the_formulas_with_gradients(md_fn, torch_fn, reduction):
    b1, b2 = special_pairs()
    rng = np.random.default_rng(3)
    b1 = np.concatenate([b1, random_boxes(rng, 9)])
    b2 = np.concatenate([b2, random_boxes(rng, 9)])
    compare(lambda a, b: md_fn(a, b, reduction=reduction),
            lambda a, b: torch_fn(a, b, reduction=reduction), [b1, b2], **F64)


@pytest.mark.parametrize("md_fn, torch_fn", LOSSES, ids=["giou", "diou", "ciou"])
def test_box_losses_eps_single_pair_and_batch(md_fn, torch_fn):
    b1, b2 = special_pairs()
    compare(lambda a, b: md_fn(a, b, eps=0.5), lambda a, b: torch_fn(a, b, eps=0.5),
            [b1, b2], **F64)
    compare(md_fn, torch_fn, [b1[5], b2[5]], **F64)  # Tensor[4] pairs
    compare(md_fn, torch_fn, [b1[:6].reshape(2, 3, 4), b2[:6].reshape(2, 3, 4)], **F64)


def test_box_losses_on_hand_values_and_empty_input():
    a = minidl.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    b = minidl.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_allclose(ops.generalized_box_iou_loss(a, b).numpy(),
                               [1 - 1 / 7 + 2 / 9, 0.0], atol=1e-6)
    np.testing.assert_allclose(ops.distance_box_iou_loss(a, b).numpy(),
                               [1 - 1 / 7 + 2 / 18, 0.0], atol=1e-6)
    empty = minidl.zeros(0, 4, requires_grad=True)
    for fn, _ in LOSSES:
        loss = fn(empty, empty, reduction="mean")
        assert loss.shape == () and float(loss) == 0.0
        assert fn(empty, empty).shape == (0,)
    ints = minidl.tensor([[0, 0, 2, 2]])
    assert ops.complete_box_iou_loss(ints, ints).dtype == minidl.float32


@pytest.mark.parametrize("alpha, gamma", [(0.25, 2), (-1, 2), (0.0, 2), (0.7, 0), (1.0, 1.5)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_focal_loss_matches_the_formula(alpha, gamma, reduction):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5)) * 3
    y = (rng.uniform(size=(3, 5)) < 0.3).astype(np.float64)
    y[0, :2] = [0.2, 0.9]  # soft labels differentiate too
    compare(lambda a, b: ops.sigmoid_focal_loss(a, b, alpha, gamma, reduction),
            lambda a, b: t_focal(a, b, alpha, gamma, reduction), [x, y], **F64)


def test_sigmoid_focal_loss_defaults_and_hand_value():
    x, y = minidl.tensor([0.0]), minidl.tensor([1.0])
    # p = 0.5: 0.25 * 0.5^2 * log 2
    np.testing.assert_allclose(ops.sigmoid_focal_loss(x, y).numpy(), [0.25 * 0.25 * math.log(2)],
                               rtol=1e-6)
    assert math.isnan(float(ops.sigmoid_focal_loss(minidl.zeros(0), minidl.zeros(0),
                                                   reduction="mean")))


# ---- conversion, clipping, filtering, masks ---------------------------------------------

def test_box_convert_hand_values():
    xyxy = minidl.tensor([[1.0, 2.0, 5.0, 8.0]])
    expected = {"xyxy": [1, 2, 5, 8], "xywh": [1, 2, 4, 6], "cxcywh": [3, 5, 4, 6]}
    for src, src_value in expected.items():
        for dst, dst_value in expected.items():
            out = ops.box_convert(minidl.tensor([src_value], dtype=minidl.float64), src, dst)
            np.testing.assert_allclose(out.numpy(), [dst_value], err_msg=f"{src}->{dst}")
    same = ops.box_convert(xyxy, "xyxy", "xyxy")
    assert same is not xyxy and np.array_equal(same.numpy(), xyxy.numpy())
    xywhr = minidl.tensor([[1.0, 2.0, 4.0, 2.0, 0.0], [0.0, 0.0, 4.0, 2.0, 90.0]],
                          dtype=minidl.float64)
    np.testing.assert_allclose(ops.box_convert(xywhr, "xywhr", "xyxyxyxy").numpy(),
                               [[1, 2, 5, 2, 5, 4, 1, 4], [0, 0, 0, -4, 2, -4, 2, 0]],
                               atol=1e-12)
    np.testing.assert_allclose(ops.box_convert(xywhr, "xywhr", "cxcywhr").numpy(),
                               [[3, 3, 4, 2, 0], [1, -2, 4, 2, 90]], atol=1e-12)


@pytest.mark.parametrize("family", [("xyxy", "xywh", "cxcywh"),
                                    ("xywhr", "cxcywhr", "xyxyxyxy")], ids=["axis", "rotated"])
def test_box_convert_round_trips_every_pair_and_differentiates(family):
    rng = np.random.default_rng(5)
    xywhr = np.concatenate([random_boxes(rng, 6)[:, :2], rng.uniform(1, 4, (6, 2)),
                            rng.uniform(-170, 170, (6, 1))], axis=1)
    start = {"xyxy": random_boxes(rng, 6), "xywhr": xywhr}[family[0]]
    base = minidl.tensor(start, dtype=minidl.float64)
    for src in family:
        boxes = ops.box_convert(base, family[0], src).detach().requires_grad_(True)
        for dst in family:
            there = ops.box_convert(boxes, src, dst)
            back = ops.box_convert(there, dst, src)
            np.testing.assert_allclose(back.detach().numpy(), boxes.detach().numpy(), atol=1e-9,
                                       err_msg=f"{src}->{dst}->{src}")
            gradcheck(lambda b, src=src, dst=dst: ops.box_convert(b, src, dst),
                      [boxes.detach().numpy()[:2]])


def test_box_convert_integer_dtypes():
    ints = minidl.tensor([[1, 2, 5, 8]])
    assert ops.box_convert(ints, "xyxy", "xywh").dtype == minidl.int64
    out = ops.box_convert(ints, "xyxy", "cxcywh")
    assert out.dtype == minidl.float32 and np.array_equal(out.numpy(), [[3, 5, 4, 6]])
    rotated = ops.box_convert(minidl.tensor([[0, 0, 4, 2, 90]]), "xywhr", "xyxyxyxy")
    assert rotated.dtype == minidl.int64
    np.testing.assert_array_equal(rotated.numpy(), [[0, 0, 0, -4, 2, -4, 2, 0]])


def test_clip_boxes_to_image():
    boxes = np.array([[-3.0, 2.0, 12.0, 7.0], [1.0, -1.0, 4.0, 30.0], [2.0, 3.0, 4.0, 5.0]])
    compare(lambda b: ops.clip_boxes_to_image(b, (20, 10)),
            lambda b: torch.stack([b[:, 0::2].clamp(0, 10), b[:, 1::2].clamp(0, 20)],
                                  dim=2).reshape(3, 4), [boxes], **F64)
    out = ops.clip_boxes_to_image(minidl.tensor(boxes.reshape(1, 3, 4)), (20, 10))
    np.testing.assert_array_equal(out.numpy()[0], [[0, 2, 10, 7], [1, 0, 4, 20], [2, 3, 4, 5]])
    ints = ops.clip_boxes_to_image(minidl.tensor([[-1, 0, 50, 5]]), (4, 8))
    assert ints.dtype == minidl.int64 and np.array_equal(ints.numpy(), [[0, 0, 8, 4]])


def test_remove_small_boxes():
    boxes = minidl.tensor([[0.0, 0.0, 1.0, 5.0], [0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 4.0, 1.5],
                           [0.0, 0.0, 3.0, 3.0]])
    keep = ops.remove_small_boxes(boxes, 2.0)
    assert keep.dtype == minidl.int64 and keep.tolist() == [1, 3]  # sides >= min_size stay
    assert ops.remove_small_boxes(boxes, 0.0).tolist() == [0, 1, 2, 3]
    assert ops.remove_small_boxes(minidl.zeros(0, 4), 1.0).shape == (0,)
    assert ops.remove_small_boxes(boxes[1], 2.0).tolist() == [0]  # one box, as torch.where
    assert ops.remove_small_boxes(boxes[0], 2.0).tolist() == []
    batch = ops.remove_small_boxes(boxes.reshape(2, 2, 4), 2.0)
    assert batch.tolist() == [0, 1]  # torch.where(keep)[0]: the first index of each kept box


def test_masks_to_boxes():
    masks = np.zeros((5, 6, 7), np.uint8)
    masks[0, 1:4, 2:6] = 1                      # a rectangle
    masks[1, 5, 0] = 1                          # a single pixel
    masks[2, 0, 1] = masks[2, 3, 6] = 7         # two far pixels
    masks[4, 2:5, 3] = masks[4, 4, 3:6] = 1     # an L
    out = ops.masks_to_boxes(minidl.tensor(masks))
    assert out.dtype == minidl.float32
    np.testing.assert_array_equal(out.numpy(), [[2, 1, 5, 3], [0, 5, 0, 5], [1, 0, 6, 3],
                                                [0, 0, 0, 0], [3, 2, 5, 4]])
    floats = ops.masks_to_boxes(minidl.tensor(masks[:1].astype(np.float64) * 0.3))
    np.testing.assert_array_equal(floats.numpy(), [[2, 1, 5, 3]])
    empty = ops.masks_to_boxes(minidl.zeros(0, 4, 4))
    assert empty.shape == (0, 4) and empty.dtype == minidl.float32


# ---- non-maximum suppression ------------------------------------------------------------

def crowded_boxes(seed, n):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, spread=6.0)
    boxes[n // 2:n // 2 + 3] = boxes[0]        # exact duplicates
    scores = np.round(rng.uniform(size=n), 1)   # many tied scores
    return boxes, scores


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
def test_nms_equals_the_python_greedy_loop(threshold):
    for seed in range(3):
        boxes, scores = crowded_boxes(seed, 40)
        keep = ops.nms(minidl.tensor(boxes), minidl.tensor(scores), threshold)
        assert keep.dtype == minidl.int64
        assert keep.tolist() == python_greedy_nms(boxes.tolist(), scores.tolist(), threshold)
    kept_scores = scores[keep.numpy()]
    assert (np.diff(kept_scores) <= 0).all()


def test_nms_edge_cases():
    empty = ops.nms(minidl.zeros(0, 4), minidl.zeros(0), 0.5)
    assert empty.dtype == minidl.int64 and empty.shape == (0,)
    one = ops.nms(minidl.tensor([[0.0, 0.0, 1.0, 1.0]]), minidl.tensor([0.3]), 0.5)
    assert one.tolist() == [0]
    same = minidl.tensor([[0.0, 0.0, 2.0, 2.0]] * 3)
    tied = minidl.tensor([0.5, 0.9, 0.9])
    assert ops.nms(same, tied, 0.5).tolist() == [1]           # ties keep the lower index
    assert ops.nms(same, tied, 1.0).tolist() == [1, 2, 0]     # IoU 1 is not > 1
    apart = minidl.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0]])
    assert ops.nms(apart, minidl.tensor([0.1, 0.2]), 0.0).tolist() == [1, 0]  # touching: IoU 0
    points = minidl.tensor([[1.0, 1.0, 1.0, 1.0]] * 2)        # IoU 0 / 0 suppresses nothing
    assert ops.nms(points, minidl.tensor([0.1, 0.2]), 0.5).tolist() == [1, 0]


def test_nms_float32_and_grad_free_indices():
    boxes, scores = crowded_boxes(7, 60)
    b = minidl.tensor(boxes, dtype=minidl.float32, requires_grad=True)
    s = minidl.tensor(scores, dtype=minidl.float32)
    keep = ops.nms(b, s, 0.4)
    assert not keep.requires_grad
    expected = python_greedy_nms(b.detach().numpy().astype(np.float64).tolist(),
                                 s.numpy().astype(np.float64).tolist(), 0.4)
    assert keep.tolist() == expected


def per_class_reference(boxes, scores, idxs, threshold, nms_fn):
    kept = []
    for c in np.unique(idxs):
        members = np.flatnonzero(idxs == c)
        kept += [members[k] for k in nms_fn(boxes[members], scores[members], threshold)]
    return sorted(kept, key=lambda i: (-scores[i], i))


def test_batched_nms_equals_per_class_nms():
    def python_nms(b, s, t):
        return python_greedy_nms(b.tolist(), s.tolist(), t)
    for seed in range(3):
        boxes, scores = crowded_boxes(seed, 60)
        idxs = np.random.default_rng(seed).integers(0, 4, 60)
        keep = ops.batched_nms(minidl.tensor(boxes), minidl.tensor(scores),
                               minidl.tensor(idxs), 0.3)
        assert keep.dtype == minidl.int64
        assert keep.tolist() == per_class_reference(boxes, scores, idxs, 0.3, python_nms)
    same = minidl.tensor([[0.0, 0.0, 2.0, 2.0]] * 2)
    assert ops.batched_nms(same, minidl.tensor([0.2, 0.9]), minidl.tensor([0, 1]),
                           0.5).tolist() == [1, 0]      # different classes never suppress
    assert ops.batched_nms(minidl.zeros(0, 4), minidl.zeros(0), minidl.zeros(0, dtype=minidl.int64),
                           0.5).shape == (0,)


def test_batched_nms_per_class_path_above_4000_coordinates():
    boxes, scores = crowded_boxes(11, 1100)
    boxes *= 8.0
    idxs = np.random.default_rng(11).integers(0, 5, 1100)

    def minidl_nms(b, s, t):
        return ops.nms(minidl.tensor(b), minidl.tensor(s), t).tolist()
    keep = ops.batched_nms(minidl.tensor(boxes), minidl.tensor(scores), minidl.tensor(idxs), 0.5)
    expected = per_class_reference(boxes, scores, idxs, 0.5, minidl_nms)
    assert keep.tolist() == expected and len(expected) < 1100


# ---- errors -----------------------------------------------------------------------------

def test_bad_input_is_refused_early():
    good, bad = minidl.zeros(3, 4), minidl.zeros(3, 3)
    with pytest.raises(ValueError, match=r"'boxes2' must have shape \(N, 4\), got \(3, 3\)"):
        ops.box_iou(good, bad)
    with pytest.raises(ValueError, match="'boxes1'.*got \\(4,\\)"):
        ops.generalized_box_iou(minidl.zeros(4), good)
    with pytest.raises(ValueError, match="do not broadcast"):
        ops.box_iou(minidl.zeros(2, 3, 4), minidl.zeros(3, 3, 4))
    with pytest.raises(ValueError, match="fmt 'xyz'"):
        ops.box_area(good, fmt="xyz")
    with pytest.raises(NotImplementedError, match="cxcywhr"):
        ops.box_iou(minidl.zeros(3, 5), minidl.zeros(3, 5), fmt="cxcywhr")
    with pytest.raises(ValueError, match="in_fmt 'xyxy' to out_fmt 'yxyx'"):
        ops.box_convert(good, "xyxy", "yxyx")
    with pytest.raises(NotImplementedError, match="axis-aligned and the rotated"):
        ops.box_convert(good, "xyxy", "xyxyxyxy")
    with pytest.raises(ValueError, match=r"\(\.\.\., 5\), got \(3, 4\)"):
        ops.box_convert(good, "xywhr", "cxcywhr")
    with pytest.raises(TypeError, match="'boxes' must be Tensor"):
        ops.box_area([[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="'size' must be \\(height, width\\)"):
        ops.clip_boxes_to_image(good, (4,))
    with pytest.raises(ValueError, match="'masks' must have shape \\(N, H, W\\), got \\(4, 4\\)"):
        ops.masks_to_boxes(minidl.zeros(4, 4))


def test_bad_loss_arguments_are_refused():
    boxes = minidl.zeros(3, 4)
    for fn, _ in LOSSES:
        with pytest.raises(ValueError, match="'reduction': 'avg'"):
            fn(boxes, boxes, reduction="avg")
        with pytest.raises(ValueError, match="do not broadcast"):
            fn(boxes, minidl.zeros(2, 4))
    x = minidl.zeros(2, 3)
    with pytest.raises(ValueError, match="invalid alpha 2"):
        ops.sigmoid_focal_loss(x, x, alpha=2)
    with pytest.raises(ValueError, match="'reduction': 'max'"):
        ops.sigmoid_focal_loss(x, x, reduction="max")
    with pytest.raises(ValueError, match="'targets' must have the shape of 'inputs'"):
        ops.sigmoid_focal_loss(x, minidl.zeros(3, 2))


def test_bad_nms_arguments_are_refused():
    boxes, scores = minidl.zeros(3, 4), minidl.zeros(3)
    with pytest.raises(ValueError, match=r"'boxes' must have shape \(N, 4\), got \(12,\)"):
        ops.nms(minidl.zeros(12), scores, 0.5)
    with pytest.raises(ValueError, match=r"'scores' must have shape \(N,\) with N = 3.*\(2,\)"):
        ops.nms(boxes, minidl.zeros(2), 0.5)
    with pytest.raises(TypeError, match="'scores' must have the dtype of 'boxes'"):
        ops.nms(boxes, scores.double(), 0.5)
    with pytest.raises(TypeError, match="float32 or float64, got minidl.int64"):
        ops.nms(minidl.zeros(3, 4, dtype=minidl.int64), scores, 0.5)
    with pytest.raises(ValueError, match=r"'idxs' must have shape \(N,\) with N = 3.*\(4,\)"):
        ops.batched_nms(boxes, scores, minidl.zeros(4, dtype=minidl.int64), 0.5)
