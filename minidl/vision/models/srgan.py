"""SRGAN (Ledig et al. 2017): the SRResNet generator, the discriminator and the perceptual
loss (content loss on the features of a fixed network + 1e-3 x adversarial loss).

Parameters for ``in_channels=1`` (weights + biases, BatchNorm weight + bias, PReLU one
slope each, as ``nn.PReLU()``):

==========================================  =========================================
SRResNet x4, 16 blocks of 64 maps             1,528,724 (x2: 1,381,011)
the same, ``batch_norm=False``                1,524,500 (x2: 1,376,787)
discriminator for 96 x 96 patches            23,562,497
==========================================  =========================================

Generator: 9 x 9 conv (64) + PReLU; ``num_blocks`` residual blocks (3 x 3 conv, BN,
PReLU, 3 x 3 conv, BN, + input); 3 x 3 conv + BN added to the first features; log2(scale)
upsampling steps (3 x 3 conv to 256 maps, ``nn.PixelShuffle(2)``, PReLU); 9 x 9 conv to
the image. ``batch_norm=False`` drops the BN layers, as EDSR (Lim et al. 2017), and
``bicubic_skip=True`` (not in the paper) adds the bicubic-upsampled input to the output.
Discriminator: eight 3 x 3 convolutions 64-64-128-128-256-256-512-512 (every
second of stride 2, BN after all but the first, LeakyReLU 0.2), dense 1024, LeakyReLU,
dense 1: a logit (the paper's sigmoid is in the loss, ``BCEWithLogitsLoss``).

Feature networks of the content loss (``feature_network``): ``vgg19_features(path)`` reads
torchvision's VGG-19 ImageNet weights (a ``.safetensors`` / ``.npz`` state_dict the user
has) and gives the paper's VGG54 features (after the ReLU of conv5_4; grey images are
repeated to RGB and normalised as ImageNet's). Without them, ``RandomFeatures``: a fixed,
seeded, randomly initialised three-scale conv network (32, 64, 128 maps, average-pooled
by 2 between scales), whose multi-scale feature distances also measure perceptual
structure (random conv features are a known stand-in for trained ones in texture and
style losses); the loss is the mean of the three scales' MSEs.
"""
import math
import os

import numpy as np

from ... import nn
from ..._checks import positive_int
from ..._creation import from_numpy, tensor
from ._api import register_model
from ._utils import _check_weights

__all__ = ["SRResNet", "ResidualBlock", "SRGANDiscriminator", "RandomFeatures",
           "VGGFeatures", "PerceptualLoss", "vgg19_features", "srresnet",
           "srgan_discriminator", "ADVERSARIAL_WEIGHT"]

ADVERSARIAL_WEIGHT = 1e-3


class ResidualBlock(nn.Module):
    """conv 3 x 3, BN, PReLU, conv 3 x 3, BN, plus the input (``batch_norm=False``: without
    the two BN layers, as EDSR's blocks)."""

    def __init__(self, width=64, batch_norm=True):
        super().__init__()
        def norm():
            return [nn.BatchNorm2d(width)] if batch_norm else []
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), *norm(), nn.PReLU(),
            nn.Conv2d(width, width, 3, padding=1), *norm())

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    """The SRGAN generator (see the module docstring); reads the low-resolution image,
    ``scale`` a power of 2. ``batch_norm=False`` leaves out every BatchNorm (the residual
    blocks' and the fuse step's), as EDSR (Lim et al. 2017). ``bicubic_skip=True`` (a change
    from the paper) adds the bicubic upsampling of the input (``nn.Upsample(mode='bicubic')``)
    to the output and starts the last convolution at zero, so the untrained network returns
    bicubic and learns the residual, as VDSR."""

    upsampled_input = False

    def __init__(self, scale=4, in_channels=1, num_blocks=16, width=64, batch_norm=True,
                 bicubic_skip=False):
        super().__init__()
        for name, value in (("scale", scale), ("in_channels", in_channels),
                            ("num_blocks", num_blocks), ("width", width)):
            positive_int("SRResNet", name, value)
        for name, value in (("batch_norm", batch_norm), ("bicubic_skip", bicubic_skip)):
            if not isinstance(value, bool):
                raise TypeError(f"SRResNet({name}=) must be a bool, got {value!r}")
        steps = int(round(math.log2(scale)))
        if 2 ** steps != scale or scale < 2:
            raise ValueError(f"SRResNet(scale=) must be a power of 2 >= 2 (PixelShuffle(2) "
                             f"steps), got {scale}")
        self.scale = scale
        self.batch_norm, self.bicubic_skip = batch_norm, bicubic_skip
        self.receptive_radius = 4 + 2 * num_blocks + 1 + steps + 4
        self.head = nn.Sequential(nn.Conv2d(in_channels, width, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(width, batch_norm)
                                      for _ in range(num_blocks)])
        self.fuse = nn.Sequential(nn.Conv2d(width, width, 3, padding=1),
                                  *([nn.BatchNorm2d(width)] if batch_norm else []))
        ups = []
        for _ in range(steps):
            ups += [nn.Conv2d(width, width * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Conv2d(width, in_channels, 9, padding=4)
        if bicubic_skip:
            self.bicubic = nn.Upsample(scale_factor=scale, mode="bicubic", align_corners=False)
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x):
        features = self.head(x)
        out = self.tail(self.upsample(features + self.fuse(self.blocks(features))))
        return out + self.bicubic(x) if self.bicubic_skip else out


class SRGANDiscriminator(nn.Module):
    """The SRGAN discriminator for ``image_size`` x ``image_size`` HR patches (a multiple
    of 16); returns one logit per image (N x 1)."""

    def __init__(self, in_channels=1, image_size=96):
        super().__init__()
        positive_int("SRGANDiscriminator", "in_channels", in_channels)
        positive_int("SRGANDiscriminator", "image_size", image_size)
        if image_size % 16:
            raise ValueError(f"SRGANDiscriminator(image_size=) must be a multiple of 16 (four "
                             f"stride-2 convolutions), got {image_size}")
        self.image_size = image_size
        layers = [nn.Conv2d(in_channels, 64, 3, padding=1), nn.LeakyReLU(0.2)]
        c = 64
        for i, width in enumerate((64, 128, 128, 256, 256, 512, 512)):
            layers += [nn.Conv2d(c, width, 3, stride=2 if i % 2 == 0 else 1, padding=1,
                                 bias=False), nn.BatchNorm2d(width), nn.LeakyReLU(0.2)]
            c = width
        self.features = nn.Sequential(*layers)
        side = image_size // 16
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(512 * side * side, 1024),
                                        nn.LeakyReLU(0.2), nn.Linear(1024, 1))

    def forward(self, x):
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"SRGANDiscriminator was built for {self.image_size} x "
                             f"{self.image_size} images, got {x.shape[-2]} x {x.shape[-1]}")
        return self.classifier(self.features(x))


def _freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


class RandomFeatures(nn.Module):
    """Fixed random three-scale features (the fallback feature network): 3 x 3 conv + ReLU
    stages of 32, 64, 128 maps with 2 x 2 average pooling between them, He-normal weights
    drawn from ``numpy.random.default_rng(seed)``; returns the list of the three maps."""

    description = "random multi-scale conv features (no VGG-19 weights given)"

    def __init__(self, in_channels=1, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.stages = nn.ModuleList()
        c = in_channels
        for i, width in enumerate((32, 64, 128)):
            conv = nn.Conv2d(c, width, 3, padding=1)
            std = math.sqrt(2.0 / (c * 9))
            conv.weight.data = from_numpy(rng.normal(0, std, conv.weight.shape)
                                          .astype(np.float32))
            conv.bias.data = from_numpy(np.zeros(width, np.float32))
            self.stages.append(nn.Sequential(*([nn.AvgPool2d(2)] if i else []), conv,
                                             nn.ReLU()))
            c = width
        _freeze(self)

    def forward(self, x):
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return maps


class VGGFeatures(nn.Module):
    """VGG-19 up to the ReLU after conv5_4 (the paper's phi_5,4) on images in [0, 1]:
    grey images are repeated to RGB, then normalised with ImageNet's mean and std."""

    description = "VGG-19 features phi_5,4 (torchvision's ImageNet weights)"

    def __init__(self, features):
        super().__init__()
        self.features = _freeze(features)
        self.register_buffer("mean", tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1))
        self.register_buffer("std", tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1))

    def forward(self, x):
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return [self.features((x - self.mean) / self.std)]


def vgg19_features(path):
    """``VGGFeatures`` with torchvision's VGG-19 weights read from ``path`` (the
    ``state_dict`` of ``torchvision.models.vgg19`` saved as .safetensors or .npz)."""
    from .vgg import cfgs, make_layers
    if not os.path.isfile(path):
        raise FileNotFoundError(f"VGG-19 weights {path!r} do not exist")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            state = {k: from_numpy(z[k]) for k in z.files}
    else:
        from safetensors.numpy import load_file
        state = {k: from_numpy(v) for k, v in load_file(path).items()}
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    layers = make_layers(cfgs["E"])
    try:
        layers.load_state_dict(features)
    except (RuntimeError, KeyError) as e:
        raise ValueError(f"{path} does not hold torchvision's vgg19 'features.*' weights: "
                         f"{e}") from None
    return VGGFeatures(layers[:36])


class PerceptualLoss(nn.Module):
    """SRGAN's generator loss: content (mean over the feature maps of ``features`` of the
    MSE between those of ``sr`` and ``hr``) + ``ADVERSARIAL_WEIGHT`` x the adversarial
    loss -log D(G(lr)) (``BCEWithLogitsLoss`` against 1 of the discriminator's logits).
    ``forward`` returns ``(total, content, adversarial)``."""

    def __init__(self, features, adversarial_weight=ADVERSARIAL_WEIGHT):
        super().__init__()
        self.features = features
        self.adversarial_weight = adversarial_weight
        self.bce = nn.BCEWithLogitsLoss()

    def content(self, sr, hr):
        pairs = list(zip(self.features(sr), self.features(hr.detach())))
        return sum(((a - b.detach()) ** 2).mean() for a, b in pairs) / len(pairs)

    def forward(self, sr, hr, fake_logits):
        content = self.content(sr, hr)
        adversarial = self.bce(fake_logits, fake_logits.new_ones(fake_logits.shape))
        return content + self.adversarial_weight * adversarial, content, adversarial


@register_model()
def srresnet(scale=4, in_channels=1, *, weights=None, progress=True, **kwargs):
    """The SRResNet / SRGAN generator (``num_blocks`` 16, ``width`` 64)."""
    _check_weights("srresnet", weights, kwargs)
    return SRResNet(scale, in_channels, **kwargs)


@register_model()
def srgan_discriminator(in_channels=1, image_size=96, *, weights=None, progress=True,
                        **kwargs):
    """The SRGAN discriminator for ``image_size`` x ``image_size`` images."""
    _check_weights("srgan_discriminator", weights, kwargs)
    return SRGANDiscriminator(in_channels, image_size, **kwargs)
