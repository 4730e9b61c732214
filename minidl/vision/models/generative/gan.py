"""The fully connected GAN of the course (Goodfellow et al. 2014) and its conditional form
(Mirza & Osindero 2014), for small grey images in [-1, 1].

``Generator``: noise ``z`` (``N x latent_dim``) -> ``Linear - LeakyReLU(0.2)`` per width of
``hidden_dims`` -> ``Linear`` to the pixels -> ``tanh``: an image ``N x C x H x W`` in
[-1, 1]. ``Discriminator``: the image flattened -> ``Linear - LeakyReLU(0.2)`` (optional
dropout) per width -> ``Linear`` to one number: the *logit* of ``D(x)``, shape ``(N,)``
(the sigmoid lives in the losses, ``minidl.vision.gan_losses``; a Wasserstein critic uses
the same number as its unbounded score).

The conditional GAN feeds the class ``y`` to both nets: its one-hot vector (``embedding_dim
=None``) or a learned ``nn.Embedding`` of ``embedding_dim`` numbers is concatenated to ``z``
in G and to the flattened image in D, so ``G(z, y)`` draws an image of class ``y`` and
``D(x, y)`` judges whether ``x`` is a real image *of class y*.

Parameters (weights + biases) for 28 x 28 grey images with the defaults:

=============================================================  ===========
``Generator()``  (100 -> 256 -> 512 -> 1024 -> 784)              1,486,352
``Discriminator()``  (784 -> 512 -> 256 -> 1)                      533,505
``ConditionalGenerator()``  (one-hot: 110 -> ... -> 784)         1,488,912
``ConditionalDiscriminator()``  (one-hot: 794 -> ... -> 1)         538,625
=============================================================  ===========
"""
from .... import nn
from ...._checks import positive_int
from ....nn import functional as F
from ....ops.join import cat

__all__ = ["Generator", "Discriminator", "ConditionalGenerator", "ConditionalDiscriminator",
           "LabelEncoding"]

NEGATIVE_SLOPE = 0.2


def _leaky_mlp(widths, dropout=0.0):
    """``Linear - LeakyReLU(0.2) [- Dropout]`` per hidden width, a last ``Linear``."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(NEGATIVE_SLOPE))
            if dropout:
                layers.append(nn.Dropout(dropout))
    return layers


def _check_hidden(owner, hidden_dims):
    hidden_dims = tuple(hidden_dims)
    for h in hidden_dims:
        positive_int(owner, "hidden_dims", h)
    return hidden_dims


def _check_dropout(owner, dropout):
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
            not 0 <= dropout < 1:
        raise ValueError(f"{owner}(dropout=) must be in [0, 1), got {dropout!r}")
    return float(dropout)


def check_noise(owner, z, latent_dim):
    """A clear error unless ``z`` is ``N x latent_dim``."""
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"{owner} expects noise N x {latent_dim}, got a tensor of shape "
                         f"{tuple(z.shape)}")


def check_images(owner, x, channels, image_size):
    """A clear error unless ``x`` is ``N x channels x image_size x image_size``."""
    shape = tuple(x.shape)
    if len(shape) != 4 or shape[1:] != (channels, image_size, image_size):
        raise ValueError(f"{owner} expects images N x {channels} x {image_size} x "
                         f"{image_size}, got a tensor of shape {shape}")


class LabelEncoding(nn.Module):
    """The class label as a vector: one-hot (``embedding_dim=None``, ``num_classes``
    numbers, no parameters) or a learned ``nn.Embedding(num_classes, embedding_dim)``.

    ``forward(labels)``: int labels of shape ``(N,)`` -> float ``N x features``; labels out
    of ``[0, num_classes)`` or of the wrong shape are refused naming them.
    """

    def __init__(self, num_classes, embedding_dim=None):
        super().__init__()
        self.num_classes = positive_int("LabelEncoding", "num_classes", num_classes)
        if embedding_dim is not None:
            positive_int("LabelEncoding", "embedding_dim", embedding_dim)
        self.embedding_dim = embedding_dim
        self.features = num_classes if embedding_dim is None else embedding_dim
        self.embedding = None if embedding_dim is None else nn.Embedding(num_classes,
                                                                         embedding_dim)

    def forward(self, labels, batch_size, dtype):
        if labels is None:
            raise ValueError("a conditional model needs labels (int tensor of shape (N,))")
        if labels.ndim != 1 or labels.shape[0] != batch_size:
            raise ValueError(f"labels must have shape ({batch_size},), got "
                             f"{tuple(labels.shape)}")
        if labels.dtype.is_floating_point:
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if batch_size and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes}), got values from "
                             f"{int(labels.min())} to {int(labels.max())}")
        if self.embedding is None:
            return F.one_hot(labels, self.num_classes).to(dtype)
        return self.embedding(labels).to(dtype)


def _generator_net(owner, in_features, hidden_dims, out_channels, image_size):
    hidden = _check_hidden(owner, hidden_dims)
    return nn.Sequential(*_leaky_mlp([in_features, *hidden, out_channels * image_size ** 2]),
                         nn.Tanh(), nn.Unflatten(1, (out_channels, image_size, image_size)))


def _discriminator_net(owner, in_features, hidden_dims, dropout):
    hidden = _check_hidden(owner, hidden_dims)
    return nn.Sequential(*_leaky_mlp([in_features, *hidden, 1], _check_dropout(owner, dropout)))


class Generator(nn.Module):
    """The course's MLP generator: ``z -> [Linear - LeakyReLU(0.2)] x len(hidden_dims) ->
    Linear -> tanh``, reshaped to ``N x out_channels x image_size x image_size`` in [-1, 1].
    """

    def __init__(self, latent_dim=100, hidden_dims=(256, 512, 1024), out_channels=1,
                 image_size=28):
        super().__init__()
        self.latent_dim = positive_int("Generator", "latent_dim", latent_dim)
        self.out_channels = positive_int("Generator", "out_channels", out_channels)
        self.image_size = positive_int("Generator", "image_size", image_size)
        self.net = _generator_net("Generator", latent_dim, hidden_dims, out_channels,
                                  image_size)

    def forward(self, z):
        check_noise("Generator", z, self.latent_dim)
        return self.net(z)


class Discriminator(nn.Module):
    """The course's MLP discriminator: the flattened image -> ``[Linear - LeakyReLU(0.2)
    (- Dropout(dropout))] x len(hidden_dims) -> Linear`` to one logit per image, ``(N,)``.
    """

    def __init__(self, in_channels=1, image_size=28, hidden_dims=(512, 256), dropout=0.0):
        super().__init__()
        self.in_channels = positive_int("Discriminator", "in_channels", in_channels)
        self.image_size = positive_int("Discriminator", "image_size", image_size)
        self.net = _discriminator_net("Discriminator", in_channels * image_size ** 2,
                                      hidden_dims, dropout)

    def forward(self, x):
        check_images("Discriminator", x, self.in_channels, self.image_size)
        return self.net(x.flatten(1)).squeeze(1)


class ConditionalGenerator(nn.Module):
    """CGAN generator (Mirza & Osindero 2014): ``G(z, y)`` = the MLP generator on
    ``cat(z, label_vector(y))``; the label vector (``self.label``, a ``LabelEncoding``) is
    one-hot (``embedding_dim=None``) or a learned embedding."""

    def __init__(self, num_classes=10, latent_dim=100, hidden_dims=(256, 512, 1024),
                 out_channels=1, image_size=28, embedding_dim=None):
        super().__init__()
        owner = "ConditionalGenerator"
        self.num_classes = positive_int(owner, "num_classes", num_classes)
        self.latent_dim = positive_int(owner, "latent_dim", latent_dim)
        self.out_channels = positive_int(owner, "out_channels", out_channels)
        self.image_size = positive_int(owner, "image_size", image_size)
        self.label = LabelEncoding(num_classes, embedding_dim)
        self.net = _generator_net(owner, latent_dim + self.label.features, hidden_dims,
                                  out_channels, image_size)

    def forward(self, z, labels):
        check_noise("ConditionalGenerator", z, self.latent_dim)
        return self.net(cat([z, self.label(labels, z.shape[0], z.dtype)], 1))


class ConditionalDiscriminator(nn.Module):
    """CGAN discriminator (Mirza & Osindero 2014): ``D(x, y)`` = the MLP discriminator on
    ``cat(flatten(x), label_vector(y))``, one logit per image, ``(N,)``."""

    def __init__(self, num_classes=10, in_channels=1, image_size=28, hidden_dims=(512, 256),
                 dropout=0.0, embedding_dim=None):
        super().__init__()
        owner = "ConditionalDiscriminator"
        self.num_classes = positive_int(owner, "num_classes", num_classes)
        self.in_channels = positive_int(owner, "in_channels", in_channels)
        self.image_size = positive_int(owner, "image_size", image_size)
        self.label = LabelEncoding(num_classes, embedding_dim)
        self.net = _discriminator_net(owner, in_channels * image_size ** 2 + self.label.features,
                                      hidden_dims, dropout)

    def forward(self, x, labels):
        check_images("ConditionalDiscriminator", x, self.in_channels, self.image_size)
        y = self.label(labels, x.shape[0], x.dtype)
        return self.net(cat([x.flatten(1), y], 1)).squeeze(1)
