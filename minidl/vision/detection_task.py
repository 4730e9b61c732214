"""Object detection from the command line: ``minidl train yolo|fasterrcnn`` and ``minidl detect``.

    minidl train yolo --data scenes-mnist            # YOLO v1 grid detector
    minidl train fasterrcnn --data scenes-fashion    # two-stage: RPN + RoI-align box head
    minidl detect runs/yolo-scenes-mnist-.../best.safetensors scene.png --out boxes.png

Data: the named scene sets of ``minidl.vision.datasets.open_scenes`` (96 x 96 grey
canvases of 1-4 real glyphs; train / val / test scenes drawn from disjoint glyph pools).
Models follow torchvision's detection interface (``DETECTORS`` names each command's model
builder and tuned defaults): in training mode ``model(images, targets)`` returns a dict of
losses, whose sum is minimised; in eval mode ``model(images)`` returns per image the
``boxes`` (xyxy), ``scores`` and ``labels`` left after thresholding and NMS.

Every epoch the validation scenes are detected: ``val_map50`` (COCO-style 101-point mAP at
IoU 0.5, ``detection_metrics.mean_average_precision``) selects the model and
``--patience`` stops on it; ``val_map`` is mAP@[.5:.95]. The selected weights detect the
test scenes once at the end (mAP@0.5, mAP@[.5:.95], inference images/s) and draw eight of
them into ``detections.png`` (predictions scoring >= 0.1 in colour over the ground truth in
grey);
``sample_scene.png`` is test scene 0 as a plain image to try ``minidl detect`` on.
"""
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..backend import manual_seed
from ..tensor import Tensor
from ..train.arguments import non_negative_float, positive_int
from ..train.callbacks import EarlyStopping
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
from ..utils.data.index_batches import IndexBatches
from . import models
from .datasets import SCENE_DATA, open_scenes
from .detection_metrics import mean_average_precision
from .drawing import draw_bounding_boxes
from .image_files import read_image
from .utils import save_image

__all__ = ["Detector", "DETECTORS", "SceneBatches", "DetectionTrainer", "detect_all",
           "load_detector", "draw_detections"]

COCO_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.96, 0.05), 2))


@dataclass
class Detector:
    """A ``minidl train NAME`` detector: the model builder and the run's defaults."""

    name: str
    arch: str
    description: str
    defaults: dict


DETECTORS = {
    "yolo": Detector(
        "yolo", "yolo_v1_mini", "YOLO v1: one grid pass, B boxes + class scores per cell, "
        "sum-squared YOLO loss, NMS",
        {"epochs": 12, "batch_size": 32, "lr": 1e-3, "optimizer": "adam",
         "weight_decay": 0.0, "momentum": 0.9, "scheduler": "cosine"}),
    "fasterrcnn": Detector(
        "fasterrcnn", "fasterrcnn_mini", "Faster R-CNN: region proposal network on anchors, "
        "RoI align, two-layer box head",
        {"epochs": 6, "batch_size": 8, "lr": 2e-3, "optimizer": "adam",
         "weight_decay": 0.0, "momentum": 0.9, "scheduler": "cosine"}),
}


class SceneBatches(IndexBatches):
    """Batches ``(images (N, C, H, W) Tensor, [target dicts of Tensors], indices)`` of a
    ``Scenes`` set, in a seeded new order every epoch when ``shuffle``."""

    def __init__(self, scenes, batch_size, shuffle=False, seed=0):
        images, targets, _ = scenes.to_arrays()
        super().__init__(len(images), batch_size, shuffle, seed)
        self.images = images
        self.targets = [{k: Tensor(v) for k, v in t.items() if k in ("boxes", "labels")}
                        for t in targets]

    def __iter__(self):
        for idx in self.batch_indices():
            yield Tensor(self.images[idx]), [self.targets[i] for i in idx], idx


def detect_all(model, loader):
    """Eval-mode detections of every scene of ``loader``, in scene order, and the images/s
    of the detection passes."""
    was_training = model.training
    model.eval()
    found, elapsed = {}, 0.0
    try:
        with no_grad():
            for images, _, idx in loader:
                t0 = time.perf_counter()
                out = model(images)
                elapsed += time.perf_counter() - t0
                found.update(zip(idx.tolist(), out))
    finally:
        model.train(was_training)
    return [found[i] for i in range(len(found))], len(found) / max(elapsed, 1e-9)


class DetectionTrainer(Trainer):
    """``Trainer`` of a torchvision-style detector on ``SceneBatches``: the loss is the sum
    of the model's loss dict; evaluation is mAP (no loss: a detector in eval mode returns
    detections, not losses)."""

    unit = "images"

    def training_step(self, batch):
        images, targets, _ = batch
        losses = self.model(images, targets)
        return {"loss": sum(losses.values()), "n": len(targets), "correct": None}

    def evaluate_loader(self, loader):
        found, rate = detect_all(self.model, loader)
        keys = ("boxes", "scores", "labels")
        pred = {k: [d[k] for d in found] for k in keys}
        gt = {k: [t[k] for t in loader.targets] for k in ("boxes", "labels")}
        ap = mean_average_precision(pred["boxes"], pred["scores"], pred["labels"], gt["boxes"],
                                    gt["labels"], iou_thresholds=COCO_THRESHOLDS)
        return {"loss": None, "acc": None, "n": len(found),
                "map50": ap["map_per_threshold"][0.5], "map": ap["map"],
                "images_per_s": rate}


# one bright colour per label (Pillow colour names), readable on the black scenes
LABEL_COLORS = ("lime", "red", "yellow", "cyan", "magenta", "orange", "deepskyblue",
                "springgreen", "violet", "gold", "tomato")


def label_colors(labels):
    return [LABEL_COLORS[int(label) % len(LABEL_COLORS)] for label in labels]


def short_name(name):
    """``'2 - two'`` -> ``'2'``: the label text drawn beside a box."""
    return name.split(" - ")[0]


def draw_detections(images, detections, classes, targets=None, zoom=3, min_score=0.1):
    """(3, H', W') grid of ``images`` (N, C, H, W in [0, 1]) enlarged ``zoom`` times, each with
    its detections scoring at least ``min_score`` (label and score) in colour over its
    ground-truth boxes in grey."""
    tiles = []
    for i, image in enumerate(images):
        big = np.repeat(np.repeat(image.numpy(), zoom, 1), zoom, 2)
        tile = Tensor(np.broadcast_to(big, (3,) + big.shape[1:]).copy())
        if targets is not None and len(targets[i]["boxes"]):
            tile = draw_bounding_boxes(tile, targets[i]["boxes"] * zoom, colors="gray")
        d = detections[i]
        keep = d["scores"].numpy() >= min_score
        if keep.any():
            names = [f"{short_name(classes[int(c)])} {float(s):.2f}" for c, s in
                     zip(d["labels"].numpy()[keep], d["scores"].numpy()[keep])]
            boxes = Tensor(d["boxes"].detach().numpy()[keep] * zoom)
            tile = draw_bounding_boxes(tile, boxes, labels=names, width=2,
                                       colors=label_colors(d["labels"].numpy()[keep]))
        tiles.append(tile)
    from .utils import make_grid
    return make_grid(Tensor(np.stack([t.numpy() for t in tiles])), nrow=4, pad_value=1.0)


# ---------------------------------------------------------- minidl train DETECTOR
def _add_arguments_for(detector):
    d = detector.defaults

    def add(parser):
        add_training_arguments(parser, d)
        parser.add_argument("--data", choices=sorted(SCENE_DATA), default="scenes-mnist",
                            help="the scene set (default scenes-mnist)")
        parser.add_argument("--optimizer", choices=("sgd", "adam", "adamw"),
                            default=d["optimizer"], help=f"optimizer (default {d['optimizer']})")
        parser.add_argument("--momentum", type=non_negative_float, default=d["momentum"],
                            help=f"SGD momentum (default {d['momentum']:g})")
        parser.add_argument("--weight-decay", type=non_negative_float,
                            default=d["weight_decay"],
                            help=f"L2 weight decay (default {d['weight_decay']:g})")
        parser.add_argument("--scheduler", choices=("cosine", "step", "none"),
                            default=d["scheduler"],
                            help=f"learning-rate schedule per epoch (default {d['scheduler']})")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help="train on the first N training scenes only (default all "
                                 "4,000; quick checks)")
        parser.add_argument("--eval-limit", type=positive_int, metavar="N",
                            help="validate and test on the first N scenes of each split "
                                 "(default all 500; quick checks)")
    return add


def _run_for(detector):
    def run(args):
        return _train_detector(detector, args)
    return run


def _train_detector(detector, args):
    from ..train.recipes import build_optimizer, build_scheduler
    prog = f"minidl train {detector.name}"
    t0 = time.perf_counter()
    train_set = open_scenes(args.data, "train", args.limit)
    val_set = open_scenes(args.data, "val", args.eval_limit)
    test_set = open_scenes(args.data, "test", args.eval_limit)
    canvas = list(train_set.canvas)
    model_kwargs = {"num_classes": train_set.num_classes, "in_channels": 1}
    manual_seed(args.seed)
    model = models.get_model(detector.arch, **model_kwargs)
    optimizer = build_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum,
                                args.weight_decay)
    scheduler = build_scheduler(args.scheduler, optimizer, args.epochs)
    train = SceneBatches(train_set, args.batch_size, shuffle=True, seed=args.seed)
    val, test = SceneBatches(val_set, 50), SceneBatches(test_set, 50)
    config = {"task": detector.name, "data": args.data, "arch": detector.arch,
              "model_kwargs": model_kwargs, "classes": train_set.classes,
              "canvas": canvas, "epochs": args.epochs, "batch_size": args.batch_size,
              "lr": args.lr, "optimizer": args.optimizer, "momentum": args.momentum,
              "weight_decay": args.weight_decay, "scheduler": args.scheduler,
              "seed": args.seed, "limit": args.limit, "eval_limit": args.eval_limit,
              "monitor": "val_map50"}
    out = args.out or default_out_dir(detector.name, args.data)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{prog}: data {args.data} ({len(train_set)} / {len(val_set)} / {len(test_set)} "
          f"train / val / test scenes, {canvas[0]} x {canvas[1]}), {detector.arch} "
          f"({n_params} parameters), {args.epochs} epochs, batch {args.batch_size}, "
          f"{args.optimizer} lr {args.lr:g}, {args.scheduler} schedule, seed {args.seed}",
          flush=True)
    print(f"output folder: {out}", flush=True)
    stop = [] if args.patience is None else [EarlyStopping("val_map50", args.patience, "max")]
    trainer = DetectionTrainer(model, optimizer, train_loader=train, val_loader=val,
                               test_loader=test, scheduler=scheduler, callbacks=stop,
                               out_dir=out, progress=not args.no_progress, config=config,
                               monitor="val_map50", mode="max")
    trainer.fit(args.epochs)
    best, tested = trainer.best_metrics, trainer.test_metrics
    model.load_state_dict(trainer.best_state())
    found, _ = detect_all(model, test)
    picture = draw_detections(Tensor(test.images[:8]), found[:8], train_set.classes,
                              test.targets[:8])
    save_image(picture, os.path.join(out, "detections.png"))
    save_image(Tensor(test.images[0]), os.path.join(out, "sample_scene.png"))
    print(f"done in {time.perf_counter() - t0:.1f}s: selected epoch {trainer.best_epoch} of "
          f"{trainer.epoch} (val mAP@0.5 {best['val_map50']:.4f}); test mAP@0.5 "
          f"{tested['map50']:.4f}, mAP@[.5:.95] {tested['map']:.4f}, "
          f"{best['images_per_s']:.0f} training images/s, {tested['images_per_s']:.0f} "
          f"detected images/s; checkpoints, metrics, curves, detections.png in {out}")
    return 0


for _detector in DETECTORS.values():
    register_task(Task(_detector.name, _detector.description + " (scene sets, mAP)",
                       _add_arguments_for(_detector), _run_for(_detector)))


# ------------------------------------------------------------------ minidl detect
def load_detector(path):
    """``(model, config)`` rebuilt from a ``minidl train yolo|fasterrcnn`` checkpoint."""
    ckpt, config = load_task_checkpoint(path, tuple(DETECTORS))
    model = models.get_model(config["arch"], **config["model_kwargs"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), config


def _detect_arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train yolo|fasterrcnn'")
    parser.add_argument("image", metavar="IMAGE", help="an image file (PNG, JPEG...)")
    parser.add_argument("--out", metavar="PNG",
                        help="draw the boxes into this file (default IMAGE-detections.png)")
    parser.add_argument("--min-score", type=non_negative_float, default=0.3,
                        help="draw and list detections scoring at least this (default 0.3)")


def _detect_run(args):
    prog = "minidl detect"
    missing = report_missing_files(prog, checkpoint=args.checkpoint, image=args.image)
    if missing:
        return missing
    try:
        model, config = load_detector(args.checkpoint)
        image, (h, w) = read_image(args.image, config["model_kwargs"]["in_channels"],
                                   config["canvas"])
    except (ValueError, KeyError, RuntimeError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    with no_grad():
        found = model(Tensor(image[None]))[0]
    keep = found["scores"].numpy() >= args.min_score
    scale = np.array([w / config["canvas"][1], h / config["canvas"][0]] * 2, np.float32)
    boxes = found["boxes"].numpy()[keep] * scale
    labels, scores = found["labels"].numpy()[keep], found["scores"].numpy()[keep]
    classes = config["classes"]
    for box, label, score in zip(boxes, labels, scores):
        print(f"{classes[int(label)]:>12} {score:.3f}  box x1 {box[0]:.1f} y1 {box[1]:.1f} "
              f"x2 {box[2]:.1f} y2 {box[3]:.1f}")
    original = Tensor(read_image(args.image, 3)[0])
    names = [f"{short_name(classes[int(c)])} {s:.2f}" for c, s in zip(labels, scores)]
    drawn = original if not len(boxes) else draw_bounding_boxes(
        original, Tensor(boxes), labels=names, width=2, colors=label_colors(labels))
    out = args.out or os.path.splitext(args.image)[0] + "-detections.png"
    save_image(drawn, out)
    print(f"{len(boxes)} detections (score >= {args.min_score:g}) drawn into {out}")
    return 0


register_command(Command(
    "detect", "detect objects in an image with a trained detector and draw the boxes",
    _detect_arguments, _detect_run,
    description="Rebuild the detector stored in CHECKPOINT ('minidl train yolo|fasterrcnn'), "
                "detect the objects of IMAGE (converted to the model's channels and resized "
                "to its training canvas), list them and draw their boxes and labels."))
