"""Single-image super-resolution networks: SRCNN, VDSR and ESPCN (SRGAN: ``srgan.py``).

Every model takes ``scale`` (the upscaling factor) and ``in_channels`` (1 for the grey Y
channel the papers train on, 3 for RGB) and maps images in [0, 1] to images in [0, 1]
(unclipped). ``upsampled_input`` says what the model reads: SRCNN and VDSR the
low-resolution image already resized to the output size by bicubic interpolation (they
keep the size), ESPCN the low-resolution image itself (it upscales by ``scale`` at its
end). ``receptive_radius`` is how many input pixels on each side an output pixel sees (a
tile with that margin gives the same output as the whole image).

Parameters for ``in_channels=1`` (weights + biases, counted from the papers' layers):

=====================  ==============================================  ==========
model                  layers                                          parameters
=====================  ==============================================  ==========
SRCNN 9-1-5 (any s)    9x9 1->64, 1x1 64->32, 5x5 32->1                 8,129
VDSR (any s)           3x3 1->64, 18 x 3x3 64->64, 3x3 64->1          665,921
ESPCN x2 / x4          5x5 1->64, 3x3 64->32, 3x3 32->s^2, shuffle    21,284 / 24,752
=====================  ==============================================  ==========

Differences from the papers, for one image-to-image layout: every convolution is padded
so the output has the input's (SRCNN, VDSR) or ``scale`` times its (ESPCN) size (SRCNN's
paper uses no padding and loses 12 pixels on each side). Initialisation is torch's
``Conv2d`` default for SRCNN and ESPCN (the papers: small Gaussians, trained for days with
SGD), He-normal for VDSR as in its paper except its last convolution, whose weights start
at zero so that the untrained VDSR returns its bicubic input (short CPU runs then start
from the baseline instead of from noise).
"""
from ... import nn
from ..._checks import positive_int
from ._api import register_model
from ._utils import _check_weights

__all__ = ["SRCNN", "VDSR", "ESPCN", "srcnn", "vdsr", "espcn"]


def _check(owner, scale, in_channels):
    positive_int(owner, "scale", scale)
    positive_int(owner, "in_channels", in_channels)


class SRCNN(nn.Module):
    """SRCNN (Dong, Loy, He & Tang 2014, the 9-1-5 network): patch extraction (9 x 9,
    ``n1`` = 64 maps), non-linear mapping (1 x 1, ``n2`` = 32), reconstruction (5 x 5),
    ReLU after the first two; reads the bicubic-upsampled image."""

    upsampled_input = True

    def __init__(self, scale=2, in_channels=1, n1=64, n2=32):
        super().__init__()
        _check("SRCNN", scale, in_channels)
        positive_int("SRCNN", "n1", n1)
        positive_int("SRCNN", "n2", n2)
        self.scale = scale
        self.receptive_radius = 4 + 0 + 2
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, n1, 9, padding=4), nn.ReLU(inplace=True),
            nn.Conv2d(n1, n2, 1), nn.ReLU(inplace=True))
        self.reconstruction = nn.Conv2d(n2, in_channels, 5, padding=2)

    def forward(self, x):
        return self.reconstruction(self.features(x))


class VDSR(nn.Module):
    """VDSR (Kim, Lee & Lee 2016): ``depth`` = 20 convolutions 3 x 3 with ``width`` = 64
    maps and ReLU between them, learning the residual: output = input + body(input), on the
    bicubic-upsampled image. The paper trains it with high learning rates made safe by
    gradient clipping (the ``minidl train vdsr`` task clips the gradients' norm)."""

    upsampled_input = True

    def __init__(self, scale=2, in_channels=1, depth=20, width=64):
        super().__init__()
        _check("VDSR", scale, in_channels)
        positive_int("VDSR", "width", width)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
            raise ValueError(f"VDSR(depth=) must be an int >= 2 (the first and last "
                             f"convolutions), got {depth!r}")
        self.scale = scale
        self.receptive_radius = depth
        layers = [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, in_channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        for m in self.body.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        nn.init.zeros_(layers[-1].weight)  # the residual starts at 0: the model at bicubic

    def forward(self, x):
        return x + self.body(x)


class ESPCN(nn.Module):
    """ESPCN (Shi et al. 2016): 5 x 5 (64 maps), 3 x 3 (32), tanh after each, then a 3 x 3
    convolution to ``in_channels * scale^2`` maps that ``nn.PixelShuffle(scale)`` (the
    sub-pixel convolution) rearranges into the ``scale`` times larger image; reads the
    low-resolution image."""

    upsampled_input = False

    def __init__(self, scale=2, in_channels=1, n1=64, n2=32):
        super().__init__()
        _check("ESPCN", scale, in_channels)
        positive_int("ESPCN", "n1", n1)
        positive_int("ESPCN", "n2", n2)
        self.scale = scale
        self.receptive_radius = 2 + 1 + 1
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, n1, 5, padding=2), nn.Tanh(),
            nn.Conv2d(n1, n2, 3, padding=1), nn.Tanh())
        self.sub_pixel = nn.Conv2d(n2, in_channels * scale * scale, 3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        return self.pixel_shuffle(self.sub_pixel(self.features(x)))


@register_model()
def srcnn(scale=2, in_channels=1, *, weights=None, progress=True, **kwargs):
    """SRCNN 9-1-5 (``n1``, ``n2``: the widths, 64 and 32)."""
    _check_weights("srcnn", weights, kwargs)
    return SRCNN(scale, in_channels, **kwargs)


@register_model()
def vdsr(scale=2, in_channels=1, *, weights=None, progress=True, **kwargs):
    """VDSR, 20 layers of 64 maps (``depth``, ``width``)."""
    _check_weights("vdsr", weights, kwargs)
    return VDSR(scale, in_channels, **kwargs)


@register_model()
def espcn(scale=2, in_channels=1, *, weights=None, progress=True, **kwargs):
    """ESPCN with sub-pixel convolution (``n1``, ``n2``: the widths, 64 and 32)."""
    _check_weights("espcn", weights, kwargs)
    return ESPCN(scale, in_channels, **kwargs)
