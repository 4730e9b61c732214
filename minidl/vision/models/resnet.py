"""Residual networks (He et al., 2015), with torchvision's ``ResNet`` / ``BasicBlock`` /
``Bottleneck`` and its builders.

A residual block computes ``relu(F(x) + shortcut(x))``: ``F`` is two 3x3 convolutions
(``BasicBlock``, ResNet-18/34) or 1x1 - 3x3 - 1x1 (``Bottleneck``, 4x wider output,
ResNet-50/101/152), each followed by BatchNorm; the shortcut is the identity, or a strided
1x1 convolution + BatchNorm (``downsample``) where the shape changes. As in torchvision
("ResNet v1.5") a Bottleneck strides in its 3x3 convolution.

::

    conv1 7x7/2, 64 - bn1 - relu - maxpool 3/2      224 -> 56
    layer1 (64)  layer2 (128, /2)  layer3 (256, /2)  layer4 (512, /2)   -> 7 x 7
    global average pool - fc classes

==================  ===============  ===========
builder             blocks           parameters
==================  ===============  ===========
resnet18            Basic 2-2-2-2     11,689,512
resnet34            Basic 3-4-6-3     21,797,672
resnet50            Bottle 3-4-6-3    25,557,032
resnet101           Bottle 3-4-23-3   44,549,160
resnet152           Bottle 3-8-36-3   60,192,808
resnext50_32x4d     groups 32 x 4     25,028,904
wide_resnet50_2     width 128         68,883,240
==================  ===============  ===========
"""
from ... import nn
from ...ops.view import flatten
from ._api import register_model
from ._utils import _check_weights

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "conv3x3", "conv1x1", "resnet18", "resnet34",
           "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding ``dilation`` (keeps the size at stride 1), no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """conv3x3 (stride) - bn1 - relu - conv3x3 - bn2, plus the shortcut, then relu."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """conv1x1 - bn1 - relu - conv3x3 (stride, groups) - bn2 - relu - conv1x1 (x4) - bn3,
    plus the shortcut, then relu. Inner width: ``int(planes * base_width / 64) * groups``."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet from a block type and the number of blocks per stage (``layers``).

    Arguments as torchvision: ``zero_init_residual`` (the last BN of each block starts at
    0, so every block starts as the identity), ``groups`` / ``width_per_group`` (ResNeXt,
    wide ResNet), ``replace_stride_with_dilation`` (3 booleans: layer2..4 keep their
    resolution and dilate instead), ``norm_layer`` (default ``BatchNorm2d``). Added:
    ``in_channels`` and ``small_input``.

    ``small_input=True`` (28 x 28 / 32 x 32 images): ``conv1`` is a 3x3 convolution with
    stride 2 (instead of 7x7 stride 2) and there is no max-pool (``maxpool`` is an
    ``Identity``), so layer1 runs at 14 x 14 (16 x 16) and layer4 at 2 x 2. The common
    CIFAR stem uses stride 1 instead; we keep stride 2 because it makes every stage 4x
    cheaper, which is what lets ResNet train on a 2-core CPU (ResNet-18: 0.14 G instead
    of 0.56 G multiply-accumulates per 32 x 32 image). Key names are unchanged.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None,
                 in_channels=3, small_input=False):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element "
                             f"tuple, got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.small_input = small_input
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=2,
                                   padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2,
                                   padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = (nn.Identity() if small_input
                        else nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


def _resnet(arch, block, layers, weights, kwargs):
    _check_weights(arch, weights, kwargs)
    return ResNet(block, layers, **kwargs)


def _builder(arch, block, layers, doc, **fixed):
    def build(*, weights=None, progress=True, **kwargs):
        for name, value in fixed.items():  # torchvision's _ovewrite_named_param
            if kwargs.get(name, value) != value:
                raise ValueError(f"The parameter '{name}' expected value {value} but got "
                                 f"{kwargs[name]} instead.")
        return _resnet(arch, block, layers, weights, {**kwargs, **fixed})
    build.__name__ = build.__qualname__ = arch
    build.__doc__ = (f"{doc}; ``kwargs`` go to ``ResNet`` (num_classes, zero_init_residual, "
                     f"replace_stride_with_dilation, norm_layer, in_channels, small_input...).")
    return register_model()(build)


resnet18 = _builder("resnet18", BasicBlock, [2, 2, 2, 2], "ResNet-18")
resnet34 = _builder("resnet34", BasicBlock, [3, 4, 6, 3], "ResNet-34")
resnet50 = _builder("resnet50", Bottleneck, [3, 4, 6, 3], "ResNet-50")
resnet101 = _builder("resnet101", Bottleneck, [3, 4, 23, 3], "ResNet-101")
resnet152 = _builder("resnet152", Bottleneck, [3, 8, 36, 3], "ResNet-152")
resnext50_32x4d = _builder("resnext50_32x4d", Bottleneck, [3, 4, 6, 3],
                           "ResNeXt-50 32x4d (grouped 3x3 convolutions)",
                           groups=32, width_per_group=4)
wide_resnet50_2 = _builder("wide_resnet50_2", Bottleneck, [3, 4, 6, 3],
                           "Wide ResNet-50-2 (bottlenecks twice as wide)", width_per_group=128)
