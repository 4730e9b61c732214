"""The model zoo against torchvision: parameter counts, state_dict key names, multiply-
accumulates at 224 x 224, output shapes at 224 and for small inputs, constructor options,
and a short training run from the command line.

torchvision is not installed here; the expected numbers are torchvision's published ones
(the ``num_params`` and ``_ops`` (GMACs) of its weight tables), written out below.
"""
import json
import os

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.utils.summary import summary
from minidl.vision import models

from .idx_helpers import bundled_subset_folder

TORCHVISION_PARAMS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240,
    "densenet121": 7_978_856, "densenet161": 28_681_000, "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "mobilenet_v2": 3_504_872,
}

ZOO = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
       "vgg19_bn", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
       "resnext50_32x4d", "wide_resnet50_2", "densenet121", "densenet161", "densenet169",
       "densenet201", "mobilenet_v2", "nin"]


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def no_random_init(monkeypatch):
    """Counting parameters needs shapes only: skip drawing ~100 M random numbers."""
    monkeypatch.setattr(nn.init, "_draw", lambda tensor, generator, sampler: tensor)


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_parameter_counts_equal_torchvision(name, no_random_init):
    assert n_params(models.get_model(name)) == TORCHVISION_PARAMS[name]


def test_googlenet_nin_lenet_counts(no_random_init):
    assert n_params(models.googlenet(aux_logits=False)) == 6_624_904
    # torchvision's default keeps the two auxiliary classifiers
    assert n_params(models.googlenet()) == 6_624_904 + 3_188_968 + 3_191_016
    # NiN (not in torchvision): 4 mlpconv blocks, counted by hand
    blocks = [(3, 96, 11), (96, 256, 5), (256, 384, 3), (384, 1000, 3)]
    assert n_params(models.nin()) == sum(i * o * k * k + o + 2 * (o * o + o)
                                         for i, o, k in blocks)
    assert n_params(models.lenet5()) == 61_706


def test_registry_lists_the_zoo():
    assert set(ZOO) | {"lenet5", "mlp"} <= set(models.list_models())
    assert models.get_model_builder("ResNet18") is models.resnet18


def test_num_classes_and_in_channels(no_random_init):
    m = models.resnet18(num_classes=10, in_channels=1)
    assert tuple(m.conv1.weight.shape) == (64, 1, 7, 7) and tuple(m.fc.weight.shape) == (10, 512)
    assert n_params(m) == 11_689_512 - 64 * 2 * 49 - 990 * 513
    m = models.vgg11(num_classes=7, in_channels=1)
    assert tuple(m.features[0].weight.shape) == (64, 1, 3, 3)
    assert tuple(m.classifier[6].weight.shape) == (7, 4096)


# ----------------------------------------------------------------- key names
def keys(model):
    return list(model.state_dict())


def test_resnet18_keys(no_random_init):
    k = keys(models.resnet18())
    assert k[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                     "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"]
    for key in ["layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                "layer4.1.bn2.bias", "fc.weight", "fc.bias"]:
        assert key in k
    assert k[-2:] == ["fc.weight", "fc.bias"] and len(k) == 122
    state = models.resnet18().state_dict()
    assert tuple(state["layer3.0.downsample.0.weight"].shape) == (256, 128, 1, 1)


def test_vgg11_and_alexnet_keys(no_random_init):
    convs = [0, 3, 6, 8, 11, 13, 16, 18]
    assert keys(models.vgg11()) == [f"features.{i}.{p}" for i in convs for p in
                                    ("weight", "bias")] + \
        [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert keys(models.alexnet()) == [f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in
                                      ("weight", "bias")] + \
        [f"classifier.{i}.{p}" for i in (1, 4, 6) for p in ("weight", "bias")]
    k = keys(models.vgg11_bn())
    assert k[:6] == ["features.0.weight", "features.0.bias", "features.1.weight",
                     "features.1.bias", "features.1.running_mean", "features.1.running_var"]


def test_densenet121_keys(no_random_init):
    k = keys(models.densenet121())
    assert k[:2] == ["features.conv0.weight", "features.norm0.weight"]
    for key in ["features.denseblock1.denselayer1.norm1.weight",
                "features.denseblock1.denselayer1.conv1.weight",
                "features.denseblock1.denselayer6.conv2.weight",
                "features.transition1.norm.running_mean", "features.transition1.conv.weight",
                "features.denseblock4.denselayer16.norm2.num_batches_tracked",
                "features.norm5.running_var"]:
        assert key in k
    assert k[-2:] == ["classifier.weight", "classifier.bias"] and len(k) == 727
    state = models.densenet121().state_dict()
    assert tuple(state["features.denseblock2.denselayer1.conv1.weight"].shape) == (128, 128, 1, 1)


def test_googlenet_and_mobilenet_keys(no_random_init):
    k = keys(models.googlenet())
    for key in ["conv1.conv.weight", "conv1.bn.running_var", "inception3a.branch1.conv.weight",
                "inception3a.branch2.1.conv.weight", "inception3a.branch3.1.bn.bias",
                "inception3a.branch4.1.conv.weight", "aux1.conv.conv.weight", "aux2.fc2.bias",
                "fc.weight"]:
        assert key in k
    assert tuple(models.googlenet().state_dict()["inception3a.branch3.1.conv.weight"].shape) \
        == (32, 16, 3, 3)      # torchvision's 3x3 in the "5x5" branch
    k = keys(models.mobilenet_v2())
    for key in ["features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight",
                "features.1.conv.1.weight", "features.1.conv.2.bias", "features.2.conv.0.0.weight",
                "features.2.conv.1.0.weight", "features.2.conv.3.running_var",
                "features.18.0.weight", "classifier.1.weight"]:
        assert key in k


def test_state_dict_round_trip_through_numpy():
    """A state_dict as NumPy arrays (how converted torchvision weights arrive) loads."""
    src, dst = models.mobilenet_v2(num_classes=10), models.mobilenet_v2(num_classes=10)
    arrays = {k: v.numpy().copy() for k, v in src.state_dict().items()}
    dst.load_state_dict({k: minidl.from_numpy(v) for k, v in arrays.items()})
    x = minidl.randn(1, 3, 64, 64)
    src.eval(), dst.eval()
    with minidl.no_grad():
        np.testing.assert_array_equal(src(x).numpy(), dst(x).numpy())


# ------------------------------------------------------ MACs and shapes at 224
TORCHVISION_GMACS = {"resnet18": 1.814, "alexnet": 0.714, "mobilenet_v2": 0.301,
                     "googlenet": 1.498, "densenet121": 2.834}


@pytest.mark.parametrize("name", sorted(TORCHVISION_GMACS))
def test_forward_at_224_and_macs_equal_torchvision(name):
    kwargs = {"aux_logits": False} if name == "googlenet" else {}
    s = summary(models.get_model(name, **kwargs), (3, 224, 224))
    assert s.output_shape == [1, 1000]
    assert round(s.total_macs / 1e9, 3) == TORCHVISION_GMACS[name]


def test_nin_at_224():
    m = models.nin(num_classes=5).eval()
    with minidl.no_grad():
        assert tuple(m(minidl.randn(1, 3, 224, 224)).shape) == (1, 5)


# ---------------------------------------------------------------- small inputs
SMALL = ["alexnet", "vgg11", "vgg11_bn", "vgg16", "googlenet", "resnet18", "resnet50",
         "resnext50_32x4d", "densenet121", "mobilenet_v2", "nin"]


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_small_input_variants(name, shape):
    m = models.get_model(name, num_classes=10, in_channels=shape[0], small_input=True).eval()
    assert m.small_input is True
    with minidl.no_grad():
        out = m(minidl.randn(2, *shape))
    assert tuple(out.shape) == (2, 10)
    assert np.isfinite(out.numpy()).all()


def test_small_input_keeps_key_names(no_random_init):
    for name in ("alexnet", "vgg11_bn", "googlenet", "resnet18", "densenet121",
                 "mobilenet_v2", "nin"):
        assert keys(models.get_model(name, small_input=True)) == keys(models.get_model(name))


def test_small_input_stems():
    m = models.resnet18(small_input=True, in_channels=1)
    assert m.conv1.kernel_size == (3, 3) and m.conv1.stride == (2, 2)
    assert isinstance(m.maxpool, nn.Identity)
    assert models.mobilenet_v2(small_input=True).features[0][0].stride == (1, 1)
    assert models.googlenet(small_input=True).conv1.conv.kernel_size == (3, 3)
    d = models.densenet121(small_input=True)
    assert d.features.conv0.stride == (2, 2) and isinstance(d.features.pool0, nn.Identity)
    # small VGG: all five pools kept (rounding up), 512 -> 512 -> 512 -> classes head
    v = models.vgg11(small_input=True, num_classes=10)
    assert all(p.ceil_mode for p in v.features if isinstance(p, nn.MaxPool2d))
    assert tuple(v.classifier[0].weight.shape) == (512, 512)
    assert tuple(models.lenet5(in_channels=3, image_size=32)(minidl.randn(1, 3, 32, 32)).shape) \
        == (1, 10)


def test_small_resnet_stride_choice_in_macs():
    """The documented cost: stride-2 3x3 stem, 0.14 G MACs per 32 x 32 image."""
    s = summary(models.resnet18(num_classes=10, small_input=True), (3, 32, 32))
    assert round(s.total_macs / 1e9, 2) == 0.14


# ------------------------------------------------------------ constructor options
def test_weights_argument():
    assert isinstance(models.resnet18(weights=None), models.ResNet)
    for name in ("resnet18", "alexnet", "vgg11", "googlenet", "densenet121", "mobilenet_v2",
                 "nin", "lenet5"):
        with pytest.raises(ValueError, match=f"{name}: weights='DEFAULT' asks for pretrained "
                                             f"weights.*network.*weights=None"):
            models.get_model(name, weights="DEFAULT")
    with pytest.raises(ValueError, match="pretrained=True asks for pretrained weights"):
        models.resnet50(pretrained=True)


def test_resnet_options():
    m = models.resnet18(zero_init_residual=True)
    assert all(float(b.bn2.weight.abs().sum()) == 0 for layer in
               (m.layer1, m.layer2, m.layer3, m.layer4) for b in layer)
    assert float(m.layer1[0].bn1.weight.sum()) == 64
    m = models.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=3,
                        in_channels=1, small_input=True)
    assert m.layer4[1].conv2.dilation == (4, 4) and m.layer4[0].conv2.stride == (1, 1)
    s = summary(m, (1, 32, 32), depth=1)
    assert [r.output_shape for r in s.rows if r.name == "layer4"] == [[1, 2048, 8, 8]]
    assert models.resnext50_32x4d().layer1[0].conv2.groups == 32
    m = models.resnet18(norm_layer=lambda c: nn.GroupNorm(8, c), num_classes=4)
    assert isinstance(m.bn1, nn.GroupNorm)
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a "
                                         "3-element tuple"):
        models.resnet18(replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])


def test_googlenet_options():
    m = models.googlenet(num_classes=4, in_channels=1, small_input=True)
    x = minidl.randn(2, 1, 28, 28)
    out = m(x)          # training mode with aux_logits: the three outputs
    assert isinstance(out, models.GoogLeNetOutputs)
    assert [tuple(t.shape) for t in out] == [(2, 4)] * 3
    m.eval()
    assert tuple(m(x).shape) == (2, 4)
    assert models.googlenet(aux_logits=False).aux1 is None
    # transform_input re-normalizes ImageNet-normalized inputs to (x - 0.5) / 0.5
    m = models.googlenet(transform_input=True, aux_logits=False, small_input=True)
    x = minidl.randn(1, 3, 8, 8)
    got = m._transform_input(x).numpy()
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    raw = x.numpy() * std[:, None, None] + mean[:, None, None]
    np.testing.assert_allclose(got, (raw - 0.5) / 0.5, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="transform_input=True .* in_channels=1"):
        models.googlenet(transform_input=True, in_channels=1)
    with pytest.raises(ValueError, match="blocks length should be 3 instead of 2"):
        models.GoogLeNet(blocks=[models.BasicConv2d, models.Inception])
    block = models.Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=5)
    assert block.branch3[1].conv.kernel_size == (5, 5)
    assert tuple(block(minidl.randn(1, 192, 6, 6)).shape) == (1, 256, 6, 6)


def test_densenet_and_mobilenet_options():
    with pytest.raises(NotImplementedError, match="memory_efficient=True"):
        models.densenet121(memory_efficient=True)
    m = models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2,
                        drop_rate=0.2, num_classes=3, in_channels=1, small_input=True)
    assert tuple(m(minidl.randn(2, 1, 16, 16)).shape) == (2, 3)
    m = models.mobilenet_v2(width_mult=0.5, num_classes=3)
    assert m.features[0][0].out_channels == 16 and m.last_channel == 1280
    assert models.mobilenet_v2(width_mult=1.4).last_channel == 1792
    with pytest.raises(ValueError, match="inverted_residual_setting should be non-empty"):
        models.mobilenet_v2(inverted_residual_setting=[[1, 16, 1]])
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        models.InvertedResidual(8, 8, 3, 6)
    block = models.InvertedResidual(8, 8, 1, 6)
    assert block.use_res_connect and block.conv[1][0].groups == 48


# ------------------------------------------------------------------- training
def test_small_resnet18_trains_from_the_command_line(tmp_path, capsys):
    """A few steps of `minidl train resnet18 --limit ...` on real Fashion-MNIST images."""
    from minidl import cli
    folder = bundled_subset_folder(tmp_path / "fashion", "fashion-mnist-mini", 400, 32)
    out = tmp_path / "run"
    code = cli.main(["train", "resnet18", "--data", str(folder), "--limit", "64",
                     "--batch-size", "16", "--epochs", "2", "--lr", "0.002", "--seed", "1",
                     "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    log = json.loads((out / "metrics.json").read_text())
    config, history = log["config"], log["history"]
    assert config["model_kwargs"] == {"num_classes": 10, "in_channels": 1, "small_input": True}
    assert config["augment"] == "crop+flip" and config["limit"] == 64
    losses = [h["train_loss"] for h in history]
    assert losses[-1] < losses[0]
    assert os.path.isfile(out / "best.safetensors")
