"""The variational autoencoder (Kingma & Welling 2014) and the conditional VAE (Sohn et al.
2015), fully connected, for small grey images.

The encoder gives the approximate posterior ``q(z | x) = N(mu(x), diag(exp(logvar(x))))``;
``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (the reparameterisation trick) lets
the gradient reach ``mu`` and ``logvar``; the decoder gives ``p(x | z)``, Bernoulli per pixel
(the decoder returns its logits) or Gaussian (the decoder returns its mean; one learned
log-variance ``decoder_logvar`` is shared by all pixels). Training maximises the evidence
lower bound per image

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || N(0, I))
            = -recon(x) - kl(x),   kl = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))

(Kingma & Welling, appendix B), estimated with one ``z`` per image. The conditional VAE
feeds the one-hot label to both nets: ``q(z | x, y)`` and ``p(x | z, y)``, with the prior
``N(0, I)`` for every class (Sohn et al.'s CVAE with the prior network left out), so
``decode(z, y)`` draws an image of class ``y`` whose style is ``z``.
"""
import math

from .... import nn
from ...._creation import randn, tensor
from ....nn import functional as F
from ....ops.join import cat
from .autoencoder import _check_input, _check_shape, mlp_layers

__all__ = ["VAE", "ConditionalVAE", "reparameterize", "gaussian_kl", "reconstruction_nll",
           "vae_loss", "elbo", "LIKELIHOODS"]

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2 * math.pi)


def reparameterize(mu, logvar, eps=None, generator=None):
    """``z = mu + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` drawn with ``generator`` unless
    given; differentiable in ``mu`` and ``logvar``."""
    if tuple(mu.shape) != tuple(logvar.shape):
        raise ValueError(f"reparameterize: mu {tuple(mu.shape)} and logvar "
                         f"{tuple(logvar.shape)} must have the same shape")
    if eps is None:
        eps = randn(tuple(mu.shape), generator=generator, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def _per_image(t):
    return t.reshape(t.shape[0], -1).sum(1)


def gaussian_kl(mu, logvar):
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per row: ``N`` nats."""
    return -0.5 * _per_image(1 + logvar - mu * mu - logvar.exp())


def reconstruction_nll(recon, target, likelihood="bernoulli", recon_logvar=None):
    """``-log p(target | z)`` per image (nats, summed over its pixels).

    ``bernoulli``: ``recon`` are logits, the binary cross-entropy with logits;
    ``gaussian``: ``recon`` is the mean, ``1/2 (log 2 pi + v + (x - mean)^2 exp(-v))`` with
    the log-variance ``v = recon_logvar`` (a number or a tensor broadcast to the pixels;
    None: 0, unit variance).
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got "
                         f"{likelihood!r}")
    if tuple(recon.shape) != tuple(target.shape):
        raise ValueError(f"the reconstruction {tuple(recon.shape)} and the target "
                         f"{tuple(target.shape)} must have the same shape")
    if likelihood == "bernoulli":
        if recon_logvar is not None:
            raise ValueError("recon_logvar is the Gaussian likelihood's variance; the "
                             "Bernoulli likelihood takes none")
        return _per_image(F.binary_cross_entropy_with_logits(recon, target, reduction="none"))
    v = recon_logvar if recon_logvar is not None else 0.0
    if not hasattr(v, "exp"):
        v = tensor(float(v), dtype=recon.dtype)
    return _per_image(0.5 * (_LOG_2PI + v + (target - recon) ** 2 * (-v).exp()))


def vae_loss(recon_logits, target, mu, logvar, likelihood="bernoulli", reduction="sum",
             recon_logvar=None):
    """The negative ELBO ``recon + kl`` and its two terms, as ``(loss, recon, kl)``.

    ``recon`` is ``reconstruction_nll`` and ``kl`` is ``gaussian_kl``, per image;
    ``reduction`` ``'sum'`` adds them over the batch, ``'mean'`` averages them over the
    batch (nats per image), ``'none'`` keeps one value per image.
    """
    if reduction not in ("sum", "mean", "none"):
        raise ValueError(f"reduction must be 'sum', 'mean' or 'none', got {reduction!r}")
    if mu.shape[0] != target.shape[0]:
        raise ValueError(f"mu has {mu.shape[0]} rows for a batch of {target.shape[0]} images")
    recon = reconstruction_nll(recon_logits, target, likelihood, recon_logvar)
    kl = gaussian_kl(mu, logvar)
    loss = recon + kl
    if reduction == "none":
        return loss, recon, kl
    if reduction == "sum":
        return loss.sum(), recon.sum(), kl.sum()
    return loss.mean(), recon.mean(), kl.mean()


def elbo(recon_logits, target, mu, logvar, likelihood="bernoulli", recon_logvar=None):
    """The evidence lower bound of each image, ``-(recon + kl)``: ``N`` nats."""
    return -vae_loss(recon_logits, target, mu, logvar, likelihood, "none", recon_logvar)[0]


class _GaussianLatentModel(nn.Module):
    """Encoder MLP to ``fc_mu`` / ``fc_logvar``, decoder MLP to the pixels; ``extra`` more
    inputs (a one-hot label) enter both nets."""

    def __init__(self, name, in_channels, image_size, hidden_dims, latent_dim, likelihood,
                 extra):
        super().__init__()
        _check_shape(name, in_channels, image_size, latent_dim)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"{name}: likelihood must be one of {', '.join(LIKELIHOODS)}, "
                             f"got {likelihood!r}")
        hidden_dims = tuple(hidden_dims)
        if not hidden_dims:
            raise ValueError(f"{name}: hidden_dims needs at least one width")
        self._name = name
        self.in_channels, self.image_size = in_channels, image_size
        self.latent_dim, self.likelihood = latent_dim, likelihood
        pixels = in_channels * image_size * image_size
        self.flatten = nn.Flatten()
        self.encoder = nn.Sequential(*mlp_layers([pixels + extra, *hidden_dims]), nn.ReLU())
        self.fc_mu = nn.Linear(hidden_dims[-1], latent_dim)
        self.fc_logvar = nn.Linear(hidden_dims[-1], latent_dim)
        self.decoder = nn.Sequential(*mlp_layers([latent_dim + extra, *hidden_dims[::-1],
                                                  pixels]),
                                     nn.Unflatten(1, (in_channels, image_size, image_size)))
        if likelihood == "gaussian":
            self.decoder_logvar = nn.Parameter(tensor(0.0))
        else:
            self.decoder_logvar = None

    def _encode(self, h):
        h = self.encoder(h)
        return self.fc_mu(h), self.fc_logvar(h)

    def mean_image(self, recon):
        """The mean of ``p(x | z)`` clipped to [0, 1]: ``sigmoid(logits)`` for Bernoulli,
        the mean itself for Gaussian."""
        return recon.sigmoid() if self.likelihood == "bernoulli" else recon.clamp(0.0, 1.0)

    def loss(self, recon, target, mu, logvar, reduction="mean"):
        """``vae_loss`` with this model's likelihood (and ``decoder_logvar``)."""
        return vae_loss(recon, target, mu, logvar, self.likelihood, reduction,
                        self.decoder_logvar)

    def extra_repr(self):
        return f"latent_dim={self.latent_dim}, likelihood={self.likelihood!r}"


class VAE(_GaussianLatentModel):
    """Variational autoencoder (Kingma & Welling 2014): ``Flatten``, ``Linear-ReLU`` per
    width of ``hidden_dims``, then ``fc_mu`` and ``fc_logvar``; the decoder mirrors the
    widths back to the pixels. The defaults are the paper's MNIST model size class (one
    hidden layer; 400 units and 20 latent dimensions as in PyTorch's VAE example).

    ``encode(x) -> (mu, logvar)``; ``decode(z)`` -> logits (Bernoulli) or mean (Gaussian)
    ``N x C x H x W``; ``forward(x) -> (recon, mu, logvar)`` with one reparameterised ``z``.
    """

    def __init__(self, in_channels=1, image_size=28, hidden_dims=(400,), latent_dim=20,
                 likelihood="bernoulli"):
        super().__init__("VAE", in_channels, image_size, hidden_dims, latent_dim, likelihood,
                         0)

    def encode(self, x):
        _check_input("VAE", x, self.in_channels, self.image_size)
        return self._encode(self.flatten(x))

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x, generator=None):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator=generator)), mu, logvar


class ConditionalVAE(_GaussianLatentModel):
    """Conditional VAE (Sohn et al. 2015): the ``VAE`` with the one-hot label of
    ``num_classes`` concatenated to the flattened image (encoder) and to ``z`` (decoder).

    ``encode(x, y) -> (mu, logvar)``; ``decode(z, y)``; ``forward(x, y) -> (recon, mu,
    logvar)``. ``y`` holds integer class labels, one per image.
    """

    def __init__(self, num_classes=10, in_channels=1, image_size=28, hidden_dims=(400,),
                 latent_dim=20, likelihood="bernoulli"):
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"ConditionalVAE: num_classes must be an integer >= 2, got "
                             f"{num_classes!r}")
        super().__init__("ConditionalVAE", in_channels, image_size, hidden_dims, latent_dim,
                         likelihood, num_classes)
        self.num_classes = num_classes

    def _one_hot(self, y, n):
        shape = tuple(y.shape)
        if len(shape) != 1 or shape[0] != n or y.dtype.is_floating_point:
            raise ValueError(f"ConditionalVAE needs one integer label per row ({n}), got a "
                             f"tensor of shape {shape} and dtype {y.dtype}")
        labels = y.numpy()
        if n and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"ConditionalVAE: labels must lie in [0, {self.num_classes}), got "
                             f"{int(labels.min())} .. {int(labels.max())}")
        return F.one_hot(y, self.num_classes).float()

    def encode(self, x, y):
        _check_input("ConditionalVAE", x, self.in_channels, self.image_size)
        h = self.flatten(x)
        return self._encode(cat([h, self._one_hot(y, h.shape[0]).to(h.dtype)], 1))

    def decode(self, z, y):
        return self.decoder(cat([z, self._one_hot(y, z.shape[0]).to(z.dtype)], 1))

    def forward(self, x, y, generator=None):
        mu, logvar = self.encode(x, y)
        return self.decode(reparameterize(mu, logvar, generator=generator), y), mu, logvar

    def extra_repr(self):
        return f"num_classes={self.num_classes}, {super().extra_repr()}"
