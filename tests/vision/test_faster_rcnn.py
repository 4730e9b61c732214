"""``FasterRCNN`` and ``fasterrcnn_mini`` as whole detectors: the detector contract (training
losses, eval detections), torchvision's errors and state_dict keys, and a few optimiser
steps on real scenes."""
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.vision import models
from minidl.vision.datasets import open_scenes
from minidl.vision.models.detection import (
    AnchorGenerator,
    FasterRCNN,
    FastRCNNPredictor,
    TwoMLPHead,
    fasterrcnn_mini,
)
from minidl.vision.ops import MultiScaleRoIAlign

LOSSES = {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}


@pytest.fixture(scope="module")
def scenes():
    images, targets, _ = open_scenes("scenes-mnist", "val", num_images=8).to_arrays()
    return minidl.tensor(images), [{"boxes": minidl.tensor(t["boxes"]),
                                    "labels": minidl.tensor(t["labels"])} for t in targets]


def small_model(**kwargs):
    """A narrow ``fasterrcnn_mini`` with few proposals and sampled RoIs (fast tests)."""
    minidl.manual_seed(0)
    options = dict(rpn_pre_nms_top_n_train=100, rpn_post_nms_top_n_train=40,
                   box_batch_size_per_image=32, **kwargs)
    return fasterrcnn_mini(width=8, representation_size=32, **options)


def test_training_returns_torchvision_four_losses(scenes):
    images, targets = scenes
    model = small_model().train()
    losses = model(images[:2], targets[:2])
    assert set(losses) == LOSSES
    assert all(v.shape == () and np.isfinite(v.item()) for v in losses.values())
    sum(losses.values()).backward()
    for name in ("backbone.0.0.weight", "rpn.head.cls_logits.weight",
                 "roi_heads.box_head.fc6.weight", "roi_heads.box_predictor.bbox_pred.weight"):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and np.abs(grad.numpy()).sum() > 0, name


def test_training_accepts_images_without_objects(scenes):
    images, targets = scenes
    empty = {"boxes": minidl.zeros(0, 4), "labels": minidl.zeros(0, dtype=minidl.int64)}
    losses = small_model().train()([images[0], images[1]], [targets[0], empty])
    assert set(losses) == LOSSES and all(np.isfinite(v.item()) for v in losses.values())


def test_eval_detections_follow_the_contract(scenes):
    images, _ = scenes
    model = small_model(box_score_thresh=0.09, box_detections_per_img=7).eval()
    with minidl.no_grad():
        found = model(images[:3])
        as_list = model([images[0], images[1], images[2]])
    assert len(found) == 3
    for d, again in zip(found, as_list):
        assert set(d) == {"boxes", "scores", "labels"}
        n = len(d["scores"])
        assert d["boxes"].shape == (n, 4) and d["labels"].shape == (n,) and 0 < n <= 7
        assert d["boxes"].dtype == minidl.float32 and d["labels"].dtype == minidl.int64
        s, lab, b = d["scores"].numpy(), d["labels"].numpy(), d["boxes"].numpy()
        assert (np.diff(s) <= 0).all() and (s > 0.09).all()
        assert lab.min() >= 1 and lab.max() <= 10
        assert b.min() >= 0 and b.max() <= 96 and (b[:, 2:] >= b[:, :2]).all()
        np.testing.assert_array_equal(b, again["boxes"].numpy())


def test_eval_boxes_come_back_in_the_input_image_pixels():
    model = small_model().eval()
    minidl.manual_seed(1)
    with minidl.no_grad():
        found = model([minidl.rand(1, 80, 120)])[0]   # resized to 64 x 96 inside
    b = found["boxes"].numpy()
    assert len(b) and b[:, 0::2].max() <= 120 and b[:, 1::2].max() <= 80
    assert b[:, 0::2].max() > 96                      # beyond the resized width


def test_no_proposal_gives_empty_detections_of_the_contract_shapes(scenes):
    images, _ = scenes
    model = small_model(rpn_score_thresh=1.1).eval()   # no objectness reaches it
    with minidl.no_grad():
        found = model(images[:2])
    for d in found:
        assert d["boxes"].shape == (0, 4) and d["scores"].shape == (0,)
        assert d["labels"].shape == (0,) and d["labels"].dtype == minidl.int64


def test_a_few_optimiser_steps_on_eight_scenes_lower_the_losses(scenes):
    images, targets = scenes
    model = small_model().train()
    opt = minidl.optim.Adam(model.parameters(), lr=3e-3)

    def total(seed):
        minidl.manual_seed(seed)
        return {k: v.item() for k, v in model(images, targets).items()}

    before = total(7)
    for step in range(8):
        minidl.manual_seed(step)
        loss = sum(model(images, targets).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = total(7)
    assert sum(after.values()) < 0.8 * sum(before.values())
    assert after["loss_classifier"] < before["loss_classifier"]
    assert after["loss_objectness"] < before["loss_objectness"]


def test_missing_or_malformed_targets_are_refused(scenes):
    images, targets = scenes
    model = small_model().train()
    with pytest.raises(AssertionError, match="targets should not be none when in training"):
        model(images[:1])
    with pytest.raises(AssertionError, match=r"shape \[N, 4\], got \[4\]"):
        model(images[:1], [{"boxes": minidl.zeros(4), "labels": targets[0]["labels"][:0]}])
    with pytest.raises(ValueError, match="2 targets for 1 images"):
        model(images[:1], targets[:2])
    with pytest.raises(ValueError, match="'labels' must have shape"):
        model(images[:1], [{"boxes": targets[0]["boxes"], "labels": minidl.zeros(9).long()}])
    with pytest.raises(TypeError, match="target labels must of int64 type"):
        model(images[:1], [{"boxes": targets[0]["boxes"],
                            "labels": targets[0]["labels"].float()}])
    bad = {"boxes": minidl.tensor(np.array([[5, 5, 20, 30], [40, 40, 40, 60]], np.float32)),
           "labels": minidl.tensor(np.array([1, 2]))}
    with pytest.raises(AssertionError, match=r"invalid box \[40.0, 40.0, 40.0, 60.0\] for "
                                             r"target at index 1"):
        model(images[:2], [targets[0], bad])
    with pytest.raises(ValueError, match=r"images\[0\] must be \(C, H, W\)"):
        model([minidl.rand(96, 96)], targets[:1])


def test_constructor_checks_and_keywords():
    backbone = nn.ReLU()
    with pytest.raises(ValueError, match="out_channels"):
        FasterRCNN(backbone, 3)
    backbone.out_channels = 4
    with pytest.raises(ValueError, match="num_classes should be None"):
        FasterRCNN(backbone, 3, box_predictor=FastRCNNPredictor(1024, 3))
    with pytest.raises(ValueError, match="num_classes should not be None"):
        FasterRCNN(backbone)
    with pytest.raises(TypeError, match="rpn_anchor_generator should be of type"):
        FasterRCNN(backbone, 3, rpn_anchor_generator=object())
    with pytest.raises(TypeError, match="box_roi_pool should be of type"):
        FasterRCNN(backbone, 3, box_roi_pool=object())
    with pytest.raises(TypeError, match="rpn_nms_threshold"):
        FasterRCNN(backbone, 3, rpn_nms_threshold=0.5)
    with pytest.raises(ValueError, match="pretrained weights"):
        fasterrcnn_mini(weights="DEFAULT")
    model = FasterRCNN(backbone, 3, size_divisible=16, fixed_size=(64, 48),
                       rpn_pre_nms_top_n_test=11, rpn_post_nms_top_n_train=13,
                       box_nms_thresh=0.3, box_detections_per_img=9, bbox_reg_weights=(1, 2, 3, 4))
    assert model.transform.size_divisible == 16 and model.transform.fixed_size == (64, 48)
    assert model.transform.image_mean == [0.485, 0.456, 0.406] and model.transform.max_size == 1333
    assert model.rpn._pre_nms_top_n == {"training": 2000, "testing": 11}
    assert model.rpn._post_nms_top_n == {"training": 13, "testing": 1000}
    assert model.rpn.proposal_matcher.high_threshold == 0.7 and model.rpn.nms_thresh == 0.7
    heads = model.roi_heads
    assert heads.nms_thresh == 0.3 and heads.detections_per_img == 9
    assert heads.box_coder.weights == (1, 2, 3, 4) and heads.score_thresh == 0.05
    assert heads.fg_bg_sampler.batch_size_per_image == 512
    assert model.rpn.anchor_generator.sizes == ((32,), (64,), (128,), (256,), (512,))
    assert heads.box_roi_pool.featmap_names == ["0", "1", "2", "3"]


def test_state_dict_keys_follow_torchvision():
    class Backbone(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(1, 16, 3, stride=8, padding=1)
            self.out_channels = 16

        def forward(self, x):
            return OrderedDict([("0", self.body(x))])

    model = FasterRCNN(Backbone(), 5, rpn_anchor_generator=AnchorGenerator(((16, 32),),
                                                                           ((0.5, 1.0, 2.0),)),
                       box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2), min_size=64,
                       max_size=64, image_mean=[0.5], image_std=[0.5])
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {
        "backbone.body.weight": (16, 1, 3, 3), "backbone.body.bias": (16,),
        "rpn.head.conv.0.0.weight": (16, 16, 3, 3), "rpn.head.conv.0.0.bias": (16,),
        "rpn.head.cls_logits.weight": (6, 16, 1, 1), "rpn.head.cls_logits.bias": (6,),
        "rpn.head.bbox_pred.weight": (24, 16, 1, 1), "rpn.head.bbox_pred.bias": (24,),
        "roi_heads.box_head.fc6.weight": (1024, 16 * 49), "roi_heads.box_head.fc6.bias": (1024,),
        "roi_heads.box_head.fc7.weight": (1024, 1024), "roi_heads.box_head.fc7.bias": (1024,),
        "roi_heads.box_predictor.cls_score.weight": (5, 1024),
        "roi_heads.box_predictor.cls_score.bias": (5,),
        "roi_heads.box_predictor.bbox_pred.weight": (20, 1024),
        "roi_heads.box_predictor.bbox_pred.bias": (20,)}
    model.eval()
    with minidl.no_grad():
        assert len(model(minidl.rand(2, 1, 64, 64))) == 2


def test_builder_is_registered_and_its_checkpoint_reloads(scenes):
    images, _ = scenes
    assert "fasterrcnn_mini" in models.list_models()
    model = models.get_model("fasterrcnn_mini", num_classes=11, in_channels=1)
    assert model.transform.min_size == (96,) and model.transform.max_size == 96
    assert isinstance(model.roi_heads.box_head, TwoMLPHead)
    assert model.roi_heads.box_predictor.cls_score.out_features == 11
    model.eval()
    twin = models.get_model("fasterrcnn_mini", num_classes=11, in_channels=1)
    twin.load_state_dict(model.state_dict())
    twin.eval()
    with minidl.no_grad():
        a, b = model(images[:2]), twin(images[:2])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["boxes"].numpy(), y["boxes"].numpy())
        np.testing.assert_array_equal(x["scores"].numpy(), y["scores"].numpy())
    three = small_model(in_channels=3)
    assert three.transform.image_mean == (0.036,) * 3
    with minidl.no_grad():
        assert len(three.eval()(minidl.rand(1, 3, 96, 96))) == 1
