"""LeNet-5 (LeCun et al., 1998), in the layout most courses and benchmarks use today.

::

    input            1 x 28 x 28
    conv 5x5, pad 2  6 x 28 x 28     (6 * 1 * 25 + 6     =    156 parameters)
    ReLU, maxpool 2  6 x 14 x 14
    conv 5x5         16 x 10 x 10    (16 * 6 * 25 + 16   =  2,416)
    ReLU, maxpool 2  16 x 5 x 5
    flatten          400
    linear           120             (400 * 120 + 120    = 48,120)
    ReLU, linear     84              (120 * 84 + 84      = 10,164)
    ReLU, linear     10              (84 * 10 + 10       =    850)
                                                   total 61,706 for 10 classes

Differences from the 1998 paper, as in the usual modern version: ReLU instead of scaled
tanh, max pooling instead of trainable sub-sampling, a full C3 connection table, and a
linear classifier instead of RBF units; the 28 x 28 MNIST image is padded by 2 to the
paper's 32 x 32 input. ``image_size=32`` builds the paper's unpadded version for 32 x 32
images (same parameters, e.g. CIFAR with ``in_channels=3``).
"""
from ... import nn
from ._api import register_model
from ._utils import _check_weights

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5: ``features`` (two conv-ReLU-maxpool stages) then ``classifier`` (three linear).

    ``image_size`` is 28 (the first convolution pads by 2) or 32 (no padding)."""

    def __init__(self, num_classes=10, in_channels=1, image_size=28):
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"LeNet5 takes 28 x 28 or 32 x 32 images, got image_size="
                             f"{image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=(32 - image_size) // 2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


@register_model()
def lenet5(num_classes=10, in_channels=1, *, weights=None, progress=True, **kwargs):
    """LeNet-5 for 28 x 28 images (``image_size=32``: 32 x 32; see the module docstring); it
    is built for small inputs already, so ``small_input`` is accepted and changes nothing."""
    _check_weights("lenet5", weights, kwargs)
    kwargs.pop("small_input", None)
    return LeNet5(num_classes=num_classes, in_channels=in_channels, **kwargs)
