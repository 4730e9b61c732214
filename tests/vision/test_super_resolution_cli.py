"""``minidl train srcnn | vdsr | espcn | srgan`` for one tiny epoch, and ``minidl upscale``."""
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli
from minidl.vision.super_resolution_task import load_upscaler

TINY = ["--epochs", "1", "--patches", "8", "--batch-size", "4", "--limit", "3",
        "--no-progress"]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (10, 12)), np.ones((4, 4))).astype(np.uint8)
    for split, count in (("train", 2), ("val", 1), ("test", 1)):
        (root / split).mkdir()
        for i in range(count):
            Image.fromarray(np.roll(smooth, 3 * i, axis=1)).save(root / split / f"p{i}.png")
    return str(root)


@pytest.fixture(scope="module")
def espcn_run(photo_folder, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("espcn"))
    assert cli.main(["train", "espcn", "--scale", "4", "--data", photo_folder,
                     "--patch-size", "16", "--out", out, *TINY]) == 0
    return out


def test_train_writes_checkpoints_metrics_curves_and_the_comparison(espcn_run):
    for name in ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
                 "curves.png", "comparison.png"):
        assert os.path.getsize(os.path.join(espcn_run, name)) > 0, name
    with open(os.path.join(espcn_run, "metrics.json")) as f:
        metrics = json.load(f)
    epoch = metrics["history"][0]
    assert {"train_loss", "val_psnr", "val_ssim", "val_bicubic_psnr", "images_per_s"} <= set(
        epoch)
    assert metrics["selected"]["monitor"] == "val_psnr"
    assert {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"} <= set(metrics["test"])
    assert metrics["config"]["model"] == {"arch": "espcn", "scale": 4, "in_channels": 1}
    picture = Image.open(os.path.join(espcn_run, "comparison.png"))
    assert picture.size == (3 * 48 + 8, 40 + 4)  # bicubic | model | original of 40 x 48


def test_progress_figures_are_printed(photo_folder, tmp_path, capsys):
    assert cli.main(["train", "srcnn", "--scale", "2", "--data", "fashion-mnist-mini",
                     "--out", str(tmp_path / "srcnn"), *TINY]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\d+ images/s", out)
    assert re.search(r"test x2 on 3 images: PSNR \d+\.\d\d dB vs bicubic \d+\.\d\d dB "
                     r"\([+-]\d+\.\d\d dB\), SSIM", out)
    assert "SRCNN 8129 parameters" in out and "24 x 24" in out


def test_vdsr_and_srgan_train_a_tiny_epoch(tmp_path, capsys):
    assert cli.main(["train", "vdsr", "--scale", "2", "--data", "fashion-mnist-mini",
                     "--out", str(tmp_path / "vdsr"), *TINY]) == 0
    assert "gradient norm clipped to 0.4" in capsys.readouterr().out
    out = str(tmp_path / "srgan")
    assert cli.main(["train", "srgan", "--scale", "4", "--data", "fashion-mnist-mini",
                     "--num-blocks", "1", "--pretrain-epochs", "1", "--pretrain-patches", "4",
                     "--out", out, *TINY]) == 0
    printed = capsys.readouterr().out
    assert "content loss on: random multi-scale conv features" in printed
    assert "phase 1 done: val PSNR" in printed
    with open(os.path.join(out, "metrics.json")) as f:
        epoch = json.load(f)["history"][0]
    assert {"train_d_loss", "train_content", "train_adversarial"} <= set(epoch)
    assert os.path.isfile(os.path.join(out, "pretrain", "best.safetensors"))
    model, _ = load_upscaler(os.path.join(out, "best.safetensors"))
    assert model.scale == 4 and len(model.blocks) == 1


def test_upscale_grey_and_colour_pngs(espcn_run, tmp_path, capsys):
    ckpt = os.path.join(espcn_run, "best.safetensors")
    rng = np.random.default_rng(1)
    grey, colour = str(tmp_path / "grey.png"), str(tmp_path / "colour.png")
    Image.fromarray(rng.integers(0, 256, (9, 7), dtype=np.uint8)).save(grey)
    Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(colour)
    big = str(tmp_path / "big.png")
    assert cli.main(["upscale", ckpt, grey, "--out", big]) == 0
    assert "(7 x 9) -> " in capsys.readouterr().out
    image = Image.open(big)
    assert image.size == (28, 36) and image.mode == "L"
    model, _ = load_upscaler(ckpt)
    with minidl.no_grad():
        x = np.asarray(Image.open(grey), np.float32)[None, None] / 255
        expected = np.clip(model(minidl.from_numpy(x)).numpy()[0, 0], 0, 1)
    assert np.abs(np.asarray(image) / 255 - expected).max() <= 0.5 / 255 + 1e-6
    assert cli.main(["upscale", ckpt, colour, "--out", big, "--tile", "2"]) == 0
    assert Image.open(big).size == (24, 20) and Image.open(big).mode == "RGB"
    Image.open(colour).convert("RGBA").save(colour)
    assert cli.main(["upscale", ckpt, colour, "--out", big]) == 0
    assert Image.open(big).mode == "RGB"


def test_upscale_and_train_refusals(espcn_run, tmp_path, capsys):
    ckpt = os.path.join(espcn_run, "best.safetensors")
    image = str(tmp_path / "x.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(image)
    assert cli.main(["upscale", str(tmp_path / "none.safetensors"), image, "--out", "o.png"]) == 1
    assert "checkpoint" in capsys.readouterr().err
    assert cli.main(["upscale", ckpt, str(tmp_path / "none.png"), "--out", "o.png"]) == 1
    assert "image" in capsys.readouterr().err
    (tmp_path / "bad.png").write_text("not a picture")
    assert cli.main(["upscale", ckpt, str(tmp_path / "bad.png"), "--out", "o.png"]) == 1
    assert "cannot read the image" in capsys.readouterr().err
    other = str(tmp_path / "other.safetensors")
    minidl.save({"model": {}, "config": {"task": "seq2seq"}}, other)
    assert cli.main(["upscale", other, image, "--out", "o.png"]) == 1
    assert "names the task 'seq2seq'" in capsys.readouterr().err
    assert cli.main(["train", "espcn", "--data", str(tmp_path / "nowhere"), *TINY]) == 1
    assert "neither photos" in capsys.readouterr().err
    assert cli.main(["train", "srcnn", "--scale", "3", "--patch-size", "16", *TINY]) == 1
    assert "not a multiple of --scale 3" in capsys.readouterr().err
    assert cli.main(["train", "srgan", "--scale", "3", *TINY]) == 1
    assert "must be 2 or 4" in capsys.readouterr().err
    assert cli.main(["train", "srgan", "--patch-size", "40", *TINY]) == 1
    assert "multiple of 16" in capsys.readouterr().err
    assert cli.main(["train", "srgan", "--vgg-weights", str(tmp_path / "vgg.npz"), *TINY]) == 1
    assert "--vgg-weights" in capsys.readouterr().err
