"""The feature pyramid (``FeaturePyramidNetwork``, ``BackboneWithFPN``) against the same
arithmetic in torch, and ``fasterrcnn_resnet50_fpn``'s parameter count and key layout
against torchvision's."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
from minidl import nn
from minidl.vision.models.detection import (
    BackboneWithFPN,
    fasterrcnn_resnet50_fpn,
    resnet_fpn_backbone,
)
from minidl.vision.models.detection.backbone_utils import _resnet_fpn_extractor
from minidl.vision.models.resnet import BasicBlock, ResNet
from minidl.vision.ops import FeaturePyramidNetwork
from minidl.vision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7
from tests.reference.harness import assert_close


def torch_fpn(fpn, maps):
    """P_i = layer_i(inner_i(C_i) + nearest-upsampled top-down sum), in torch."""
    def conv(block, x, padding):
        w = torch.from_numpy(block[0].weight.detach().numpy())
        b = torch.from_numpy(block[0].bias.detach().numpy())
        return TF.conv2d(x, w, b, padding=padding)

    last = conv(fpn.inner_blocks[-1], maps[-1], 0)
    results = [conv(fpn.layer_blocks[-1], last, 1)]
    for i in range(len(maps) - 2, -1, -1):
        lateral = conv(fpn.inner_blocks[i], maps[i], 0)
        last = lateral + TF.interpolate(last, size=lateral.shape[-2:], mode="nearest")
        results.insert(0, conv(fpn.layer_blocks[i], last, 1))
    return results


def test_fpn_equals_the_torch_arithmetic_values_and_gradients():
    rng = np.random.default_rng(0)
    shapes = [(2, 3, 16, 20), (2, 5, 8, 10), (2, 6, 3, 5)]   # 3 x 5 -> 8 x 10: uneven
    arrays = [rng.standard_normal(s) for s in shapes]
    minidl.manual_seed(0)
    fpn = FeaturePyramidNetwork([3, 5, 6], 4, extra_blocks=LastLevelMaxPool()).double()
    ours = [minidl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fpn(OrderedDict(zip(["a", "b", "c"], ours)))
    want = torch_fpn(fpn, theirs)
    want.append(want[-1][:, :, ::2, ::2])
    assert list(out) == ["a", "b", "c", "pool"]
    upstream = [rng.standard_normal(tuple(w.shape)) for w in want]
    for o, w in zip(out.values(), want):
        assert_close(o, w, rtol=1e-10, atol=1e-10)
    minidl.autograd.backward(list(out.values()), [minidl.tensor(u) for u in upstream])
    torch.autograd.backward(want, [torch.tensor(u) for u in upstream])
    for o, w in zip(ours, theirs):
        assert_close(o.grad, w.grad, rtol=1e-10, atol=1e-10)


def test_fpn_layout_init_and_errors():
    fpn = FeaturePyramidNetwork([8, 16], 4)
    assert list(fpn.state_dict()) == [
        "inner_blocks.0.0.weight", "inner_blocks.0.0.bias", "inner_blocks.1.0.weight",
        "inner_blocks.1.0.bias", "layer_blocks.0.0.weight", "layer_blocks.0.0.bias",
        "layer_blocks.1.0.weight", "layer_blocks.1.0.bias"]
    w = FeaturePyramidNetwork([512], 256).layer_blocks[0][0].weight.detach().numpy()
    bound = np.sqrt(6 / (2 * 256 * 9))   # kaiming_uniform_(a=1): gain 1, fan_in 2304
    assert w.max() <= bound and w.max() > 0.95 * bound
    with pytest.raises(ValueError, match="in_channels=0"):
        FeaturePyramidNetwork([0, 4], 4)
    with pytest.raises(TypeError, match="ExtraFPNBlock"):
        FeaturePyramidNetwork([4], 4, extra_blocks=nn.ReLU())
    p6p7 = LastLevelP6P7(4, 4)
    out = FeaturePyramidNetwork([4], 4, extra_blocks=p6p7)(OrderedDict(x=minidl.rand(1, 4, 8, 8)))
    assert [tuple(v.shape[-2:]) for v in out.values()] == [(8, 8), (4, 4), (2, 2)]


def test_backbone_with_fpn_and_resnet_fpn_backbone():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(1, 4, 3, stride=2, padding=1)
            self.deep = nn.Conv2d(4, 8, 3, stride=2, padding=1)

    body = BackboneWithFPN(Tiny(), {"stem": "0", "deep": "1"}, [4, 8], 6)
    out = body(minidl.rand(2, 1, 16, 16))
    assert body.out_channels == 6 and list(out) == ["0", "1", "pool"]
    assert [tuple(v.shape) for v in out.values()] == [(2, 6, 8, 8), (2, 6, 4, 4), (2, 6, 2, 2)]
    r18 = resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=2,
                              returned_layers=[2, 4])
    assert r18.fpn.inner_blocks[0][0].in_channels == 128
    assert r18.fpn.inner_blocks[1][0].in_channels == 512
    frozen = {n for n, p in r18.body.named_parameters() if not p.requires_grad}
    assert "conv1.weight" in frozen and "layer2.0.conv1.weight" in frozen
    assert "layer3.0.conv1.weight" not in frozen and "layer4.1.bn2.weight" not in frozen
    small = ResNet(BasicBlock, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="range \\[0,5\\]"):
        _resnet_fpn_extractor(small, 6)
    with pytest.raises(ValueError, match="range \\[1,4\\]"):
        _resnet_fpn_extractor(small, 5, returned_layers=[0, 1])
    with pytest.raises(ValueError, match="pretrained weights"):
        resnet_fpn_backbone(backbone_name="resnet18", weights="DEFAULT")


def test_fasterrcnn_resnet50_fpn_has_torchvision_parameters_and_keys():
    with pytest.warns(UserWarning, match="trainable_backbone_layers"):
        model = fasterrcnn_resnet50_fpn(trainable_backbone_layers=2, min_size=64, max_size=64,
                                        rpn_post_nms_top_n_test=8)
    params = dict(model.named_parameters())
    assert sum(p.numel() for p in params.values()) == 41_808_406
    batch_norms = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    bn_params = sum(m.weight.numel() + m.bias.numel() for n, m in model.named_modules()
                    if n in batch_norms)
    assert sum(p.numel() for p in params.values()) - bn_params == 41_755_286  # FrozenBN count
    assert all(p.requires_grad for p in params.values())   # no weights: every layer trains
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["backbone.fpn.inner_blocks.3.0.weight"] == (256, 2048, 1, 1)
    assert shapes["backbone.fpn.layer_blocks.0.0.weight"] == (256, 256, 3, 3)
    assert shapes["rpn.head.conv.0.0.weight"] == (256, 256, 3, 3)
    assert shapes["rpn.head.cls_logits.weight"] == (3, 256, 1, 1)
    assert shapes["roi_heads.box_head.fc6.weight"] == (1024, 12544)
    assert shapes["roi_heads.box_predictor.cls_score.weight"] == (91, 1024)
    assert shapes["roi_heads.box_predictor.bbox_pred.weight"] == (364, 1024)
    assert "backbone.body.layer4.2.bn3.running_var" in shapes and "backbone.body.fc.weight" \
        not in shapes
    model.eval()
    with minidl.no_grad():
        found = model([minidl.rand(3, 48, 64)])
    assert len(found) == 1 and found[0]["boxes"].shape[1] == 4
    with pytest.raises(ValueError, match="pretrained weights"):
        fasterrcnn_resnet50_fpn(weights_backbone="IMAGENET1K_V1")
