"""DeepLabV3 (torchvision's ``models.segmentation.deeplabv3``): parameter counts, state_dict
keys, and the head's forward against the same head built from torch.nn modules."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision import models
from minidl.vision.models.segmentation import (
    ASPP,
    DeepLabHead,
    DeepLabV3,
    deeplabv3_resnet50,
    deeplabv3_resnet101,
)


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_are_torchvisions():
    # torchvision 0.28: DeepLabV3_ResNet50_Weights / _ResNet101_Weights meta num_params
    model = deeplabv3_resnet50(aux_loss=True)
    assert isinstance(model, DeepLabV3) and _count(model) == 42_004_074
    assert _count(model) - _count(model.aux_classifier) == 39_638_869
    big = deeplabv3_resnet101()
    assert big.aux_classifier is None
    assert _count(big) + _count(model.aux_classifier) == 60_996_202
    keys = list(model.state_dict())
    assert keys[0] == "backbone.conv1.weight"
    assert "classifier.0.convs.4.1.weight" in keys  # ASPPPooling's 1x1 convolution
    assert "classifier.0.project.1.running_var" in keys
    assert keys[-8:] == ["aux_classifier." + k for k in (
        "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "4.weight", "4.bias")]
    assert [m[0].dilation for m in model.classifier[0].convs[1:4]] == [(12, 12), (24, 24),
                                                                    (36, 36)]
    assert {"deeplabv3_resnet50", "deeplabv3_resnet101"} <= set(models.list_models())


def _torch_head(in_channels, num_classes, rates):
    """torchvision's DeepLabHead, written out with torch.nn modules (same child indices)."""
    def cbr(i, o, k, d=1):
        return [torch.nn.Conv2d(i, o, k, padding=d * (k // 2), dilation=d, bias=False),
                torch.nn.BatchNorm2d(o), torch.nn.ReLU()]

    class Pool(torch.nn.Sequential):
        def forward(self, x):
            y = super().forward(x)
            return torch.nn.functional.interpolate(y, size=x.shape[-2:], mode="bilinear",
                                                   align_corners=False)

    class Aspp(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = torch.nn.ModuleList(
                [torch.nn.Sequential(*cbr(in_channels, 256, 1))]
                + [torch.nn.Sequential(*cbr(in_channels, 256, 3, r)) for r in rates]
                + [Pool(torch.nn.AdaptiveAvgPool2d(1), *cbr(in_channels, 256, 1))])
            self.project = torch.nn.Sequential(*cbr(256 * (len(rates) + 2), 256, 1),
                                               torch.nn.Dropout(0.5))

        def forward(self, x):
            return self.project(torch.cat([c(x) for c in self.convs], 1))

    return torch.nn.Sequential(Aspp(), *cbr(256, 256, 3), torch.nn.Conv2d(256, num_classes, 1))


@pytest.mark.parametrize("train", [False, True])
def test_head_forward_and_backward_equal_torchs(train):
    minidl.manual_seed(0)
    head = DeepLabHead(8, 3, atrous_rates=(1, 2, 3))
    ref = _torch_head(8, 3, (1, 2, 3))
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in head.state_dict().items()})
    head.train(train)
    ref.train(train)
    if train:  # dropout draws differ between the libraries: compare without it
        head[0].project[3].p = ref[0].project[3].p = 0.0
    x = np.random.default_rng(0).standard_normal((2, 8, 7, 9)).astype(np.float32)
    xm, xt = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = head(xm), ref(xt)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_forward_returns_scores_at_the_input_size():
    minidl.manual_seed(0)
    model = deeplabv3_resnet50(num_classes=4, in_channels=1, aux_loss=True).eval()
    with minidl.no_grad():
        out = model(minidl.randn(1, 1, 33, 41))
    assert list(out) == ["out", "aux"]
    assert tuple(out["out"].shape) == (1, 4, 33, 41) == tuple(out["aux"].shape)
    assert isinstance(model.classifier[0], ASPP)


def test_builders_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="weights=None"):
        deeplabv3_resnet50(weights="COCO_WITH_VOC_LABELS_V1")
    with pytest.raises(ValueError, match="weights_backbone='IMAGENET1K_V1' asks for"):
        deeplabv3_resnet101(weights_backbone="IMAGENET1K_V1")
    with pytest.raises(TypeError, match="unexpected keyword arguments: output_stride"):
        deeplabv3_resnet50(output_stride=16)
