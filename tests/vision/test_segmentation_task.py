"""``minidl train fcn`` / ``minidl train unet`` for one short epoch on a few scenes, and
``minidl segment`` on a PNG written here."""
import contextlib
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli
from minidl.serialization import save
from minidl.vision.models import get_model
from minidl.vision.segmentation_task import (
    DEFAULTS,
    load_segmenter,
    median_frequency_weights,
    overlay,
    predict,
)

TINY = ["--epochs", "1", "--limit", "8", "--eval-limit", "4", "--batch-size", "4",
        "--base-channels", "2", "--no-progress", "--threads", "1"]
FILES = ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv", "curves.png",
         "masks.png")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for task, extra in (("fcn", []), ("unet", ["--depth", "2", "--bilinear"])):
        out[task] = str(tmp_path_factory.mktemp(task))
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert cli.main(["train", task, "--data", "scenes-fashion", "--out", out[task],
                             *TINY, *extra]) == 0
        out[task + " printed"] = printed.getvalue()
    return out


@pytest.mark.parametrize("task", ["fcn", "unet"])
def test_train_writes_its_files_and_figures(runs, task, capsys):
    for name in FILES:
        assert os.path.getsize(os.path.join(runs[task], name)) > 0, name
    with open(os.path.join(runs[task], "metrics.json")) as f:
        metrics = json.load(f)
    epoch = metrics["history"][0]
    assert {"train_loss", "val_loss", "val_miou", "val_pixel_acc", "images_per_s"} <= set(epoch)
    assert metrics["selected"]["monitor"] == "val_miou"
    test = metrics["test"]
    assert 0 <= test["miou"] <= 1 and 0 <= test["pixel_acc"] <= 1 and test["n"] == 4
    assert len(test["iou"]) == 11 and "__background__" in test["iou"]
    config = metrics["config"]
    assert config["task"] == task and config["data"] == "scenes-fashion"
    assert config["class_weight"] == DEFAULTS[task]["class_weight"]
    model, config = load_segmenter(os.path.join(runs[task], "best.safetensors"))
    assert config["arch"] == {"fcn": "fcn8s_mini", "unet": "unet_mini"}[task]
    with Image.open(os.path.join(runs[task], "masks.png")) as img:
        assert img.width > 400


@pytest.mark.parametrize("task", ["fcn", "unet"])
def test_train_prints_the_test_figures_and_images_per_second(runs, task):
    printed = runs[task + " printed"]
    assert "images/s" in printed and "test: mean IoU" in printed
    assert "test IoU per class (%): __background__" in printed


def test_segment_draws_the_predicted_masks_over_an_image(runs, tmp_path, capsys):
    rng = np.random.default_rng(0)
    rgb = (rng.random((50, 70, 3)) * 255).astype(np.uint8)  # not a multiple of the strides
    src, dst = str(tmp_path / "in.png"), str(tmp_path / "out.png")
    Image.fromarray(rgb).save(src)
    for task in ("fcn", "unet"):
        assert cli.main(["segment", os.path.join(runs[task], "best.safetensors"), src,
                         "--out", dst]) == 0
        assert "70 x 50 pixels" in capsys.readouterr().out
        with Image.open(dst) as img:
            assert img.size == (70, 50) and img.mode == "RGB"


def test_predict_pads_to_the_stride_and_crops_back():
    minidl.manual_seed(0)
    model = get_model("unet_mini", base_channels=2, depth=2).eval()
    images = np.random.default_rng(1).random((2, 1, 10, 13)).astype(np.float32)
    maps = predict(model, images, batch_size=1)
    assert maps.shape == (2, 10, 13) and maps.dtype == np.int64
    padded = np.pad(images, ((0, 0), (0, 0), (0, 2), (0, 3)))
    with minidl.no_grad():
        want = model(minidl.from_numpy(padded)).argmax(1).numpy()[:, :10, :13]
    np.testing.assert_array_equal(maps, want)


def test_overlay_colours_glyph_classes_only():
    image = np.zeros((1, 4, 4), np.float32)
    classes_map = np.zeros((4, 4), np.int64)
    classes_map[1, 2] = 3
    drawn = overlay(image, classes_map, alpha=1.0)
    assert drawn.shape == (3, 4, 4) and drawn.dtype == np.uint8
    assert tuple(drawn[:, 1, 2]) == (44, 160, 44) and not drawn[:, 0, 0].any()


def test_segment_refuses_bad_inputs(runs, tmp_path, capsys):
    best = os.path.join(runs["unet"], "best.safetensors")
    png = str(tmp_path / "x.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(png)
    assert cli.main(["segment", str(tmp_path / "missing.safetensors"), png, "--out", png]) == 1
    assert "checkpoint" in capsys.readouterr().err
    assert cli.main(["segment", best, str(tmp_path / "none.png"), "--out", png]) == 1
    assert "image" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert cli.main(["segment", best, str(text), "--out", png]) == 1
    assert "not an image file" in capsys.readouterr().err
    other = str(tmp_path / "other.safetensors")
    save({"model": {}, "config": {"task": "seq2seq"}}, other)
    assert cli.main(["segment", other, png, "--out", png]) == 1
    assert "is not a checkpoint of 'minidl train fcn | unet'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["segment", best, png])  # --out is required
    assert "--out" in capsys.readouterr().err


def test_train_refuses_bad_options(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "unet", "--data", "mnist-mini"])
    assert "invalid choice: 'mnist-mini'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "fcn", "--limit", "0"])
    assert "expected a positive integer, got 0" in capsys.readouterr().err
    assert cli.main(["train", "unet", "--depth", "7", "--out", str(tmp_path / "deep"),
                     *TINY]) == 1
    assert "--depth 7" in capsys.readouterr().err


def test_median_frequency_weights_follow_eigen_and_fergus():
    # class 0 fills 7 of 8 pixels of map A and 2 of 8 of map B; class 1 is in A only (1 pixel);
    # class 2 only in B (6 pixels); class 3 in no map
    a = np.array([[0, 0, 0, 0], [0, 0, 0, 1]])
    b = np.array([[0, 0, 2, 2], [2, 2, 2, 2]])
    weights = median_frequency_weights(np.stack([a, b]), 4)
    freq = np.array([9 / 16, 1 / 8, 6 / 8])  # pixels of c / pixels of the maps holding c
    np.testing.assert_allclose(weights[:3], np.median(freq) / freq)
    assert weights[3] == 0
    with pytest.raises(ValueError, match=r"maps must be \(N, H, W\), got shape \(2, 4\)"):
        median_frequency_weights(a, 4)
    with pytest.raises(TypeError, match="integer class indices, got dtype float64"):
        median_frequency_weights(np.stack([a, b]).astype(float), 4)
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 2\), got 0..2"):
        median_frequency_weights(np.stack([a, b]), 2)
    with pytest.raises(ValueError, match="num_classes must be a positive integer, got 0"):
        median_frequency_weights(np.stack([a, b]), 0)
