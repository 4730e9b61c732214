"""``minidl train vit`` and ``minidl train swin``: two short epochs on real MNIST digits
(300 to train, 30 of them validating, 64 to test), then the ViT attention-map example on
the checkpoint."""
import json

import pytest

from minidl import cli
from tests.test_examples import load

from .idx_helpers import bundled_subset_folder


@pytest.mark.parametrize("model,arch,kwargs", [
    ("vit", "vit_mini", {"num_classes": 10, "in_channels": 1, "image_size": 28}),
    ("swin", "swin_mini", {"num_classes": 10, "in_channels": 1})])
def test_trains_from_the_command_line(model, arch, kwargs, tmp_path, capsys):
    folder = bundled_subset_folder(tmp_path / "mnist", "mnist-mini", 300, 64)
    out = tmp_path / "run"
    code = cli.main(["train", model, "--data", str(folder), "--epochs", "2", "--batch-size",
                     "30", "--lr", "2e-3", "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    log = json.loads((out / "metrics.json").read_text())
    config, history = log["config"], log["history"]
    assert config["arch"] == arch and config["optimizer"] == "adamw"
    assert config["model_kwargs"] == kwargs
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert (out / "best.safetensors").is_file()
    if model == "vit":  # the attention-map example reads the checkpoint and the test images
        result = load("vit_attention_map.py").main([
            str(out / "best.safetensors"), "--count", "3", "--out", str(tmp_path / "maps.png")])
        assert [m.shape for m in result["maps"]] == [(3, 7, 7), (3, 7, 7)]
        assert (tmp_path / "maps.png").stat().st_size > 2000
