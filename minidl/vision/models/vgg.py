"""VGG (Simonyan & Zisserman, 2014): stacks of 3x3 convolutions between 2x2 max-pools.

Configurations (numbers are output channels of 3x3 convolutions, ``M`` a 2x2 max-pool):

======  ==================================================================  ===========
name    ``features``                                                        parameters
======  ==================================================================  ===========
vgg11   64 M 128 M 256 256 M 512 512 M 512 512 M                            132,863,336
vgg13   64 64 M 128 128 M 256 256 M 512 512 M 512 512 M                     133,047,848
vgg16   64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M         138,357,544
vgg19   64 64 M 128 128 M 256 x4 M 512 x4 M 512 x4 M                        143,667,240
======  ==================================================================  ===========

``_bn`` variants put ``BatchNorm2d`` after every convolution (vgg11_bn 132,868,840,
vgg13_bn 133,053,736, vgg16_bn 138,365,992, vgg19_bn 143,678,248 parameters). The head is
adaptive average pooling to 7 x 7, then 25088 -> 4096 -> 4096 -> classes with dropout.
"""
from ... import nn
from ...ops.view import flatten
from ._api import register_model
from ._utils import _check_weights
from .alexnet import SMALL_HIDDEN

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]

cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False, in_channels=3, small_input=False):
    """The ``features`` Sequential of a configuration: conv3x3 [- BN] - ReLU, ``M`` = max-pool.

    ``small_input=True`` makes the max-pools round up (``ceil_mode=True``) so that a
    28 x 28 image still passes five of them (28 -> 14 -> 7 -> 4 -> 2 -> 1).
    """
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=small_input))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU())
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features`` (from ``make_layers``), ``avgpool``, ``classifier``.

    ``small_input=True`` (build ``features`` with ``make_layers(..., small_input=True)``)
    averages the 1 x 1 map left after five pools and uses a 512 -> 512 -> 512 -> classes
    classifier instead of 25088 -> 4096 -> 4096 -> classes; the key names are unchanged.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5,
                 small_input=False):
        super().__init__()
        self.small_input = small_input
        self.features = features
        side, hidden = (1, SMALL_HIDDEN) if small_input else (7, 4096)
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = nn.Sequential(
            nn.Linear(512 * side * side, hidden), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def _vgg(arch, cfg, batch_norm, weights, kwargs):
    _check_weights(arch, weights, kwargs)
    in_channels = kwargs.pop("in_channels", 3)
    small = kwargs.get("small_input", False)
    return VGG(make_layers(cfgs[cfg], batch_norm, in_channels, small), **kwargs)


def _builder(arch, cfg, batch_norm):
    def build(*, weights=None, progress=True, **kwargs):
        return _vgg(arch, cfg, batch_norm, weights, kwargs)
    build.__name__ = build.__qualname__ = arch
    build.__doc__ = (f"VGG-{arch[3:5]}{' with batch normalization' if batch_norm else ''} "
                     f"(configuration {cfg}); ``kwargs`` go to ``VGG`` (num_classes, "
                     f"init_weights, dropout, small_input) and ``in_channels`` to "
                     f"``make_layers``.")
    return register_model()(build)


vgg11 = _builder("vgg11", "A", False)
vgg11_bn = _builder("vgg11_bn", "A", True)
vgg13 = _builder("vgg13", "B", False)
vgg13_bn = _builder("vgg13_bn", "B", True)
vgg16 = _builder("vgg16", "D", False)
vgg16_bn = _builder("vgg16_bn", "D", True)
vgg19 = _builder("vgg19", "E", False)
vgg19_bn = _builder("vgg19_bn", "E", True)
