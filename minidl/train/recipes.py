"""Task recipes: everything ``minidl train MODEL`` needs to train a model on real data.

A ``Recipe`` names a registered model builder (``minidl.vision.models``), how to size it for
the data (classes, channels), and the default hyper-parameters. ``register_recipe`` adds one;
the command line lists whatever is registered. Image classification data is a bundled set
by name (``mnist-mini``, ``fashion-mnist-mini``) or a folder holding MNIST-format IDX files.

Protocol: a seeded, stratified ``val_fraction`` of the training split (or the training
split of another data set, ``val_data``) is held out for validation; model selection and
early stopping read it, and the test split is evaluated once, with the selected weights,
after the last epoch (see ``Trainer``).

Fast data path: a whole split is converted once into one float32 tensor N x 1 x H x W,
scaled to [0, 1] and normalized with the training samples' mean and standard deviation;
the ``DataLoader`` over a ``TensorDataset`` (or a ``Subset`` of it) then builds each batch
with one fancy index. Augmentation (``augment``: ``crop``, ``flip``, ``crop+flip``,
``none`` or ``auto``) works on whole batches (``transforms.batch``): per sample it is
``RandomCrop(size, padding=2)`` and ``RandomHorizontalFlip()``, but done with one strided
gather per batch, never a per-image PIL call. It wraps the training loader only, so the
validation samples, although drawn from the training split, are seen as they are.

Every CNN of the zoo (``minidl.vision.models``) has a recipe under its builder's name;
for images of at most 64 x 64 pixels it builds the ``small_input=True`` variant with the
data's channels and classes (see the table in ``minidl.vision.models``). The Transformers
train as ``vit`` (``vit_mini``) and ``swin`` (``swin_mini``), sized for 28 x 28 images.
"""
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..backend import Generator, manual_seed
from ..tensor import Tensor
from ..utils.data import DataLoader, Subset, TensorDataset
from ..vision import datasets, models, transforms
from ..vision.transforms import batch as batch_transforms
from .optimization import (
    OPTIMIZERS,
    SCHEDULERS,
    build_optimizer,
    build_scheduler,
    check_schedule_options,
)
from .splits import stratified_split, training_dev_split
from .trainer import Trainer, evaluate, load_checkpoint

__all__ = ["Recipe", "RECIPES", "register_recipe", "get_recipe", "open_image_data",
           "prepare_image_data", "build_optimizer", "build_scheduler", "train_classifier",
           "evaluate_checkpoint", "load_classifier", "OPTIMIZERS", "SCHEDULERS",
           "AUGMENTATIONS", "build_augment", "resolve_augment", "check_schedule_options"]


@dataclass
class Recipe:
    """How to train one model: builder name, sizing from the data, default hyper-parameters."""

    name: str
    arch: str
    description: str
    model_kwargs: callable
    defaults: dict = field(default_factory=dict)


RECIPES = {}

COMMON_DEFAULTS = {"epochs": 10, "batch_size": 64, "lr": 1e-3, "optimizer": "adam",
                   "momentum": 0.9, "weight_decay": 0.0, "scheduler": "cosine", "seed": 0,
                   "augment": "none", "eval_batch_size": 1000, "val_fraction": 0.1,
                   "val_data": None, "accumulate": 1, "clip_grad_norm": None,
                   "clip_grad_value": None, "label_smoothing": 0.0, "warmup": 0, "decay": None,
                   "decay_step": None, "training_dev": 0}


def register_recipe(recipe):
    """Make ``recipe`` available to ``train_classifier`` and ``minidl train``."""
    if recipe.name in RECIPES:
        raise ValueError(f"a recipe named {recipe.name!r} is already registered")
    models.get_model_builder(recipe.arch)  # fails clearly if the model is unknown
    RECIPES[recipe.name] = recipe
    return recipe


def find_recipe(name):
    """The recipe named ``name``, or the one training the model builder ``name``; or None."""
    if name in RECIPES:
        return RECIPES[name]
    return next((r for r in RECIPES.values() if r.arch == name), None)


def get_recipe(name):
    recipe = find_recipe(name)
    if recipe is None:
        raise ValueError(f"unknown model {name!r}; available models: "
                         f"{', '.join(sorted(RECIPES))}")
    return recipe


register_recipe(Recipe(
    "lenet", "lenet5", "LeNet-5: conv 6@5x5 - pool - conv 16@5x5 - pool - fc 120 - 84 - classes",
    lambda info: {"num_classes": info["num_classes"], "in_channels": info["in_channels"]},
    # weight decay 5e-4 chosen on the validation split of fashion-mnist-mini (val 87.9 %;
    # without 86.7 %, 30 epochs 87.5 %, lr 1e-3 87.2 %, crop 86.8 %); mnist-mini: 98.1 % both
    {"epochs": 20, "batch_size": 64, "lr": 2e-3, "optimizer": "adam", "scheduler": "cosine",
     "weight_decay": 5e-4}))
register_recipe(Recipe(
    "mlp", "mlp", "MLP: flatten - 256 - 256 - classes (ReLU)",
    lambda info: {"in_features": info["in_features"], "hidden": [256, 256],
                  "num_classes": info["num_classes"]},
    {"epochs": 10, "batch_size": 128, "lr": 1e-3, "optimizer": "adam", "scheduler": "cosine"}))


# ------------------------------------------------------------------- the zoo
SMALL_IMAGE = 64  # images up to this many pixels a side get the small_input=True variants


def _zoo_kwargs(**extra):
    def kwargs(info):
        return {"num_classes": info["num_classes"], "in_channels": info["in_channels"],
                "small_input": max(info["image_size"]) <= SMALL_IMAGE, **extra}
    return kwargs


# Learning rates: Adam 1e-3 with batch norm; the nets without it stall at chance level for
# hundreds of steps at 1e-3 (NiN, VGG) and learn steadily at 1e-4 (AlexNet: 5e-4 is best).
_CNN = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "optimizer": "adam",
        "scheduler": "cosine", "augment": "auto", "eval_batch_size": 250}
_PLAIN = {**_CNN, "lr": 1e-4}

for _name, _doc, _defaults, _extra in [
    ("alexnet", "AlexNet: 5 conv (64-192-384-256-256), 3 max-pools, 3 fc", {**_CNN, "lr": 5e-4},
     {}),
    ("vgg11", "VGG-11: 8 conv 3x3 in 5 stages (64-512), 3 fc", _PLAIN, {}),
    ("vgg11_bn", "VGG-11 with batch norm", _CNN, {}),
    ("vgg13", "VGG-13: 10 conv 3x3 in 5 stages", _PLAIN, {}),
    ("vgg13_bn", "VGG-13 with batch norm", _CNN, {}),
    ("vgg16", "VGG-16: 13 conv 3x3 in 5 stages", _PLAIN, {}),
    ("vgg16_bn", "VGG-16 with batch norm", _CNN, {}),
    ("vgg19", "VGG-19: 16 conv 3x3 in 5 stages", _PLAIN, {}),
    ("vgg19_bn", "VGG-19 with batch norm", _CNN, {}),
    ("googlenet", "GoogLeNet (Inception v1): 9 Inception blocks, no aux heads", _CNN,
     {"aux_logits": False}),
    # 20 epochs at batch 64: 91.25 % on fashion-mnist-mini (15 at batch 128: 90.9 %)
    ("resnet18", "ResNet-18: basic residual blocks 2-2-2-2 (64-512)",
     {**_CNN, "epochs": 20, "batch_size": 64}, {}),
    ("resnet34", "ResNet-34: basic residual blocks 3-4-6-3", _CNN, {}),
    ("resnet50", "ResNet-50: bottleneck blocks 3-4-6-3 (256-2048)", _CNN, {}),
    ("resnet101", "ResNet-101: bottleneck blocks 3-4-23-3", _CNN, {}),
    ("resnet152", "ResNet-152: bottleneck blocks 3-8-36-3", _CNN, {}),
    ("resnext50_32x4d", "ResNeXt-50 32x4d: grouped bottleneck blocks", _CNN, {}),
    ("wide_resnet50_2", "Wide ResNet-50-2: bottlenecks twice as wide", _CNN, {}),
    ("densenet121", "DenseNet-121: dense blocks 6-12-24-16, growth 32", _CNN, {}),
    ("densenet161", "DenseNet-161: dense blocks 6-12-36-24, growth 48", _CNN, {}),
    ("densenet169", "DenseNet-169: dense blocks 6-12-32-32, growth 32", _CNN, {}),
    ("densenet201", "DenseNet-201: dense blocks 6-12-48-32, growth 32", _CNN, {}),
    ("mobilenet_v2", "MobileNetV2: inverted residuals, depthwise 3x3, ReLU6", _CNN, {}),
    ("nin", "Network in Network: 4 mlpconv blocks, global average pooling", _PLAIN, {}),
]:
    register_recipe(Recipe(_name, _name, _doc, _zoo_kwargs(**_extra), dict(_defaults)))


# ------------------------------------------------- vision transformers: ViT, Swin
def _square_image_size(info):
    h, w = info["image_size"]
    if h != w:
        raise ValueError(f"the Vision Transformer takes square images; these are {h} x {w}")
    return h


# batch 64 chosen on mnist-mini's validation split: 96.1 % after 20 epochs (batch 128: 93.3 %)
_TRANSFORMER = {"epochs": 20, "batch_size": 64, "lr": 1e-3, "optimizer": "adamw",
                "weight_decay": 0.05, "scheduler": "cosine", "augment": "auto",
                "eval_batch_size": 500}
register_recipe(Recipe(
    "vit", "vit_mini", "Vision Transformer: 4x4 patches as words, class token, 6 pre-LN "
    "layers (hidden 64, 4 heads)",
    lambda info: {"num_classes": info["num_classes"], "in_channels": info["in_channels"],
                  "image_size": _square_image_size(info)},
    dict(_TRANSFORMER)))
register_recipe(Recipe(
    "swin", "swin_mini", "Swin Transformer: 2x2 patches, 7x7 windows (shifted every second "
    "block), 2 stages (48, 96) joined by patch merging",
    lambda info: {"num_classes": info["num_classes"], "in_channels": info["in_channels"]},
    dict(_TRANSFORMER)))


# --------------------------------------------------------------------------- data
def open_image_data(data, train=True):
    """The data set named by ``data``: a bundled name or a folder of MNIST-format IDX files.

    A folder may hold the files directly or in torchvision's layout (``MNIST/raw/``,
    ``FashionMNIST/raw/``).
    """
    if data in datasets.BUNDLED:
        return datasets.Bundled(data, train=train)
    if os.path.isdir(data):
        for cls in (datasets.MNIST, datasets.FashionMNIST):
            if os.path.isdir(os.path.join(data, cls.__name__, "raw")):
                return cls(data, train=train)
        cls = datasets.FashionMNIST if "fashion" in os.path.basename(
            os.path.normpath(data)).lower() else datasets.MNIST
        return cls.from_folder(data, train=train)
    raise ValueError(f"data must be one of {', '.join(sorted(datasets.BUNDLED))} or a folder "
                     f"holding MNIST-format IDX files; {data!r} is neither")


def prepare_image_data(data, limit=None, seed=0, normalize=None, val_fraction=0.1,
                       val_data=None, training_dev=0):
    """Training, validation and test sets of normalized image tensors.

    Validation: the training split of ``val_data`` when it is given; otherwise a seeded,
    stratified ``val_fraction`` of ``data``'s training split (``stratified_split``), or none
    when ``val_fraction`` is 0. ``training_dev`` > 0 then holds out that share of every
    class of the remaining training samples (seed + 1, ``training_dev_split``): the course's
    training-dev set, from the training distribution but never trained on; its indices into
    ``train.dataset`` are ``info['training_dev_indices']``. ``limit`` then keeps that many of
    the remaining training samples (a seeded random choice). ``normalize`` is ``(mean,
    std)``; by default they are computed from the training samples kept (never the
    validation or test ones). Returns
    ``(train, val, test, info)``: datasets of ``(image, target)`` (``val`` is None without
    validation); ``info`` holds ``classes``, ``num_classes``, ``in_channels``,
    ``in_features``, ``image_size``, ``mean``, ``std``, ``train_size``, ``val_size``.
    """
    if val_data is not None and os.path.normpath(str(val_data)) == os.path.normpath(str(data)):
        raise ValueError(f"the validation data {val_data} is the training data itself; name "
                         f"another data set, or hold out a share with val_fraction")
    train_set, test_set = open_image_data(data, True), open_image_data(data, False)
    x, y = (t.numpy() for t in train_set.to_tensors())
    train_idx, val_idx = np.arange(len(y)), None
    if val_data is None and val_fraction:
        train_idx, val_idx = stratified_split(y, val_fraction, seed)
    training_dev_idx = np.zeros(0, dtype=np.int64)
    if training_dev:
        train_idx, training_dev_idx = training_dev_split(y, training_dev, seed + 1,
                                                         indices=train_idx)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be a positive number of samples, got {limit}")
        train_idx = np.sort(np.random.default_rng(seed).permutation(train_idx)[:limit])
    if normalize is None:
        used = x[train_idx]
        normalize = (round(float(used.mean(dtype=np.float64)), 4),
                     round(float(used.std(dtype=np.float64)), 4))
        del used
    mean, std = (float(v) for v in normalize)
    x -= np.float32(mean)
    x /= np.float32(std)
    full = TensorDataset(Tensor(x), Tensor(y))
    train = Subset(full, train_idx)
    val = None if val_idx is None else Subset(full, val_idx)
    if val_data is not None:
        val = _separate_validation(val_data, len(train_set.classes), x.shape[1:], mean,
                                   std)
    test = TensorDataset(*test_set.to_tensors(mean, std))
    c, h, w = x.shape[1:]
    info = {"classes": list(train_set.classes), "num_classes": len(train_set.classes),
            "in_channels": c, "in_features": c * h * w, "image_size": [h, w],
            "mean": mean, "std": std, "train_size": len(train),
            "val_size": 0 if val is None else len(val),
            "training_dev_indices": training_dev_idx.tolist()}
    return train, val, test, info


def _separate_validation(val_data, num_classes, image_shape, mean, std):
    """The training split of ``val_data``, normalized like the training data, as validation."""
    other = open_image_data(val_data, True)
    xv, yv = other.to_tensors(mean, std)
    if len(other.classes) != num_classes or tuple(xv.shape[1:]) != tuple(image_shape):
        raise ValueError(f"validation data {val_data} ({len(other.classes)} classes, images "
                         f"{' x '.join(map(str, xv.shape[1:]))}) does not match the training "
                         f"data ({num_classes} classes, images "
                         f"{' x '.join(map(str, image_shape))})")
    return TensorDataset(xv, yv)


# ------------------------------------------------------------------ augmentation
AUGMENTATIONS = ("auto", "none", "crop", "flip", "crop+flip")


def resolve_augment(augment, data):
    """``auto`` -> ``crop+flip`` for Fashion-MNIST (clothes mirror well), ``crop`` for
    anything else (a mirrored digit is another symbol); other values are returned as they
    are after checking them."""
    if augment in (None, "auto"):
        return "crop+flip" if "fashion" in os.path.basename(os.path.normpath(str(data))).lower() \
            else "crop"
    if augment not in AUGMENTATIONS:
        raise ValueError(f"unknown augment {augment!r}; choose one of {', '.join(AUGMENTATIONS)}")
    return augment


def build_augment(augment, image_size, fill=0.0, seed=0):
    """The batch transform for ``augment`` (``crop``, ``flip``, ``crop+flip``), or None.

    Per-sample random crops of ``image_size`` from the image padded by 2 pixels of ``fill``
    and left-right flips, drawn independently for every sample of a batch without a loop
    (``transforms.batch``), from a generator seeded with ``seed``.
    """
    if augment in (None, "none"):
        return None
    g = Generator().manual_seed(seed)
    steps = []
    if "crop" in augment:
        steps.append(batch_transforms.RandomCrop(tuple(image_size), padding=2, fill=fill,
                                                 generator=g))
    if "flip" in augment:
        steps.append(batch_transforms.RandomHorizontalFlip(generator=g))
    return transforms.Compose(steps)


class _AugmentedLoader:
    """Iterates ``loader`` and augments each input batch (targets untouched)."""

    def __init__(self, loader, augment):
        self.loader, self.augment = loader, augment

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield self.augment(x), y


# ------------------------------------------------------------------- training
def resolve_config(model, **overrides):
    """The full run configuration: common defaults < the recipe's defaults < ``overrides``."""
    recipe = get_recipe(model)
    config = {**COMMON_DEFAULTS, **recipe.defaults, "model": model, "arch": recipe.arch,
              "data": "mnist-mini", "limit": None}
    config.update({k: v for k, v in overrides.items() if v is not None})
    if config["val_data"] is not None:
        config["val_fraction"] = None  # validation comes from val_data, none is carved
    return config


def train_classifier(config, out_dir=None, progress=True, callbacks=None, resume=None,
                     resume_hint=None):
    """Train ``config['model']`` on ``config['data']``, select on validation, test once.

    ``config`` comes from ``resolve_config`` (``accumulate``, ``clip_grad_norm``,
    ``clip_grad_value`` go to the ``Trainer``; ``label_smoothing`` to its
    ``CrossEntropyLoss``). Writes checkpoints, logs and curves into ``out_dir`` (when
    given). ``resume``: the ``last.safetensors`` of an interrupted run of this ``config``,
    continued exactly (``Trainer.resume``); ``resume_hint`` is what an interrupted run
    prints as the way to resume it. Returns a summary dict: ``best_epoch`` (the selected epoch:
    best validation accuracy, or the last one without validation), ``epochs`` (run),
    ``val_acc`` / ``val_loss`` (of the selected epoch; None without validation),
    ``test_acc`` / ``test_loss`` (of the selected weights), ``time_s``, ``out_dir``,
    ``history``, ``config``.
    """
    t0 = time.perf_counter()
    recipe = get_recipe(config["model"])
    seed = int(config["seed"])
    manual_seed(seed)
    train, val, test, info = prepare_image_data(
        config["data"], config.get("limit"), seed, val_fraction=config.get("val_fraction") or 0,
        val_data=config.get("val_data"), training_dev=config.get("training_dev") or 0)
    augment = resolve_augment(config.get("augment", "none"), config["data"])
    config = {**config, "normalize": [info["mean"], info["std"]], "classes": info["classes"],
              "model_kwargs": recipe.model_kwargs(info), "augment": augment,
              "train_size": info["train_size"], "val_size": info["val_size"],
              "training_dev_size": len(info["training_dev_indices"])}
    model = models.get_model(recipe.arch, **config["model_kwargs"])
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                config["momentum"], config["weight_decay"])
    scheduler = build_scheduler(config["scheduler"], optimizer, config["epochs"],
                                config.get("warmup", 0), config.get("decay"),
                                config.get("decay_step"))
    loader = DataLoader(train, batch_size=config["batch_size"], shuffle=True,
                        generator=Generator().manual_seed(seed))
    # crops pad with the value a black pixel has after normalization
    batch_augment = build_augment(augment, info["image_size"], -info["mean"] / info["std"], seed)
    if batch_augment is not None:
        loader = _AugmentedLoader(loader, batch_augment)
    eval_batch = int(config.get("eval_batch_size") or 1000)
    from ..nn import CrossEntropyLoss
    trainer = Trainer(model, optimizer, train_loader=loader,
                      loss_fn=CrossEntropyLoss(label_smoothing=config.get("label_smoothing")
                                               or 0.0),
                      accumulate_grad_batches=config.get("accumulate") or 1,
                      clip_grad_norm=config.get("clip_grad_norm"),
                      clip_grad_value=config.get("clip_grad_value"), resume_hint=resume_hint,
                      val_loader=None if val is None else DataLoader(val, batch_size=eval_batch),
                      test_loader=DataLoader(test, batch_size=eval_batch),
                      scheduler=scheduler, callbacks=callbacks, out_dir=out_dir,
                      progress=progress, config=config,
                      early_stopping_patience=config.get("patience"))
    if resume is not None:
        trainer.resume(resume)
    history = trainer.fit(config["epochs"])
    best, tested = trainer.best_metrics, trainer.test_metrics
    return {"best_epoch": trainer.best_epoch, "epochs": trainer.epoch,
            "val_acc": best.get("val_acc"), "val_loss": best.get("val_loss"),
            "test_acc": tested["acc"], "test_loss": tested["loss"],
            "time_s": time.perf_counter() - t0, "out_dir": out_dir, "history": history,
            "config": config}


def load_classifier(path):
    """``(model, config)``: the model a ``minidl train`` checkpoint was trained as, with its
    weights, and the run's config (``arch``, ``model_kwargs``, ``normalize``, ``data``...)."""
    ckpt = load_checkpoint(path)
    config = ckpt.get("config") or {}
    missing = [k for k in ("arch", "model_kwargs", "normalize") if k not in config]
    if missing:
        raise RuntimeError(f"{path}: the checkpoint's config lacks {', '.join(missing)}, so the "
                           f"model cannot be rebuilt (was it written by minidl train?)")
    model = models.get_model(config["arch"], **config["model_kwargs"])
    model.load_state_dict(ckpt["model"])
    return model, {**config, "epoch": ckpt.get("epoch")}


def evaluate_checkpoint(path, data=None, batch_size=1000):
    """Rebuild the model a checkpoint was trained as, and measure it on a test split.

    ``data`` defaults to the data the run trained on; the run's normalization is reused.
    Returns ``evaluate``'s dict (with ``top5_acc`` for more than 5 classes) plus ``data``,
    ``model`` and ``epoch``.
    """
    model, config = load_classifier(path)
    data = data or config["data"]
    test = open_image_data(data, train=False)
    if len(test.classes) != config["model_kwargs"].get("num_classes", len(test.classes)):
        raise ValueError(f"{data} has {len(test.classes)} classes but the model was trained "
                         f"for {config['model_kwargs']['num_classes']}")
    xt, yt = test.to_tensors(*config["normalize"])
    top_k = 5 if len(test.classes) > 5 else None
    result = evaluate(model, DataLoader(TensorDataset(xt, yt), batch_size=batch_size),
                      top_k=top_k)
    result.update(data=data, model=config.get("model", config["arch"]), epoch=config["epoch"])
    return result
