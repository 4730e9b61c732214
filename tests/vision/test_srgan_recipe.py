"""The CPU recipe of ``minidl train srgan``: SRResNet without BatchNorm (EDSR-style) and with a
bicubic skip, the paper's BatchNorm generator still available."""
import json
import os

import numpy as np
import pytest
import torch

import minidl
from minidl import cli, nn
from minidl.vision import models
from minidl.vision.models.srgan import SRResNet
from minidl.vision.super_resolution_task import load_upscaler, run_tiled
from tests.reference.harness import assert_close

TINY = ["--epochs", "1", "--patches", "8", "--batch-size", "4", "--limit", "3",
        "--no-progress", "--data", "fashion-mnist-mini", "--num-blocks", "1",
        "--pretrain-epochs", "1", "--pretrain-patches", "4"]


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def batch_norms(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def test_without_batch_norm_the_generator_has_none_and_fewer_parameters():
    paper, edsr = SRResNet(4), SRResNet(4, batch_norm=False)
    assert len(batch_norms(paper)) == 2 * 16 + 1
    assert batch_norms(edsr) == []
    # each BatchNorm2d(64) holds a weight and a bias of 64: 33 of them leave
    assert n_params(paper) - n_params(edsr) == 33 * 128
    assert n_params(edsr) == 1524500
    # the skip adds no parameter
    assert n_params(SRResNet(4, batch_norm=False, bicubic_skip=True)) == 1524500


def test_bicubic_skip_starts_at_bicubic_and_adds_the_body():
    model = SRResNet(2, num_blocks=1, batch_norm=False, bicubic_skip=True)
    x = np.random.default_rng(0).random((2, 1, 7, 6), dtype=np.float32)
    bicubic = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=2,
                                              mode="bicubic", align_corners=False)
    with minidl.no_grad():
        assert_close(model(minidl.from_numpy(x)), bicubic, 1e-5, 1e-5)  # tail starts at 0
        nn.init.normal_(model.tail.weight, std=0.01)
        out = model(minidl.from_numpy(x)).numpy()
        plain = model.tail(model.upsample(model.head(minidl.from_numpy(x)) + model.fuse(
            model.blocks(model.head(minidl.from_numpy(x)))))).numpy()
    assert np.abs(plain).max() > 1e-3
    np.testing.assert_allclose(out - bicubic.numpy(), plain, atol=1e-5)


def test_without_skip_the_output_is_the_body_alone():
    model = SRResNet(2, num_blocks=1, batch_norm=False)
    assert not hasattr(model, "bicubic")
    assert float(abs(model.tail.weight).max()) > 0  # default init, not zeros


def test_skip_model_tiles_like_the_whole_image():
    model = SRResNet(2, num_blocks=1, batch_norm=False, bicubic_skip=True)
    nn.init.normal_(model.tail.weight, std=0.01)
    x = minidl.rand(1, 1, 23, 30)
    with minidl.no_grad():
        np.testing.assert_allclose(run_tiled(model, x, tile=7).numpy(), model(x).numpy(),
                                   atol=1e-5)


def test_flags_are_checked_and_reach_the_builder():
    with pytest.raises(TypeError, match=r"SRResNet\(batch_norm=\)"):
        SRResNet(2, batch_norm="no")
    with pytest.raises(TypeError, match=r"SRResNet\(bicubic_skip=\)"):
        SRResNet(2, bicubic_skip=1)
    model = models.get_model("srresnet", scale=2, num_blocks=1, batch_norm=False,
                             bicubic_skip=True)
    assert model.bicubic_skip and not model.batch_norm and batch_norms(model) == []


@pytest.mark.parametrize("flags, batch_norm, skip", [
    ([], False, True), (["--batch-norm", "--no-bicubic-skip"], True, False)])
def test_cli_honours_the_generator_flags(tmp_path, capsys, flags, batch_norm, skip):
    out = str(tmp_path / "srgan")
    assert cli.main(["train", "srgan", "--scale", "2", "--out", out, *TINY, *flags]) == 0
    printed = capsys.readouterr().out
    assert ("with BatchNorm" if batch_norm else "without BatchNorm") in printed
    assert ("bicubic skip" in printed) == skip
    with open(os.path.join(out, "metrics.json")) as f:
        config = json.load(f)["config"]["model"]
    assert config["batch_norm"] is batch_norm and config["bicubic_skip"] is skip
    model, _ = load_upscaler(os.path.join(out, "best.safetensors"))
    assert bool(batch_norms(model)) == batch_norm and model.bicubic_skip == skip
