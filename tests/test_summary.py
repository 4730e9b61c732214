"""``minidl.utils.summary.summary``: the course's cost tables, MAC formulas checked against
torch's FLOP counter, the table, totals, folding, inputs and errors."""
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import minidl
from minidl import nn
from minidl.utils.summary import ModelSummary, layer_macs, summary
from minidl.vision import models


class PlainConv(nn.Module):
    """A bias-free convolution (with ReLU) as a conv_block: the course counts convs only."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)

    def forward(self, x):
        return nn.functional.relu(self.conv(x))


# ------------------------------------------------------------ the course's table
def test_first_inception_block_against_single_convolutions():
    """GoogLeNet's first Inception block (192 channels in at 28 x 28, branches 64 | 96 ->
    128 | 16 -> 32 | pool -> 32, 5x5 as in the paper) against one 3x3 and one 5x5
    convolution from 192 to 256 channels: 0.16 M / 128 M vs 0.44 M / 346 M vs 1.2 M / 963 M."""
    block = models.Inception(192, 64, 96, 128, 16, 32, 32, conv_block=PlainConv,
                             branch3_kernel_size=5)
    s = summary(block, (192, 28, 28))
    assert s.output_shape == [1, 256, 28, 28]
    assert s.total_params == 163_328 and round(s.total_params / 1e6, 2) == 0.16
    assert s.total_macs == 128_049_152 and int(s.total_macs / 1e6) == 128

    conv3 = summary(nn.Conv2d(192, 256, 3, padding=1, bias=False), (192, 28, 28))
    assert conv3.total_params == 442_368 and round(conv3.total_params / 1e6, 2) == 0.44
    assert conv3.total_macs == 346_816_512 and int(conv3.total_macs / 1e6) == 346

    conv5 = summary(nn.Conv2d(192, 256, 5, padding=2, bias=False), (192, 28, 28))
    assert conv5.total_params == 1_228_800 and round(conv5.total_params / 1e6, 1) == 1.2
    assert conv5.total_macs == 963_379_200 and int(conv5.total_macs / 1e6) == 963

    # with torchvision's BasicConv2d (conv + batch norm): the norms add parameters, no MACs
    s = summary(models.Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=5),
                (192, 28, 28))
    assert s.total_params == 163_328 + 2 * (64 + 96 + 128 + 16 + 32 + 32)
    assert round(s.total_params / 1e6, 2) == 0.16 and s.total_macs == 128_049_152


# ------------------------------------------- MAC formulas against torch's counter
def torch_macs(module, x):
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def same_layer(md_layer, t_layer):
    """Copy parameters so that both layers are the same function (shapes checked)."""
    with torch.no_grad():
        for (name, p), (_, q) in zip(md_layer.named_parameters(), t_layer.named_parameters()):
            assert tuple(p.shape) == tuple(q.shape), name
    return md_layer, t_layer


LAYERS = [
    (lambda: nn.Conv2d(6, 8, 3), lambda: torch.nn.Conv2d(6, 8, 3), (2, 6, 11, 9)),
    (lambda: nn.Conv2d(6, 9, (3, 2), stride=2, padding=1, dilation=2, groups=3),
     lambda: torch.nn.Conv2d(6, 9, (3, 2), stride=2, padding=1, dilation=2, groups=3),
     (2, 6, 12, 10)),
    (lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
     lambda: torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (1, 8, 7, 7)),
    (lambda: nn.Conv1d(4, 5, 3, stride=2), lambda: torch.nn.Conv1d(4, 5, 3, stride=2),
     (3, 4, 20)),
    (lambda: nn.Conv3d(2, 3, 2), lambda: torch.nn.Conv3d(2, 3, 2), (1, 2, 4, 5, 3)),
    (lambda: nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
     lambda: torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1,
                                      groups=2), (2, 6, 5, 5)),
    (lambda: nn.ConvTranspose1d(3, 5, 4, stride=3), lambda: torch.nn.ConvTranspose1d(3, 5, 4,
                                                                                    stride=3),
     (2, 3, 7)),
    (lambda: nn.Linear(7, 5), lambda: torch.nn.Linear(7, 5), (3, 4, 7)),
]


@pytest.mark.parametrize("build, build_torch, shape", LAYERS)
def test_layer_macs_equal_torch_flop_counter(build, build_torch, shape):
    md_layer, t_layer = same_layer(build(), build_torch())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    s = summary(md_layer, shape[1:], batch_size=shape[0])
    assert s.total_macs == torch_macs(t_layer, torch.from_numpy(x)) > 0
    assert s.total_params == sum(p.numel() for p in t_layer.parameters())
    assert s.output_shape == list(t_layer(torch.from_numpy(x)).shape)


def test_bilinear_and_zero_mac_layers():
    out = minidl.randn(4, 6)
    assert layer_macs(nn.Bilinear(3, 5, 6), (minidl.randn(4, 3), minidl.randn(4, 5)), out) \
        == 4 * 6 * 3 * 5
    x = minidl.randn(2, 3, 4, 4)
    for layer in (nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(), nn.Identity()):
        assert layer_macs(layer, (x,), layer.eval()(x)) == 0


def test_resnet18_table_at_depth_2_and_per_batch():
    s = summary(models.resnet18(), (3, 224, 224), depth=2)
    assert isinstance(s, ModelSummary)
    assert s.total_params == s.trainable_params == 11_689_512 and s.non_trainable_params == 0
    assert s.total_macs == 1_814_073_344
    names = [r.name for r in s.rows]
    assert names[:5] == ["conv1", "bn1", "relu", "maxpool", "layer1"]
    assert "layer1.0" in names and "layer1.0.conv1" not in names       # folded below depth 2
    row = {r.name: r for r in s.rows}
    assert row["conv1"].macs == 64 * 112 * 112 * 3 * 49 and row["conv1"].params == 9_408
    assert row["layer1"].is_leaf is False and row["layer1.0"].is_leaf is True
    assert row["layer1.0"].params == 2 * (64 * 64 * 9 + 128)
    assert row["fc"].output_shape == [1, 1000] and row["fc"].macs == 512_000
    # leaf rows add up to the totals (no parameter is shared here)
    assert sum(r.params for r in s.rows) == s.total_params
    assert sum(r.macs for r in s.rows if r.is_leaf) == s.total_macs
    text = str(s)
    assert text.splitlines()[0] == "ResNet: input [1, 3, 224, 224] -> output [1, 1000]"
    for piece in ("Layer (type)", "Output shape", "Params", "MACs", "conv1 (Conv2d)",
                  "[1, 64, 112, 112]", "9,408", "118,013,952", "  0 (BasicBlock)",
                  "Total params: 11,689,512 (11.69 M)", "Trainable params: 11,689,512",
                  "Total MACs: 1,814,073,344 (1.81 G) for a batch of 1"):
        assert piece in text
    assert repr(s) == text
    # a batch multiplies MACs, not parameters
    small = models.resnet18(num_classes=10, in_channels=1, small_input=True)
    s4, s1 = summary(small, (1, 28, 28), batch_size=4), summary(small, (1, 28, 28))
    assert s4.total_macs == 4 * s1.total_macs and s4.total_params == s1.total_params
    assert s4.output_shape == [4, 10] and s4.input_size == [4, 1, 28, 28]


def test_every_leaf_shown_by_default_and_depth_1():
    m = models.lenet5()
    rows = summary(m, (1, 28, 28)).rows
    assert [r.name for r in rows] == ["features", "features.0", "features.1", "features.2",
                                      "features.3", "features.4", "features.5", "flatten",
                                      "classifier", "classifier.0", "classifier.1",
                                      "classifier.2", "classifier.3", "classifier.4"]
    assert [r.depth for r in rows][:3] == [1, 2, 2]
    top = summary(m, (1, 28, 28), depth=1)
    assert [(r.name, r.params) for r in top.rows] == [("features", 2_572), ("flatten", 0),
                                                      ("classifier", 59_134)]
    assert top.total_macs == 416_520


def test_frozen_parameters_shared_modules_and_no_side_effects():
    relu = nn.ReLU()
    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), relu, nn.Conv2d(4, 4, 1), relu)
    m[0].requires_grad_(False)
    before = m[1].running_mean.numpy().copy()
    s = summary(m, (1, 6, 6))
    assert s.total_params == 40 + 8 + 20 and s.trainable_params == 28
    assert s.non_trainable_params == 40
    assert [r.type for r in s.rows] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "ReLU"]
    assert m.training and m[1].training                    # train mode restored
    np.testing.assert_array_equal(m[1].running_mean.numpy(), before)   # stats untouched
    assert not m[2]._forward_hooks and not m[2]._forward_pre_hooks    # hooks removed


def test_modules_not_run_are_listed():
    m = models.googlenet(num_classes=10, in_channels=1, small_input=True)
    s = summary(m, (1, 28, 28))                # eval mode: the aux heads do not run
    assert [n for n, _, _ in s.not_run] == ["aux1", "aux2"]
    assert "Not run by this forward pass" in str(s) and "aux1 (InceptionAux" in str(s)
    assert s.total_params == sum(p.numel() for p in m.parameters())
    assert s.output_shape == [1, 10]


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 4)
        self.proj = nn.Linear(4, 3)

    def forward(self, tokens, extra):
        return self.proj(self.emb(tokens) + extra), tokens


def test_several_inputs_dtypes_and_input_data():
    s = summary(TwoInputs(), [(5,), (5, 4)], dtypes=[minidl.int64, minidl.float32],
                batch_size=2)
    assert s.input_size == [[2, 5], [2, 5, 4]]
    assert s.output_shape == [[2, 5, 3], [2, 5]]
    assert s.total_macs == 2 * 5 * 3 * 4 and s.total_params == 80 + 15
    s = summary(nn.Linear(3, 2), input_data=minidl.randn(7, 3))
    assert s.total_macs == 7 * 2 * 3 and s.batch_size == 7
    assert [r.name for r in s.rows] == ["Linear"]            # a bare layer is its own row


def test_bad_arguments():
    with pytest.raises(TypeError, match="model must be an nn.Module, got function"):
        summary(lambda x: x, (3,))
    with pytest.raises(ValueError, match="pass input_size"):
        summary(nn.ReLU())
    with pytest.raises(ValueError, match="depth must be None or >= 1, got 0"):
        summary(nn.ReLU(), (3,), depth=0)
    with pytest.raises(ValueError, match="got 2 input sizes but 1 dtypes"):
        summary(TwoInputs(), [(5,), (5, 4)], dtypes=[minidl.int64])
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        summary(nn.ReLU(), (3,), batch_size=0)
