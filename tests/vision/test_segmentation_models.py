"""Segmentation models: torchvision's FCN (parameter counts, state_dict keys, forward), the
course's FCN-8s (bilinear-initialised transposed convolutions, skips) and U-Net."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minidl
from minidl import nn
from minidl.vision import models
from minidl.vision.models._utils import IntermediateLayerGetter
from minidl.vision.models.segmentation import (
    FCN,
    FCN8s,
    FCNHead,
    UNet,
    bilinear_kernel,
    fcn_resnet50,
    fcn_resnet101,
    init_bilinear_,
)

HEAD_KEYS = ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
             "1.num_batches_tracked", "4.weight", "4.bias"]


@pytest.fixture(scope="module")
def fcn50():
    minidl.manual_seed(0)
    return fcn_resnet50(aux_loss=True)


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_fcn_resnet_parameter_counts_are_torchvisions(fcn50):
    # torchvision 0.28: FCN_ResNet50_Weights / FCN_ResNet101_Weights meta num_params (aux
    # head included) = ResNet without fc + FCNHead(2048, 21) + FCNHead(1024, 21)
    assert _count(fcn50) == 35_322_218
    assert _count(fcn50) - _count(fcn50.aux_classifier) == 32_957_013
    fcn101 = fcn_resnet101()
    assert fcn101.aux_classifier is None and _count(fcn101) == 51_949_141
    assert _count(fcn101) + _count(fcn50.aux_classifier) == 54_314_346


def test_fcn_state_dict_keys_are_torchvisions(fcn50):
    keys = list(fcn50.state_dict())
    # the ResNet's children up to layer4 (its own key names), then the two heads
    assert [name for name, _ in fcn50.backbone.named_children()] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    assert fcn50.backbone.layer1 is not None and not hasattr(fcn50.backbone, "fc")
    assert len(keys) == 334  # torchvision's: 53 convolutions + 53 BatchNorms x 5 + 2 x 8
    assert keys[:3] == ["backbone.conv1.weight", "backbone.bn1.weight", "backbone.bn1.bias"]
    assert "backbone.layer4.2.bn3.num_batches_tracked" in keys
    assert "backbone.layer3.0.downsample.1.running_var" in keys
    assert keys[-16:] == (["classifier." + k for k in HEAD_KEYS]
                          + ["aux_classifier." + k for k in HEAD_KEYS])
    sd = fcn50.state_dict()
    assert tuple(sd["classifier.0.weight"].shape) == (512, 2048, 3, 3)
    assert tuple(sd["classifier.4.weight"].shape) == (21, 512, 1, 1)
    assert tuple(sd["aux_classifier.0.weight"].shape) == (256, 1024, 3, 3)
    # dilation, not stride, in layer3 / layer4 (torchvision's [False, True, True])
    assert fcn50.backbone.layer4[1].conv2.dilation == (4, 4)
    assert fcn50.backbone.layer3[1].conv2.dilation == (2, 2)


def test_fcn_forward_returns_out_and_aux_at_the_input_size(fcn50):
    x = minidl.randn(1, 3, 40, 48)
    fcn50.eval()
    with minidl.no_grad():
        out = fcn50(x)
        features = fcn50.backbone(x)
    assert isinstance(out, OrderedDict) and list(out) == ["out", "aux"]
    assert tuple(out["out"].shape) == (1, 21, 40, 48) == tuple(out["aux"].shape)
    assert tuple(features["out"].shape) == (1, 2048, 5, 6)  # stride 8 with dilation
    assert tuple(features["aux"].shape) == (1, 1024, 5, 6)


def test_fcn_resizes_the_head_bilinearly_as_torch():
    minidl.manual_seed(1)
    body = IntermediateLayerGetter(nn.Sequential(nn.Conv2d(1, 8, 3, stride=4, padding=1)),
                                   {"0": "out"})
    model = FCN(body, FCNHead(8, 3)).eval()
    x = minidl.randn(2, 1, 22, 26)
    with minidl.no_grad():
        scores = model.classifier(body(x)["out"])
        got = model(x)
    assert list(got) == ["out"]
    want = torch.nn.functional.interpolate(torch.from_numpy(scores.numpy()), size=(22, 26),
                                           mode="bilinear", align_corners=False)
    np.testing.assert_allclose(got["out"].numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_fcn_head_layers():
    head = FCNHead(64, 5)
    assert [type(m).__name__ for m in head] == ["Conv2d", "BatchNorm2d", "ReLU", "Dropout",
                                                "Conv2d"]
    assert tuple(head[0].weight.shape) == (16, 64, 3, 3) and head[0].bias is None
    assert head[3].p == 0.1 and tuple(head[4].weight.shape) == (5, 16, 1, 1)


def test_fcn_builders_take_channels_and_refuse_what_they_cannot_do():
    model = fcn_resnet50(num_classes=4, in_channels=1)
    assert tuple(model.backbone.conv1.weight.shape) == (64, 1, 7, 7)
    assert tuple(model.classifier[4].weight.shape) == (4, 512, 1, 1)
    with pytest.raises(ValueError, match="weights=None"):
        fcn_resnet50(weights="COCO_WITH_VOC_LABELS_V1")
    with pytest.raises(ValueError, match="weights_backbone='IMAGENET1K_V1' asks for"):
        fcn_resnet50(weights_backbone="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="pretrained_backbone=True"):
        fcn_resnet101(pretrained_backbone=True)
    with pytest.raises(TypeError, match="unexpected keyword arguments: small_input"):
        fcn_resnet50(small_input=True)


@pytest.mark.parametrize("factor", [2, 3, 8])
def test_bilinear_transposed_convolution_is_bilinear_upsampling(factor):
    c = 3
    conv = init_bilinear_(nn.ConvTranspose2d(c, c, 2 * factor, stride=factor,
                                             padding=factor // 2, bias=False))
    x = np.random.default_rng(factor).standard_normal((2, c, 5, 6)).astype(np.float32)
    with minidl.no_grad():
        got = conv(minidl.from_numpy(x)).numpy()
    ref = torch.nn.ConvTranspose2d(c, c, 2 * factor, stride=factor, padding=factor // 2,
                                   bias=False)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(conv.weight.detach().numpy()))
        np.testing.assert_allclose(got, ref(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
        up = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=factor,
                                             mode="bilinear", align_corners=False).numpy()
    if factor % 2 == 0:  # away from the border (zeros there, edge values for interpolate)
        assert got.shape == up.shape
        inner = np.s_[:, :, factor:-factor, factor:-factor]
        np.testing.assert_allclose(got[inner], up[inner], rtol=1e-5, atol=1e-6)
    w = conv.weight.detach().numpy()
    assert np.all(w[~np.eye(c, dtype=bool)] == 0)
    np.testing.assert_allclose(w[1, 1], bilinear_kernel(2 * factor))


def test_bilinear_kernel_values_and_refusals():
    np.testing.assert_allclose(bilinear_kernel(4)[0], [1 / 16, 3 / 16, 3 / 16, 1 / 16])
    np.testing.assert_allclose(bilinear_kernel(3)[1], [0.5, 1, 0.5])
    with pytest.raises(ValueError, match="as many input as output channels"):
        init_bilinear_(nn.ConvTranspose2d(2, 3, 4, stride=2))


def test_fcn8s_shapes_keys_skips_and_bilinear_start():
    minidl.manual_seed(0)
    model = models.get_model("fcn8s_mini")
    keys = set(model.state_dict())
    assert {"stage1.0.weight", "stage4.3.weight", "head.0.weight", "head.3.weight",
            "score_fr.weight", "score_pool4.weight", "score_pool3.weight",
            "upscore2.weight", "upscore_pool4.weight", "upscore8.weight"} <= keys
    assert tuple(model.upscore8.weight.shape) == (11, 11, 16, 16)
    np.testing.assert_allclose(model.upscore2.weight.detach().numpy()[3, 3],
                               bilinear_kernel(4))
    assert not model.score_pool4.weight.detach().numpy().any()  # FCN-32s at the start
    x = minidl.randn(2, 1, 96, 64)
    out = model(x)
    assert tuple(out.shape) == (2, 11, 96, 64)
    out.sum().backward()
    assert model.score_pool3.weight.grad.abs().sum().item() > 0
    assert model.upscore8.weight.grad.abs().sum().item() > 0
    with pytest.raises(ValueError, match="multiples of 32, got 100 x 96.*128 x 96"):
        model(minidl.randn(1, 1, 100, 96))
    with pytest.raises(ValueError, match="five stage widths"):
        FCN8s(widths=(8, 16))
    with pytest.raises(ValueError, match=r"dropout=\) must be a probability"):
        FCN8s(dropout=1.5)


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_shapes_keys_and_parameter_count(bilinear):
    minidl.manual_seed(0)
    model = UNet(2, 5, base_channels=4, depth=2, bilinear=bilinear)
    x = minidl.randn(3, 2, 20, 28)
    assert tuple(model(x).shape) == (3, 5, 20, 28)

    def double(i, o):  # two 3x3 convolutions without bias, each with a BatchNorm
        return 9 * i * o + 2 * o + 9 * o * o + 2 * o
    up = (lambda i: i * (i // 2) + i // 2) if bilinear else (lambda i: 4 * i * (i // 2) + i // 2)
    want = (double(2, 4) + double(4, 8) + double(8, 16)
            + up(16) + double(8 + 8, 8) + up(8) + double(4 + 4, 4) + 4 * 5 + 5)
    assert _count(model) == want
    keys = set(model.state_dict())
    upkey = "ups.0.up.1.weight" if bilinear else "ups.0.up.weight"
    assert {"inc.0.weight", "downs.0.1.0.weight", "downs.1.1.3.weight", upkey,
            "ups.1.conv.4.running_var", "outc.weight"} <= keys
    if not bilinear:
        assert tuple(model.ups[0].up.weight.shape) == (16, 8, 2, 2)


def test_unet_concatenates_the_skip_and_refuses_bad_sizes():
    model = models.get_model("unet_mini")
    assert model.output_stride == 8 and tuple(model.ups[2].conv[0].weight.shape) == (8, 16, 3, 3)
    with pytest.raises(ValueError, match="UNet needs a height and width that are multiples of "
                                         "8, got 90 x 96"):
        model(minidl.randn(1, 1, 90, 96))
    with pytest.raises(ValueError, match="expects images"):
        model(minidl.randn(1, 96, 96))
    with pytest.raises(ValueError, match=r"UNet\(depth=\) must be an int >= 1"):
        UNet(1, 2, depth=0)
    with pytest.raises(TypeError, match="bilinear must be a bool"):
        UNet(1, 2, bilinear="yes")


def test_builders_are_registered():
    assert {"fcn_resnet50", "fcn_resnet101", "fcn8s_mini", "unet_mini"} <= set(
        models.list_models())
    assert models.segmentation.FCN is FCN
    with pytest.raises(ValueError, match="weights=None"):
        models.get_model("unet_mini", weights="x")
