"""Faster R-CNN's parts against straightforward torch (float64) versions of torchvision's
formulas written here (torchvision cannot be imported): the RPN's anchor labels and losses,
the RoI head's sampling and ``fastrcnn_loss``, the detections' post-processing rules,
``MultiScaleRoIAlign`` and ``GeneralizedRCNNTransform``."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
from minidl.vision.models.detection import (
    AnchorGenerator,
    GeneralizedRCNNTransform,
    RegionProposalNetwork,
    RoIHeads,
    RPNHead,
)
from minidl.vision.models.detection.roi_heads import fastrcnn_loss
from minidl.vision.ops import MultiScaleRoIAlign, box_iou, roi_align
from tests.reference.harness import assert_close, compare

# ---------------------------------------------------------------- torch references


def torch_iou(a, b):
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def torch_encode(gt, ref, weights):
    wx, wy, ww, wh = weights
    pw, ph = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    px, py = ref[:, 0] + 0.5 * pw, ref[:, 1] + 0.5 * ph
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    return torch.stack([wx * (gx - px) / pw, wy * (gy - py) / ph, ww * torch.log(gw / pw),
                        wh * torch.log(gh / ph)], dim=1)


def torch_match(gt, boxes, high, low, low_quality):
    """Matched ground-truth index per box: >= 0, -1 below ``low``, -2 between."""
    iou = torch_iou(gt, boxes)
    best, idx = iou.max(0)
    matched = idx.clone()
    matched[best < low] = -1
    matched[(best >= low) & (best < high)] = -2
    if low_quality:
        ties = torch.nonzero(iou == iou.max(1, keepdim=True).values)[:, 1]
        matched[ties] = idx[ties]
    return matched, idx


# ------------------------------------------------------------------------- inputs

GT = np.array([[10, 10, 40, 50], [60, 20, 70, 28]], np.float64)
ANCHORS = np.array([[10, 10, 40, 50], [12, 8, 42, 48], [0, 0, 30, 30], [20, 30, 60, 70],
                    [50, 50, 90, 90], [55, 15, 80, 35], [58, 18, 75, 32], [5, 5, 45, 55],
                    [70, 0, 95, 10], [30, 60, 50, 90]], np.float64)
PROPOSALS = np.array([[12, 12, 38, 48], [0, 0, 20, 20], [58, 18, 72, 30], [30, 30, 60, 60],
                      [15, 20, 45, 55], [61, 21, 69, 29], [2, 60, 30, 90]], np.float64)


def make_rpn(batch=1000, fraction=0.5, pre=(50, 40), post=(30, 20), nms=0.7):
    return RegionProposalNetwork(AnchorGenerator(((16,),), ((1.0,),)), RPNHead(4, 1), 0.7, 0.3,
                                 batch, fraction, dict(training=pre[0], testing=pre[1]),
                                 dict(training=post[0], testing=post[1]), nms)


def make_roi_heads(batch=1000, fraction=0.25, score=0.05, nms=0.5, detections=100):
    return RoIHeads(None, None, None, 0.5, 0.3, batch, fraction, None, score, nms, detections)


# ---------------------------------------------------------------------------- RPN


def test_rpn_anchor_labels_follow_the_matcher_rules():
    rpn = make_rpn()
    labels, matched = rpn.assign_targets_to_anchors(
        [minidl.tensor(ANCHORS)], [{"boxes": minidl.tensor(GT)}])
    want, _ = torch_match(torch.tensor(GT), torch.tensor(ANCHORS), 0.7, 0.3, True)
    ref = (want >= 0).double()
    ref[want == -2] = -1.0
    assert labels[0].dtype == minidl.float32
    np.testing.assert_array_equal(labels[0].numpy(), ref.numpy())
    np.testing.assert_array_equal(matched[0].numpy(), GT[want.clamp(min=0).numpy()])
    # the small object's best anchor (IoU < 0.7) is positive through the low-quality rule
    assert torch_iou(torch.tensor(GT[1:]), torch.tensor(ANCHORS)).max() < 0.7
    assert set(np.unique(labels[0].numpy())) == {-1.0, 0.0, 1.0}


def test_rpn_labels_of_an_image_without_objects_are_all_background():
    labels, matched = make_rpn().assign_targets_to_anchors(
        [minidl.tensor(ANCHORS)], [{"boxes": minidl.zeros(0, 4)}])
    assert not labels[0].numpy().any() and matched[0].shape == (len(ANCHORS), 4)


def test_rpn_losses_equal_the_torch_formulas_values_and_gradients():
    rpn = make_rpn()  # 1000 samples per image: every labelled anchor is drawn
    anchors = minidl.tensor(ANCHORS)
    labels, matched = rpn.assign_targets_to_anchors([anchors], [{"boxes": minidl.tensor(GT)}])
    targets = rpn.box_coder.encode(matched, [anchors])
    rng = np.random.default_rng(0)
    logits, deltas = rng.standard_normal((10, 1)), rng.standard_normal((10, 4)) * 0.3
    lab = torch.from_numpy(labels[0].numpy().astype(np.float64))
    want, _ = torch_match(torch.tensor(GT), torch.tensor(ANCHORS), 0.7, 0.3, True)
    tgt = torch_encode(torch.tensor(GT)[want.clamp(min=0)], torch.tensor(ANCHORS), (1, 1, 1, 1))
    assert_close(targets[0], tgt, rtol=1e-12, atol=1e-12)

    def reference(o, d):
        sampled, pos = lab >= 0, lab > 0
        box = TF.smooth_l1_loss(d[pos], tgt[pos], beta=1 / 9, reduction="sum") / sampled.sum()
        return TF.binary_cross_entropy_with_logits(o[sampled, 0], lab[sampled]), box

    compare(lambda o, d: rpn.compute_loss(o, d, [labels[0].double()], [targets[0].double()]),
            reference, [logits, deltas], dtype="float64")


def test_rpn_samples_at_most_the_batch_and_the_positive_fraction():
    rpn = make_rpn(batch=4, fraction=0.25)
    labels, _ = rpn.assign_targets_to_anchors([minidl.tensor(ANCHORS)],
                                              [{"boxes": minidl.tensor(GT)}])
    pos, neg = rpn.fg_bg_sampler(labels)
    assert pos[0].numpy().sum() == 1 and neg[0].numpy().sum() == 3
    assert (labels[0].numpy()[pos[0].numpy() == 1] == 1).all()
    assert (labels[0].numpy()[neg[0].numpy() == 1] == 0).all()


def test_rpn_filter_proposals_top_n_clip_nms_per_mode():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-10, 80, (1, 60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 40, (1, 60, 2))], axis=2).astype(np.float32)
    logits = rng.standard_normal((60, 1)).astype(np.float32)
    for training, pre, post in ((True, 25, 12), (False, 15, 8)):
        rpn = make_rpn(pre=(25, 15), post=(12, 8), nms=0.5).train(training)
        kept, scores = rpn.filter_proposals(minidl.tensor(boxes), minidl.tensor(logits),
                                            [(64, 72)], [60])
        k, s = kept[0].numpy(), scores[0].numpy()
        assert 0 < len(k) <= post and (np.diff(s) <= 0).all()
        assert k[:, 0::2].min() >= 0 and k[:, 0::2].max() <= 72 and k[:, 1::2].max() <= 64
        top = 1 / (1 + np.exp(-np.sort(logits[:, 0])[::-1][:pre].astype(np.float64)))
        assert np.isclose(s[:, None], top[None, :], rtol=1e-6, atol=0).any(axis=1).all()
        iou = box_iou(kept[0], kept[0]).numpy() - np.eye(len(k))
        assert iou.max() <= 0.5


def test_rpn_head_layout_and_init():
    head = RPNHead(8, 3, conv_depth=2)
    assert list(head.state_dict()) == [
        "conv.0.0.weight", "conv.0.0.bias", "conv.1.0.weight", "conv.1.0.bias",
        "cls_logits.weight", "cls_logits.bias", "bbox_pred.weight", "bbox_pred.bias"]
    assert head.bbox_pred.weight.shape == (12, 8, 1, 1)
    w = RPNHead(64, 9).conv[0][0].weight.detach().numpy()
    assert 0.008 < w.std() < 0.012 and not head.cls_logits.bias.detach().numpy().any()
    logits, deltas = head([minidl.randn(2, 8, 5, 6)])
    assert logits[0].shape == (2, 3, 5, 6) and deltas[0].shape == (2, 12, 5, 6)


# ----------------------------------------------------------------------- RoI heads


def test_roi_sampling_labels_and_targets_equal_the_reference():
    heads = make_roi_heads()  # 1000 per image: every labelled proposal is drawn
    gt_labels = np.array([3, 7])
    props, matched, labels, targets = heads.select_training_samples(
        [minidl.tensor(PROPOSALS)], [{"boxes": minidl.tensor(GT),
                                      "labels": minidl.tensor(gt_labels)}])
    all_props = torch.tensor(np.concatenate([PROPOSALS, GT]))
    want, idx = torch_match(torch.tensor(GT), all_props, 0.5, 0.3, False)
    ref_labels = torch.tensor(gt_labels)[idx]
    ref_labels[want == -1] = 0
    keep = want != -2
    np.testing.assert_array_equal(labels[0].numpy(), ref_labels[keep].numpy())
    np.testing.assert_array_equal(props[0].numpy(), all_props[keep].numpy())
    np.testing.assert_array_equal(matched[0].numpy(), idx[keep].numpy())
    ref_targets = torch_encode(torch.tensor(GT)[idx[keep]], all_props[keep], (10, 10, 5, 5))
    assert_close(targets[0], ref_targets, rtol=1e-10, atol=1e-10)
    assert (labels[0].numpy() == 0).any() and (labels[0].numpy() > 0).sum() >= 2


def test_roi_sampling_respects_batch_size_and_fraction():
    heads = make_roi_heads(batch=4, fraction=0.25)
    _, _, labels, _ = heads.select_training_samples(
        [minidl.tensor(PROPOSALS)], [{"boxes": minidl.tensor(GT),
                                      "labels": minidl.tensor(np.array([1, 2]))}])
    lab = labels[0].numpy()
    assert len(lab) == 4 and (lab > 0).sum() == 1 and (lab == 0).sum() == 3


def test_roi_image_without_objects_gives_background_samples():
    heads = make_roi_heads(batch=5)
    props, _, labels, targets = heads.select_training_samples(
        [minidl.tensor(PROPOSALS)], [{"boxes": minidl.zeros(0, 4, dtype=minidl.float64),
                                      "labels": minidl.zeros(0, dtype=minidl.int64)}])
    assert len(props[0]) == 5 and not labels[0].numpy().any()


def test_fastrcnn_loss_equals_the_torch_formula_values_and_gradients():
    rng = np.random.default_rng(2)
    logits, deltas = rng.standard_normal((7, 4)), rng.standard_normal((7, 16)) * 0.2
    labels = [np.array([0, 2, 3, 0]), np.array([1, 0, 3])]
    targets = [rng.standard_normal((4, 4)) * 0.2, rng.standard_normal((3, 4)) * 0.2]

    def reference(c, b, t0, t1):
        lab = torch.from_numpy(np.concatenate(labels))
        tgt = torch.cat([t0, t1])
        pos = torch.where(lab > 0)[0]
        box = TF.smooth_l1_loss(b.reshape(7, 4, 4)[pos, lab[pos]], tgt[pos], beta=1 / 9,
                                reduction="sum") / lab.numel()
        return TF.cross_entropy(c, lab), box

    compare(lambda c, b, t0, t1: fastrcnn_loss(c, b, [minidl.tensor(x) for x in labels],
                                               [t0, t1]),
            reference, [logits, deltas] + targets, dtype="float64")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        fastrcnn_loss(minidl.tensor(logits), minidl.tensor(deltas),
                      [minidl.tensor(np.array([0, 4, 1, 0, 0, 0, 1]))],
                      [minidl.tensor(np.zeros((7, 4)))])


def test_postprocess_detections_rules():
    rng = np.random.default_rng(3)
    heads = make_roi_heads(score=0.1, nms=0.4, detections=6)
    props = minidl.tensor(np.concatenate([PROPOSALS, PROPOSALS + 3]).astype(np.float32))
    logits = minidl.tensor(rng.standard_normal((14, 4)).astype(np.float32) * 2)
    deltas = minidl.tensor(rng.standard_normal((14, 16)).astype(np.float32))
    boxes, scores, labels = heads.postprocess_detections(logits, deltas, [props], [(80, 90)])
    b, s, lab = boxes[0].numpy(), scores[0].numpy(), labels[0].numpy()
    assert len(b) == 6 and lab.dtype == np.int64 and (np.diff(s) <= 0).all()
    assert (s > 0.1).all() and lab.min() >= 1 and lab.max() <= 3
    assert b[:, 0::2].min() >= 0 and b[:, 0::2].max() <= 90 and b[:, 1::2].max() <= 80
    for c in np.unique(lab):
        same = minidl.tensor(b[lab == c])
        assert (box_iou(same, same).numpy() - np.eye(len(same))).max() <= 0.4
    # the first detection: its proposal's class box decoded with weights (10, 10, 5, 5)
    probs = torch.softmax(torch.from_numpy(logits.numpy()), -1)
    row = int(np.flatnonzero(np.isclose(probs[:, lab[0]].numpy(), s[0]))[0])
    d = torch.from_numpy(deltas.numpy()[row, 4 * lab[0]:4 * lab[0] + 4].astype(np.float64))
    p = props.numpy()[row].astype(np.float64)
    w, h = p[2] - p[0], p[3] - p[1]
    cx, cy = p[0] + w / 2 + d[0] / 10 * w, p[1] + h / 2 + d[1] / 10 * h
    half_w, half_h = torch.exp(d[2] / 5) * w / 2, torch.exp(d[3] / 5) * h / 2
    ref = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h])
    ref = torch.stack([ref[0].clamp(0, 90), ref[1].clamp(0, 80), ref[2].clamp(0, 90),
                       ref[3].clamp(0, 80)])
    np.testing.assert_allclose(b[0], ref.numpy(), rtol=1e-5, atol=1e-4)


def test_roi_heads_refuse_mask_and_keypoint_parts():
    with pytest.raises(NotImplementedError, match="mask_head"):
        RoIHeads(None, None, None, 0.5, 0.5, 8, 0.25, None, 0.05, 0.5, 10, mask_head=object())


# ------------------------------------------------------------------------- poolers


def test_multiscale_roi_align_on_one_level_is_roi_align():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 12, 12))
    boxes = [minidl.tensor(PROPOSALS[:4]), minidl.tensor(PROPOSALS[4:])]
    pool = MultiScaleRoIAlign(["0"], 7, 2)
    upstream = minidl.tensor(rng.standard_normal((7, 3, 7, 7)))
    x1, x2 = minidl.tensor(x, requires_grad=True), minidl.tensor(x, requires_grad=True)
    got = pool({"0": x1, "skip": x1 * 2}, boxes, [(96, 96), (90, 96)])
    want = roi_align(x2, boxes, 7, spatial_scale=0.125, sampling_ratio=2)
    (got * upstream).sum().backward()
    (want * upstream).sum().backward()
    assert pool.scales == [0.125] and got.shape == (7, 3, 7, 7)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())


def test_multiscale_roi_align_maps_boxes_to_levels():
    rng = np.random.default_rng(5)
    feats = {"a": rng.standard_normal((1, 2, 64, 64)), "b": rng.standard_normal((1, 2, 32, 32))}
    boxes = np.array([[0, 0, 100, 100], [10, 10, 250, 200], [5, 5, 30, 30]], np.float64)
    pool = MultiScaleRoIAlign(["a", "b"], (3, 4), 2, canonical_scale=112, canonical_level=3)
    out = pool({k: minidl.tensor(v) for k, v in feats.items()}, [minidl.tensor(boxes)],
               [(256, 256)])
    assert pool.scales == [0.25, 0.125] and out.shape == (3, 2, 3, 4)
    # level floor(3 + log2(sqrt(area) / 112)) clamped to [2, 3]: 2, 3, 2
    for i, (name, scale) in enumerate((("a", 0.25), ("b", 0.125), ("a", 0.25))):
        want = roi_align(minidl.tensor(feats[name]), [minidl.tensor(boxes[i:i + 1])], (3, 4),
                         scale, 2)
        np.testing.assert_allclose(out.numpy()[i], want.numpy()[0])


# ----------------------------------------------------------------------- transform


def test_transform_normalises_resizes_batches_and_maps_boxes_back():
    rng = np.random.default_rng(6)
    images = [rng.uniform(0, 1, (3, 40, 60)).astype(np.float32),
              rng.uniform(0, 1, (3, 50, 30)).astype(np.float32)]
    boxes = [np.array([[5, 4, 30, 20]], np.float32), np.array([[1, 2, 20, 40]], np.float32)]
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    tr = GeneralizedRCNNTransform(64, 100, mean, std).eval()
    targets = [{"boxes": minidl.tensor(b), "labels": minidl.tensor(np.array([1]))} for b in boxes]
    batch, out_targets = tr([minidl.tensor(i) for i in images], targets)
    assert batch.image_sizes == [(64, 96), (100, 60)] and batch.tensors.shape == (2, 3, 128, 96)
    for k, (img, scale) in enumerate(zip(images, (1.6, 2.0))):
        t = (torch.from_numpy(img) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[
            :, None, None]
        ref = TF.interpolate(t[None], scale_factor=scale, mode="bilinear",
                             recompute_scale_factor=True, align_corners=False)[0]
        h, w = ref.shape[-2:]
        np.testing.assert_allclose(batch.tensors.numpy()[k, :, :h, :w], ref.numpy(), atol=1e-5)
        assert not batch.tensors.numpy()[k, :, h:, :].any()
        assert not batch.tensors.numpy()[k, :, :, w:].any()
    np.testing.assert_allclose(out_targets[0]["boxes"].numpy(), boxes[0] * 1.6, rtol=1e-6)
    np.testing.assert_allclose(out_targets[1]["boxes"].numpy(), boxes[1] * 2.0, rtol=1e-6)
    assert targets[0]["boxes"] is not out_targets[0]["boxes"]  # the inputs are not changed
    back = tr.postprocess([{"boxes": t["boxes"]} for t in out_targets], batch.image_sizes,
                          [(40, 60), (50, 30)])
    for b, want in zip(back, boxes):
        np.testing.assert_allclose(b["boxes"].numpy(), want, rtol=1e-5)


def test_transform_sizes_modes_and_keywords():
    img = minidl.rand(1, 30, 40)
    tr = GeneralizedRCNNTransform((20, 60), 1000, [0.0], [1.0], size_divisible=1)
    tr.eval()
    assert tr([img])[0].image_sizes == [(60, 80)]   # eval: the last min_size
    tr.train()
    sizes = {tr([img])[0].image_sizes[0] for _ in range(30)}
    assert sizes == {(20, 26), (60, 80)}             # training: one of min_size at random
    fixed = GeneralizedRCNNTransform(50, 60, [0.0], [1.0], fixed_size=(24, 16)).eval()
    batch, _ = fixed([img])
    assert batch.image_sizes == [(16, 24)] and batch.tensors.shape == (1, 1, 32, 32)
    skip = GeneralizedRCNNTransform(50, 60, [0.0], [1.0], _skip_resize=True)
    assert skip([img])[0].image_sizes == [(30, 40)]
    with pytest.raises(TypeError, match="min_sizes"):
        GeneralizedRCNNTransform(50, 60, [0.0], [1.0], min_sizes=3)
    with pytest.raises(TypeError, match="floating type"):
        tr([minidl.zeros(1, 4, 4, dtype=minidl.int64)])
    with pytest.raises(ValueError, match="3d tensors"):
        tr([minidl.rand(4, 4)])
