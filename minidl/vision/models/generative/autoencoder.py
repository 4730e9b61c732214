"""Autoencoders for small grey images: fully connected (``Autoencoder``) and convolutional
(``ConvAutoencoder``).

An autoencoder is an encoder ``h = f(x)`` to a code of ``latent_dim`` numbers and a decoder
``x_hat = g(h)`` trained so that ``g(f(x))`` reconstructs ``x`` (Hinton & Salakhutdinov
2006); the denoising autoencoder (Vincent et al. 2008) is the same network fed a corrupted
``x~`` and asked for the clean ``x``. Both decoders here return *logits*: ``sigmoid(logits)``
is the reconstruction in [0, 1] and the training loss is the binary cross-entropy with
logits summed over the pixels (``minidl train autoencoder | dae``).
"""
from .... import nn

__all__ = ["Autoencoder", "ConvAutoencoder", "mlp_layers"]


def mlp_layers(widths):
    """``Linear(widths[0], widths[1]) - ReLU - ... - Linear(widths[-2], widths[-1])``: ReLU
    between the layers, none after the last."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return layers


def _check_shape(name, in_channels, image_size, latent_dim):
    for what, v in (("in_channels", in_channels), ("image_size", image_size),
                     ("latent_dim", latent_dim)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")


def _check_input(name, x, in_channels, image_size):
    shape = tuple(x.shape)
    if len(shape) != 4 or shape[1:] != (in_channels, image_size, image_size):
        raise ValueError(f"{name} expects images N x {in_channels} x {image_size} x "
                         f"{image_size}, got a tensor of shape {shape}")


class Autoencoder(nn.Module):
    """Fully connected autoencoder: ``Flatten``, ``Linear-ReLU`` per width of
    ``hidden_dims``, ``Linear`` to the code; the decoder mirrors it back to
    ``in_channels * image_size**2`` logits.

    ``encode(x)`` -> code ``N x latent_dim``; ``decode(h)`` -> logits ``N x C x H x W``;
    ``forward(x) = decode(encode(x))``.
    """

    def __init__(self, in_channels=1, image_size=28, hidden_dims=(512, 256), latent_dim=32):
        super().__init__()
        _check_shape("Autoencoder", in_channels, image_size, latent_dim)
        self.in_channels, self.image_size, self.latent_dim = in_channels, image_size, latent_dim
        pixels = in_channels * image_size * image_size
        widths = [pixels, *hidden_dims, latent_dim]
        self.encoder = nn.Sequential(nn.Flatten(), *mlp_layers(widths))
        self.decoder = nn.Sequential(*mlp_layers(widths[::-1]),
                                     nn.Unflatten(1, (in_channels, image_size, image_size)))

    def encode(self, x):
        _check_input("Autoencoder", x, self.in_channels, self.image_size)
        return self.encoder(x)

    def decode(self, h):
        return self.decoder(h)

    def forward(self, x):
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder: per width of ``channels`` a ``Conv2d(3, stride 2,
    padding 1) - ReLU`` halving the image (28 -> 14 -> 7), then ``Linear`` to the code; the
    decoder is ``Linear - ReLU`` back to the smallest map and per width a
    ``ConvTranspose2d(3, stride 2, padding 1, output_padding 1)`` doubling it (ReLU between,
    none after the last, which gives ``in_channels`` logit maps).

    ``image_size`` must be divisible by ``2 ** len(channels)``.
    """

    def __init__(self, in_channels=1, image_size=28, channels=(32, 64), latent_dim=32):
        super().__init__()
        _check_shape("ConvAutoencoder", in_channels, image_size, latent_dim)
        channels = tuple(channels)
        if not channels or image_size % 2 ** len(channels):
            raise ValueError(f"ConvAutoencoder: image_size {image_size} must be divisible by "
                             f"2 ** len(channels) = {2 ** len(channels)} (channels {channels})")
        self.in_channels, self.image_size, self.latent_dim = in_channels, image_size, latent_dim
        side = image_size // 2 ** len(channels)
        flat = channels[-1] * side * side
        down, width = [], in_channels
        for c in channels:
            down += [nn.Conv2d(width, c, 3, stride=2, padding=1), nn.ReLU()]
            width = c
        self.encoder = nn.Sequential(*down, nn.Flatten(), nn.Linear(flat, latent_dim))
        up = [nn.Linear(latent_dim, flat), nn.ReLU(), nn.Unflatten(1, (channels[-1], side, side))]
        widths = (*channels[::-1], in_channels)
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            up.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
            if i < len(widths) - 2:
                up.append(nn.ReLU())
        self.decoder = nn.Sequential(*up)

    def encode(self, x):
        _check_input("ConvAutoencoder", x, self.in_channels, self.image_size)
        return self.encoder(x)

    def decode(self, h):
        return self.decoder(h)

    def forward(self, x):
        return self.decode(self.encode(x))
