"""The YOLO v1 detector (``minidl.vision.models.detection.yolo``): the paper's network
(layer list, output shape, parameter count by hand), decoding round-trips the target
encoding, postprocessing (thresholds, per-class NMS, clipping, order), the detector
interface and its errors, and a few training steps."""
import numpy as np
import pytest

import minidl
from minidl.vision import models
from minidl.vision.datasets import open_scenes
from minidl.vision.models.detection import YOLOv1, yolo_v1, yolo_v1_mini
from minidl.vision.models.detection.yolo_loss import encode_targets


def _perfect_prediction(encoded, boxes_per_cell, num_classes):
    """The activated prediction a perfect detector gives: predictor 0 of each object cell
    holds the box with confidence 1, the others confidence 0, the class one-hot."""
    n, s = encoded["labels"].shape[:2]
    b = boxes_per_cell
    pred = np.zeros((n, s, s, 5 * b + num_classes - 1))
    pred[..., 0:4] = encoded["box"]
    pred[..., 4] = encoded["object_cell"]
    pred[..., 5 * b:] = encoded["labels"][..., None] == np.arange(1, num_classes)
    return minidl.tensor(pred.astype(np.float32))


def _tiny(**kwargs):
    minidl.manual_seed(0)
    return yolo_v1_mini(**{"width": 4, "grid_size": 6, **kwargs})


def _zero_init(module):
    for p in module.parameters(recurse=False):
        minidl.nn.init.zeros_(p)


def test_paper_network_layers_output_shape_and_parameter_count(monkeypatch):
    # the random initialisation of 271 M weights takes seconds and is not under test here
    for layer in (minidl.nn.Linear, minidl.nn.Conv2d):
        monkeypatch.setattr(layer, "reset_parameters", _zero_init)
    model = models.get_model("yolo_v1")
    convs = [m for m in model.backbone.modules() if isinstance(m, minidl.nn.Conv2d)]
    # Figure 3: (kernel, filters, stride) of the 24 convolutional layers
    paper = ([(7, 64, 2), (3, 192, 1), (1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1)]
             + [(1, 256, 1), (3, 512, 1)] * 4 + [(1, 512, 1), (3, 1024, 1)]
             + [(1, 512, 1), (3, 1024, 1)] * 2 + [(3, 1024, 1), (3, 1024, 2)]
             + [(3, 1024, 1), (3, 1024, 1)])
    assert [(c.kernel_size[0], c.out_channels, c.stride[0]) for c in convs] == paper
    assert len(convs) == 24 and all(c.padding[0] == c.kernel_size[0] // 2 for c in convs)
    pools = [m for m in model.backbone.modules() if isinstance(m, minidl.nn.MaxPool2d)]
    assert len(pools) == 4
    slopes = {m.negative_slope for m in model.modules() if isinstance(m, minidl.nn.LeakyReLU)}
    assert slopes == {0.1} and model.head[3].p == 0.5
    # by hand: k*k*c_in*c_out + c_out per convolution, then 7*7*1024 -> 4096 -> 7*7*30
    conv_params = (7 * 7 * 3 * 64 + 64) + (3 * 3 * 64 * 192 + 192) \
        + (192 * 128 + 128) + (9 * 128 * 256 + 256) + (256 * 256 + 256) + (9 * 256 * 512 + 512) \
        + 4 * ((512 * 256 + 256) + (9 * 256 * 512 + 512)) \
        + (512 * 512 + 512) + (9 * 512 * 1024 + 1024) \
        + 2 * ((1024 * 512 + 512) + (9 * 512 * 1024 + 1024)) \
        + 4 * (9 * 1024 * 1024 + 1024)
    fc_params = (7 * 7 * 1024 * 4096 + 4096) + (4096 * 1470 + 1470)
    assert conv_params == 60_155_968
    assert sum(p.numel() for p in model.parameters()) == conv_params + fc_params == 271_703_550
    model.eval()
    with minidl.no_grad():
        raw = model.head(model.backbone(minidl.zeros(1, 3, 448, 448)))
    assert tuple(raw.shape) == (1, 7, 7, 30)


def test_builders_take_the_architecture_arguments(monkeypatch):
    for layer in (minidl.nn.Linear, minidl.nn.Conv2d):
        monkeypatch.setattr(layer, "reset_parameters", _zero_init)
    model = yolo_v1(image_size=64, grid_size=3, boxes_per_cell=3, num_classes=5,
                    in_channels=1, lambda_coord=2.0)
    assert model.head[-2].out_features == 3 * 3 * (15 + 4) and model.lambda_coord == 2.0
    assert model.backbone[0].in_channels == 1
    mini = models.get_model("yolo_v1_mini", grid_size=12, width=8, boxes_per_cell=1,
                            num_classes=4, lambda_noobj=1.0, confidence_target="one")
    pools = [m for m in mini.backbone if isinstance(m, minidl.nn.MaxPool2d)]
    assert len(pools) == 3 and mini.head[0].out_channels == 5 + 3
    assert mini.lambda_noobj == 1.0 and mini.confidence_target == "one"
    assert sum(isinstance(m, minidl.nn.BatchNorm2d) for m in mini.modules()) == 5
    # the default mini by hand: 3 x 3 convolutions 1-16-32-64 (pooled) -128-128, each with
    # batch norm (2 per channel, no conv bias), then the 1 x 1 head 128 -> 2 * 5 + 10
    convs = 9 * (16 + 16 * 32 + 32 * 64 + 64 * 128 + 128 * 128) + 2 * (16 + 32 + 64 + 128 + 128)
    assert sum(p.numel() for p in yolo_v1_mini().parameters()) == convs + 128 * 20 + 20 \
        == 247_684
    assert (yolo_v1_mini().box_score_thresh, yolo_v1_mini().box_nms_thresh) == (0.01, 0.4)
    assert yolo_v1_mini(box_score_thresh=0.3, box_nms_thresh=0.6).box_nms_thresh == 0.6
    with pytest.raises(ValueError, match="power of two"):
        yolo_v1_mini(grid_size=7)
    with pytest.raises(ValueError, match="multiple of 64"):
        yolo_v1(image_size=100)
    with pytest.raises(ValueError, match="num_classes"):
        yolo_v1_mini(num_classes=1)
    with pytest.raises(ValueError, match="confidence_target"):
        yolo_v1_mini(confidence_target="max")
    with pytest.raises(ValueError, match="weights"):
        yolo_v1_mini(weights="DEFAULT")
    with pytest.raises(ValueError, match=r"box_nms_thresh=\) must be an IoU"):
        yolo_v1_mini(box_nms_thresh=1.5)
    with pytest.raises(ValueError, match=r"lambda_coord=\) must be a number >= 0"):
        yolo_v1_mini(lambda_coord=-1)


def test_decoding_round_trips_the_target_encoding():
    scenes = open_scenes("scenes-mnist", "val", num_images=6)
    model = _tiny(grid_size=12).eval()
    targets = [scenes[i][1] for i in range(6)]
    encoded = encode_targets(targets, [(96, 96)] * 6, 12, 11)
    assert encoded["object_cell"].sum() == sum(len(t["labels"]) for t in targets)
    out = model.postprocess(_perfect_prediction(encoded, 2, 11), [(96, 96)] * 6)
    for target, det in zip(targets, out):
        order = np.lexsort(target["boxes"].numpy().T[::-1])
        found = np.lexsort(det["boxes"].numpy().T[::-1])
        np.testing.assert_allclose(det["boxes"].numpy()[found], target["boxes"].numpy()[order],
                                   atol=1e-3)
        assert det["labels"].numpy()[found].tolist() == target["labels"].numpy()[order].tolist()
        np.testing.assert_allclose(det["scores"].numpy(), 1.0)
        assert det["boxes"].dtype == minidl.float32 and det["labels"].dtype == minidl.int64
    # a non-square image: boxes come back in its own pixels
    target = {"boxes": np.array([[3.0, 5, 40, 30], [60, 8, 119, 79]], np.float32),
              "labels": np.array([4, 10])}
    encoded = encode_targets([target], [(80, 120)], 6, 11)
    det = model.postprocess(_perfect_prediction(encoded, 2, 11), [(80, 120)])[0]
    np.testing.assert_allclose(det["boxes"].numpy(), target["boxes"], atol=1e-3)
    assert det["labels"].tolist() == [4, 10]


def _boxes_prediction(cells, s=4, b=2, c=3):
    """A prediction with the given (row, col, predictor, (x, y, sqrt w, sqrt h), conf, probs)."""
    pred = np.zeros((1, s, s, 5 * b + c), np.float32)
    for r, col, j, box, conf, probs in cells:
        pred[0, r, col, 5 * j:5 * j + 4] = box
        pred[0, r, col, 5 * j + 4] = conf
        pred[0, r, col, 5 * b:] = probs
    return minidl.tensor(pred)


def test_postprocess_thresholds_nms_clipping_and_order():
    model = _tiny(num_classes=4, box_score_thresh=0.2, box_nms_thresh=0.5)
    # cell (1, 1) predictors 0 and 1: the same box; cell (1, 2): a box overlapping it
    pred = _boxes_prediction([
        (1, 1, 0, (0.5, 0.5, 0.5, 0.5), 0.9, (0.8, 0.15, 0.05)),
        (1, 1, 1, (0.5, 0.5, 0.5, 0.5), 0.5, (0.8, 0.15, 0.05)),
        (1, 2, 0, (0.1, 0.5, 0.5, 0.5), 0.6, (0.1, 0.9, 0.0)),
        (3, 3, 0, (0.9, 0.9, 0.6, 0.4), 0.3, (0.0, 0.0, 1.0)),
    ])
    det = model.postprocess(pred, [(100, 100)])[0]
    # scores: 0.72 (label 1), 0.54 (label 2, other class so not suppressed), 0.4 (the
    # duplicate of label 1: suppressed), 0.3 (label 3, clipped); 0.135 etc. under 0.2
    np.testing.assert_allclose(det["scores"].numpy(), [0.72, 0.54, 0.3], rtol=1e-6)
    assert det["labels"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(det["boxes"].numpy()[0], [25, 25, 50, 50], atol=1e-4)
    # the last box: centre (97.5, 97.5), 36 x 16 -> clipped at the image's 100 px
    np.testing.assert_allclose(det["boxes"].numpy()[2], [79.5, 89.5, 100, 100], atol=1e-4)
    model.box_detections_per_img = 2
    assert len(model.postprocess(pred, [(100, 100)])[0]["scores"]) == 2
    model.box_score_thresh = 0.8
    empty = model.postprocess(pred, [(100, 100)])[0]
    assert empty["boxes"].shape == (0, 4) and empty["labels"].dtype == minidl.int64


def test_train_mode_returns_the_loss_dict_and_eval_the_detections():
    model = _tiny()
    scenes = open_scenes("scenes-mnist", "val", num_images=2)
    images = [scenes[i][0] for i in range(2)]
    targets = [scenes[i][1] for i in range(2)]
    losses = model(images, targets)
    assert sorted(losses) == ["loss_class", "loss_noobj", "loss_obj", "loss_wh", "loss_xy"]
    assert all(v.ndim == 0 and v.requires_grad for v in losses.values())
    model.eval()
    out = model(minidl.stack(images))
    assert len(out) == 2 and all(sorted(o) == ["boxes", "labels", "scores"] for o in out)
    scores = out[0]["scores"].numpy()
    assert (np.diff(scores) <= 0).all() and ((out[0]["labels"].numpy() >= 1).all())
    assert model(images, targets)[0]["boxes"].shape == out[0]["boxes"].shape


def test_other_image_sizes_are_resized_and_boxes_returned_in_their_pixels():
    model = _tiny().eval()
    image = minidl.rand(1, 48, 72)
    resized = minidl.nn.functional.interpolate(image[None], size=(96, 96), mode="bilinear",
                                               align_corners=False)
    small = model([image])[0]
    full = model(resized)[0]
    np.testing.assert_allclose(small["boxes"].numpy(),
                               full["boxes"].numpy() * np.array([0.75, 0.5, 0.75, 0.5]),
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(small["scores"].numpy(), full["scores"].numpy(), rtol=1e-5)


def test_bad_inputs_are_refused_by_name():
    model = _tiny()
    image = minidl.rand(1, 96, 96)
    target = {"boxes": minidl.tensor([[1.0, 2, 30, 40]]), "labels": minidl.tensor([3])}
    with pytest.raises(ValueError, match="targets should not be None in training mode"):
        model([image])
    with pytest.raises(ValueError, match=r"\(1, H, W\).*in_channels=1.*\(3, 96, 96\)"):
        model([minidl.rand(3, 96, 96)], [target])
    with pytest.raises(ValueError, match=r"\(1, H, W\)"):
        model(minidl.rand(2, 3, 96, 96), [target] * 2)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) Tensor or a non-empty list"):
        model(minidl.rand(96, 96), [target])
    with pytest.raises(ValueError, match="non-empty list"):
        model([], [])
    with pytest.raises(TypeError, match="floating point"):
        model([minidl.zeros(1, 96, 96, dtype=minidl.uint8)], [target])
    with pytest.raises(ValueError, match=r"labels.*1\.\.10"):
        model([image], [{"boxes": target["boxes"], "labels": minidl.tensor([11])}])
    with pytest.raises(ValueError, match="one dict per image"):
        model([image, image], [target])
    with pytest.raises(ValueError, match=r"the head gave"):
        YOLOv1(minidl.nn.Identity(), minidl.nn.Identity(), 11, 6, 96, in_channels=1)(
            [image], [target])


def test_a_few_adam_steps_on_8_scenes_lower_the_loss():
    model = _tiny()
    images, targets, _ = open_scenes("scenes-mnist", "train", num_images=8).to_arrays()
    batch = minidl.tensor(images)
    optimizer = minidl.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss = sum(model(batch, targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
