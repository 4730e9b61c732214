"""The detection task's pieces: scene batches, mAP evaluation of a detector, the picture."""
import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.tensor import Tensor
from minidl.vision.datasets import open_scenes
from minidl.vision.detection_task import DetectionTrainer, SceneBatches, draw_detections


@pytest.fixture(scope="module")
def scenes():
    return open_scenes("scenes-mnist", "val", 12)


def test_scene_batches_cover_every_scene_in_a_new_seeded_order_each_epoch(scenes):
    a, b = SceneBatches(scenes, 5, shuffle=True, seed=3), SceneBatches(scenes, 5, shuffle=True,
                                                                        seed=3)
    assert len(a) == 3
    first = np.concatenate([idx for *_, idx in a])
    second = np.concatenate([idx for *_, idx in a])
    assert sorted(first) == list(range(12)) and sorted(second) == list(range(12))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, np.concatenate([idx for *_, idx in b]))
    images, targets, idx = next(iter(SceneBatches(scenes, 5)))
    assert tuple(images.shape) == (5, 1, 96, 96) and list(idx) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(images.numpy()[2], scenes[2][0].numpy())
    np.testing.assert_array_equal(targets[2]["boxes"].numpy(), scenes[2][1]["boxes"].numpy())
    assert set(targets[0]) == {"boxes", "labels"}


class Oracle(nn.Module):
    """Returns the loader's ground truth, boxes shifted by ``shift`` pixels, in scene order."""

    def __init__(self, loader, shift=0.0):
        super().__init__()
        self.targets, self.shift, self.seen = loader.targets, shift, 0
        self.w = nn.Parameter(minidl.zeros(1))

    def forward(self, images, targets=None):
        out = []
        for _ in range(len(images)):
            t = self.targets[self.seen % len(self.targets)]
            self.seen += 1
            k = len(t["labels"])
            out.append({"boxes": t["boxes"] + self.shift,
                        "scores": Tensor(np.linspace(1, 0.5, k).astype(np.float32)),
                        "labels": t["labels"]})
        return out


def test_evaluation_gives_map_one_to_the_truth_and_less_to_shifted_boxes(scenes):
    loader = SceneBatches(scenes, 5)
    perfect = DetectionTrainer(Oracle(loader), minidl.optim.SGD([minidl.zeros(1)], lr=0.1),
                               progress=None).evaluate_loader(loader)
    assert perfect["map50"] == pytest.approx(1.0) and perfect["map"] == pytest.approx(1.0)
    assert perfect["n"] == 12 and perfect["loss"] is None and perfect["images_per_s"] > 0
    off = DetectionTrainer(Oracle(loader, shift=4.0), minidl.optim.SGD([minidl.zeros(1)], lr=0.1),
                           progress=None).evaluate_loader(loader)
    assert off["map"] < off["map50"] <= 1.0 and off["map"] < 0.9


def test_training_step_sums_the_loss_dict(scenes):
    class Losses(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(minidl.ones(1))

        def forward(self, images, targets):
            return {"a": self.w.sum() * 2, "b": self.w.sum() * len(targets)}

    trainer = DetectionTrainer(Losses(), minidl.optim.SGD([minidl.zeros(1)], lr=0.1),
                               progress=None)
    step = trainer.training_step(next(iter(SceneBatches(scenes, 4))))
    assert step["n"] == 4 and float(step["loss"].item()) == pytest.approx(6.0)


def test_draw_detections_tiles_enlarged_scenes(scenes):
    loader = SceneBatches(scenes, 5)
    found = Oracle(loader)(Tensor(loader.images[:3]))
    grid = draw_detections(Tensor(loader.images[:3]), found, scenes.classes, loader.targets[:3])
    assert grid.shape[0] == 3 and grid.shape[2] == 3 * (3 * 96 + 2) + 2
    assert float(grid.max()) <= 1.0 and float(grid.numpy()[1].max()) > float(
        grid.numpy()[0].min())
