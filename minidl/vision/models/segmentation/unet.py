"""U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical
Image Segmentation").

Contracting path: a double convolution (3x3 conv - BatchNorm - ReLU, twice) at
``base_channels``, then ``depth`` times a 2x2 max-pool and a double convolution doubling
the channels. Expanding path: ``depth`` times an up-sampling that halves the channels -- a
2x2 transposed convolution of stride 2 (the paper's "up-convolution"), or with
``bilinear=True`` bilinear x2 interpolation followed by a 1x1 convolution -- concatenated
with the contracting path's map of the same size (the skip) and a double convolution back
to the halved width. A 1x1 convolution scores the classes.

Changed from the paper: "same" padding (the output has the input's size, no crops) and
BatchNorm after every convolution; the input's height and width must be multiples of
``2 ** depth`` (``output_stride``).
"""
from .... import nn
from ...._checks import positive_int
from ....ops.join import cat
from .._api import register_model
from .._utils import _check_weights
from ._utils import check_divisible

__all__ = ["UNet", "DoubleConv", "unet_mini"]


class DoubleConv(nn.Sequential):
    """(3x3 convolution, no bias - BatchNorm - ReLU) twice."""

    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU())


class _Down(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class _Up(nn.Module):
    """Up-sample ``x`` to half its channels, concatenate the skip, double convolution."""

    def __init__(self, in_channels, out_channels, bilinear):
        super().__init__()
        if bilinear:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, in_channels // 2, 1))
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        self.conv = DoubleConv(in_channels // 2 + out_channels, out_channels)

    def forward(self, x, skip):
        return self.conv(cat([skip, self.up(x)], 1))


class UNet(nn.Module):
    """U-Net with ``depth`` down / up steps from ``base_channels`` (widths ``base_channels
    * 2 ** level``); ``forward`` returns class scores (N, num_classes, H, W) for images
    (N, in_channels, H, W). Modules: ``inc``, ``downs[i]``, ``ups[i]``, ``outc``."""

    def __init__(self, in_channels, num_classes, base_channels=64, depth=4, bilinear=False):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("base_channels", base_channels), ("depth", depth)):
            positive_int("UNet", name, v)
        if not isinstance(bilinear, bool):
            raise TypeError(f"UNet: bilinear must be a bool, got {bilinear!r}")
        widths = [base_channels * 2 ** i for i in range(depth + 1)]
        self.depth, self.bilinear = depth, bilinear
        self.output_stride = 2 ** depth
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList([_Down(widths[i], widths[i + 1]) for i in range(depth)])
        self.ups = nn.ModuleList([_Up(widths[i + 1], widths[i], bilinear)
                                  for i in reversed(range(depth))])
        self.outc = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        check_divisible("UNet", x, self.output_stride)
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.outc(x)


@register_model()
def unet_mini(*, weights=None, progress=True, in_channels=1, num_classes=11, base_channels=8,
              depth=3, bilinear=False):
    """U-Net for 96 x 96 grey scenes: 1 input channel, 11 classes, widths 8-16-32-64
    (``depth`` 3), transposed-convolution up-sampling."""
    _check_weights("unet_mini", weights, {})
    return UNet(in_channels, num_classes, base_channels, depth, bilinear)
