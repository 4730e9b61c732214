"""Densely connected networks, DenseNet-BC (Huang et al., 2016), as torchvision builds them.

Inside a dense block every layer sees the concatenation of the block's input and all
earlier layers' outputs, and adds ``growth_rate`` new channels:
``x_l = H_l([x_0, x_1, ..., x_{l-1}])`` with ``H_l`` = BN - ReLU - conv1x1 (to
``bn_size * growth_rate``) - BN - ReLU - conv3x3 (to ``growth_rate``). Between blocks a
transition (BN - ReLU - conv1x1 halving the channels - 2x2 average pool) shrinks the map.

::

    features.conv0 7x7/2 - norm0 - relu0 - pool0 3/2        224 -> 56
    denseblock1 - transition1 - ... - denseblock4 - norm5   -> 7 x 7
    relu - global average pool - classifier

===========  ============  ==================  ===========
builder      growth rate   layers per block    parameters
===========  ============  ==================  ===========
densenet121  32            6, 12, 24, 16         7,978,856
densenet161  48            6, 12, 36, 24        28,681,000
densenet169  32            6, 12, 32, 32        14,149,480
densenet201  32            6, 12, 48, 32        20,013,928
===========  ============  ==================  ===========

State-dict keys are torchvision's current names (``features.denseblock1.denselayer1.norm1
.weight``); checkpoints with the old ``norm.1`` style names need those renamed first.
"""
from collections import OrderedDict

from ... import nn
from ...nn import functional as F
from ...ops.join import cat
from ...ops.view import flatten
from ...tensor import Tensor
from ._api import register_model
from ._utils import _check_weights

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN - ReLU - conv1x1 (bottleneck) - BN - ReLU - conv3x3 on the concatenated inputs."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate,
                 memory_efficient=False):
        super().__init__()
        _refuse_memory_efficient(memory_efficient)
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        return self.conv1(self.relu1(self.norm1(cat(inputs, 1))))

    def forward(self, input):
        prev_features = [input] if isinstance(input, Tensor) else input
        out = self.conv2(self.relu2(self.norm2(self.bn_function(prev_features))))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return out


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers ``denselayer1``...; returns all their outputs concatenated
    with the input (``num_input_features + num_layers * growth_rate`` channels)."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate,
                 memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                bn_size=bn_size, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features):
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(nn.Sequential):
    """BN - ReLU - conv1x1 (to ``num_output_features``) - 2x2 average pool."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1,
                              bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


def _refuse_memory_efficient(memory_efficient):
    if memory_efficient:
        raise NotImplementedError(
            "DenseNet(memory_efficient=True) recomputes the bottleneck layers in backward "
            "(gradient checkpointing), which minidl does not implement; use "
            "memory_efficient=False (the same numbers, more memory)")


class DenseNet(nn.Module):
    """DenseNet-BC with torchvision's arguments (growth_rate, block_config,
    num_init_features, bn_size, drop_rate, num_classes, memory_efficient) plus
    ``in_channels`` and ``small_input``. ``memory_efficient=True`` raises
    NotImplementedError (minidl has no gradient checkpointing).

    ``small_input=True`` (28 x 28 / 32 x 32 images): ``features.conv0`` becomes a 3x3
    stride-2 convolution (instead of 7x7 stride 2) and ``features.pool0`` an ``Identity``, so
    denseblock1 runs at 14 x 14 (16 x 16) and denseblock4 at 1 x 1 (2 x 2). Keys unchanged.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0, num_classes=1000, memory_efficient=False,
                 in_channels=3, small_input=False):
        super().__init__()
        _refuse_memory_efficient(memory_efficient)
        self.small_input = small_input
        if small_input:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=3, stride=2,
                                        padding=1, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)), ("relu0", nn.ReLU()),
                    ("pool0", nn.Identity())]
        else:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=7, stride=2,
                                        padding=3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)), ("relu0", nn.ReLU()),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))]
        self.features = nn.Sequential(OrderedDict(stem))

        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features,
                                bn_size=bn_size, growth_rate=growth_rate, drop_rate=drop_rate,
                                memory_efficient=memory_efficient)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features,
                                    num_output_features=num_features // 2)
                self.features.add_module(f"transition{i + 1}", trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(flatten(out, 1))


def _builder(arch, growth_rate, block_config, num_init_features):
    def build(*, weights=None, progress=True, **kwargs):
        _check_weights(arch, weights, kwargs)
        return DenseNet(growth_rate, block_config, num_init_features, **kwargs)
    build.__name__ = build.__qualname__ = arch
    build.__doc__ = (f"DenseNet-{arch[8:]} (growth rate {growth_rate}, blocks "
                     f"{block_config}); ``kwargs`` go to ``DenseNet`` (num_classes, bn_size, "
                     f"drop_rate, in_channels, small_input...).")
    return register_model()(build)


densenet121 = _builder("densenet121", 32, (6, 12, 24, 16), 64)
densenet161 = _builder("densenet161", 48, (6, 12, 36, 24), 96)
densenet169 = _builder("densenet169", 32, (6, 12, 32, 32), 64)
densenet201 = _builder("densenet201", 32, (6, 12, 48, 32), 64)
