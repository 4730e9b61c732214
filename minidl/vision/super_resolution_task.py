"""Single-image super-resolution from the command line: ``minidl train srcnn | vdsr | espcn |
srgan`` and ``minidl upscale``.

    minidl train espcn --scale 4                       # the bundled photos, x4
    minidl train srcnn --scale 2 --data ~/my_photos    # FOLDER/train, val, test of images
    minidl train vdsr --scale 2 --data fashion-mnist-mini
    minidl upscale runs/espcn-photos-x4-.../best.safetensors photo.jpg --out big.png

Data (``--data``): ``photos`` (default; nine CC0 / public-domain photos bundled with minidl,
split by photo into 6 train / 1 validation / 2 test, see
``minidl.vision.datasets.photos``), a folder of the user's photos laid out the same way,
or ``fashion-mnist-mini`` (28 x 28 clothes: the bundled training images minus the last
1,000 train, 500 of those validate, 500 of the bundled test images test). Every image is
its grey Y channel; the low-resolution input is its Pillow-``BICUBIC`` downscaled version.

Training: each epoch draws ``--patches`` random ``--patch-size`` HR patches (random flips and
90-degree rotations) anew; MSE loss, Adam, cosine decay per step. After every epoch the
validation images are upscaled whole: PSNR (dB, the Y channel, ``scale`` pixels of border
left out, as the SR papers) selects the epoch; the selected weights upscale the test images
once at the end, and PSNR / SSIM are printed beside the bicubic baseline's.
``comparison.png`` in the output folder shows bicubic | model | original for the first
test images. ``minidl upscale`` reads any image: a grey one is upscaled directly, a colour
one on its Y channel with Cb and Cr resized bicubically.
"""
import os
import sys
import time

import numpy as np
from PIL import Image

from .. import nn, optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..backend import manual_seed
from ..train.arguments import positive_int
from ..train.tasks import (
    Command,
    Task,
    add_training_arguments,
    default_out_dir,
    load_task_checkpoint,
    register_command,
    register_task,
    report_missing_files,
)
from ..train.trainer import Trainer
from .datasets.bundled import load_bundled
from .datasets.photos import ImagePairs, PhotoPatches, bicubic_upscale, load_photos
from .image_quality import psnr, ssim
from .models import get_model

__all__ = ["SuperResolutionTrainer", "upscale", "run_tiled", "load_upscaler", "DEFAULTS",
           "SR_TASKS"]

# model builder and description of each task
SR_TASKS = {"srcnn": ("srcnn", "SRCNN 9-1-5 (Dong et al. 2014) on the bicubic-upsampled image"),
            "vdsr": ("vdsr", "VDSR, 20 layers, residual (Kim et al. 2016), gradient clipping"),
            "espcn": ("espcn", "ESPCN, sub-pixel convolution (Shi et al. 2016)")}
# defaults sized for minutes of one CPU thread; each run selects its epoch on the validation
# photo (coffee); their figures are in the README's super-resolution section
DEFAULTS = {"srcnn": {"epochs": 12, "batch_size": 16, "lr": 1e-3, "patch_size": 32,
                      "patches": 4096, "clip": None},
            "vdsr": {"epochs": 3, "batch_size": 16, "lr": 5e-4, "patch_size": 32,
                     "patches": 768, "clip": 0.4},
            "espcn": {"epochs": 12, "batch_size": 16, "lr": 1e-3, "patch_size": 48,
                      "patches": 4096, "clip": None}}
FASHION_PATCH = 24
TILE = 160


def run_tiled(model, x, tile=TILE):
    """``model(x)`` for ``x`` N x C x h x w, in tiles of ``tile`` x ``tile`` input pixels
    with the model's ``receptive_radius`` of overlap (the same values as one whole pass,
    with less memory); the output is ``scale`` times larger for models that read the
    low-resolution image."""
    n, _, h, w = x.shape
    m = model.receptive_radius
    if h <= tile + 2 * m and w <= tile + 2 * m:
        return model(x)
    s = 1 if model.upsampled_input else model.scale
    out = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            ya, xa = max(0, y0 - m), max(0, x0 - m)
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            part = model(x[:, :, ya:min(h, y1 + m), xa:min(w, x1 + m)]).numpy()
            if out is None:
                out = np.empty((n, part.shape[1], h * s, w * s), dtype=part.dtype)
            out[:, :, y0 * s:y1 * s, x0 * s:x1 * s] = part[:, :, (y0 - ya) * s:(y1 - ya) * s,
                                                            (x0 - xa) * s:(x1 - xa) * s]
    return from_numpy(out)


class SuperResolutionTrainer(Trainer):
    """``Trainer`` of an SR model on ``PhotoPatches``: MSE per pixel; evaluation on
    ``ImagePairs`` adds ``psnr`` / ``ssim`` of the model and of the bicubic baseline
    (``bicubic_psnr``, ``bicubic_ssim``), means over the images."""

    unit = "images"

    def __init__(self, model, optimizer, train_loader=None, val_loader=None, keep=0,
                 **kwargs):
        super().__init__(model, optimizer, nn.MSELoss(), train_loader, val_loader, **kwargs)
        self.keep = keep
        self.kept = []  # (bicubic, output, original) of the first ``keep`` images evaluated

    def training_step(self, batch):
        x, y = batch
        return {"loss": self.loss_fn(self.model(x), y), "n": len(y), "correct": None}

    def evaluate_loader(self, loader):
        was_training = self.model.training
        self.model.eval()
        rows, mse, self.kept = [], [], []
        b = loader.scale
        try:
            with no_grad():
                for x, y, up in loader:
                    out = np.clip(run_tiled(self.model, x).numpy(), 0, 1)
                    hr, bicubic = y.numpy(), up.numpy()
                    self.kept += [(bicubic[i, 0], out[i, 0], hr[i, 0])
                                  for i in range(min(len(out), self.keep - len(self.kept)))]
                    mse.append(((out - hr) ** 2).mean(axis=(1, 2, 3)))
                    rows.append(np.stack([psnr(out, hr, border=b), ssim(out, hr, border=b),
                                          psnr(bicubic, hr, border=b),
                                          ssim(bicubic, hr, border=b)], 1))
        finally:
            self.model.train(was_training)
        rows = np.concatenate(rows)
        means = rows.mean(0)
        return {"loss": float(np.concatenate(mse).mean()), "acc": None, "n": len(rows),
                "psnr": float(means[0]), "ssim": float(means[1]),
                "bicubic_psnr": float(means[2]), "bicubic_ssim": float(means[3])}


def _open_data(data, val_count=500, test_count=500):
    """``{split: (names, uint8 images)}`` of ``--data``."""
    if data == "fashion-mnist-mini":
        train = load_bundled(data, train=True)[0].numpy()
        test = load_bundled(data, train=False)[0].numpy()
        parts = {"train": train[:-1000], "val": train[-1000:][:val_count],
                 "test": test[:test_count]}
        return {k: ([f"{k}{i}" for i in range(len(v))], list(v)) for k, v in parts.items()}
    root = None if data == "photos" else data
    out = {}
    for split in ("train", "val", "test"):
        photos = load_photos(split, root)
        out[split] = ([n for n, _ in photos], [a for _, a in photos])
    return out


def _comparison(triples, path, zoom=1):
    """``path``: bicubic | model | original side by side, one row per triple of images in
    [0, 1], ``zoom`` times enlarged."""
    rows = []
    for images in triples:
        gap = np.ones((images[0].shape[0], 4), np.float32)
        rows.append(np.concatenate([images[0], gap, images[1], gap, images[2]], 1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1])), constant_values=1.0) for r in rows]
    picture = Image.fromarray((np.concatenate(rows, 0) * 255 + 0.5).astype(np.uint8))
    if zoom > 1:
        picture = picture.resize((picture.width * zoom, picture.height * zoom), Image.NEAREST)
    picture.save(path)


# ------------------------------------------------------------ minidl train srcnn ...
def _add_arguments(name, defaults=None):
    """The options of ``minidl train NAME`` (``defaults``: DEFAULTS[name])."""
    d = defaults or DEFAULTS[name]

    def add(parser):
        add_training_arguments(parser, d)
        parser.add_argument("--scale", type=int, choices=(2, 3, 4), default=2,
                            help="upscaling factor (default 2)")
        parser.add_argument("--data", default="photos",
                            help="photos (the bundled photos, default), fashion-mnist-mini, "
                                 "or a folder with train/, val/ and test/ sub-folders of "
                                 "images")
        parser.add_argument("--patch-size", type=positive_int, default=d["patch_size"],
                            help=f"side of the HR training patches, a multiple of --scale "
                                 f"(default {d['patch_size']}; {FASHION_PATCH} for "
                                 f"fashion-mnist-mini)")
        parser.add_argument("--patches", type=positive_int, default=d["patches"],
                            help=f"random training patches per epoch (default {d['patches']})")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="use only the first N images of each split (quick checks)")
    return add


def _prepare(args, name):
    """``{split: (names, images)}`` of ``args.data`` (``--limit`` applied), or an error
    message."""
    if (args.data == "fashion-mnist-mini" and name in DEFAULTS
            and args.patch_size == DEFAULTS[name]["patch_size"]):
        args.patch_size = FASHION_PATCH
    if args.patch_size % args.scale:
        return f"--patch-size {args.patch_size} is not a multiple of --scale {args.scale}"
    if args.data not in ("photos", "fashion-mnist-mini") and not os.path.isdir(args.data):
        return (f"--data {args.data!r} is neither photos, fashion-mnist-mini nor a folder of "
                f"photos (with train/, val/, test/)")
    try:
        splits = _open_data(args.data)
    except (FileNotFoundError, RuntimeError, OSError) as e:
        return str(e)
    if args.limit:
        splits = {k: (n[:args.limit], v[:args.limit]) for k, (n, v) in splits.items()}
    return splits


def _run_task(name):
    def run(args):
        prog = f"minidl train {name}"
        t0 = time.perf_counter()
        splits = _prepare(args, name)
        if isinstance(splits, str):
            print(f"{prog}: error: {splits}", file=sys.stderr)
            return 1
        arch = SR_TASKS[name][0]
        manual_seed(args.seed)
        model_kwargs = {"scale": args.scale, "in_channels": 1}
        model = get_model(arch, **model_kwargs)
        upsampled = model.upsampled_input
        try:
            train = PhotoPatches(splits["train"][1], args.scale, args.patch_size, args.patches,
                                 args.batch_size, upsampled, seed=args.seed)
        except ValueError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        val = ImagePairs(splits["val"][1], args.scale, upsampled, splits["val"][0])
        test = ImagePairs(splits["test"][1], args.scale, upsampled, splits["test"][0])
        clip = DEFAULTS[name]["clip"]
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                         T_max=args.epochs * len(train))
        out = args.out or default_out_dir(name, f"{_data_tag(args.data)}-x{args.scale}")
        config = {"task": name, "data": args.data, "model": {"arch": arch, **model_kwargs},
                  "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                  "optimizer": "adam", "scheduler": "cosine per step", "clip": clip,
                  "patch_size": args.patch_size, "patches": args.patches, "seed": args.seed,
                  "limit": args.limit, "channels": "Y (ITU-R 601-2 luma)",
                  "degradation": "Pillow BICUBIC downscale", "monitor": "val_psnr"}
        n_params = sum(p.numel() for p in model.parameters())
        counts = " / ".join(str(len(splits[k][1])) for k in ("train", "val", "test"))
        print(f"{prog}: data {args.data} x{args.scale} ({counts} train / val / test images, "
              f"grey Y), {model.__class__.__name__} {n_params} parameters, {args.epochs} "
              f"epochs of {args.patches} patches {args.patch_size} x {args.patch_size}, batch "
              f"{args.batch_size}, adam lr {args.lr:g}"
              f"{f', gradient norm clipped to {clip:g}' if clip else ''}, seed {args.seed}",
              flush=True)
        print(f"output folder: {out}", flush=True)
        trainer = SuperResolutionTrainer(
            model, optimizer, train, val, test_loader=test, scheduler=scheduler,
            scheduler_interval="step", out_dir=out, progress=not args.no_progress,
            config=config, early_stopping_patience=args.patience, monitor="val_psnr",
            mode="max", clip_grad_norm=clip, keep=6 if args.data == "fashion-mnist-mini" else 2)
        trainer.fit(args.epochs)
        return _report(prog, trainer, out, args, t0)
    return run


def _data_tag(data):
    return os.path.basename(os.path.normpath(data)) if os.path.isdir(data) else data


def _report(prog, trainer, out, args, t0):
    """Print the test figures against bicubic and draw ``comparison.png``."""
    best, m = trainer.best_metrics, trainer.test_metrics
    _comparison(trainer.kept, os.path.join(out, "comparison.png"),
                zoom=4 if args.data == "fashion-mnist-mini" else 1)
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val PSNR {best['val_psnr']:.2f} dB, bicubic "
          f"{best['val_bicubic_psnr']:.2f} dB)")
    print(f"test x{args.scale} on {m['n']} images: PSNR {m['psnr']:.2f} dB vs bicubic "
          f"{m['bicubic_psnr']:.2f} dB ({m['psnr'] - m['bicubic_psnr']:+.2f} dB), SSIM "
          f"{m['ssim']:.4f} vs bicubic {m['bicubic_ssim']:.4f}; comparison.png (bicubic | "
          f"model | original), checkpoints, metrics, curves in {out}")
    return 0


for _name, (_arch, _description) in SR_TASKS.items():
    register_task(Task(_name, f"super-resolution: {_description}; PSNR / SSIM vs bicubic",
                       _add_arguments(_name), _run_task(_name)))


# ------------------------------------------------------------ minidl upscale
def load_upscaler(path):
    """``(model, checkpoint)`` rebuilt from a ``minidl train srcnn | vdsr | espcn | srgan``
    checkpoint, in eval mode."""
    ckpt, config = load_task_checkpoint(path, (*SR_TASKS, "srgan"))
    kwargs = dict(config["model"])
    model = get_model(kwargs.pop("arch"), **kwargs)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt


def upscale(model, image, tile=TILE):
    """A PIL image ``model.scale`` times larger: a grey image through the model, a colour
    one on its Y channel (YCbCr, Cb and Cr resized by Pillow's ``BICUBIC``)."""
    s = model.scale
    grey = image.mode in ("1", "L", "LA", "I", "I;16", "F")
    ycbcr = image.convert("L") if grey else image.convert("RGB").convert("YCbCr")
    y = np.asarray(ycbcr if grey else ycbcr.getchannel(0), dtype=np.uint8)
    x = bicubic_upscale(y, s) if model.upsampled_input else y.astype(np.float32) / 255
    with no_grad():
        out = run_tiled(model, from_numpy(np.ascontiguousarray(x[None, None])), tile)
    big = Image.fromarray((np.clip(out.numpy()[0, 0], 0, 1) * 255 + 0.5).astype(np.uint8))
    if grey:
        return big
    size = (image.width * s, image.height * s)
    cb, cr = (ycbcr.getchannel(i).resize(size, Image.BICUBIC) for i in (1, 2))
    return Image.merge("YCbCr", (big, cb, cr)).convert("RGB")


def _upscale_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train srcnn | vdsr | "
                             "espcn | srgan'")
    parser.add_argument("image", metavar="IMAGE", help="the image to upscale (any format "
                                                       "Pillow reads)")
    parser.add_argument("--out", required=True, metavar="PNG", help="where to write the "
                                                                     "upscaled image")
    parser.add_argument("--tile", type=positive_int, default=TILE,
                        help=f"process the image in tiles of this many input pixels (default "
                             f"{TILE}; the result is the same, the memory smaller)")


def _upscale_run(args):
    prog = "minidl upscale"
    missing = report_missing_files(prog, checkpoint=args.checkpoint, image=args.image)
    if missing:
        return missing
    try:
        model, ckpt = load_upscaler(args.checkpoint)
    except (ValueError, KeyError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    try:
        image = Image.open(args.image)
        image.load()
    except OSError as e:
        print(f"{prog}: error: cannot read the image {args.image!r}: {e}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    big = upscale(model, image, args.tile)
    big.save(args.out, format="PNG")
    print(f"{args.image} ({image.width} x {image.height}) -> {args.out} ({big.width} x "
          f"{big.height}), {ckpt['config']['task']} x{model.scale}, "
          f"{time.perf_counter() - t0:.1f}s")
    return 0


register_command(Command(
    "upscale", "upscale an image with a trained super-resolution model",
    _upscale_arguments, _upscale_run,
    description="Rebuild the super-resolution model stored in CHECKPOINT and upscale IMAGE by "
                "its scale into the PNG file --out (grey images directly, colour images on "
                "their Y channel with the colours resized bicubically)."))
