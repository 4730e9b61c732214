"""``minidl train autoencoder | dae | vae | cvae``: autoencoders and variational autoencoders on
the bundled 28 x 28 digits or clothes.

    minidl train autoencoder --data mnist-mini          # fully connected, 32 numbers of code
    minidl train autoencoder --conv --data fashion-mnist-mini
    minidl train dae --noise masking --noise-level 0.25 # denoising (Vincent et al. 2008)
    minidl train vae --latent-dim 2                     # the 2-D latent manifold picture too
    minidl train cvae --data fashion-mnist-mini         # one row per class

Protocol: the bundled training split less a seeded stratified 10 % (``stratified_split``)
trains, that 10 % validates (it selects the epoch: the largest validation ELBO for the VAEs,
the smallest validation loss for the autoencoders, and drives ``--patience``), and the test
split is read once at the end with the selected weights. Pixels are scaled to [0, 1].

Objectives, per image, averaged over a batch: the autoencoders minimise the binary
cross-entropy with logits summed over the pixels (the DAE between its reconstruction of the
corrupted image and the clean one: Gaussian noise of std ``--noise-level`` clipped to [0, 1],
or masking noise that zeroes a ``--noise-level`` fraction of the pixels, drawn anew for every
batch); the VAEs minimise the negative ELBO (``minidl.vision.models.generative.vae``),
validated and tested with seeded noise so that the epochs compare. The figures are in nats:
``elbo_per_pixel`` is the ELBO divided by 784.

The output folder holds the checkpoints, metrics and curves of every run, a picture per epoch
(``samples_epoch{E:02d}.png`` from fixed noise for the VAEs, ``reconstructions_epoch{E:02d}.png``
of fixed validation images for the autoencoders) and, made from the selected weights on test
images: ``reconstructions.png``, ``latent.png`` (the codes coloured by class: the two latent
numbers, or the first two principal components), ``interpolation.png`` (decoded straight lines
between the codes of two test images per row) and, for the VAEs, ``samples.png``,
``manifold.png`` (a latent dimension of 2: the decoded grid of the prior's quantiles, Kingma &
Welling's figure 4) and for the CVAE ``class_grid.png`` (one row per class, one noise per
column). The VAEs' samples are scored by ``evaluate_generator`` (FID on LeNet features and
the classifier's agreement, against the test images); the autoencoders have no prior to
sample, so they register no sampler and get no FID.
"""
import os
import sys
import time

import numpy as np

from .. import optim
from .._creation import from_numpy, randn
from ..autograd import no_grad
from ..backend import manual_seed
from ..backend.random import Generator
from ..train.arguments import positive_int
from ..train.callbacks import Callback
from ..train.tasks import Task, add_training_arguments, default_out_dir, register_task
from ..train.trainer import Trainer
from . import autoencoder_pictures as pictures
from .datasets.bundled import BUNDLED
from .generative_data import VAL_FRACTION, ImageBatches, load_splits
from .generative_sampling import check_labels, register_sampler
from .models.generative import VAE, Autoencoder, ConditionalVAE, ConvAutoencoder
from .models.generative.vae import reconstruction_nll

__all__ = ["AutoencoderTrainer", "corrupt", "build_model", "make_sampler",
           "load_autoencoder", "AE_TASKS", "DEFAULTS"]

# command -> (config task, description)
AE_TASKS = {
    "autoencoder": ("ae", "autoencoder (fully connected, or --conv), binary cross-entropy"),
    "dae": ("dae", "denoising autoencoder (Vincent et al. 2008): Gaussian or masking noise"),
    "vae": ("vae", "variational autoencoder (Kingma & Welling 2014), ELBO per epoch"),
    "cvae": ("cvae", "conditional VAE (Sohn et al. 2015), one row per class"),
}
# Adam 1e-3, batch 128 and a 400-unit hidden layer follow PyTorch's VAE example of Kingma &
# Welling's MNIST model; 100 epochs (about 2 min of one core each on mnist-mini): all four still
# improved on validation at 20-30 epochs and selected epoch 93-99 of 100 (VAE test ELBO -110.2
# nats after 30, -107.3 after 100). The CVAE's latent
# is 2-D: with 8 or 20 dimensions z keeps the class after 8 epochs on mnist-mini and the
# samples follow their label only 40 % / 37 % of the time (2-D: 99 %).
DEFAULTS = {
    "autoencoder": {"epochs": 100, "batch_size": 128, "lr": 1e-3, "latent_dim": 32,
                    "hidden_dims": (512, 256)},
    "dae": {"epochs": 100, "batch_size": 128, "lr": 1e-3, "latent_dim": 32,
            "hidden_dims": (512, 256)},
    "vae": {"epochs": 100, "batch_size": 128, "lr": 1e-3, "latent_dim": 20, "hidden_dims": (400,)},
    "cvae": {"epochs": 100, "batch_size": 128, "lr": 1e-3, "latent_dim": 2,
             "hidden_dims": (400,)},
}
NOISE_LEVEL = {"gaussian": 0.5, "masking": 0.25}  # std / fraction of pixels zeroed
CONV_CHANNELS = (32, 64)
ARCHS = {"Autoencoder": Autoencoder, "ConvAutoencoder": ConvAutoencoder, "VAE": VAE,
         "ConditionalVAE": ConditionalVAE}


def corrupt(images, noise, level, rng):
    """The DAE's corrupted input (Vincent et al. 2008) of float images in [0, 1]:
    ``'gaussian'`` adds N(0, level^2) and clips to [0, 1]; ``'masking'`` zeroes each pixel
    with probability ``level``."""
    if noise == "masking":
        return images * (rng.random(images.shape) >= level).astype(images.dtype)
    if noise == "gaussian":
        noisy = images + level * rng.standard_normal(images.shape).astype(images.dtype)
        return np.clip(noisy, 0.0, 1.0)
    raise ValueError(f"noise must be 'gaussian' or 'masking', got {noise!r}")


class AutoencoderTrainer(Trainer):
    """``Trainer`` of the ``task`` ``'ae' | 'dae' | 'vae' | 'cvae'``: the per-image objective
    (see the module), logged per epoch with its parts (``train_elbo``, ``train_kl`` for the
    VAEs); evaluation gives ``loss``, ``mse`` per pixel of the reconstruction and either
    ``bce_per_pixel`` or ``elbo``, ``kl``, ``recon``, ``elbo_per_pixel``, with noise seeded by
    ``seed``. ``test_extras(state)`` (if given) adds figures of the selected weights to the
    test result (the sample quality)."""

    unit = "images"

    def __init__(self, model, optimizer, task, train_loader=None, val_loader=None, noise=None,
                 noise_level=None, seed=0, test_extras=None, **kwargs):
        super().__init__(model, optimizer, None, train_loader, val_loader, **kwargs)
        if task not in ("ae", "dae", "vae", "cvae"):
            raise ValueError(f"task must be one of ae, dae, vae, cvae, got {task!r}")
        self.task, self.noise, self.noise_level, self.seed = task, noise, noise_level, seed
        self.test_extras = test_extras
        self._rng = np.random.default_rng((seed, 1))
        self._sums = {}

    @property
    def variational(self):
        return self.task in ("vae", "cvae")

    def _inputs(self, x, rng):
        if self.task != "dae":
            return x
        return from_numpy(corrupt(x.numpy(), self.noise, self.noise_level, rng))

    def objective(self, x, y, target, generator=None):
        """Per image: ``(loss, recon, kl or None, reconstruction in [0, 1])``."""
        m = self.model
        if self.variational:
            recon, mu, logvar = (m(x, generator=generator) if self.task == "vae" else
                                 m(x, y, generator=generator))
            loss, rec, kl = m.loss(recon, target, mu, logvar, reduction="none")
            return loss, rec, kl, m.mean_image(recon)
        logits = m(x)
        rec = reconstruction_nll(logits, target)
        return rec, rec, None, logits.sigmoid()

    def training_step(self, batch):
        x, y = batch
        loss, rec, kl, _ = self.objective(self._inputs(x, self._rng), y, x)
        self._sums["n"] = self._sums.get("n", 0) + len(y)
        if kl is not None:
            self._sums["recon"] = self._sums.get("recon", 0.0) + float(rec.sum().item())
            self._sums["kl"] = self._sums.get("kl", 0.0) + float(kl.sum().item())
        return {"loss": loss.mean(), "n": len(y), "correct": None}

    def train_epoch(self):
        self._sums = {}
        logs = super().train_epoch()
        if self.variational:
            n = self._sums["n"]
            logs = {"train_elbo": -logs["train_loss"], "train_kl": self._sums["kl"] / n,
                    "train_recon": self._sums["recon"] / n, **logs}
        return logs

    def evaluate_loader(self, loader):
        was_training = self.model.training
        self.model.eval()
        generator = Generator()
        generator.manual_seed(self.seed)
        rng = np.random.default_rng((self.seed, 2))
        sums, n, pixels = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "mse": 0.0}, 0, 1
        try:
            with no_grad():
                for x, y in loader:
                    loss, rec, kl, mean = self.objective(self._inputs(x, rng), y, x, generator)
                    pixels = int(np.prod(x.shape[1:]))
                    sums["loss"] += float(loss.sum().item())
                    sums["recon"] += float(rec.sum().item())
                    sums["kl"] += float(kl.sum().item()) if kl is not None else 0.0
                    sums["mse"] += float(((mean - x) ** 2).mean().item()) * len(y)
                    n += len(y)
        finally:
            self.model.train(was_training)
        if n == 0:
            raise ValueError("the evaluation data loader yielded no images")
        m = {k: v / n for k, v in sums.items()}
        if not self.variational:
            return {"loss": m["loss"], "acc": None, "n": n, "mse": m["mse"],
                    "bce_per_pixel": m["loss"] / pixels}
        return {"loss": m["loss"], "acc": None, "n": n, "elbo": -m["loss"], "kl": m["kl"],
                "recon": m["recon"], "elbo_per_pixel": -m["loss"] / pixels, "mse": m["mse"]}

    def test(self):
        result = super().test()
        if self.test_extras is not None:
            result.update(self.test_extras(self.best_state()))
        return result


def build_model(config):
    """The untrained model of a run's ``config`` (``arch`` and the ``model`` kwargs)."""
    arch = config.get("arch")
    if arch not in ARCHS:
        raise ValueError(f"unknown autoencoder architecture {arch!r} in the checkpoint's "
                         f"config (expected one of {', '.join(ARCHS)})")
    kwargs = dict(config["model"])
    for key in ("hidden_dims", "channels"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    return ARCHS[arch](**kwargs)


def load_autoencoder(path):
    """``(model, config)`` of a ``minidl train autoencoder | dae | vae | cvae`` checkpoint, in
    eval mode."""
    from ..train.tasks import load_task_checkpoint
    ckpt, config = load_task_checkpoint(path, [t for t, _ in AE_TASKS.values()])
    return _restore(ckpt["model"], config), config


def _restore(state, config):
    model = build_model(config)
    model.load_state_dict(state)
    model.eval()
    return model


def make_sampler(model, task):
    """``sampler(n, labels=None, generator_seed=0)``: ``n`` images float32 ``n x 1 x 28 x 28``
    in [0, 1], the means of ``p(x | z)`` for ``z`` drawn from the prior ``N(0, I)`` (seeded);
    ``labels`` (``n`` class indices) are required for ``'cvae'`` and refused for ``'vae'``
    (``generative_sampling.check_labels``)."""
    if task not in ("vae", "cvae"):
        raise ValueError(f"only the VAEs have a prior to sample; got the task {task!r}")
    num_classes = model.num_classes if task == "cvae" else None

    def sampler(n, labels=None, generator_seed=0):
        n = int(n)
        labels = check_labels(labels, n, num_classes)
        generator = Generator()
        generator.manual_seed(int(generator_seed))
        z = randn((n, model.latent_dim), generator=generator)
        with no_grad():
            out = model.decode(z) if task == "vae" else model.decode(z, from_numpy(labels))
            return model.mean_image(out).numpy().astype(np.float32)
    return sampler


def _sampler_from_checkpoint(ckpt, config):
    return make_sampler(_restore(ckpt["model"], config), config["task"])


register_sampler("vae", _sampler_from_checkpoint)
register_sampler("cvae", _sampler_from_checkpoint)


class EpochPicture(Callback):
    """After every epoch: ``samples_epoch{E:02d}.png`` from fixed noise (VAEs; one row per
    class for the CVAE) or ``reconstructions_epoch{E:02d}.png`` of fixed validation images."""

    def __init__(self, out_dir, task, images, labels, num_classes, seed):
        self.out_dir, self.task, self.seed = out_dir, task, seed
        self.images, self.labels, self.num_classes = images, labels, num_classes

    def on_epoch_end(self, trainer, epoch, logs):
        model = trainer.model
        if self.task in ("ae", "dae"):
            noisy = (corrupt(self.images, trainer.noise, trainer.noise_level,
                             np.random.default_rng((self.seed, 3))) if self.task == "dae"
                     else None)
            name = f"reconstructions_epoch{epoch:02d}.png"
            pictures.reconstructions(model, self.images, self.labels,
                                     os.path.join(self.out_dir, name), noisy)
            return
        path = os.path.join(self.out_dir, f"samples_epoch{epoch:02d}.png")
        if self.task == "cvae":
            pictures.class_grid(model, self.num_classes, 8, self.seed, path)
        else:
            pictures.save_grid(make_sampler(model, "vae")(64, generator_seed=self.seed), path)


# ------------------------------------------------------------ minidl train autoencoder ...
def _add_arguments(name):
    d = DEFAULTS[name]
    task = AE_TASKS[name][0]

    def add(parser):
        add_training_arguments(parser, d)
        parser.add_argument("--data", default="mnist-mini", choices=sorted(BUNDLED),
                            help="the bundled data set (default mnist-mini)")
        parser.add_argument("--latent-dim", type=positive_int, default=d["latent_dim"],
                            help=f"numbers in the code / latent z (default {d['latent_dim']})")
        parser.add_argument("--hidden-dims", type=positive_int, nargs="+",
                            default=list(d["hidden_dims"]), metavar="N",
                            help=f"widths of the hidden layers of the encoder (the decoder "
                                 f"mirrors them; default "
                                 f"{' '.join(map(str, d['hidden_dims']))})")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="use only the first N images of each split (quick checks)")
        if task in ("ae", "dae"):
            parser.add_argument("--conv", action="store_true",
                                help=f"the convolutional autoencoder (channels "
                                     f"{' '.join(map(str, CONV_CHANNELS))}; --hidden-dims is "
                                     f"then unused)")
        if task == "dae":
            parser.add_argument("--noise", choices=sorted(NOISE_LEVEL), default="gaussian",
                                help="corruption of the input (default gaussian)")
            parser.add_argument("--noise-level", type=float, metavar="L",
                                help="std of the Gaussian noise (default 0.5) or fraction of "
                                     "the pixels masked (default 0.25)")
        if task in ("vae", "cvae"):
            parser.add_argument("--likelihood", choices=("bernoulli", "gaussian"),
                                default="bernoulli",
                                help="p(x | z) per pixel (default bernoulli; gaussian learns "
                                     "one variance shared by the pixels)")
            parser.add_argument("--fid-classifier", metavar="CKPT",
                                help="checkpoint of the FID / agreement classifier (default: "
                                     "the cached LeNet of minidl.vision.generative_metrics)")
            parser.add_argument("--fid-samples", type=positive_int, default=2000, metavar="N",
                                help="samples scored by FID and agreement (default 2000)")
    return add


def _model_config(task, args, num_classes):
    if task in ("ae", "dae"):
        if args.conv:
            return "ConvAutoencoder", {"channels": list(CONV_CHANNELS),
                                       "latent_dim": args.latent_dim}
        return "Autoencoder", {"hidden_dims": args.hidden_dims, "latent_dim": args.latent_dim}
    kwargs = {"hidden_dims": args.hidden_dims, "latent_dim": args.latent_dim,
              "likelihood": args.likelihood}
    if task == "cvae":
        return "ConditionalVAE", {"num_classes": num_classes, **kwargs}
    return "VAE", kwargs


def _run_task(name):
    task = AE_TASKS[name][0]

    def run(args):
        prog = f"minidl train {name}"
        t0 = time.perf_counter()
        noise = getattr(args, "noise", None)
        level = getattr(args, "noise_level", None)
        if noise is not None:
            level = NOISE_LEVEL[noise] if level is None else level
            if not (0 <= level < 1 if noise == "masking" else level >= 0):
                print(f"{prog}: error: --noise-level {level} must be "
                      f"{'a fraction in [0, 1)' if noise == 'masking' else '>= 0'}",
                      file=sys.stderr)
                return 1
        splits = load_splits(args.data, args.seed, args.limit)
        num_classes = len(BUNDLED[args.data][1])
        manual_seed(args.seed)
        arch, model_kwargs = _model_config(task, args, num_classes)
        config = {"task": task, "data": args.data, "latent_dim": args.latent_dim,
                  "num_classes": num_classes if task == "cvae" else None, "arch": arch,
                  "model": model_kwargs, "pixel_range": "0-1", "epochs": args.epochs,
                  "batch_size": args.batch_size, "lr": args.lr, "optimizer": "adam",
                  "seed": args.seed, "limit": args.limit, "noise": noise, "noise_level": level,
                  "val_fraction": VAL_FRACTION,
                  "monitor": "val_elbo" if task in ("vae", "cvae") else "val_loss"}
        model = build_model(config)
        out = args.out or default_out_dir(name, args.data)
        train = ImageBatches(*splits["train"], args.batch_size, shuffle=True, seed=args.seed)
        val = ImageBatches(*splits["val"], 500)
        test = ImageBatches(*splits["test"], 500)
        extras = None
        if task in ("vae", "cvae"):
            def extras(state):
                return _sample_quality(_restore(state, config), task, args, splits["test"][0])
        n_params = sum(p.numel() for p in model.parameters())
        counts = " / ".join(str(len(splits[k][1])) for k in ("train", "val", "test"))
        print(f"{prog}: data {args.data} ({counts} train / val / test images), {arch} "
              f"{n_params} parameters, latent {args.latent_dim}"
              f"{f', {noise} noise {level:g}' if noise else ''}"
              f"{f', {args.likelihood} likelihood' if task in ('vae', 'cvae') else ''}, "
              f"{args.epochs} epochs, batch {args.batch_size}, adam lr {args.lr:g}, seed "
              f"{args.seed}", flush=True)
        print(f"output folder: {out}", flush=True)
        images, labels = splits["val"][0][:16], splits["val"][1][:16]
        trainer = AutoencoderTrainer(
            model, optim.Adam(model.parameters(), lr=args.lr), task, train, val,
            noise=noise, noise_level=level, seed=args.seed, test_extras=extras,
            test_loader=test, out_dir=out, progress=not args.no_progress, config=config,
            early_stopping_patience=args.patience, monitor=config["monitor"],
            mode="max" if task in ("vae", "cvae") else "min",
            callbacks=[EpochPicture(out, task, images, labels, num_classes, args.seed)])
        trainer.fit(args.epochs)
        best = _restore(trainer.best_state(), config)
        rng = np.random.default_rng((args.seed, 3))
        noisy = corrupt(splits["test"][0][:16], noise, level, rng) if task == "dae" else None
        sampler = make_sampler(best, task) if task in ("vae", "cvae") else None
        written = pictures.final_pictures(best, task, splits["test"], out,
                                          BUNDLED[args.data][1], args.seed, noisy, sampler)
        _report(prog, trainer, task, out, written, t0)
        return 0
    return run


def _sample_quality(model, task, args, reference):
    """``evaluate_generator``'s figures of the samples against the test images
    (``reference``); its ``n`` is stored as ``samples``."""
    from .generative_metrics import evaluate_generator
    figures = evaluate_generator(make_sampler(model, task), args.data, task == "cvae",
                                 n=args.fid_samples, classifier=args.fid_classifier,
                                 reference=reference, seed=args.seed)
    figures["samples"] = figures.pop("n")
    return figures


def _report(prog, trainer, task, out, written, t0):
    m, best = trainer.test_metrics, trainer.best_metrics
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} ({trainer.monitor} {best[trainer.monitor]:.4f})")
    if task in ("vae", "cvae"):
        print(f"test on {m['n']} images: ELBO {m['elbo']:.2f} nats per image = "
              f"{m['elbo_per_pixel']:.4f} nats per pixel (reconstruction {m['recon']:.2f}, "
              f"KL {m['kl']:.2f}); reconstruction MSE {m['mse']:.5f} per pixel")
        agreement = (f"classifier agreement {100 * m['agreement']:.1f} % (confidence-weighted "
                     f"{100 * m['confidence_weighted']:.1f} %)" if task == "cvae" else
                     f"classifier confidence {100 * m['confidence']:.1f} %")
        print(f"{m['samples']} samples: FID {m['fid']:.2f} on LeNet features ({m['fid_n']} "
              f"against {m['fid_n']} test images; real test images: {m['real_fid_floor']:.2f}), "
              f"{agreement}")
    else:
        print(f"test on {m['n']} images: reconstruction BCE {m['loss']:.2f} nats per image = "
              f"{m['bce_per_pixel']:.4f} per pixel, MSE {m['mse']:.5f} per pixel")
    print(f"pictures: {', '.join(written)}; checkpoints, metrics, curves in {out}", flush=True)


for _name, (_task, _description) in AE_TASKS.items():
    register_task(Task(_name, _description, _add_arguments(_name), _run_task(_name)))
