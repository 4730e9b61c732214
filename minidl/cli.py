"""The ``minidl`` command: train and evaluate the model zoo on real data from the shell.

    minidl train lenet                      # LeNet-5 on the bundled MNIST subset
    minidl train mlp --data fashion-mnist-mini --epochs 5 --optimizer sgd --lr 0.05
    minidl train lenet --data ~/data/mnist  # a folder of MNIST IDX files (or root/MNIST/raw)
    minidl train resnet18 --data fashion-mnist-mini   # any zoo model, small-input variant
    minidl eval runs/lenet-mnist-mini-20260101-120000/best.safetensors
    minidl models                           # the models ``train`` knows
    minidl summary resnet18                 # layer table: shapes, parameters, MACs
    minidl summary googlenet --input-size 1 28 28 --small-input --num-classes 10
    minidl run train.py --epochs 3          # a torch script, unchanged, on minidl

Besides the image models, ``train`` runs the tasks registered in ``minidl.train.tasks``
(language models, word2vec, translation...), each with its own options (``minidl train
TASK --help``); their checkpoints feed further commands such as ``generate``.

``train`` holds out a seeded, stratified ``--val-fraction`` of the training data (or uses
``--val-data``) for validation: the best epoch by validation accuracy is selected, early
stopping watches the validation loss, and the test split is evaluated once, with the
selected weights, after the last epoch. It writes into ``--out`` (default
``runs/<model>-<data>-<timestamp>``): the checkpoints ``best.safetensors`` (the selected
epoch) and ``last.safetensors`` (model, optimizer state, epoch, metrics and the run's
configuration), ``metrics.json``, ``metrics.csv`` and ``curves.png``. ``eval`` rebuilds the
model from the configuration stored in a checkpoint and measures it on the test split.
"""
import argparse
import os
import sys

from .as_torch import run_script
from .train.arguments import THREADS_HELP, fraction, non_negative_float, number, positive_int

positive_float = number(float, 1e-300, "a positive number")

__all__ = ["main", "build_parser"]



def build_parser():
    from .train.recipes import AUGMENTATIONS, COMMON_DEFAULTS, OPTIMIZERS, SCHEDULERS
    p = argparse.ArgumentParser(
        prog="minidl", description="minidl: train and evaluate models on real data (CPU).",
        epilog="Run 'minidl COMMAND --help' for the options of a command.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    t = sub.add_parser("train", help="train a model and save checkpoints, logs and curves",
                       description="Train MODEL on a data set. A seeded, stratified share "
                                   "of the training data (--val-fraction) or another data "
                                   "set (--val-data) validates every epoch: the best epoch "
                                   "by validation accuracy is selected and early stopping "
                                   "watches the validation loss. The test split is "
                                   "evaluated once, with the selected weights, at the end. "
                                   "Options left out take the model's recipe defaults (see "
                                   "'minidl models').")
    t.add_argument("model", metavar="MODEL", nargs="?",
                   help="the model to train (see 'minidl models'); left out with --resume")
    t.add_argument("--data", default=None,
                   help="mnist-mini (default), fashion-mnist-mini, or a folder holding "
                        "MNIST-format IDX files (directly or as MNIST/raw/, FashionMNIST/raw/)")
    t.add_argument("--epochs", type=positive_int, help="number of epochs")
    t.add_argument("--batch-size", type=positive_int, help="training batch size")
    t.add_argument("--lr", type=non_negative_float, help="learning rate")
    t.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer")
    t.add_argument("--momentum", type=non_negative_float,
                   help=f"momentum for sgd / rmsprop (default {COMMON_DEFAULTS['momentum']})")
    t.add_argument("--weight-decay", type=non_negative_float, help="L2 weight decay")
    t.add_argument("--scheduler", choices=SCHEDULERS,
                   help="learning-rate schedule per epoch (default cosine; the course's decay "
                        "rules inverse-time, exponential, inverse-sqrt, staircase: see "
                        "minidl.train.optimization)")
    t.add_argument("--decay", type=positive_float, metavar="D",
                   help="the decay rule's number: rate of inverse-time (default 1), base of "
                        "exponential / staircase (default 0.95), k of inverse-sqrt (default 1)")
    t.add_argument("--decay-step", type=positive_int, metavar="S",
                   help="epochs per stair of the staircase scheduler (default 1)")
    t.add_argument("--warmup", type=positive_int, metavar="W",
                   help="linear learning-rate warm-up over the first W epochs, then the "
                        "scheduler")
    t.add_argument("--val-fraction", metavar="F",
                   type=fraction("a fraction 0 <= f < 1 of the training data (0: no "
                                 "validation split)"),
                   help=f"share of every class of the training data held out for validation, "
                        f"drawn with --seed (default {COMMON_DEFAULTS['val_fraction']}); 0: no "
                        f"validation, the last epoch is the model")
    t.add_argument("--val-data", metavar="NAME",
                   help="validate on the training split of this data set (a name or folder as "
                        "for --data) instead of holding out part of the training data")
    t.add_argument("--training-dev", metavar="F",
                   type=fraction("a fraction 0 <= f < 1 of the training data"),
                   help="also hold out this share of every class of the training data, never "
                        "trained on: the training-dev set of 'minidl analyze' (default 0)")
    t.add_argument("--patience", type=positive_int,
                   help="stop early when the validation loss has not improved for this many "
                        "epochs")
    t.add_argument("--seed", type=int, help="random seed (default 0)")
    t.add_argument("--out", help="output folder (default runs/<model>-<data>-<timestamp>)")
    t.add_argument("--device", default="cpu", choices=["cpu"], help="minidl runs on the CPU")
    t.add_argument("--threads", type=positive_int, metavar="N", help=THREADS_HELP)
    t.add_argument("--no-progress", action="store_true",
                   help="no progress bar; print one line per epoch")
    t.add_argument("--augment", choices=AUGMENTATIONS,
                   help="training-batch augmentation: random 2-pixel-padded crops and/or "
                        "horizontal flips; auto = crop+flip for fashion data, crop otherwise "
                        "(default: the model's recipe, auto for the zoo, none for lenet / mlp)")
    t.add_argument("--accumulate", type=positive_int, metavar="K",
                   help="gradient accumulation: one optimizer step per K batches, each loss "
                        "divided by K (default 1)")
    t.add_argument("--clip-grad-norm", type=positive_float, metavar="NORM",
                   help="rescale the gradients before every step so that their global 2-norm "
                        "is at most NORM")
    t.add_argument("--clip-grad-value", type=positive_float, metavar="V",
                   help="clamp every gradient to [-V, V] before every step")
    t.add_argument("--label-smoothing", metavar="EPS",
                   type=fraction("a label smoothing 0 <= eps < 1"),
                   help="cross-entropy against (1 - eps) one-hot + eps / classes (default 0)")
    t.add_argument("--resume", metavar="DIR",
                   help="continue the interrupted run in DIR from its last.safetensors, "
                        "exactly as it would have gone on (its model, data and options come "
                        "from the checkpoint; options that differ from them are refused)")
    adv = t.add_argument_group("advanced")
    adv.add_argument("--limit", type=positive_int, metavar="N",
                     help="train on N training samples only (a seeded random subset of those "
                          "left after the validation split); for quick checks and tests -- "
                          "the validation and test sets are always used whole")

    e = sub.add_parser("eval", help="print the test accuracy of a checkpoint",
                       description="Rebuild the model stored in CHECKPOINT and measure its "
                                   "accuracy on the test split of its data (or of --data).")
    e.add_argument("checkpoint", metavar="CHECKPOINT", help="a .safetensors file written by "
                                                            "'minidl train'")
    e.add_argument("--data", default=None,
                   help="data to evaluate on (default: the data the model was trained on)")
    e.add_argument("--batch-size", type=positive_int, default=1000)
    e.add_argument("--device", default="cpu", choices=["cpu"], help="minidl runs on the CPU")
    e.add_argument("--threads", type=positive_int, metavar="N", help=THREADS_HELP)

    sub.add_parser("models", help="list the models and tasks 'train' knows, with their "
                                  "defaults")

    r = sub.add_parser("run", help="run a torch / torchvision script unchanged, on minidl",
                       description="Run SCRIPT as __main__ with 'import torch' and 'import "
                                   "torchvision' giving minidl and minidl.vision (see "
                                   "minidl.install_as_torch); ARGS become its sys.argv.")
    r.add_argument("script", metavar="SCRIPT", help="the Python file to run")
    r.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="arguments passed to the script")

    m = sub.add_parser("summary", help="print a model's layers, output shapes, parameters "
                                       "and multiply-accumulates",
                       description="Build MODEL (a name from 'minidl models') and run one "
                                   "input through it; print each layer's output shape, "
                                   "parameter count and multiply-accumulates (MACs), and "
                                   "the totals (see minidl.summary).")
    m.add_argument("model", metavar="MODEL", help="the model (see 'minidl models')")
    m.add_argument("--input-size", type=positive_int, nargs=3, metavar=("C", "H", "W"),
                   help="one input image: channels, height, width (default 3 224 224; "
                        "1 28 28 for lenet and mlp)")
    m.add_argument("--num-classes", type=positive_int, metavar="N",
                   help="number of classes (default: the model's, 1000 for the zoo)")
    m.add_argument("--small-input", action="store_true",
                   help="build the small_input=True variant (for 28 x 28 / 32 x 32 images)")
    m.add_argument("--depth", type=positive_int, metavar="D",
                   help="show layers down to this nesting depth (default: all)")
    m.add_argument("--batch-size", type=positive_int, default=1,
                   help="count MACs for a batch of this size (default 1: per image)")

    from .train.tasks import COMMANDS, load_providers
    load_providers()
    for command in COMMANDS.values():
        c = sub.add_parser(command.name, help=command.help,
                           description=command.description or command.help)
        command.add_arguments(c)
        if not any(a.dest == "threads" for a in c._actions):
            c.add_argument("--threads", type=positive_int, metavar="N", help=THREADS_HELP)
    return p


def _train_task(name, argv):
    """``minidl train NAME ...`` for a registered task: its own options, its own run."""
    from .train.tasks import TASKS
    task = TASKS[name]
    parser = argparse.ArgumentParser(prog=f"minidl train {name}", description=task.description)
    task.add_arguments(parser)
    args = parser.parse_args(argv)
    _use_threads(args)
    return task.run(args)


def _use_threads(args):
    if args.threads is not None:
        from .backend.threads import set_num_threads
        set_num_threads(args.threads)


# ``minidl train`` options and the config keys they set
_TRAIN_OPTIONS = {"model": "model", "data": "data", "epochs": "epochs",
                  "batch_size": "batch_size", "lr": "lr", "optimizer": "optimizer",
                  "momentum": "momentum", "weight_decay": "weight_decay",
                  "scheduler": "scheduler", "seed": "seed", "limit": "limit",
                  "patience": "patience", "augment": "augment", "val_fraction": "val_fraction",
                  "val_data": "val_data", "accumulate": "accumulate",
                  "clip_grad_norm": "clip_grad_norm", "clip_grad_value": "clip_grad_value",
                  "label_smoothing": "label_smoothing", "warmup": "warmup", "decay": "decay",
                  "decay_step": "decay_step", "training_dev": "training_dev"}


def _resume_config(args, parser):
    """``(config, checkpoint path)`` of ``--resume DIR``; an option given on the command
    line must equal the run's own (by the checkpoint's config), or it is refused."""
    from .train import load_checkpoint
    path = args.resume
    if os.path.isdir(path):
        path = os.path.join(path, "last.safetensors")
    if not os.path.isfile(path):
        parser.error(f"--resume {args.resume}: no last.safetensors there to resume from")
    if args.out is not None and os.path.abspath(args.out) != os.path.abspath(
            os.path.dirname(path)):
        parser.error(f"--resume writes into the run's own folder {os.path.dirname(path)}; "
                     f"drop --out {args.out}")
    config = dict(load_checkpoint(path).get("config") or {})
    if "model" not in config or "arch" not in config:
        parser.error(f"--resume: {path} was not written by 'minidl train MODEL' (its config "
                     f"names no model)")
    for dest, key in _TRAIN_OPTIONS.items():
        given = getattr(args, dest)
        if given is not None and given != config.get(key):
            flag = "MODEL" if dest == "model" else "--" + dest.replace("_", "-")
            parser.error(f"--resume continues the run as it was configured: {flag} {given} "
                         f"conflicts with the run's {config.get(key)!r}; drop {flag}")
    return config, path


def _train(args, parser):
    from .train import recipes
    from .train.tasks import default_out_dir
    _use_threads(args)
    resume = None
    if args.resume is not None:
        config, resume = _resume_config(args, parser)
        return _run_training(args, parser, config, os.path.dirname(resume), resume)
    if args.model is None:
        parser.error("train: give MODEL (see 'minidl models'), or --resume DIR")
    if recipes.find_recipe(args.model) is None:
        parser.error(f"unknown model {args.model!r}; available models: "
                     f"{', '.join(sorted(recipes.RECIPES))}")
    if args.val_data is not None and args.val_fraction is not None:
        parser.error("--val-fraction and --val-data exclude each other: validation is either "
                     "held out of the training data or another data set")
    if args.val_fraction == 0 and args.patience is not None:
        parser.error("--patience needs validation (early stopping watches the validation "
                     "loss), but --val-fraction 0 has none; drop --patience, or validate "
                     "with --val-fraction F > 0 or --val-data NAME")
    config = recipes.resolve_config(
        args.model, data=args.data, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, momentum=args.momentum, weight_decay=args.weight_decay,
        scheduler=args.scheduler, seed=args.seed, limit=args.limit, patience=args.patience,
        augment=args.augment, val_fraction=args.val_fraction, val_data=args.val_data,
        accumulate=args.accumulate, clip_grad_norm=args.clip_grad_norm,
        clip_grad_value=args.clip_grad_value, label_smoothing=args.label_smoothing,
        warmup=args.warmup, decay=args.decay, decay_step=args.decay_step,
        training_dev=args.training_dev)
    try:
        recipes.check_schedule_options(config["scheduler"], config["epochs"], config["warmup"],
                                       config["decay"], config["decay_step"])
    except ValueError as e:
        parser.error(str(e))
    out = args.out or default_out_dir(args.model, config["data"])
    return _run_training(args, parser, config, out, resume)


def _schedule_words(config):
    """``cosine schedule``, ``staircase schedule (decay 0.9, step 2) after 3 warm-up epochs``."""
    knobs = [f"{k.replace('_', ' ')} {config[k]:g}" for k in ("decay", "decay_step")
             if config.get(k) is not None]
    return (f"{config['scheduler']} schedule" + (f" ({', '.join(knobs)})" if knobs else "")
            + (f" after {config['warmup']} warm-up epochs" if config.get("warmup") else ""))


def _run_training(args, parser, config, out, resume):
    from .train import TrainingInterrupted, recipes
    try:
        augment = recipes.resolve_augment(config["augment"], config["data"])
    except ValueError as e:
        parser.error(str(e))
    if config["val_data"] is not None:
        validation = f"validation {config['val_data']}"
    elif config["val_fraction"]:
        validation = f"validation {100 * config['val_fraction']:g}% (stratified)"
    else:
        validation = "no validation"
    if config.get("training_dev"):
        validation += f", training-dev {100 * config['training_dev']:g}%"
    print(f"minidl train {config['model']}: data {config['data']}, {validation}, "
          f"{config['epochs']} epochs, "
          f"batch {config['batch_size']}, {config['optimizer']} lr {config['lr']:g}, "
          f"{_schedule_words(config)}, seed {config['seed']}"
          f"{', augment ' + augment if augment != 'none' else ''}"
          f"{', limit ' + str(config['limit']) if config['limit'] else ''}", flush=True)
    print(f"{'resuming in' if resume else 'output folder:'} {out}", flush=True)
    try:
        result = recipes.train_classifier(config, out_dir=out, progress=not args.no_progress,
                                          resume=resume,
                                          resume_hint=f"minidl train --resume {out}")
    except TrainingInterrupted:
        return 130
    except (ValueError, RuntimeError, FloatingPointError) as e:
        print(f"minidl train: error: {e}", file=sys.stderr)
        return 1
    if result["val_acc"] is None:
        selected = f"no validation, last epoch {result['best_epoch']} kept"
    else:
        selected = (f"best epoch {result['best_epoch']} of {result['epochs']}, val accuracy "
                    f"{100 * result['val_acc']:.2f}%")
    print(f"done in {result['time_s']:.1f}s: {selected}, test accuracy "
          f"{100 * result['test_acc']:.2f}%; checkpoints, metrics and curves in {out}")
    return 0


def _eval(args, parser):
    from .train import recipes
    if not os.path.isfile(args.checkpoint):
        parser.error(f"checkpoint {args.checkpoint!r} does not exist")
    _use_threads(args)
    try:
        r = recipes.evaluate_checkpoint(args.checkpoint, args.data, args.batch_size)
    except (ValueError, RuntimeError) as e:
        print(f"minidl eval: error: {e}", file=sys.stderr)
        return 1
    top5 = "" if r.get("top5_acc") is None else f", top-5 {100 * r['top5_acc']:.2f}%"
    print(f"{r['model']} (epoch {r['epoch']}) on {r['data']} test split: "
          f"accuracy {100 * r['acc']:.2f}% ({r['correct']}/{r['n']})"
          f"{top5}")
    return 0


def _models():
    from .train import recipes
    from .train.tasks import TASKS
    width = max(len(n) for n in [*recipes.RECIPES, *TASKS])
    for name in sorted(recipes.RECIPES):
        r = recipes.RECIPES[name]
        d = {**recipes.COMMON_DEFAULTS, **r.defaults}
        arch = f" (builder {r.arch})" if r.arch != name else ""
        print(f"{name:{width}}  {r.description}{arch}")
        print(f"{'':{width}}  defaults: {d['optimizer']} lr {d['lr']:g}, batch "
              f"{d['batch_size']}, {d['epochs']} epochs, {d['scheduler']} schedule, "
              f"augment {d['augment']}")
    for name in sorted(TASKS):
        print(f"{name:{width}}  {TASKS[name].description} (options: minidl train {name} "
              f"--help)")
    return 0


def _summary(args, parser):
    from .train import recipes
    from .utils.summary import summary
    from .vision import models
    name = args.model
    recipe = recipes.find_recipe(name)
    arch = recipe.arch if recipe is not None else name
    if arch not in models.list_models():
        parser.error(f"unknown model {name!r}; available models: "
                     f"{', '.join(sorted(set(models.list_models()) | set(recipes.RECIPES)))}")
    small_native = arch in ("lenet5", "mlp")
    c, h, w = args.input_size or ((1, 28, 28) if small_native else (3, 224, 224))
    kwargs = {}
    if arch == "mlp":
        kwargs["in_features"] = c * h * w
    else:
        kwargs["in_channels"] = c
    if arch == "lenet5" and h == w and h in (28, 32):
        kwargs["image_size"] = h
    if args.num_classes:
        kwargs["num_classes"] = args.num_classes
    if args.small_input and not small_native:
        kwargs["small_input"] = True
    try:
        model = models.get_model(arch, **kwargs)
        result = summary(model, (c, h, w), batch_size=args.batch_size, depth=args.depth)
    except (ValueError, RuntimeError) as e:
        hint = ("" if args.small_input or small_native or max(h, w) > 64 else
                "; for small images try --small-input")
        print(f"minidl summary: error: {arch} on a {c} x {h} x {w} input: {e}{hint}",
              file=sys.stderr)
        return 1
    print(result)
    return 0


def main(argv=None):
    """Entry point of the ``minidl`` console script; returns the exit status."""
    try:
        return _dispatch(argv)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(argv):
    from .train.tasks import COMMANDS, TASKS
    parser = build_parser()  # loads the task providers
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) >= 2 and argv[0] == "train" and argv[1] in TASKS:
        return _train_task(argv[1], argv[2:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "train":
        return _train(args, parser)
    if args.command == "eval":
        return _eval(args, parser)
    if args.command == "summary":
        return _summary(args, parser)
    if args.command in COMMANDS:
        _use_threads(args)
        return COMMANDS[args.command].run(args)
    if args.command == "run":
        if not os.path.isfile(args.script):
            parser.error(f"run: no such script: {args.script}")
        run_script(args.script, args.script_args)
        return 0
    return _models()


if __name__ == "__main__":
    sys.exit(main())
