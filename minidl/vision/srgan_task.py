"""``minidl train srgan``: SRGAN (Ledig et al. 2017) on the super-resolution data.

    minidl train srgan --scale 4
    minidl train srgan --scale 4 --vgg-weights ~/weights/vgg19.safetensors

Two phases, as the paper: SRResNet (``--num-blocks`` residual blocks: 4 by default to fit a
CPU run, the paper's 16 with ``--num-blocks 16``; by default without BatchNorm, as EDSR, and
with the bicubic-upsampled input added to its output, a change from the paper:
``--batch-norm --no-bicubic-skip`` is the paper's generator) is first trained with the pixel
MSE for ``--pretrain-epochs`` (Adam from ``--pretrain-lr`` with cosine decay per step;
checkpoints in ``OUT/pretrain``), then the adversarial phase (Adam at the constant ``--lr``)
trains it against ``SRGANDiscriminator`` with the perceptual loss: content (the MSE of the
features of a fixed network) + 1e-3 x adversarial (-log D(G(lr))). The feature network is
VGG-19 (phi_5,4) when ``--vgg-weights`` names torchvision's VGG-19 weights, else fixed
random multi-scale conv features (printed at the start; see ``models.srgan``). Both
phases use Adam (the paper's beta1 = 0.9); each discriminator step sees one batch of real
and one of generated patches. Model selection in the adversarial phase is on the
validation PSNR; the test photos are upscaled once at the end. The checkpoints hold the
generator (``minidl upscale`` reads them); the data, patches, metrics and outputs are
those of the other super-resolution tasks (``minidl.vision.super_resolution_task``).
"""
import argparse
import os
import sys
import time

import numpy as np

from .. import nn, optim
from ..backend import manual_seed
from ..train.arguments import non_negative_float, number, positive_int
from ..train.tasks import Task, default_out_dir, register_task
from .datasets.photos import ImagePairs, PhotoPatches
from .models.srgan import (
    ADVERSARIAL_WEIGHT,
    PerceptualLoss,
    RandomFeatures,
    SRGANDiscriminator,
    SRResNet,
    vgg19_features,
)
from .super_resolution_task import (
    SuperResolutionTrainer,
    _add_arguments,
    _data_tag,
    _prepare,
    _report,
)

__all__ = ["SRGANTrainer", "SRGAN_DEFAULTS"]

# sized for minutes of one CPU thread, chosen on the validation photo: 4 residual blocks (the
# paper: 16, --num-blocks 16) without BatchNorm and with the bicubic skip (validation PSNR after
# one MSE epoch x4: see docs/vision_applications.md), 8 MSE epochs, then the paper's final
# adversarial lr 1e-5 (1e-4 lost 0.3-1 dB of validation PSNR per 16 steps)
SRGAN_DEFAULTS = {"epochs": 3, "batch_size": 16, "lr": 1e-5, "patch_size": 32,
                  "patches": 256, "pretrain_epochs": 8, "pretrain_patches": 1024,
                  "pretrain_lr": 1e-3, "num_blocks": 4, "batch_norm": False,
                  "bicubic_skip": True, "clip": None}


class SRGANTrainer(SuperResolutionTrainer):
    """The adversarial phase: every batch first steps ``discriminator`` (BCE on real HR
    patches as 1, generated ones as 0), then the generator on ``PerceptualLoss``. The
    epoch's logs add ``train_d_loss``, ``train_content`` and ``train_adversarial``."""

    def __init__(self, model, optimizer, discriminator, d_optimizer, perceptual,
                 train_loader=None, val_loader=None, **kwargs):
        if kwargs.get("accumulate_grad_batches", 1) != 1:
            raise ValueError(f"{type(self).__name__}: accumulate_grad_batches is not supported "
                             "(the discriminator steps inside every training step, so only the "
                             f"generator would accumulate); got "
                             f"{kwargs['accumulate_grad_batches']!r}")
        super().__init__(model, optimizer, train_loader, val_loader, **kwargs)
        self.discriminator, self.d_optimizer = discriminator, d_optimizer
        self.perceptual = perceptual
        self.bce = nn.BCEWithLogitsLoss()
        self._parts = []

    def _discriminate(self, trainable):
        for p in self.discriminator.parameters():
            p.requires_grad_(trainable)

    def training_step(self, batch):
        lr, hr = batch
        sr = self.model(lr)
        self._discriminate(True)
        real, fake = self.discriminator(hr), self.discriminator(sr.detach())
        d_loss = (self.bce(real, real.new_ones(real.shape))
                  + self.bce(fake, fake.new_zeros(fake.shape)))
        self.d_optimizer.zero_grad()
        d_loss.backward()
        self.d_optimizer.step()
        self._discriminate(False)  # the generator's step leaves D's weights alone
        total, content, adversarial = self.perceptual(sr, hr, self.discriminator(sr))
        self._parts.append((float(d_loss.item()), float(content.item()),
                            float(adversarial.item())))
        return {"loss": total, "n": len(hr), "correct": None}

    def train_epoch(self):
        self._parts = []
        self.discriminator.train()
        logs = super().train_epoch()
        d, content, adversarial = np.mean(self._parts, axis=0)
        logs.update(train_d_loss=float(d), train_content=float(content),
                    train_adversarial=float(adversarial))
        return logs


def _add_srgan_arguments(parser):
    _add_arguments("srgan", SRGAN_DEFAULTS)(parser)
    d = SRGAN_DEFAULTS
    parser.add_argument("--pretrain-epochs", type=number(int, 0, "an integer >= 0"),
                        default=d["pretrain_epochs"],
                        help=f"epochs of SRResNet with the pixel MSE before the adversarial "
                             f"phase (default {d['pretrain_epochs']}; 0: none)")
    parser.add_argument("--pretrain-patches", type=positive_int, default=d["pretrain_patches"],
                        help=f"patches per pretraining epoch (default {d['pretrain_patches']})")
    parser.add_argument("--pretrain-lr", type=non_negative_float, default=d["pretrain_lr"],
                        help=f"initial Adam learning rate of the pretraining, cosine decay "
                             f"per step (default {d['pretrain_lr']:g}; --lr is the constant "
                             f"one of the adversarial phase)")
    parser.add_argument("--num-blocks", type=positive_int, default=d["num_blocks"],
                        help=f"residual blocks of the generator (default {d['num_blocks']}; "
                             f"the paper's 16 take about 4 times longer)")
    parser.add_argument("--batch-norm", action=argparse.BooleanOptionalAction,
                        default=d["batch_norm"],
                        help="BatchNorm in the generator's residual blocks, as the paper "
                             "(default: none, as EDSR: --no-batch-norm)")
    parser.add_argument("--bicubic-skip", action=argparse.BooleanOptionalAction,
                        default=d["bicubic_skip"],
                        help="add the bicubic upsampling of the input to the generator's "
                             "output (default; a change from the paper: --no-bicubic-skip "
                             "removes it)")
    parser.add_argument("--vgg-weights", metavar="FILE",
                        help="torchvision's VGG-19 ImageNet state_dict (.safetensors / .npz) "
                             "for the content loss; default: random multi-scale features")


def _run(args):
    prog = "minidl train srgan"
    t0 = time.perf_counter()
    if args.scale not in (2, 4):
        print(f"{prog}: error: --scale {args.scale}: SRGAN upsamples by PixelShuffle(2) "
              f"steps, so --scale must be 2 or 4", file=sys.stderr)
        return 1
    if args.data == "fashion-mnist-mini" and args.patch_size == SRGAN_DEFAULTS["patch_size"]:
        args.patch_size = 16
    if args.patch_size % 16:
        print(f"{prog}: error: --patch-size {args.patch_size} must be a multiple of 16 (the "
              f"discriminator's four stride-2 convolutions)", file=sys.stderr)
        return 1
    splits = _prepare(args, "srgan")
    if isinstance(splits, str):
        print(f"{prog}: error: {splits}", file=sys.stderr)
        return 1
    try:
        features = (vgg19_features(args.vgg_weights) if args.vgg_weights
                    else RandomFeatures(1, seed=0))
    except (FileNotFoundError, ValueError, OSError) as e:
        print(f"{prog}: error: --vgg-weights: {e}", file=sys.stderr)
        return 1
    manual_seed(args.seed)
    model_kwargs = {"arch": "srresnet", "scale": args.scale, "in_channels": 1,
                    "num_blocks": args.num_blocks, "batch_norm": args.batch_norm,
                    "bicubic_skip": args.bicubic_skip}
    model = SRResNet(args.scale, 1, args.num_blocks, batch_norm=args.batch_norm,
                     bicubic_skip=args.bicubic_skip)
    discriminator = SRGANDiscriminator(1, args.patch_size)
    images = splits["train"][1]
    val = ImagePairs(splits["val"][1], args.scale, False, splits["val"][0])
    test = ImagePairs(splits["test"][1], args.scale, False, splits["test"][0])
    out = args.out or default_out_dir("srgan", f"{_data_tag(args.data)}-x{args.scale}")
    n_g = sum(p.numel() for p in model.parameters())
    n_d = sum(p.numel() for p in discriminator.parameters())
    counts = " / ".join(str(len(splits[k][1])) for k in ("train", "val", "test"))
    print(f"{prog}: data {args.data} x{args.scale} ({counts} train / val / test images, grey "
          f"Y), SRResNet {args.num_blocks} blocks "
          f"{'with' if args.batch_norm else 'without'} BatchNorm"
          f"{', bicubic skip' if args.bicubic_skip else ''} {n_g} parameters, discriminator {n_d}; "
          f"{args.pretrain_epochs} MSE epochs of {args.pretrain_patches} patches, then "
          f"{args.epochs} adversarial epochs of {args.patches}, patches {args.patch_size} x "
          f"{args.patch_size}, batch {args.batch_size}, adam lr {args.pretrain_lr:g} then "
          f"{args.lr:g}, seed {args.seed}", flush=True)
    print(f"content loss on: {features.description}; adversarial weight "
          f"{ADVERSARIAL_WEIGHT:g}", flush=True)
    print(f"output folder: {out}", flush=True)
    config = {"task": "srgan", "data": args.data, "model": model_kwargs,
              "epochs": args.epochs, "pretrain_epochs": args.pretrain_epochs,
              "pretrain_lr": args.pretrain_lr,
              "pretrain_scheduler": "cosine per step",
              "batch_size": args.batch_size, "lr": args.lr, "optimizer": "adam",
              "patch_size": args.patch_size, "patches": args.patches,
              "pretrain_patches": args.pretrain_patches, "seed": args.seed,
              "limit": args.limit, "features": features.description,
              "adversarial_weight": ADVERSARIAL_WEIGHT, "channels": "Y (ITU-R 601-2 luma)",
              "degradation": "Pillow BICUBIC downscale", "monitor": "val_psnr"}
    progress = not args.no_progress
    if args.pretrain_epochs > 0:
        print(f"phase 1: SRResNet, pixel MSE, {args.pretrain_epochs} epochs", flush=True)
        patches = PhotoPatches(images, args.scale, args.patch_size, args.pretrain_patches,
                               args.batch_size, False, seed=args.seed)
        optimizer = optim.Adam(model.parameters(), lr=args.pretrain_lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=args.pretrain_epochs * len(patches))
        pre = SuperResolutionTrainer(model, optimizer, patches, val, scheduler=scheduler,
                                     scheduler_interval="step",
                                     out_dir=os.path.join(out, "pretrain"), progress=progress,
                                     config={**config, "phase": "pretrain"},
                                     monitor="val_psnr", mode="max")
        pre.fit(args.pretrain_epochs)
        model.load_state_dict(pre.best_state())
        print(f"phase 1 done: val PSNR {pre.best_metrics['val_psnr']:.2f} dB (epoch "
              f"{pre.best_epoch})", flush=True)
    print(f"phase 2: SRGAN, perceptual loss, {args.epochs} epochs", flush=True)
    patches = PhotoPatches(images, args.scale, args.patch_size, args.patches, args.batch_size,
                           False, seed=args.seed + 1)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    d_optimizer = optim.Adam(discriminator.parameters(), lr=args.lr)
    trainer = SRGANTrainer(model, optimizer, discriminator, d_optimizer,
                           PerceptualLoss(features), patches, val, test_loader=test,
                           out_dir=out, progress=progress, config=config,
                           early_stopping_patience=args.patience, monitor="val_psnr",
                           mode="max", keep=6 if args.data == "fashion-mnist-mini" else 2)
    trainer.fit(args.epochs)
    return _report(prog, trainer, out, args, t0)


register_task(Task("srgan", "super-resolution: SRGAN (Ledig et al. 2017), SRResNet + "
                            "discriminator, perceptual loss; PSNR / SSIM vs bicubic",
                   _add_srgan_arguments, _run))
