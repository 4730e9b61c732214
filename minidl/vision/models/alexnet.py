"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012), in torchvision's single-tower layout.

::

    input 3 x 224 x 224
    conv 11x11/4, 64  -> 55  maxpool 3/2 -> 27
    conv 5x5, 192     -> 27  maxpool 3/2 -> 13
    conv 3x3, 384 - conv 3x3, 256 - conv 3x3, 256 -> 13  maxpool 3/2 -> 6
    adaptive avgpool 6 x 6, dropout - fc 4096 - dropout - fc 4096 - fc classes

61,100,840 parameters for 1000 classes, as torchvision's ``alexnet()``. torchvision's
version is the "one weird trick" variant (64 / 192 first filters instead of the paper's 96 /
256, no local response normalization).
"""
from ... import nn
from ...ops.view import flatten
from ._api import register_model
from ._utils import _check_weights

__all__ = ["AlexNet", "alexnet"]

SMALL_HIDDEN = 512  # classifier width of the small-input variants of AlexNet and VGG


class AlexNet(nn.Module):
    """AlexNet: ``features`` (5 convolutions, 3 max-pools), ``avgpool``, ``classifier``.

    ``small_input=True`` adapts it to 28 x 28 / 32 x 32 images (state_dict keys unchanged):
    the first convolution becomes 5x5 stride 2 padding 2 (instead of 11x11 stride 4), the
    three max-pools get padding 1 (28 -> 14 -> 7 -> 4 -> 2), ``avgpool`` averages to 1 x 1
    and the classifier is 256 -> 512 -> 512 -> classes (instead of 9216 -> 4096 -> 4096).
    """

    def __init__(self, num_classes=1000, dropout=0.5, in_channels=3, small_input=False):
        super().__init__()
        self.small_input = small_input
        if small_input:
            conv1 = nn.Conv2d(in_channels, 64, kernel_size=5, stride=2, padding=2)
            pool, hidden, side = dict(kernel_size=3, stride=2, padding=1), SMALL_HIDDEN, 1
        else:
            conv1 = nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2)
            pool, hidden, side = dict(kernel_size=3, stride=2), 4096, 6
        self.features = nn.Sequential(
            conv1, nn.ReLU(), nn.MaxPool2d(**pool),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(**pool),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(**pool),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * side * side, hidden), nn.ReLU(),
            nn.Dropout(p=dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


@register_model()
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet; ``kwargs`` go to ``AlexNet`` (num_classes, dropout, in_channels, small_input)."""
    _check_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)
