"""GoogLeNet / Inception v1 (Szegedy et al., 2014), as torchvision builds it.

::

    input 3 x 224 x 224
    conv1 7x7/2, 64 - maxpool 3/2 - conv2 1x1, 64 - conv3 3x3, 192 - maxpool 3/2  -> 28 x 28
    inception3a (256), 3b (480) - maxpool 3/2                                      -> 14 x 14
    inception4a (512) [aux1] 4b, 4c, 4d (528) [aux2] 4e (832) - maxpool 2/2        -> 7 x 7
    inception5a (832), 5b (1024) - global average pool - dropout 0.2 - fc classes

Every convolution is a ``BasicConv2d``: conv (no bias) - BatchNorm (eps 0.001) - ReLU.
An ``Inception`` block runs four branches on the same input and concatenates them along
the channels: 1x1 | 1x1 -> 3x3 | 1x1 -> "5x5" | 3x3 max-pool -> 1x1. The 1x1 convolutions
in front of the large kernels reduce the channels first: the first block (192 channels in
at 28 x 28, branches 64 | 96 -> 128 | 16 -> 32 | pool -> 32) costs 0.16 M parameters and
128 M multiply-accumulates with the paper's 5x5 kernel, against 0.44 M / 346.8 M for one
3x3 convolution from 192 to 256 channels and 1.2 M / 963 M for one 5x5 (see
``minidl.summary``).

As in torchvision, the "5x5" branch uses a 3x3 kernel (a known slip, kept so that
torchvision's weights load; pass ``branch3_kernel_size=5`` to ``Inception`` for the
paper's block). 6,624,904 parameters for 1000 classes without the auxiliary classifiers
(``aux_logits=False``), 13,004,888 with them (torchvision's default ``aux_logits=True``).
"""
from collections import namedtuple

from ... import nn
from ...nn import functional as F
from ...ops.join import cat
from ...ops.view import flatten
from ._api import register_model
from ._utils import _check_weights

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d",
           "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
_GoogLeNetOutputs = GoogLeNetOutputs


class BasicConv2d(nn.Module):
    """``Conv2d(bias=False)`` - ``BatchNorm2d(eps=0.001)`` - ReLU; ``kwargs`` go to the conv."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The Inception block: four parallel branches concatenated along the channels.

    ``branch1``: 1x1 conv to ``ch1x1``; ``branch2``: 1x1 to ``ch3x3red`` then 3x3 to
    ``ch3x3``; ``branch3``: 1x1 to ``ch5x5red`` then a ``branch3_kernel_size`` conv to
    ``ch5x5`` (3 as torchvision, 5 as the paper); ``branch4``: 3x3 max-pool (stride 1) then
    1x1 to ``pool_proj``. Output channels: ch1x1 + ch3x3 + ch5x5 + pool_proj, same size.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 conv_block=None, branch3_kernel_size=3):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        k = branch3_kernel_size
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(
            conv_block(in_channels, ch5x5red, kernel_size=1),
            conv_block(ch5x5red, ch5x5, kernel_size=k, padding=k // 2))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: average-pool to 4 x 4, 1x1 conv to 128, fc 1024, dropout, fc."""

    def __init__(self, in_channels, num_classes, conv_block=None, dropout=0.7):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.conv = conv_block(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = F.relu(self.fc1(flatten(x, 1)))
        return self.fc2(self.dropout(x))


class GoogLeNet(nn.Module):
    """GoogLeNet with torchvision's arguments, plus ``in_channels`` and ``small_input``.

    In training mode with ``aux_logits=True`` the forward returns ``GoogLeNetOutputs(logits,
    aux_logits2, aux_logits1)``, otherwise the logits. ``transform_input=True`` maps inputs
    normalized with ImageNet's mean / std to the (x - 0.5) / 0.5 scaling the original
    weights expect (3 channels only). ``init_weights`` (default True, as torchvision's
    current behaviour): truncated normal(0, 0.01) for convolutions and linear layers.

    ``small_input=True`` (28 x 28 / 32 x 32 images): ``conv1`` becomes a 3x3 stride-1
    convolution (instead of 7x7 stride 2), so the network downsamples by 16 instead of 32
    (28 -> 14 -> 7 -> 3 -> 2 at inception5). Nothing else changes, key names included.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False,
                 init_weights=None, blocks=None, dropout=0.2, dropout_aux=0.7, in_channels=3,
                 small_input=False):
        super().__init__()
        if blocks is None:
            blocks = [BasicConv2d, Inception, InceptionAux]
        if len(blocks) != 3:
            raise ValueError(f"blocks length should be 3 instead of {len(blocks)}")
        if transform_input and in_channels != 3:
            raise ValueError(f"transform_input=True re-normalizes 3 RGB channels, but "
                             f"in_channels={in_channels}")
        if init_weights is None:
            init_weights = True
        conv_block, inception_block, inception_aux_block = blocks
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.small_input = small_input

        if small_input:
            self.conv1 = conv_block(in_channels, 64, kernel_size=3, stride=1, padding=1)
        else:
            self.conv1 = conv_block(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)

        if aux_logits:
            self.aux1 = inception_aux_block(512, num_classes, dropout=dropout_aux)
            self.aux2 = inception_aux_block(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights:
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def _transform_input(self, x):
        if not self.transform_input:
            return x
        stats = ((0.485, 0.229), (0.456, 0.224), (0.406, 0.225))
        return cat([x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
                    for c, (mean, std) in enumerate(stats)], 1)

    def forward(self, x):
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(flatten(self.avgpool(x), 1)))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register_model()
def googlenet(*, weights=None, progress=True, **kwargs):
    """GoogLeNet (Inception v1); ``kwargs`` go to ``GoogLeNet`` (num_classes, aux_logits,
    transform_input, init_weights, blocks, dropout, dropout_aux, in_channels, small_input).

    As in torchvision, ``aux_logits`` defaults to True when built without weights."""
    _check_weights("googlenet", weights, kwargs)
    return GoogLeNet(**kwargs)
