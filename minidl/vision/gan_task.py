"""``minidl train gan | dcgan | cgan | wgan | wgan-gp``: generative adversarial networks on the
bundled 28 x 28 digits or clothes.

    minidl train gan --data mnist-mini                  # the course's MLPs, k = 1
    minidl train gan --k 3 --generator-loss saturating  # the minimax game's G loss
    minidl train dcgan --data fashion-mnist-mini        # Radford et al. 2016
    minidl train cgan                                   # one row per class
    minidl train cgan --arch dcgan                      # the conditional DCGAN
    minidl train wgan                                   # weight clipping + RMSprop
    minidl train wgan-gp                                # gradient penalty, Adam(0, 0.9)
    minidl sample runs/dcgan-mnist-mini-.../best.safetensors --n 64 --out grid.png

Training is ``GANTrainer``'s (``minidl.vision.gan_trainer``): ``--k`` discriminator steps,
each on ``--batch-size`` real images and as many noise samples, per generator step. Defaults
are the papers': GAN and CGAN the course's MLPs with Adam 2e-4, beta1 0.5 (Radford et
al.'s settings, steadier than Goodfellow et al.'s SGD with momentum), k = 1; DCGAN Adam 2e-4,
beta1 0.5, batch 128 and ``dcgan_weights_init``; WGAN (Arjovsky et al. 2017) the DCGAN
critic, RMSprop 5e-5, clip 0.01, n_critic = k = 5, batch 64; WGAN-GP (Gulrajani et al. 2017)
the DCGAN critic without batch norm, Adam 1e-4 betas (0, 0.9), lambda 10, n_critic 5, batch
64. ``--arch mlp | dcgan`` swaps the networks of cgan, wgan and wgan-gp. The DCGAN networks
start from 32 channels (``--base-channels``; the paper's 64 cost 4x as much per epoch: on
mnist-mini 15 epochs at 64 gave a validation-selected test FID of 158 in 17 min, 60 epochs
at 32 gave 90 in 15 min), and the epoch counts fill about 15 minutes of one core each
(docs/generative_models.md has the measured runs).

Protocol: the bundled training split less a seeded stratified 10 % trains; after every epoch
the FID on LeNet features (``minidl.vision.generative_metrics``) of ``--val-samples`` samples
from fixed noise against as many validation images selects the epoch (and drives
``--patience``); the selected generator is scored once at the end by ``evaluate_generator``
against the test images (FID, its real-image floor, the classifier's agreement with the
intended classes for the CGAN). Pixels are scaled to [-1, 1] (tanh output); the samplers
return [0, 1].

The output folder holds ``samples_epoch{E:02d}.png`` per epoch (64 samples of fixed noise,
or for the CGAN one row per class with the same noise in each column), the checkpoints
(``model``: the generator; also the discriminator and both optimizers' states),
``metrics.json`` / ``.csv`` (the test figures under "test") and ``curves.png`` (G's loss,
the validation FID, and D's loss or the Wasserstein estimate).
"""
import os
import sys
import time

import numpy as np

from .. import optim
from .._creation import from_numpy
from ..backend import manual_seed
from ..train.arguments import non_negative_float, positive_int
from ..train.callbacks import Callback, EarlyStopping
from ..train.tasks import Task, add_training_arguments, default_out_dir, register_task
from .datasets.bundled import BUNDLED
from .gan_losses import GENERATOR_LOSSES
from .gan_trainer import GANTrainer, fixed_noise, generate, make_sampler
from .generative_data import VAL_FRACTION, ImageBatches, load_splits
from .generative_sampling import register_sampler
from .models.generative.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_weights_init
from .models.generative.gan import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    Discriminator,
    Generator,
)
from .utils import save_image

__all__ = ["GAN_TASKS", "DEFAULTS", "build_networks", "build_generator", "class_grid_inputs"]

# command -> (objective, default architecture, description)
GAN_TASKS = {
    "gan": ("gan", "mlp", "GAN (Goodfellow et al. 2014), the course's MLPs and algorithm"),
    "dcgan": ("gan", "dcgan", "DCGAN (Radford et al. 2016): transposed convolutions, BN"),
    "cgan": ("gan", "mlp", "conditional GAN (Mirza & Osindero 2014), one row per class"),
    "wgan": ("wgan", "dcgan", "WGAN (Arjovsky et al. 2017): weight clipping, RMSprop"),
    "wgan-gp": ("wgan-gp", "dcgan", "WGAN-GP (Gulrajani et al. 2017): gradient penalty"),
}
_ADAM_DCGAN = {"optimizer": "adam", "lr": 2e-4, "betas": (0.5, 0.999)}
DEFAULTS = {
    "gan": {"epochs": 200, "batch_size": 100, "k": 1, **_ADAM_DCGAN},
    "cgan": {"epochs": 200, "batch_size": 100, "k": 1, **_ADAM_DCGAN},
    "dcgan": {"epochs": 60, "batch_size": 128, "k": 1, **_ADAM_DCGAN},
    "wgan": {"epochs": 100, "batch_size": 64, "k": 5, "optimizer": "rmsprop", "lr": 5e-5,
             "clip": 0.01},
    "wgan-gp": {"epochs": 70, "batch_size": 64, "k": 5, "optimizer": "adam", "lr": 1e-4,
                "betas": (0.0, 0.9), "gp_lambda": 10.0},
}
LATENT_DIM = 100
BASE_CHANNELS = 32
VAL_SAMPLES = 1000
GRID_COLUMNS = 8
GENERATORS = {"Generator": Generator, "ConditionalGenerator": ConditionalGenerator,
              "DCGANGenerator": DCGANGenerator}


def build_networks(task, arch, latent_dim, num_classes, base_channels=BASE_CHANNELS):
    """``(generator, discriminator, config entries)`` of a task: the MLPs or the DCGAN pair
    (DCGAN initialisation; the WGAN-GP critic without batch norm)."""
    conditional = task == "cgan"
    classes = num_classes if conditional else None
    if arch == "mlp":
        g_arch = "ConditionalGenerator" if conditional else "Generator"
        g_kwargs = {"latent_dim": latent_dim, **({"num_classes": classes} if classes else {})}
        d = ConditionalDiscriminator(classes) if conditional else Discriminator()
    else:
        g_arch = "DCGANGenerator"
        g_kwargs = {"latent_dim": latent_dim, "base_channels": base_channels,
                    "num_classes": classes}
        d = DCGANDiscriminator(base_channels=base_channels, batch_norm=task != "wgan-gp",
                               num_classes=classes)
    g = GENERATORS[g_arch](**g_kwargs)
    if arch == "dcgan":
        g.apply(dcgan_weights_init)
        d.apply(dcgan_weights_init)
    entries = {"arch": g_arch, "model": g_kwargs,
               "discriminator": {"arch": type(d).__name__,
                                 "batch_norm": arch == "dcgan" and task != "wgan-gp"}}
    return g, d, entries


def build_generator(config):
    """The untrained generator of a run's ``config`` (``arch`` and ``model`` kwargs)."""
    if config.get("arch") not in GENERATORS:
        raise ValueError(f"unknown generator architecture {config.get('arch')!r} in the "
                         f"checkpoint's config (expected one of {', '.join(GENERATORS)})")
    return GENERATORS[config["arch"]](**config["model"])


def _sampler_from_checkpoint(ckpt, config):
    generator = build_generator(config)
    generator.load_state_dict(ckpt["model"])
    generator.eval()
    return make_sampler(generator, config.get("num_classes"))


for _task in GAN_TASKS:
    register_sampler(_task, _sampler_from_checkpoint)


def class_grid_inputs(latent_dim, num_classes, columns, seed):
    """``(z, labels)`` of a grid with one row per class and the same noise in each column."""
    z = fixed_noise(columns, latent_dim, seed)
    return np.tile(z, (num_classes, 1)), np.repeat(np.arange(num_classes), columns)


class SampleGrid(Callback):
    """``samples_epoch{E:02d}.png`` after every epoch: the generator on fixed noise."""

    def __init__(self, out_dir, z, labels, columns):
        self.out_dir, self.z, self.labels, self.columns = out_dir, z, labels, columns

    def on_epoch_end(self, trainer, epoch, logs):
        images = generate(trainer.model, self.z, self.labels)
        save_image(from_numpy(images), os.path.join(self.out_dir, f"samples_epoch{epoch:02d}.png"),
                   nrow=self.columns, padding=2, pad_value=0.5)


def _add_arguments(name):
    d = DEFAULTS[name]
    objective = GAN_TASKS[name][0]

    def add(parser):
        add_training_arguments(parser, d, monitor="the validation FID")
        parser.add_argument("--data", default="mnist-mini", choices=sorted(BUNDLED),
                            help="the bundled data set (default mnist-mini)")
        parser.add_argument("--latent-dim", type=positive_int, default=LATENT_DIM,
                            help=f"numbers in the noise z (default {LATENT_DIM})")
        parser.add_argument("--k", type=positive_int, default=d["k"],
                            help=f"discriminator steps per generator step (default {d['k']})")
        if objective == "gan":
            parser.add_argument("--generator-loss", choices=GENERATOR_LOSSES,
                                default="non-saturating",
                                help="G's loss: -log D(G(z)) (non-saturating, default) or "
                                     "log(1 - D(G(z))) (saturating, the minimax game's)")
        if name in ("cgan", "wgan", "wgan-gp"):
            arch = GAN_TASKS[name][1]
            parser.add_argument("--arch", choices=("dcgan", "mlp"), default=arch,
                                help=f"the networks: the course's MLPs or the DCGAN pair "
                                     f"(default {arch})")
        if objective == "wgan":
            parser.add_argument("--clip", type=non_negative_float, default=d["clip"],
                                help=f"critic weights clipped to [-c, c] (default {d['clip']})")
        if objective == "wgan-gp":
            parser.add_argument("--gp-lambda", type=non_negative_float,
                                default=d["gp_lambda"],
                                help=f"weight of the gradient penalty (default "
                                     f"{d['gp_lambda']:g})")
        if name != "gan":
            parser.add_argument("--base-channels", type=positive_int, default=BASE_CHANNELS,
                                help=f"channels of the DCGAN networks' first layer (default "
                                     f"{BASE_CHANNELS})")
        parser.add_argument("--val-samples", type=positive_int, default=VAL_SAMPLES,
                            help=f"samples (and validation images) of the per-epoch FID "
                                 f"(default {VAL_SAMPLES})")
        parser.add_argument("--fid-classifier", metavar="CKPT",
                            help="checkpoint of the FID / agreement classifier (default: the "
                                 "cached LeNet of minidl.vision.generative_metrics)")
        parser.add_argument("--fid-samples", type=positive_int, default=2000, metavar="N",
                            help="samples scored against the test images at the end "
                                 "(default 2000)")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="use only the first N images of each split (quick checks)")
    return add


def _optimizers(name, args, generator, discriminator):
    d = DEFAULTS[name]
    if d["optimizer"] == "rmsprop":
        return (optim.RMSprop(generator.parameters(), lr=args.lr),
                optim.RMSprop(discriminator.parameters(), lr=args.lr))
    return (optim.Adam(generator.parameters(), lr=args.lr, betas=d["betas"]),
            optim.Adam(discriminator.parameters(), lr=args.lr, betas=d["betas"]))


def _classifier(args):
    from .generative_metrics import fid_classifier, load_fid_classifier
    if args.fid_classifier:
        return load_fid_classifier(args.fid_classifier)
    return fid_classifier(args.data, progress=not args.no_progress)


def _run_task(name):
    objective, default_arch, _ = GAN_TASKS[name]
    d = DEFAULTS[name]

    def run(args):
        prog = f"minidl train {name}"
        t0 = time.perf_counter()
        splits = load_splits(args.data, args.seed, args.limit, pixel_range="-1-1")
        num_classes = len(BUNDLED[args.data][1])
        conditional = name == "cgan"
        try:
            classifier = _classifier(args)
        except (OSError, ValueError, RuntimeError, TypeError) as e:
            print(f"{prog}: error: --fid-classifier: {e}", file=sys.stderr)
            return 1
        manual_seed(args.seed)
        arch = getattr(args, "arch", default_arch)
        generator, discriminator, entries = build_networks(
            name, arch, args.latent_dim, num_classes, getattr(args, "base_channels",
                                                              BASE_CHANNELS))
        g_opt, d_opt = _optimizers(name, args, generator, discriminator)
        clip, gp_lambda = getattr(args, "clip", None), getattr(args, "gp_lambda", None)
        kind = getattr(args, "generator_loss", None)
        config = {"task": name, "data": args.data, "latent_dim": args.latent_dim,
                  "num_classes": num_classes if conditional else None, **entries,
                  "pixel_range": "-1-1", "objective": objective, "k": args.k,
                  "generator_loss": kind, "clip": clip, "gp_lambda": gp_lambda,
                  "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                  "optimizer": d["optimizer"], "betas": d.get("betas"), "seed": args.seed,
                  "limit": args.limit, "val_fraction": VAL_FRACTION,
                  "val_samples": args.val_samples, "fid_samples": args.fid_samples,
                  "monitor": "val_fid"}
        out = args.out or default_out_dir(name, args.data)
        columns = GRID_COLUMNS
        if conditional:
            z, labels = class_grid_inputs(args.latent_dim, num_classes, columns, args.seed)
        else:
            z, labels = fixed_noise(columns * columns, args.latent_dim, args.seed), None
        callbacks = [SampleGrid(out, z, labels, columns)]
        if args.patience:
            callbacks.append(EarlyStopping("val_fid", args.patience, mode="min"))
        try:
            trainer = _trainer((generator, g_opt, discriminator, d_opt), splits, args, config,
                               classifier, callbacks, out)
        except ValueError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        _describe(prog, name, args, splits, generator, discriminator, config, out)
        trainer.fit(args.epochs)
        _report(prog, trainer, out, t0, conditional)
        return 0
    return run


def _trainer(networks, splits, args, config, classifier, callbacks, out):
    """The ``GANTrainer`` of a run: FID against the validation images per epoch,
    ``evaluate_generator`` against the test images at the end."""
    from .generative_metrics import evaluate_generator, fid
    conditional = config["num_classes"] is not None
    reference = (splits["test"][0] + 1) / 2

    def test_quality(sampler):
        return evaluate_generator(sampler, args.data, conditional, n=args.fid_samples,
                                  classifier=classifier, reference=reference, seed=args.seed)

    return GANTrainer(
        *networks, ImageBatches(*splits["train"], args.batch_size, shuffle=True, seed=args.seed),
        ImageBatches(*splits["val"], 500), objective=config["objective"], k=args.k,
        generator_loss=config["generator_loss"] or "non-saturating", clip=config["clip"],
        gp_lambda=config["gp_lambda"], num_classes=config["num_classes"],
        fid_fn=lambda a, b: fid(a, b, classifier), fid_samples=args.val_samples,
        test_quality=test_quality, seed=args.seed, progress=not args.no_progress,
        callbacks=callbacks, test_loader=ImageBatches(*splits["test"], 500), out_dir=out,
        config=config, monitor="val_fid", mode="min")


def _describe(prog, name, args, splits, generator, discriminator, config, out):
    counts = " / ".join(str(len(splits[k][1])) for k in ("train", "val", "test"))
    n_g = sum(p.numel() for p in generator.parameters())
    n_d = sum(p.numel() for p in discriminator.parameters())
    objective = config["objective"]
    extra = (f"generator loss {config['generator_loss']}" if objective == "gan" else
             f"clip {config['clip']:g}" if objective == "wgan" else
             f"gradient penalty lambda {config['gp_lambda']:g}")
    betas = f" betas {tuple(config['betas'])}" if config["betas"] else ""
    print(f"{prog}: data {args.data} ({counts} train / val / test images), {config['arch']} "
          f"{n_g} parameters, {config['discriminator']['arch']} {n_d}, latent "
          f"{args.latent_dim}; k = {args.k} discriminator steps per generator step, {extra}; "
          f"{args.epochs} epochs, batch {args.batch_size}, {config['optimizer']} lr "
          f"{args.lr:g}{betas}, seed {args.seed}", flush=True)
    print(f"output folder: {out}", flush=True)


def _report(prog, trainer, out, t0, conditional):
    best, m = trainer.best_metrics, trainer.test_metrics
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val FID {best['val_fid']:.2f})")
    agreement = (f", classifier agreement {100 * m['agreement']:.1f} % (confidence-weighted "
                 f"{100 * m['confidence_weighted']:.1f} %)" if conditional else
                 f", classifier confidence {100 * m['confidence']:.1f} %")
    critic = (f"Wasserstein estimate {m['wasserstein']:.4f}" if "wasserstein" in m else
              f"D's loss {m['d_loss']:.4f}")
    print(f"test: FID {m['fid']:.2f} on LeNet features of {m['fid_n']} samples (real test "
          f"images: {m['real_fid_floor']:.2f}){agreement}; {critic} on the test images")
    grids = "samples_epoch01.png" + (f" ... samples_epoch{trainer.epoch:02d}.png"
                                     if trainer.epoch > 1 else "")
    print(f"{grids}, checkpoints, metrics, curves in {out}", flush=True)


for _name, (_objective, _arch, _description) in GAN_TASKS.items():
    register_task(Task(_name, _description, _add_arguments(_name), _run_task(_name)))
