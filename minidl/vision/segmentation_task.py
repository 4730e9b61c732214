"""Semantic segmentation of the glyph scenes from the command line: ``minidl train fcn``,
``minidl train unet`` and ``minidl segment``.

    minidl train fcn --data scenes-mnist            # FCN-8s (fcn8s_mini)
    minidl train unet --data scenes-fashion --epochs 10 --base-channels 16
    minidl segment runs/unet-scenes-mnist-.../best.safetensors photo.png --out mask.png

Data: ``open_scenes`` (``scenes-mnist`` / ``scenes-fashion``: 4000 / 500 / 500 train /
val / test scenes of 96 x 96 grey pixels in [0, 1]); the target of a scene is its
``segmentation`` class map (0 background, 1..10 the glyph classes, 11 classes in all).

Model: ``fcn``: ``FCN8s`` with stages ``b, 2b, 4b, 8b, 8b`` and fc6 / fc7 of ``16b``
channels (``--base-channels`` b); ``unet``: ``UNet(1, 11, b, --depth, --bilinear)``.
Training: per-pixel cross-entropy (mean over the pixels of a batch), Adam with a cosine
decay per step. Every epoch the validation split is segmented: ``val_miou`` (mean IoU over
the classes present in the truth or the prediction, ``segmentation_metrics``) selects the
model, ``val_pixel_acc`` is logged, ``--patience`` stops on the validation loss. The test
split is segmented once at the end with the selected weights (mean IoU, pixel accuracy,
IoU per class) and ``masks.png`` shows test scenes with the true and the predicted masks.

``minidl segment`` rebuilds a checkpoint's model, reads any image (converted to grey for a
one-channel model, zero-padded to a multiple of the model's stride, cropped back after),
and writes the image with the predicted masks drawn over it.
"""
import os
import sys
import time

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..backend import Generator, manual_seed
from ..tensor import Tensor
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
from ..utils.data import DataLoader, TensorDataset
from . import models
from .datasets import SCENE_DATA, open_scenes
from .image_files import read_image
from .segmentation_metrics import ConfusionMatrix
from .utils import draw_segmentation_masks

__all__ = ["SegmentationTrainer", "DEFAULTS", "ARCHS", "load_segmenter", "predict", "segment_image",
           "median_frequency_weights", "overlay"]

# the registered model builder each task trains
ARCHS = {"fcn": "fcn8s_mini", "unet": "unet_mini"}
# defaults per task (see the README): FCN-8s 8 epochs are about 10.5 min of one core (validation
# mean IoU 58.5 %, against 52.6 % after 6); U-Net's lr 1e-2 because at 2e-3 its scores stayed
# near uniform for ~40 steps. U-Net validation mean IoU: depth 3, 6 epochs 22.8 %; widths x2
# 23.9 %; depth 3 + median-frequency weights 10.2 %; depth 4 unweighted kept predicting
# background; depth 4 + median-frequency 25.2 % at 6 epochs, 38.8 % at 12 (the default)
DEFAULTS = {"fcn": {"epochs": 8, "batch_size": 32, "lr": 2e-3, "base_channels": 16,
                    "class_weight": "none"},
            "unet": {"epochs": 12, "batch_size": 32, "lr": 1e-2, "base_channels": 8,
                     "depth": 4, "class_weight": "median-frequency"}}
CLASS_WEIGHTS = ("none", "median-frequency")
EVAL_BATCH_SIZE = 100
SCENE_SIDE, MAX_DEPTH = 96, 5  # 96 = 3 * 2 ** 5
NUM_SHOWN = 8  # test scenes drawn into masks.png
# one colour per glyph class 1..10 (matplotlib's tab10, its grey -- invisible on grey glyphs
# -- made yellow); the background is not drawn
COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (255, 230, 0), (188, 189, 34), (23, 190, 207)]
ALPHA = 0.6


class SegmentationTrainer(Trainer):
    """``Trainer`` for per-pixel class scores (N, C, H, W) against class maps (N, H, W):
    evaluation adds ``miou`` and ``pixel_acc`` (and, on the test loader, ``iou`` per class
    name, None where a class is in neither truth nor prediction). ``class_weight``: one loss
    weight per class (``nn.CrossEntropyLoss(weight=)``), e.g. ``median_frequency_weights``."""

    unit = "images"

    def __init__(self, model, optimizer, classes, train_loader=None, val_loader=None,
                 class_weight=None, **kw):
        weight = None if class_weight is None else Tensor(np.asarray(class_weight, np.float32))
        super().__init__(model, optimizer, nn.CrossEntropyLoss(weight=weight), train_loader,
                         val_loader, **kw)
        self.classes = list(classes)

    def training_step(self, batch):
        x, y = batch
        return {"loss": self.loss_fn(self.model(x), y), "n": len(y), "correct": None}

    def evaluate_loader(self, loader):
        was_training = self.model.training
        self.model.eval()
        cm = ConfusionMatrix(len(self.classes))
        total, n = 0.0, 0
        try:
            with no_grad():
                for x, y in loader:
                    scores = self.model(x)
                    total += float(self.loss_fn(scores, y).item()) * len(y)
                    n += len(y)
                    cm.update(scores.argmax(1), y)
        finally:
            self.model.train(was_training)
        result = cm.compute()
        out = {"loss": total / n, "acc": None, "n": n, "miou": result["miou"],
               "pixel_acc": result["pixel_acc"]}
        if loader is self.test_loader:
            out["iou"] = {name: None if np.isnan(v) else float(v)
                          for name, v in zip(self.classes, result["iou"])}
        return out


def _loader(images, maps, batch_size, seed=None):
    data = TensorDataset(Tensor(images), Tensor(maps))
    if seed is None:
        return DataLoader(data, batch_size=batch_size)
    return DataLoader(data, batch_size=batch_size, shuffle=True,
                      generator=Generator().manual_seed(seed))


def overlay(image, classes_map, alpha=ALPHA):
    """An RGB uint8 image (3, H, W) of ``image`` (C, H, W) floats in [0, 1] with the class
    map's glyph classes (1..10) drawn over it in ``COLORS``."""
    a = np.clip(np.asarray(image, np.float32), 0, 1)
    rgb = np.repeat(a, 3, 0) if a.shape[0] == 1 else a[:3]
    rgb = Tensor((rgb * 255 + 0.5).astype(np.uint8))
    masks = np.stack([classes_map == k for k in range(1, len(COLORS) + 1)])
    return draw_segmentation_masks(rgb, Tensor(masks), alpha=alpha, colors=COLORS).numpy()


def _draw_masks(images, truth, predicted, classes, path):
    """``masks.png``: each test scene with its true masks, then its predicted masks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    n, per_row = len(images), 4
    rows = -(-n // (per_row // 2))
    fig = Figure(figsize=(2.2 * per_row, 2.3 * rows + 0.6), dpi=100)
    FigureCanvasAgg(fig)
    for i in range(n):
        for j, (maps, title) in enumerate(((truth, "truth"), (predicted, "predicted"))):
            ax = fig.add_subplot(rows, per_row, 2 * i + j + 1)
            ax.imshow(overlay(images[i], maps[i]).transpose(1, 2, 0))
            ax.set_title(f"test {i}: {title}", fontsize=8)
            ax.axis("off")
    fig.legend(handles=[Patch(color=np.array(c) / 255, label=name)
                        for c, name in zip(COLORS, classes[1:])],
               loc="lower center", ncol=5, fontsize=7, frameon=False)
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.25 / fig.get_figheight(),
                        bottom=0.5 / fig.get_figheight(), wspace=0.05, hspace=0.15)
    fig.savefig(path)


def median_frequency_weights(maps, num_classes):
    """Median frequency balancing (Eigen & Fergus 2015): ``w_c = median(f) / f_c``, where
    ``f_c`` is class c's share of the pixels of the maps (N, H, W) that contain c. A class in
    no map gets weight 0."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"median_frequency_weights: maps must be (N, H, W), got shape "
                         f"{maps.shape}")
    if maps.dtype.kind not in "iu":
        raise TypeError(f"median_frequency_weights: maps must hold integer class indices, got "
                        f"dtype {maps.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"median_frequency_weights: num_classes must be a positive integer, "
                         f"got {num_classes!r}")
    if maps.size and (maps.min() < 0 or maps.max() >= num_classes):
        raise ValueError(f"median_frequency_weights: class indices must lie in [0, "
                         f"{num_classes}), got {maps.min()}..{maps.max()}")
    flat = maps.reshape(len(maps), -1)
    counts = np.stack([np.bincount(m, minlength=num_classes) for m in flat])
    present = counts > 0
    totals = (present * flat.shape[1]).sum(0)
    freq = np.divide(counts.sum(0), totals, out=np.zeros(num_classes), where=totals > 0)
    median = np.median(freq[freq > 0])
    return np.divide(median, freq, out=np.zeros(num_classes), where=freq > 0)


def _build_model(task, args):
    kwargs = {"in_channels": 1, "num_classes": 11, "base_channels": args.base_channels}
    if task == "unet":
        kwargs.update(depth=args.depth, bilinear=args.bilinear)
    else:
        b = kwargs.pop("base_channels")
        kwargs.update(widths=[b, 2 * b, 4 * b, 8 * b, 8 * b], head_channels=16 * b)
    return ARCHS[task], kwargs


# ------------------------------------------------------------ minidl train fcn / unet
def _arguments(task):
    def add(parser):
        d = DEFAULTS[task]
        add_training_arguments(parser, d)
        parser.add_argument("--data", choices=sorted(SCENE_DATA), default="scenes-mnist",
                            help="the scene set (default scenes-mnist)")
        parser.add_argument("--base-channels", type=positive_int, default=d["base_channels"],
                            help=f"width of the first stage (default {d['base_channels']})")
        if task == "unet":
            parser.add_argument("--depth", type=positive_int, default=d["depth"],
                                help=f"down / up-sampling steps (default {d['depth']}; the "
                                     f"scenes' {SCENE_SIDE} pixels allow up to {MAX_DEPTH})")
            parser.add_argument("--bilinear", action="store_true",
                                help="up-sample by bilinear interpolation and a 1x1 "
                                     "convolution instead of transposed convolutions")
        parser.add_argument("--class-weight", choices=CLASS_WEIGHTS, default=d["class_weight"],
                            help="per-class loss weights: none, or median-frequency balancing "
                                 f"of the training maps (default {d['class_weight']})")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="train on the first N training scenes only (quick checks)")
        parser.add_argument("--eval-limit", type=positive_int, metavar="N",
                            help="validate and test on the first N scenes of those splits "
                                 "only (quick checks; default: all 500)")
    return add


def _run_task(task):
    def run(args):
        prog = f"minidl train {task}"
        t0 = time.perf_counter()
        if task == "unet" and SCENE_SIDE % 2 ** args.depth:
            print(f"{prog}: error: --depth {args.depth} halves the scenes' {SCENE_SIDE} pixels "
                  f"too often (at most {MAX_DEPTH})", file=sys.stderr)
            return 1
        arch, model_kwargs = _build_model(task, args)
        splits = {}
        for split, n in (("train", args.limit), ("val", args.eval_limit),
                         ("test", args.eval_limit)):
            scenes = open_scenes(args.data, split, n)
            images, _, maps = scenes.to_arrays()
            splits[split] = (images, maps)
        classes = scenes.classes
        class_weight = (median_frequency_weights(splits["train"][1], len(classes))
                        if args.class_weight == "median-frequency" else None)
        manual_seed(args.seed)
        try:
            model = models.get_model(arch, **model_kwargs)
        except ValueError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
        train = _loader(*splits["train"], args.batch_size, seed=args.seed)
        val = _loader(*splits["val"], EVAL_BATCH_SIZE)
        test = _loader(*splits["test"], EVAL_BATCH_SIZE)
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                         T_max=args.epochs * len(train))
        config = {"task": task, "data": args.data, "arch": arch, "model": model_kwargs,
                  "classes": classes, "epochs": args.epochs, "batch_size": args.batch_size,
                  "lr": args.lr, "optimizer": "adam", "scheduler": "cosine per step",
                  "loss": "per-pixel cross-entropy", "class_weight": args.class_weight,
                  "seed": args.seed, "limit": args.limit,
                  "eval_limit": args.eval_limit, "monitor": "val_miou"}
        out = args.out or default_out_dir(task, args.data)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{prog}: data {args.data} ({len(splits['train'][0])} / {len(splits['val'][0])}"
              f" / {len(splits['test'][0])} train / val / test scenes, {len(classes)} classes),"
              f" {arch} {model_kwargs}, {n_params} parameters, {args.epochs} epochs, batch "
              f"{args.batch_size}, adam lr {args.lr:g}, seed {args.seed}", flush=True)
        print(f"output folder: {out}", flush=True)
        trainer = SegmentationTrainer(
            model, optimizer, classes, train, val, test_loader=test, class_weight=class_weight,
            scheduler=scheduler,
            scheduler_interval="step", out_dir=out, progress=not args.no_progress,
            config=config, early_stopping_patience=args.patience, monitor="val_miou",
            mode="max")
        trainer.fit(args.epochs)
        best, test_m = trainer.best_metrics, trainer.test_metrics
        model.load_state_dict(trainer.best_state())
        images, maps = splits["test"][0][:NUM_SHOWN], splits["test"][1][:NUM_SHOWN]
        predicted = predict(model, images)
        _draw_masks(images, maps, predicted, classes, os.path.join(out, "masks.png"))
        rate = np.mean([row["images_per_s"] for row in trainer.history])
        ious = ", ".join(f"{name} {100 * v:.1f}" for name, v in test_m["iou"].items()
                         if v is not None)
        print(f"test IoU per class (%): {ious}")
        print(f"done in {time.perf_counter() - t0:.1f}s ({rate:.1f} training images/s): "
              f"selected epoch {trainer.best_epoch} of {trainer.epoch} (val mean IoU "
              f"{100 * best['val_miou']:.2f}%, pixel accuracy "
              f"{100 * best['val_pixel_acc']:.2f}%); test: mean IoU "
              f"{100 * test_m['miou']:.2f}%, pixel accuracy {100 * test_m['pixel_acc']:.2f}%,"
              f" loss {test_m['loss']:.4f}; checkpoints, metrics, curves, masks.png in {out}")
        return 0
    return run


register_task(Task("fcn", "semantic segmentation of the glyph scenes with FCN-8s (learned "
                          "bilinear-initialised up-sampling, pool3 / pool4 skips), mean IoU",
                   _arguments("fcn"), _run_task("fcn")))
register_task(Task("unet", "semantic segmentation of the glyph scenes with U-Net, mean IoU",
                   _arguments("unet"), _run_task("unet")))


# ------------------------------------------------------------ minidl segment
def load_segmenter(path):
    """``(model, config)`` rebuilt from a ``minidl train fcn`` / ``unet`` checkpoint."""
    ckpt, config = load_task_checkpoint(path, tuple(ARCHS))
    model = models.get_model(config["arch"], **config["model"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), config


def predict(model, images, batch_size=EVAL_BATCH_SIZE):
    """(N, H, W) int64 class maps of float images (N, C, H, W), H and W any size: each
    batch is zero-padded at the bottom / right to a multiple of ``model.output_stride``
    and the scores cropped back."""
    images = np.asarray(images, np.float32)
    h, w = images.shape[-2:]
    stride = model.output_stride
    pad = ((0, 0), (0, 0), (0, -h % stride), (0, -w % stride))
    was_training = model.training
    model.eval()
    maps = []
    try:
        with no_grad():
            for i in range(0, len(images), batch_size):
                x = Tensor(np.pad(images[i:i + batch_size], pad))
                maps.append(model(x).argmax(1).numpy()[:, :h, :w])
    finally:
        model.train(was_training)
    return np.concatenate(maps).astype(np.int64)


def segment_image(model, path, channels):
    """``(image (C, H, W) float32 in [0, 1], class map (H, W))`` of the image file
    ``path``, read as grey (``channels`` 1) or RGB (3)."""
    image, _ = read_image(path, channels)
    return image, predict(model, image[None])[0]


def _segment_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train fcn' or 'unet'")
    parser.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG...)")
    parser.add_argument("--out", required=True, metavar="PNG",
                        help="where to write the image with the predicted masks drawn over it")


def _segment_run(args):
    prog = "minidl segment"
    missing = report_missing_files(prog, checkpoint=args.checkpoint, image=args.image)
    if missing:
        return missing
    try:
        model, config = load_segmenter(args.checkpoint)
        image, classes_map = segment_image(model, args.image, config["model"]["in_channels"])
    except (ValueError, KeyError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    from PIL import Image
    Image.fromarray(overlay(image, classes_map).transpose(1, 2, 0)).save(args.out,
                                                                         format="PNG")
    counts = np.bincount(classes_map.ravel(), minlength=len(config["classes"]))
    found = ", ".join(f"{config['classes'][k]} ({counts[k]} px)"
                      for k in np.argsort(-counts) if k > 0 and counts[k] > 0)
    print(f"{args.image}: {image.shape[2]} x {image.shape[1]} pixels, "
          f"{found or 'background only'}; wrote {args.out}")
    return 0


register_command(Command(
    "segment", "draw a segmentation model's predicted masks over an image",
    _segment_arguments, _segment_run,
    description="Rebuild the model stored in CHECKPOINT (minidl train fcn / unet), segment "
                "IMAGE (converted to the model's channels) and write it with the predicted "
                "class masks drawn over it to --out."))
