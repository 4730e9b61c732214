"""The course's FCN-8s (Long, Shelhamer & Darrell 2015), small enough for 96 x 96 grey scenes.

A VGG-like encoder of five stages (3x3 convolutions - BatchNorm - ReLU, then a 2x2
max-pool: strides 2, 4, 8, 16, 32), the classifier's fully connected layers as
convolutions (``head``, the paper's fc6 / fc7) and a 1x1 class scorer ``score_fr`` at
stride 32. The scores are brought back to the input by learned transposed convolutions
initialised to bilinear up-sampling (section 3.3), fused with skip scores of the pool4 and
pool3 stages (section 4.2, "FCN-8s")::

    s32 = score_fr(head(pool5))                       # stride 32
    s16 = upscore2(s32) + score_pool4(pool4)          # x2, stride 16
    s8  = upscore_pool4(s16) + score_pool3(pool3)     # x2, stride 8
    out = upscore8(s8)                                # x8, input size

As in the paper's staged training the skip scorers start at zero, so the untrained network
is FCN-32s with bilinear up-sampling, and all up-sampling kernels are learned. Changed from
the paper for a small CPU model: narrower stages, BatchNorm, a 3x3 fc6 (not 7x7) and
"same" padding instead of the 100-pixel input padding and crops, so the input's height and
width must be multiples of 32 (``output_stride``).
"""
from .... import nn
from ...._checks import positive_int, probability
from .._api import register_model
from .._utils import _check_weights
from ._utils import check_divisible, init_bilinear_

__all__ = ["FCN8s", "fcn8s_mini"]


def _stage(in_channels, out_channels, convs):
    layers = []
    for i in range(convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3,
                             padding=1, bias=False),
                   nn.BatchNorm2d(out_channels), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def _upsample(num_classes, factor):
    """A learned ``factor``-times up-sampling of the class scores, bilinear to begin with."""
    return init_bilinear_(nn.ConvTranspose2d(num_classes, num_classes, 2 * factor,
                                             stride=factor, padding=factor // 2, bias=False))


class FCN8s(nn.Module):
    """FCN-8s: ``widths`` / ``convs`` give the channels and the number of 3x3 convolutions
    of each of the five stages (``stage1`` ... ``stage5``), ``head_channels`` the width of
    fc6 / fc7 (``head``, with ``dropout``); ``forward`` returns class scores
    (N, num_classes, H, W) for images (N, in_channels, H, W), H and W multiples of 32."""

    output_stride = 32

    def __init__(self, in_channels=1, num_classes=11, widths=(16, 32, 64, 128, 128),
                 convs=(1, 1, 2, 2, 2), head_channels=256, dropout=0.5):
        super().__init__()
        widths, convs = tuple(widths), tuple(convs)
        if len(widths) != 5 or len(convs) != 5 or min(widths + convs) < 1:
            raise ValueError(f"FCN8s needs five stage widths and five convolution counts, all "
                             f">= 1; got widths={widths}, convs={convs}")
        for name, v in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("head_channels", head_channels)):
            positive_int("FCN8s", name, v)
        probability("FCN8s", "dropout", dropout)
        channels = (in_channels,) + widths
        for i in range(5):
            self.add_module(f"stage{i + 1}", _stage(channels[i], channels[i + 1], convs[i]))
        self.head = nn.Sequential(
            nn.Conv2d(widths[4], head_channels, 3, padding=1), nn.ReLU(), nn.Dropout2d(dropout),
            nn.Conv2d(head_channels, head_channels, 1), nn.ReLU(), nn.Dropout2d(dropout))
        self.score_fr = nn.Conv2d(head_channels, num_classes, 1)
        self.score_pool4 = nn.Conv2d(widths[3], num_classes, 1)
        self.score_pool3 = nn.Conv2d(widths[2], num_classes, 1)
        for layer in (self.score_pool4, self.score_pool3):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.upscore2 = _upsample(num_classes, 2)
        self.upscore_pool4 = _upsample(num_classes, 2)
        self.upscore8 = _upsample(num_classes, 8)

    def forward(self, x):
        check_divisible("FCN8s", x, self.output_stride)
        pool3 = self.stage3(self.stage2(self.stage1(x)))
        pool4 = self.stage4(pool3)
        scores = self.score_fr(self.head(self.stage5(pool4)))
        scores = self.upscore2(scores) + self.score_pool4(pool4)
        scores = self.upscore_pool4(scores) + self.score_pool3(pool3)
        return self.upscore8(scores)


@register_model()
def fcn8s_mini(*, weights=None, progress=True, **kwargs):
    """FCN-8s for 96 x 96 grey scenes: 1 input channel, 11 classes (background + 10),
    stages 16-32-64-128-128 with 1-1-2-2-2 convolutions, fc6 / fc7 of 256; ``kwargs`` go to
    ``FCN8s`` (in_channels, num_classes, widths, convs, head_channels, dropout)."""
    _check_weights("fcn8s_mini", weights, kwargs)
    return FCN8s(**kwargs)
