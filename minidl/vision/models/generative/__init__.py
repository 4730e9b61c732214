"""Generative models for 28 x 28 grey images (issue 12): autoencoders, the VAE and the
conditional VAE (``autoencoder``, ``vae``), the GANs' generators and discriminators (``gan``,
``dcgan``)."""
from .autoencoder import Autoencoder, ConvAutoencoder  # noqa: F401
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_weights_init  # noqa: F401
from .gan import (  # noqa: F401
    ConditionalDiscriminator,
    ConditionalGenerator,
    Discriminator,
    Generator,
)
from .vae import (  # noqa: F401
    VAE,
    ConditionalVAE,
    elbo,
    gaussian_kl,
    reconstruction_nll,
    reparameterize,
    vae_loss,
)

__all__ = ["Autoencoder", "ConvAutoencoder", "VAE", "ConditionalVAE", "reparameterize",
           "gaussian_kl", "reconstruction_nll", "vae_loss", "elbo",
           "Generator", "Discriminator", "ConditionalGenerator", "ConditionalDiscriminator",
           "DCGANGenerator", "DCGANDiscriminator", "dcgan_weights_init"]
