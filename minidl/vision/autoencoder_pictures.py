"""The pictures of ``minidl train autoencoder | dae | vae | cvae``: reconstructions, the latent
codes coloured by class, decoded interpolations, samples, the 2-D latent manifold (Kingma &
Welling 2014, figure 4) and the CVAE's one-row-per-class grid.

Every function takes a trained ``Autoencoder`` / ``ConvAutoencoder`` / ``VAE`` /
``ConditionalVAE`` and images as float32 arrays ``N x 1 x 28 x 28`` in [0, 1]; a VAE's code is
the posterior mean ``mu`` and its picture the mean of ``p(x | z)``.
"""
import os
from statistics import NormalDist

import numpy as np

from .._creation import from_numpy, randn
from ..autograd import no_grad
from ..backend.random import Generator
from .models.generative import VAE, ConditionalVAE
from .utils import save_image

__all__ = ["codes", "decode", "save_grid", "reconstructions", "latent_scatter", "interpolation",
           "manifold", "class_grid", "final_pictures"]


def codes(model, images, labels=None):
    """The code of each image: ``encode(x)`` (autoencoders) or ``mu`` (VAEs), a NumPy array."""
    x = from_numpy(np.ascontiguousarray(images))
    with no_grad():
        if isinstance(model, ConditionalVAE):
            return model.encode(x, from_numpy(np.asarray(labels, np.int64)))[0].numpy()
        if isinstance(model, VAE):
            return model.encode(x)[0].numpy()
        return model.encode(x).numpy()


def decode(model, z, labels=None):
    """The images in [0, 1] of codes ``z`` (a NumPy array), float32 ``N x 1 x 28 x 28``."""
    z = from_numpy(np.ascontiguousarray(z, np.float32))
    with no_grad():
        if isinstance(model, ConditionalVAE):
            out = model.decode(z, from_numpy(np.asarray(labels, np.int64)))
        else:
            out = model.decode(z)
        out = model.mean_image(out) if isinstance(model, (VAE, ConditionalVAE)) else out.sigmoid()
    return out.numpy().astype(np.float32)


def save_grid(images, path, nrow=8):
    """``images`` tiled ``nrow`` per row on a grey background, as a PNG."""
    save_image(from_numpy(np.ascontiguousarray(images, np.float32)), path, nrow=nrow,
               padding=2, pad_value=0.5)


def reconstructions(model, images, labels, path, noisy=None):
    """Rows: the images, the corrupted inputs (``noisy``, a DAE) and their reconstructions."""
    inputs = images if noisy is None else noisy
    rows = [images] + ([noisy] if noisy is not None else [])
    rows.append(decode(model, codes(model, inputs, labels), labels))
    save_grid(np.concatenate(rows), path, nrow=len(images))


def latent_scatter(z, labels, class_names, path, title):
    """A scatter of the codes ``z`` coloured by class: the two numbers of a 2-D code, else
    its first two principal components (labelled with their share of the variance)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    z = np.asarray(z, np.float64)
    if z.shape[1] == 2:
        points, axes = z, ("z1", "z2")
    else:
        centred = z - z.mean(0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        share = s ** 2 / max(float((s ** 2).sum()), 1e-12)
        points = centred @ vt[:2].T
        axes = tuple(f"principal component {i + 1} ({100 * share[i]:.0f} % of the variance)"
                     for i in range(2))
    fig = Figure(figsize=(7, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colours = [f"C{i}" if i < 10 else None for i in range(len(class_names))]
    for c, name in enumerate(class_names):
        mask = labels == c
        if mask.any():
            ax.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.6, c=colours[c],
                       label=name)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title)
    ax.legend(markerscale=3, fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)


def _pairs(labels, num_classes, same_class):
    """Index pairs of test images, one per class: (first of c, first of c + 1), or the first
    two of c with ``same_class``."""
    pairs = []
    for c in range(num_classes):
        a = np.flatnonzero(labels == c)
        b = np.flatnonzero(labels == (c if same_class else (c + 1) % num_classes))
        b = b[1:] if same_class else b
        if len(a) and len(b):
            pairs.append((a[0], b[0]))
    return pairs


def interpolation(model, images, labels, num_classes, path, steps=10):
    """One row per pair of test images: the decoded points of the straight line between
    their codes (ends included). The CVAE interpolates within a class, its label fixed."""
    conditional = isinstance(model, ConditionalVAE)
    pairs = _pairs(labels, num_classes, conditional)
    if not pairs:
        return False
    a, b = (np.array(i) for i in zip(*pairs))
    za, zb = codes(model, images[a], labels[a]), codes(model, images[b], labels[b])
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    z = ((1 - t) * za[:, None] + t * zb[:, None]).reshape(-1, za.shape[1])
    save_grid(decode(model, z, np.repeat(labels[a], steps)), path, nrow=steps)
    return True


def manifold(model, path, steps=20):
    """A 2-D latent space decoded on a ``steps`` x ``steps`` grid of the prior's quantiles
    (``Phi^-1`` of evenly spaced probabilities), as Kingma & Welling's figure 4."""
    q = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, steps)], np.float32)
    z = np.stack(np.meshgrid(q, q[::-1]), -1).reshape(-1, 2)
    save_grid(decode(model, z), path, nrow=steps)


def class_grid(model, num_classes, columns, seed, path):
    """The CVAE's grid: row ``c`` is class ``c``, column ``j`` shares one prior draw ``z_j``
    (seeded) across the rows, so a column keeps its style."""
    generator = Generator()
    generator.manual_seed(int(seed))
    z = randn((columns, model.latent_dim), generator=generator).numpy()
    zs = np.tile(z, (num_classes, 1))
    save_grid(decode(model, zs, np.repeat(np.arange(num_classes), columns)), path,
              nrow=columns)


def final_pictures(model, task, test, out, class_names, seed, noisy=None, sampler=None,
                   count=16):
    """The end-of-run pictures of the selected ``model`` on the ``test`` split (``noisy``: the
    DAE's corrupted first ``count`` images; ``sampler``: a VAE's); returns their file
    names."""
    images, labels = test
    written = []

    def path(name):
        written.append(name)
        return os.path.join(out, name)

    reconstructions(model, images[:count], labels[:count], path("reconstructions.png"), noisy)
    latent_scatter(codes(model, images, labels), labels, class_names, path("latent.png"),
                   f"{task}: test codes ({len(labels)} images) by class")
    if interpolation(model, images, labels, len(class_names),
                     os.path.join(out, "interpolation.png")):
        written.append("interpolation.png")
    if sampler is not None:
        sample_labels = np.arange(64) % len(class_names) if task == "cvae" else None
        save_grid(sampler(64, sample_labels, generator_seed=seed), path("samples.png"))
    if task == "vae" and model.latent_dim == 2:
        manifold(model, path("manifold.png"))
    if task == "cvae":
        class_grid(model, len(class_names), 10, seed, path("class_grid.png"))
    return written
