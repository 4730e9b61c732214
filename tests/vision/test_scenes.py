"""Scenes: real bundled glyphs composed into detection / segmentation scenes; every target
rebuilt independently (torch's bilinear resize) from the recorded placements; determinism;
disjoint glyph sources per split; argument errors."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision.datasets import Scenes, load_bundled, source_pool


def _pairwise_iou(boxes):
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area[:, None] + area[None] - inter)


def test_items_have_torchvision_detection_targets():
    data = Scenes(num_images=12, canvas=(64, 80), objects=(2, 3), seed=4)
    assert len(data) == 12 and data.classes[0] == "__background__" and data.num_classes == 11
    for i in range(len(data)):
        image, target = data[i]
        assert image.dtype == minidl.float32 and tuple(image.shape) == (1, 64, 80)
        assert 0 <= image.numpy().min() and image.numpy().max() <= 1
        k = len(target["labels"])
        assert 2 <= k <= 3
        assert target["boxes"].dtype == minidl.float32 and tuple(target["boxes"].shape) == (k, 4)
        assert target["labels"].dtype == minidl.int64
        assert target["masks"].dtype == minidl.uint8
        assert tuple(target["masks"].shape) == (k, 64, 80)
        labels = target["labels"].numpy()
        assert labels.min() >= 1 and labels.max() <= 10
        seg = data.segmentation(i)
        assert seg.dtype == minidl.int64 and tuple(seg.shape) == (64, 80)


@pytest.mark.parametrize("source,split", [("mnist-mini", "train"),
                                          ("fashion-mnist-mini", "test")])
def test_targets_rebuilt_from_the_recorded_glyphs(source, split):
    """Image = max of the torch-resized glyphs at the recorded corners; boxes tight around
    pixels > threshold (edge coordinates); masks = pixels each glyph owns (brightest, later
    on ties); the class map, labels, overlap and visibility rules follow."""
    data = Scenes(source=source, split=split, num_images=25, canvas=(72, 72), objects=(1, 4),
                  seed=7)
    glyphs, glyph_labels = (t.numpy() for t in load_bundled(source, train=split != "test"))
    images, targets, segs = data.to_arrays()
    t = data.threshold
    for i in range(len(data)):
        lo, hi = data.scene_starts[i], data.scene_starts[i + 1]
        layers = np.zeros((hi - lo, 72, 72), np.float32)
        for k, j in enumerate(range(lo, hi)):
            side, (row, col) = int(data.sizes[j]), data.corners[j]
            glyph = torch.from_numpy(glyphs[data.source_indices[j]] / 255.0)
            resized = torch.nn.functional.interpolate(glyph[None, None], size=(side, side),
                                                      mode="bilinear", align_corners=False)
            layers[k, row:row + side, col:col + side] = resized[0, 0].numpy().astype(np.float32)
        np.testing.assert_allclose(images[i, 0], layers.max(0), atol=1e-6)
        on = layers > t
        for k in range(hi - lo):
            ys, xs = np.nonzero(on[k].any(1))[0], np.nonzero(on[k].any(0))[0]
            expected = [xs[0], ys[0], xs[-1] + 1, ys[-1] + 1]
            np.testing.assert_array_equal(targets[i]["boxes"][k], expected)
        owner = (hi - lo - 1) - np.argmax(layers[::-1], axis=0)
        owner[~on.any(0)] = -1
        masks = targets[i]["masks"]
        np.testing.assert_array_equal(masks, owner[None] == np.arange(hi - lo)[:, None, None])
        labels = glyph_labels[data.source_indices[lo:hi]] + 1
        np.testing.assert_array_equal(targets[i]["labels"], labels)
        np.testing.assert_array_equal(segs[i], (masks * labels[:, None, None]).sum(0))
        np.testing.assert_array_equal(data.segmentation(i).numpy(), segs[i])
        assert masks.sum(0).max() <= 1
        np.testing.assert_array_equal(masks.sum(0) == 1, images[i, 0] > t)
        boxes = targets[i]["boxes"]
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 72).all() and \
            (boxes[:, 3] <= 72).all() and (boxes[:, 2:] > boxes[:, :2]).all()
        iou = _pairwise_iou(boxes.astype(np.float64))
        assert (iou[~np.eye(len(boxes), dtype=bool)] <= data.max_iou + 1e-9).all()
        assert (masks.sum((1, 2)) >= data.min_visible * on.sum((1, 2))).all()
        for k, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
            outside = masks[k].copy()
            outside[y1:y2, x1:x2] = 0
            assert not outside.any()


def test_counts_cover_the_range_and_items_match_arrays():
    data = Scenes(num_images=60, canvas=(64, 64), objects=(1, 3), seed=2)
    counts = np.diff(data.scene_starts)
    assert set(counts) == {1, 2, 3}
    images, targets, _ = data.to_arrays()
    image, target = data[-1]
    np.testing.assert_array_equal(image.numpy(), images[-1])
    for key in ("boxes", "labels", "masks"):
        np.testing.assert_array_equal(target[key].numpy(), targets[-1][key])
    sizes = data.sizes
    assert sizes.min() >= round(28 * 0.7) and sizes.max() <= round(28 * 1.6)


def test_same_seed_gives_byte_identical_scenes():
    def dump(data):
        images, targets, segs = data.to_arrays()
        parts = [images, segs, data.source_indices, data.corners, data.sizes]
        parts += [t[k] for t in targets for k in ("boxes", "labels", "masks")]
        return b"".join(np.ascontiguousarray(p).tobytes() for p in parts)
    kwargs = dict(source="fashion-mnist-mini", split="val", num_images=15, canvas=(56, 56))
    assert dump(Scenes(seed=3, **kwargs)) == dump(Scenes(seed=3, **kwargs))
    assert dump(Scenes(seed=3, **kwargs)) != dump(Scenes(seed=4, **kwargs))


def test_train_val_test_glyph_sources_are_disjoint():
    n_train = len(load_bundled("mnist-mini", train=True)[1])
    split_train, train_pool = source_pool("mnist-mini", "train")
    split_val, val_pool = source_pool("mnist-mini", "val")
    split_test, test_pool = source_pool("mnist-mini", "test")
    assert (split_train, split_val, split_test) == ("train", "train", "test")
    assert not np.intersect1d(train_pool, val_pool).size
    np.testing.assert_array_equal(np.union1d(train_pool, val_pool), np.arange(n_train))
    assert len(val_pool) == round(0.2 * n_train)
    np.testing.assert_array_equal(test_pool, np.arange(len(load_bundled("mnist-mini", False)[1])))
    scenes = {s: Scenes(split=s, num_images=150, canvas=(64, 64), seed=0) for s in
              ("train", "val", "test")}
    assert [scenes[s].source_split for s in scenes] == ["train", "train", "test"]
    assert np.isin(scenes["train"].source_indices, train_pool).all()
    assert np.isin(scenes["val"].source_indices, val_pool).all()
    assert not np.intersect1d(scenes["train"].source_indices,
                              scenes["val"].source_indices).size


@pytest.mark.parametrize("kwargs,match", [
    (dict(source="cifar"), "source"),
    (dict(split="valid"), "split"),
    (dict(objects=(3, 1)), "objects"),
    (dict(objects=(0, 2)), "objects"),
    (dict(canvas=(40, 40)), "do not fit"),
    (dict(threshold=2), "threshold"),
    (dict(num_images=0), "num_images"),
    (dict(scale=(1.0,)), "scale"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Scenes(**{"num_images": 2, **kwargs})


def test_impossible_placement_raises():
    with pytest.raises(RuntimeError, match="could not place"):
        Scenes(num_images=1, canvas=(45, 45), scale=(1.6, 1.6), objects=(2, 2), max_iou=0.0,
               max_tries=5)


def test_open_scenes_names_seeds_and_refusals():
    from minidl.vision.datasets import SCENE_DATA, open_scenes
    assert set(SCENE_DATA) == {"scenes-mnist", "scenes-fashion"}
    a, b = open_scenes("scenes-fashion", "val", 5), open_scenes("scenes-fashion", "val", 5)
    assert a.source == "fashion-mnist-mini" and a.split == "val" and len(a) == 5
    np.testing.assert_array_equal(a[3][0].numpy(), b[3][0].numpy())
    assert not np.array_equal(open_scenes("scenes-fashion", "train", 5)[0][0].numpy(),
                              a[0][0].numpy())
    with pytest.raises(ValueError, match="unknown scene data 'scenes-cifar'"):
        open_scenes("scenes-cifar", "train")
    with pytest.raises(ValueError, match="split must be one of"):
        open_scenes("scenes-mnist", "dev")
