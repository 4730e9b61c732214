"""``minidl style`` end to end on two small PNGs, the optimisation loop, and its refusals."""
import csv
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli
from minidl.vision.style_features import RandomMultiScaleFeatures
from minidl.vision.style_transfer import StyleTransferLoss, stylize


def _picture(path, height, width, seed):
    """A smooth colour gradient with a few random blobs: structure for the content cost."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    a = np.stack([x, y, 1 - x * y], axis=-1)
    for _ in range(4):
        cy, cx, r = rng.random(3) * [height, width, height / 4]
        a[(np.mgrid[0:height, 0:width][0] - cy) ** 2
          + (np.mgrid[0:height, 0:width][1] - cx) ** 2 < r * r] = rng.random(3)
    Image.fromarray((a * 255).astype(np.uint8)).save(path)
    return str(path)


@pytest.fixture()
def pictures(tmp_path):
    return (_picture(tmp_path / "content.png", 40, 32, 0),
            _picture(tmp_path / "style.jpg", 32, 48, 1))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_both_optimizers_lower_the_total_cost_and_keep_pixels_in_range(pictures, optimizer):
    minidl.manual_seed(0)
    from minidl.vision.style_task import load_image
    content, style = load_image(pictures[0], 32), load_image(pictures[1], 32)
    net = RandomMultiScaleFeatures(levels=3, channels=16, kernel_size=5)
    loss = StyleTransferLoss(net, content, style, "scale1", net.layer_names,
                             content_weight=1.0, style_weight=1e8, tv_weight=1.0)
    image, history = stylize(loss, minidl.rand(*content.shape) * 1.6 - 0.3, 12, optimizer)
    assert [h["step"] for h in history][:2] == ([0, 10] if optimizer == "lbfgs" else [0, 1])
    assert history[-1]["step"] == 12
    assert history[-1]["total"] < 0.5 * history[0]["total"]
    assert history[-1]["style"] < history[0]["style"]
    assert tuple(image.shape) == tuple(content.shape) and not image.requires_grad
    assert 0.0 <= image.min().item() and image.max().item() <= 1.0
    with pytest.raises(ValueError, match="steps"):
        stylize(loss, content, 0, optimizer)


def test_the_command_writes_the_result_the_side_by_side_and_the_costs(pictures, tmp_path,
                                                                      capsys):
    out = str(tmp_path / "result" / "cat.png")
    assert cli.main(["style", *pictures, "--size", "32", "--steps", "3", "--out", out,
                     "--no-progress", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "features: random multi-scale filters" in printed
    assert "(no VGG-19 weights given)" in printed
    assert "done in" in printed and "steps/s" in printed and "style" in printed
    with Image.open(out) as result:
        assert result.size == (26, 32)  # the content image, longer side --size
    with Image.open(str(tmp_path / "result" / "cat_side_by_side.png")) as side:
        assert side.size == (26 + round(32 * 32 / 21) + 26 + 2 * 4, 32)  # style: 32 x 21
    with open(str(tmp_path / "result" / "cat_costs.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [0, 3]
    assert float(rows[-1]["total"]) < float(rows[0]["total"])


def test_adam_from_noise_with_the_course_costs_runs(pictures, tmp_path, capsys):
    out = str(tmp_path / "noise.png")
    assert cli.main(["style", *pictures, "--size", "24", "--steps", "2", "--out", out,
                     "--optimizer", "adam", "--lr", "0.05", "--init", "noise",
                     "--content-cost", "course", "--tv-kind", "absolute", "--style-weight",
                     "1e6", "--content-layer", "scale1", "--style-layers", "scale0",
                     "scale1"]) == 0
    assert "adam, 2 steps, init noise" in capsys.readouterr().out
    assert os.path.getsize(out) > 0


def test_clear_errors(pictures, tmp_path, capsys):
    missing = str(tmp_path / "missing.png")
    assert cli.main(["style", missing, pictures[1], "--out", str(tmp_path / "x.png")]) == 1
    assert "does not exist" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert cli.main(["style", pictures[0], str(text), "--out", str(tmp_path / "x.png")]) == 1
    assert "cannot read" in capsys.readouterr().err
    not_vgg = tmp_path / "weights.safetensors"
    minidl.save({"fc.weight": minidl.zeros(2, 2)}, str(not_vgg))
    assert cli.main(["style", *pictures, "--size", "32", "--weights", str(not_vgg)]) == 1
    assert "is not a VGG-19 state_dict" in capsys.readouterr().err
    assert cli.main(["style", *pictures, "--size", "32", "--style-layers", "conv1_1"]) == 1
    assert "no layer(s) ['conv1_1']" in capsys.readouterr().err
    for option, value in (("--size", "0"), ("--steps", "0"), ("--steps", "-3"),
                          ("--style-weight", "-1"), ("--lr", "0")):
        with pytest.raises(SystemExit) as e:
            cli.main(["style", *pictures, option, value])
        assert e.value.code == 2
        assert value in capsys.readouterr().err
    assert cli.main(["style", *pictures, "--size", "8"]) == 2
    assert "--size must be at least 16" in capsys.readouterr().err
    assert cli.main(["style", *pictures, "--out", str(tmp_path / "x.jpg")]) == 2
    assert "--out must name a .png file" in capsys.readouterr().err
    assert not os.path.exists(str(tmp_path / "x.png"))
