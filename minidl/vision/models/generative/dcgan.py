"""DCGAN (Radford et al. 2016) for 28 x 28 images, its critic for WGAN / WGAN-GP, and its
conditional form (Mirza & Osindero 2014).

``DCGANGenerator``: ``z`` (``N x latent_dim``, seen as a 1 x 1 map) ->
``ConvTranspose2d(7, stride 1)`` to ``2 base_channels x 7 x 7`` -> BN -> ReLU ->
``ConvTranspose2d(4, stride 2, padding 1)`` to ``base_channels x 14 x 14`` -> BN -> ReLU ->
``ConvTranspose2d(4, stride 2, padding 1)`` to ``out_channels x 28 x 28`` -> ``tanh``
(no BN on the output layer, as the paper).

``DCGANDiscriminator``: ``Conv2d(4, stride 2, padding 1)`` to ``base_channels x 14 x 14``
-> LeakyReLU(0.2) (no BN on the first layer, as the paper) -> ``Conv2d(4, stride 2,
padding 1)`` to ``2 base_channels x 7 x 7`` -> BN -> LeakyReLU(0.2) -> ``Conv2d(7)`` to
one number per image, ``(N,)``: D's logit, or the critic's score. Strided convolutions
instead of pooling, no fully connected hidden layers (the paper's guidelines).
``batch_norm=False`` drops the BN layer: the WGAN-GP critic must have none, since the
penalty is on each sample's own input gradient and batch norm mixes the samples of a
batch (Gulrajani et al. 2017, section 4).

Conditioning (``num_classes``): the label vector (one-hot, or a learned embedding of
``embedding_dim``) is concatenated to ``z`` in G and, broadcast to constant 28 x 28 planes,
to the image's channels in D.

Parameters for ``out_channels = in_channels = 1``, ``latent_dim=100``, ``base_channels=64``:

====================================================  =========
``DCGANGenerator()``                                    759,681
``DCGANGenerator(num_classes=10)``                      822,401
``DCGANDiscriminator()``                                138,689
``DCGANDiscriminator(batch_norm=False)``                138,561
``DCGANDiscriminator(num_classes=10)``                  148,929
====================================================  =========

``dcgan_weights_init`` is the paper's initialisation: every (transposed) convolution and
linear weight ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0 (apply it with
``model.apply(dcgan_weights_init)``).
"""
from .... import nn
from ...._checks import positive_int
from ....autograd import no_grad
from ....ops.join import cat
from .gan import NEGATIVE_SLOPE, LabelEncoding, check_images, check_noise

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_weights_init", "IMAGE_SIZE"]

IMAGE_SIZE = 28
_SIDE = 7


class DCGANGenerator(nn.Module):
    """DCGAN generator for 28 x 28: ``z`` (and, with ``num_classes``, the label vector) ->
    7 x 7 -> 14 x 14 -> 28 x 28 by transposed convolutions, BN and ReLU, ``tanh`` output in
    [-1, 1]. ``forward(z)``, or ``forward(z, labels)`` when conditional."""

    def __init__(self, latent_dim=100, base_channels=64, out_channels=1, num_classes=None,
                 embedding_dim=None):
        super().__init__()
        owner = "DCGANGenerator"
        self.latent_dim = positive_int(owner, "latent_dim", latent_dim)
        self.base_channels = positive_int(owner, "base_channels", base_channels)
        self.out_channels = positive_int(owner, "out_channels", out_channels)
        self.num_classes = num_classes
        self.label = _label_encoding(owner, num_classes, embedding_dim)
        c = base_channels
        width = latent_dim + (self.label.features if self.label is not None else 0)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(width, 2 * c, _SIDE, bias=False),
            nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, out_channels, 4, stride=2, padding=1),
            nn.Tanh())

    def forward(self, z, labels=None):
        check_noise("DCGANGenerator", z, self.latent_dim)
        _check_labels_given("DCGANGenerator", self.label, labels)
        if self.label is not None:
            z = cat([z, self.label(labels, z.shape[0], z.dtype)], 1)
        return self.net(z.reshape(z.shape[0], z.shape[1], 1, 1))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator / critic for 28 x 28: strided convolutions 28 -> 14 -> 7,
    LeakyReLU(0.2), BN on the second layer only (none with ``batch_norm=False``), a 7 x 7
    convolution to one logit / score per image, ``(N,)``. ``forward(x)``, or
    ``forward(x, labels)`` when conditional."""

    def __init__(self, in_channels=1, base_channels=64, batch_norm=True, num_classes=None,
                 embedding_dim=None):
        super().__init__()
        owner = "DCGANDiscriminator"
        self.in_channels = positive_int(owner, "in_channels", in_channels)
        self.base_channels = positive_int(owner, "base_channels", base_channels)
        if not isinstance(batch_norm, bool):
            raise ValueError(f"{owner}(batch_norm=) must be True or False, got {batch_norm!r}")
        self.batch_norm = batch_norm
        self.num_classes = num_classes
        self.label = _label_encoding(owner, num_classes, embedding_dim)
        c = base_channels
        width = in_channels + (self.label.features if self.label is not None else 0)
        self.net = nn.Sequential(
            nn.Conv2d(width, c, 4, stride=2, padding=1), nn.LeakyReLU(NEGATIVE_SLOPE),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=not batch_norm),
            *([nn.BatchNorm2d(2 * c)] if batch_norm else []), nn.LeakyReLU(NEGATIVE_SLOPE),
            nn.Conv2d(2 * c, 1, _SIDE))

    def forward(self, x, labels=None):
        check_images("DCGANDiscriminator", x, self.in_channels, IMAGE_SIZE)
        _check_labels_given("DCGANDiscriminator", self.label, labels)
        if self.label is not None:
            y = self.label(labels, x.shape[0], x.dtype)
            planes = y.reshape(y.shape[0], y.shape[1], 1, 1).expand(
                y.shape[0], y.shape[1], IMAGE_SIZE, IMAGE_SIZE)
            x = cat([x, planes], 1)
        return self.net(x).flatten(1).squeeze(1)


def _label_encoding(owner, num_classes, embedding_dim):
    if num_classes is None:
        if embedding_dim is not None:
            raise ValueError(f"{owner}(embedding_dim=) needs num_classes (a conditional "
                             f"model), got num_classes=None")
        return None
    positive_int(owner, "num_classes", num_classes)
    return LabelEncoding(num_classes, embedding_dim)


def _check_labels_given(owner, label, labels):
    if label is None and labels is not None:
        raise ValueError(f"{owner} is unconditional (num_classes=None) and takes no labels")


def dcgan_weights_init(module):
    """Radford et al.'s initialisation, for ``model.apply(dcgan_weights_init)``: weights of
    ``Conv*`` / ``ConvTranspose*`` / ``Linear`` ~ N(0, 0.02) (their biases 0), ``BatchNorm*``
    weight ~ N(1, 0.02) and bias 0. Other modules are left as they are."""
    with no_grad():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                               nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            if module.weight is not None:
                nn.init.normal_(module.weight, 1.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
