"""Network in Network (Lin, Chen & Yan, 2013) -- torchvision has no NiN; this follows the
paper's ImageNet model in the layout of the d2l.ai book, in torchvision's style.

An *mlpconv* block is a k x k convolution followed by two 1x1 convolutions, each with a
ReLU: a small multi-layer perceptron slid over every position. There is no fully connected
layer: the last block outputs one map per class and global average pooling turns each map
into that class's score.

::

    mlpconv 11x11/4, 96  - maxpool 3/2        224 -> 54 -> 26
    mlpconv 5x5, 256     - maxpool 3/2             -> 12
    mlpconv 3x3, 384     - maxpool 3/2 - dropout   -> 5
    mlpconv 3x3, classes - global average pool - flatten

7,439,608 parameters for 1000 classes (1,982,950 for 10 classes of grey images).
"""
from ... import nn
from ._api import register_model
from ._utils import _check_weights

__all__ = ["NiN", "mlpconv", "nin"]


def mlpconv(in_channels, out_channels, kernel_size, stride=1, padding=0):
    """``Sequential(conv kxk, ReLU, conv 1x1, ReLU, conv 1x1, ReLU)``: one mlpconv layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


class NiN(nn.Module):
    """Network in Network: ``features`` (four mlpconv blocks, three max-pools, dropout) and
    global average pooling; the class scores are the averaged maps of the last block.

    ``small_input=True`` (28 x 28 / 32 x 32 images): the first mlpconv uses a 5x5 stride-2
    convolution with padding 2 (instead of 11x11 stride 4) and the max-pools get padding 1,
    so the maps go 28 -> 14 -> 7 -> 4 -> 2 (32 -> 16 -> 8 -> 4 -> 2). Keys are unchanged.
    """

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5, small_input=False):
        super().__init__()
        self.small_input = small_input
        if small_input:
            first, pool = dict(kernel_size=5, stride=2, padding=2), dict(padding=1)
        else:
            first, pool = dict(kernel_size=11, stride=4, padding=0), dict(padding=0)
        self.features = nn.Sequential(
            mlpconv(in_channels, 96, **first),
            nn.MaxPool2d(kernel_size=3, stride=2, **pool),
            mlpconv(96, 256, kernel_size=5, padding=2),
            nn.MaxPool2d(kernel_size=3, stride=2, **pool),
            mlpconv(256, 384, kernel_size=3, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2, **pool),
            nn.Dropout(p=dropout),
            mlpconv(384, num_classes, kernel_size=3, padding=1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.flatten(self.avgpool(self.features(x)))


@register_model()
def nin(*, weights=None, progress=True, **kwargs):
    """Network in Network; ``kwargs`` go to ``NiN`` (num_classes, in_channels, dropout,
    small_input)."""
    _check_weights("nin", weights, kwargs)
    return NiN(**kwargs)
