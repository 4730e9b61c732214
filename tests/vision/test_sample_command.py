"""``minidl sample CHECKPOINT --n N [--class C] [--seed S] --out grid.png``: the grid's size,
the classes it shows, its seed, and the refusals."""
import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli
from minidl.serialization import save
from minidl.vision.gan_trainer import fixed_noise, generate
from minidl.vision.models.generative.gan import ConditionalGenerator, Generator


def checkpoint(path, task, generator, arch, model, num_classes=None):
    save({"format": "minidl.train/1", "epoch": 1, "model": generator.state_dict(),
          "config": {"task": task, "data": "mnist-mini", "latent_dim": 8, "arch": arch,
                     "model": model, "num_classes": num_classes, "pixel_range": "-1-1"}},
         path)
    return str(path)


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    minidl.manual_seed(0)
    return checkpoint(tmp_path_factory.mktemp("gan") / "best.safetensors", "gan",
                      Generator(8, (16,)), "Generator", {"latent_dim": 8, "hidden_dims": [16]})


@pytest.fixture(scope="module")
def cgan(tmp_path_factory):
    minidl.manual_seed(0)
    g = ConditionalGenerator(10, 8, (16,))
    path = checkpoint(tmp_path_factory.mktemp("cgan") / "best.safetensors", "cgan", g,
                      "ConditionalGenerator",
                      {"num_classes": 10, "latent_dim": 8, "hidden_dims": [16]}, 10)
    return path, g


def grid(tmp_path, *argv, name="grid.png"):
    out = str(tmp_path / name)
    assert cli.main(["sample", *argv, "--out", out]) == 0
    return np.asarray(Image.open(out))


def cell(picture, row, col):
    """The image at (row, col) of a make_grid picture (28 x 28 cells, padding 2)."""
    y, x = 2 + 30 * row, 2 + 30 * col
    return picture[y:y + 28, x:x + 28, 0]


def test_unconditional_grid_has_n_images_eight_per_row(tmp_path, gan):
    assert grid(tmp_path, gan).shape == (8 * 30 + 2, 8 * 30 + 2, 3)
    assert grid(tmp_path, gan, "--n", "20").shape == (3 * 30 + 2, 8 * 30 + 2, 3)
    assert grid(tmp_path, gan, "--n", "6", "--nrow", "3").shape == (62, 92, 3)


def test_the_seed_fixes_the_picture(tmp_path, gan):
    a, b = grid(tmp_path, gan, "--seed", "3"), grid(tmp_path, gan, "--seed", "3", name="b.png")
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - grid(tmp_path, gan, "--seed", "4")).max() > 0


def test_conditional_grid_has_one_row_per_class(tmp_path, cgan):
    path, g = cgan
    picture = grid(tmp_path, path, "--n", "20")  # 10 rows of 2
    assert picture.shape == (10 * 30 + 2, 2 * 30 + 2, 3)
    labels = np.repeat(np.arange(10), 2)
    expected = generate(g, fixed_noise(20, 8, 0), labels)
    for i in (0, 7, 19):
        pixels = np.clip(expected[i, 0] * 255 + 0.5, 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(cell(picture, i // 2, i % 2), pixels)


def test_class_option_draws_that_class(tmp_path, cgan):
    path, g = cgan
    picture = grid(tmp_path, path, "--n", "4", "--class", "3")
    assert picture.shape == (32, 4 * 30 + 2, 3)
    expected = generate(g, fixed_noise(4, 8, 0), np.full(4, 3))
    pixels = np.clip(expected[2, 0] * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(cell(picture, 0, 2), pixels)


def test_bad_options_are_refused(tmp_path, gan, cgan, capsys):
    out = str(tmp_path / "x.png")
    assert cli.main(["sample", gan, "--class", "3", "--out", out]) == 1
    assert "--class is for conditional models" in capsys.readouterr().err
    assert cli.main(["sample", cgan[0], "--class", "10", "--out", out]) == 1
    assert "--class 10 is not a class of this model" in capsys.readouterr().err
    assert cli.main(["sample", str(tmp_path / "missing.safetensors"), "--out", out]) == 1
    assert "does not exist" in capsys.readouterr().err
    other = str(tmp_path / "lm.safetensors")
    save({"model": {}, "config": {"task": "lm"}}, other)
    assert cli.main(["sample", other, "--out", out]) == 1
    assert "'lm'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["sample", gan, "--n", "0", "--out", out])
    with pytest.raises(SystemExit):
        cli.main(["sample", gan])  # --out is required
