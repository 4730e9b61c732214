"""examples/visualize_cnn.py: filter grids, hooked feature maps and the PNGs it writes."""
import importlib.util
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import nn

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "visualize_cnn.py")
_spec = importlib.util.spec_from_file_location("visualize_cnn", _PATH)
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


def _tiny(in_channels=1):
    minidl.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(in_channels, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(3, 2)).eval()


def test_feature_maps_one_stage_per_conv_and_pool_hooks_removed():
    model = _tiny()
    x = minidl.rand(1, 1, 8, 8)
    stages, out = V.feature_maps(model, x)
    assert [(name, kind, tuple(m.shape)) for name, kind, m in stages] == [
        ("0", "Conv2d", (4, 8, 8)), ("2", "MaxPool2d", (4, 4, 4)),
        ("3", "Conv2d", (3, 2, 2)), ("5", "AdaptiveAvgPool2d", (3, 1, 1))]
    np.testing.assert_allclose(stages[0][2].numpy(), model[0](x)[0].detach().numpy(),
                               rtol=1e-6)
    assert tuple(out.shape) == (1, 2)
    assert all(not m._forward_hooks for m in model.modules())
    again, _ = V.feature_maps(model, x)
    assert len(again) == 4      # no hook left over from the first call


@pytest.mark.parametrize("in_channels, expected", [(1, (3, 9, 9)), (3, (3, 9, 9)),
                                                   (2, (3, 17, 9))])
def test_filter_grid_shapes_and_range(in_channels, expected):
    grid = V.filter_grid(_tiny(in_channels))
    # 4 kernels 3 x 3: 2 x 2 tiles (grey or RGB); 2 input channels: 4 rows of 2 grey tiles
    assert tuple(grid.shape) == expected
    a = grid.numpy()
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_first_conv_missing():
    with pytest.raises(ValueError, match="Linear has no Conv2d layer"):
        V.filter_grid(nn.Linear(2, 2))


def test_maps_grid_caps_channels_and_enlarge():
    maps = minidl.rand(10, 5, 6)
    assert tuple(V.maps_grid(maps).shape) == (3, 3 * 6 + 1, 4 * 7 + 1)   # 3 rows of 4 tiles
    assert tuple(V.maps_grid(maps, max_channels=4).shape) == (3, 2 * 6 + 1, 2 * 7 + 1)
    big = V.enlarge(minidl.rand(3, 10, 20), min_side=50)
    assert tuple(big.shape) == (3, 50, 100)


def test_visualize_writes_pngs(tmp_path):
    model = _tiny()
    x = minidl.rand(1, 1, 8, 8)
    written, stages = V.visualize(model, x, x[0], str(tmp_path), caption="tiny")
    names = sorted(os.path.basename(p) for p in written)
    assert names == ["filters.png", "input.png", "overview.png", "stage1_0.png", "stage2_2.png",
                     "stage3_3.png", "stage4_5.png"]
    for p in written:
        with Image.open(p) as im:
            assert im.format == "PNG" and min(im.size) > 8


def test_main_trains_lenet_when_no_checkpoint(tmp_path, capsys):
    out = str(tmp_path / "viz")
    assert V.main(["--out", out, "--limit", "64", "--index", "2"]) == 0
    text = capsys.readouterr().out
    assert "training LeNet-5" in text and "features.0" in text and "predicted" in text
    ckpt = os.path.join(out, "lenet-run", "best.safetensors")
    model, config = V.load_model(ckpt)
    assert config["arch"] == "lenet5" and isinstance(model, minidl.vision.models.LeNet5)
    x, display, label, classes = V.test_image(config["data"], 2, config["normalize"])
    assert tuple(x.shape) == (1, 1, 28, 28) and tuple(display.shape) == (1, 28, 28)
    assert 0 <= label < len(classes) == 10
    mean, std = config["normalize"]
    np.testing.assert_allclose(x[0].numpy(), (display.numpy() - mean) / std, rtol=1e-5,
                               atol=1e-6)
    for name in ("filters.png", "input.png", "overview.png", "stage4_features-5.png"):
        assert os.path.isfile(os.path.join(out, name))
    with pytest.raises(SystemExit, match="does not exist"):
        V.main(["--checkpoint", str(tmp_path / "missing.safetensors")])
    with pytest.raises(SystemExit, match="--index must be in"):
        V.main(["--checkpoint", ckpt, "--out", out, "--index", "99999"])
