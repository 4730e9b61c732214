"""``GANTrainer``: the course's GAN algorithm (Goodfellow et al. 2014, algorithm 1) on the
``Trainer``'s epoch loop, callbacks, checkpoints and logs.

For each generator step: ``k`` discriminator steps, each on a minibatch of ``m`` real images
and ``m`` noise samples ``z ~ N(0, I)``, then one generator step on ``m`` fresh noise
samples. An epoch is one pass over the real images (``len(loader) // k`` generator steps).

``objective`` picks the game:

- ``'gan'``: D descends ``discriminator_loss`` (= ascends ``log D(x) + log(1 - D(G(z)))``),
  G descends ``generator_loss(kind=generator_loss)``, ``'non-saturating'`` ``-log D(G(z))``
  by default or the minimax game's ``'saturating'`` ``log(1 - D(G(z)))``;
- ``'wgan'`` (Arjovsky et al. 2017): the critic descends ``critic_loss``, every critic
  weight is clipped to ``[-clip, clip]`` after each of its steps, G descends
  ``-mean f(G(z))``;
- ``'wgan-gp'`` (Gulrajani et al. 2017): ``critic_loss + gp_lambda * gradient_penalty``,
  no clipping.

A conditional pair (``num_classes``) sees the real batch's labels in D's steps (the fakes
get the same labels) and uniformly drawn labels in G's steps (Mirza & Osindero 2014).

Logs per epoch: ``train_loss`` (G's loss), ``train_d_loss`` (D's / the critic's, with the
penalty), ``train_wasserstein`` (``mean f(x) - mean f(G(z))`` of the critic steps; the WGANs)
and ``train_gradient_penalty`` (WGAN-GP). Validation (``evaluate_loader``) scores the
generator on the validation images: ``fid`` (``fid_fn(samples, real)``, images in [0, 1],
the samples drawn from fixed noise and, when conditional, the validation labels) and D's
loss on them against those samples (``d_loss``; the WGANs: the Wasserstein estimate
``wasserstein``). ``test()`` scores the selected generator with ``test_quality(sampler)``
(``evaluate_generator``) and adds the same critic figure on the test images.
"""
import numpy as np

from .._creation import from_numpy, randn
from ..autograd import no_grad
from ..backend.random import Generator as RandomGenerator
from ..train.callbacks import ProgressBar
from ..train.trainer import Trainer, _copy_state
from .gan_losses import (
    clip_weights_,
    critic_loss,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    wasserstein_generator_loss,
)
from .generative_sampling import check_labels

__all__ = ["GANTrainer", "GANProgressBar", "KBatches", "generate", "fixed_noise",
           "make_sampler", "OBJECTIVES"]

OBJECTIVES = ("gan", "wgan", "wgan-gp")


def fixed_noise(n, latent_dim, seed):
    """``n x latent_dim`` float32 ``N(0, I)`` noise from a generator seeded with ``seed``."""
    g = RandomGenerator()
    g.manual_seed(int(seed))
    return randn(int(n), int(latent_dim), generator=g).numpy()


def generate(generator, z, labels=None, batch_size=500):
    """``G(z [, labels])`` in eval mode as float32 images in [0, 1] (``(x + 1) / 2`` of the
    tanh output), ``N x C x H x W``; ``z`` and ``labels`` are NumPy arrays."""
    was_training = generator.training
    generator.eval()
    parts = []
    try:
        with no_grad():
            for s in range(0, len(z), batch_size):
                zz = from_numpy(np.ascontiguousarray(z[s:s + batch_size], np.float32))
                out = (generator(zz) if labels is None else
                       generator(zz, from_numpy(np.asarray(labels[s:s + batch_size], np.int64))))
                parts.append(out.numpy())
    finally:
        generator.train(was_training)
    return np.clip((np.concatenate(parts) + 1) / 2, 0, 1).astype(np.float32)


def make_sampler(generator, num_classes=None):
    """``sampler(n, labels=None, generator_seed=0)``: ``n`` images of ``generator`` in [0, 1]
    from noise seeded by ``generator_seed``; ``labels`` (``n`` class indices) are required
    when ``num_classes`` is set and refused otherwise."""
    def sampler(n, labels=None, generator_seed=0):
        labels = check_labels(labels, int(n), num_classes)
        return generate(generator, fixed_noise(n, generator.latent_dim, generator_seed), labels)
    return sampler


class KBatches:
    """Groups of ``k`` consecutive batches of ``loader`` (the last incomplete group is left
    out): one group feeds the ``k`` discriminator steps of one generator step."""

    def __init__(self, loader, k):
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive number of discriminator steps, got {k!r}")
        if len(loader) < k:
            raise ValueError(f"k = {k} discriminator steps per generator step need at least "
                             f"{k} batches of real images, but there are {len(loader)}")
        self.loader, self.k = loader, k

    def __len__(self):
        return len(self.loader) // self.k

    def __iter__(self):
        group = []
        for batch in self.loader:
            group.append(batch)
            if len(group) == self.k:
                yield group
                group = []


class GANProgressBar(ProgressBar):
    """The ``ProgressBar`` with both running losses: ``d_loss`` and ``g_loss``."""

    def on_epoch_start(self, trainer, epoch):
        super().on_epoch_start(trainer, epoch)
        self._d_loss = 0.0

    def on_batch_end(self, trainer, batch, logs):
        self._d_loss += trainer.last_d_loss * logs["n"]
        super().on_batch_end(trainer, batch, logs)
        if self._tqdm is not None and (self._batches % self.refresh_every == 1
                                       or self.refresh_every == 1):
            self._tqdm.set_postfix({"d_loss": f"{self._d_loss / self._n:.4f}",
                                    "g_loss": f"{self._loss / self._n:.4f}"}, refresh=False)


class GANTrainer(Trainer):
    """Trains ``generator`` (the ``Trainer``'s model, with ``optimizer``) against
    ``discriminator`` (``d_optimizer``) on ``train_loader``'s ``(images in [-1, 1], labels)``
    batches; see the module for the algorithm and the figures. ``seed`` seeds the noise of
    training and, separately, the fixed noise of validation."""

    unit = "images"

    def __init__(self, generator, optimizer, discriminator, d_optimizer, train_loader=None,
                 val_loader=None, objective="gan", k=1, generator_loss="non-saturating",
                 clip=None, gp_lambda=None, num_classes=None, fid_fn=None, fid_samples=1000,
                 test_quality=None, seed=0, progress=True, callbacks=None, **kwargs):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got "
                             f"{objective!r}")
        if objective == "wgan" and not (clip is not None and clip > 0):
            raise ValueError(f"the WGAN clips the critic's weights: give clip > 0, got {clip}")
        if objective == "wgan-gp" and not (gp_lambda is not None and gp_lambda >= 0):
            raise ValueError(f"WGAN-GP needs gp_lambda >= 0, got {gp_lambda}")
        if val_loader is not None and fid_fn is None:
            raise ValueError("validation scores the generator by FID: give fid_fn")
        if kwargs.get("accumulate_grad_batches", 1) != 1:
            raise ValueError(f"{type(self).__name__}: accumulate_grad_batches is not supported "
                             "(the discriminator steps inside every training step, so only the "
                             f"generator would accumulate); got "
                             f"{kwargs['accumulate_grad_batches']!r}")
        bar = [] if progress is None else [GANProgressBar(bar=bool(progress))]
        loader = None if train_loader is None else KBatches(train_loader, k)
        super().__init__(generator, optimizer, None, loader, val_loader, progress=None,
                         callbacks=bar + list(callbacks or []), **kwargs)
        self.discriminator, self.d_optimizer = discriminator, d_optimizer
        self.objective, self.k, self.generator_loss = objective, k, generator_loss
        self.clip, self.gp_lambda, self.num_classes = clip, gp_lambda, num_classes
        self.fid_fn, self.fid_samples, self.test_quality = fid_fn, fid_samples, test_quality
        self.seed = seed
        self.noise = RandomGenerator()
        self.noise.manual_seed(seed)
        self.last_d_loss = float("nan")
        self._sums = {}

    @property
    def wasserstein(self):
        return self.objective != "gan"

    def _noise(self, m):
        return randn(m, self.model.latent_dim, generator=self.noise)

    def _random_labels(self, m):
        return from_numpy(self.noise.np.integers(0, self.num_classes, m).astype(np.int64))

    def _d(self, x, labels):
        return self.discriminator(x) if self.num_classes is None else self.discriminator(x,
                                                                                         labels)

    def _g(self, z, labels):
        return self.model(z) if self.num_classes is None else self.model(z, labels)

    def _d_trainable(self, flag):
        for p in self.discriminator.parameters():
            p.requires_grad_(flag)

    def _add(self, **values):
        for key, v in values.items():
            self._sums[key] = self._sums.get(key, 0.0) + v

    def discriminator_step(self, real, labels=None):
        """One step of D on the real batch and as many generated images; returns D's loss."""
        self._d_trainable(True)
        with no_grad():
            fake = self._g(self._noise(len(real)), labels)
        real_scores, fake_scores = self._d(real, labels), self._d(fake, labels)
        if self.wasserstein:
            loss = critic_loss(real_scores, fake_scores)
            self._add(wasserstein=-float(loss.item()))
            if self.objective == "wgan-gp":
                penalty = gradient_penalty(self.discriminator, real, fake,
                                           labels if self.num_classes else None, self.noise)
                self._add(gradient_penalty=float(penalty.item()))
                loss = loss + self.gp_lambda * penalty
        else:
            loss = discriminator_loss(real_scores, fake_scores)
        self.d_optimizer.zero_grad()
        loss.backward()
        self.d_optimizer.step()
        if self.objective == "wgan":
            clip_weights_(self.discriminator, self.clip)
        value = float(loss.item())
        self._add(d_loss=value, d_steps=1)
        return value

    def generator_objective(self, m):
        """G's loss on ``m`` fresh noise samples (D's weights take no gradient)."""
        self._d_trainable(False)
        labels = None if self.num_classes is None else self._random_labels(m)
        scores = self._d(self._g(self._noise(m), labels), labels)
        if self.wasserstein:
            return wasserstein_generator_loss(scores)
        return generator_loss(scores, self.generator_loss)

    def training_step(self, group):
        d_losses = [self.discriminator_step(x, y if self.num_classes else None)
                    for x, y in group]
        self.last_d_loss = float(np.mean(d_losses))
        loss = self.generator_objective(len(group[-1][0]))
        return {"loss": loss, "n": sum(len(x) for x, _ in group), "correct": None}

    def train_epoch(self):
        self._sums = {}
        self.discriminator.train()
        logs = super().train_epoch()
        self._d_trainable(True)
        steps = self._sums["d_steps"]
        logs["train_d_loss"] = self._sums["d_loss"] / steps
        if self.wasserstein:
            logs["train_wasserstein"] = self._sums["wasserstein"] / steps
        if self.objective == "wgan-gp":
            logs["train_gradient_penalty"] = self._sums["gradient_penalty"] / steps
        return logs

    # ------------------------------------------------------------ evaluation
    def critic_figure(self, loader):
        """D's loss (``{'d_loss'}``) or the Wasserstein estimate (``{'wasserstein'}``) on
        ``loader``'s real images against as many samples of fixed noise; eval mode."""
        was = self.discriminator.training
        self.discriminator.eval()
        z_seed = RandomGenerator()
        z_seed.manual_seed(self.seed + 1)
        total, n = 0.0, 0
        try:
            with no_grad():
                for x, y in loader:
                    labels = y if self.num_classes else None
                    z = randn(len(x), self.model.latent_dim, generator=z_seed).numpy()
                    fake = from_numpy(generate(self.model, z, None if labels is None else
                                               y.numpy()) * 2 - 1)
                    real_s, fake_s = self._d(x, labels), self._d(fake, labels)
                    value = (-critic_loss(real_s, fake_s) if self.wasserstein else
                             discriminator_loss(real_s, fake_s))
                    total += float(value.item()) * len(x)
                    n += len(x)
        finally:
            self.discriminator.train(was)
        return {"wasserstein" if self.wasserstein else "d_loss": total / n}

    def sampler(self):
        return make_sampler(self.model, self.num_classes)

    def evaluate_loader(self, loader):
        real, labels = [], []
        for x, y in loader:
            real.append(x.numpy())
            labels.append(y.numpy())
        real, labels = np.concatenate(real), np.concatenate(labels)
        n = min(self.fid_samples, len(real))
        fake = self.sampler()(n, labels[:n] if self.num_classes else None,
                              generator_seed=self.seed + 2)
        fid = float(self.fid_fn(fake, (real[:n] + 1) / 2))
        return {"loss": None, "acc": None, "n": len(real), "fid": fid,
                **self.critic_figure(loader)}

    def test(self):
        """``test_quality(sampler)`` of the selected generator, with the critic figure on
        ``test_loader``; the generator keeps its own weights."""
        if self.test_loader is None or not self.history:
            raise ValueError("GANTrainer.test needs a test_loader and a finished epoch")
        last = None
        if self.best_epoch != self.epoch:
            best, last = self.best_state(), _copy_state(self.model)
            self.model.load_state_dict(best)
        try:
            quality = self.test_quality(self.sampler()) if self.test_quality else {}
            return {"epoch": self.best_epoch, **quality, **self.critic_figure(self.test_loader)}
        finally:
            if last is not None:
                self.model.load_state_dict(last)

    def checkpoint(self, epoch=None, metrics=None):
        """The ``Trainer``'s checkpoint (``model``: the generator) plus ``discriminator`` and
        ``d_optimizer``."""
        ckpt = super().checkpoint(epoch, metrics)
        ckpt["discriminator"] = self.discriminator.state_dict()
        ckpt["d_optimizer"] = self.d_optimizer.state_dict()
        return ckpt
