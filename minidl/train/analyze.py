"""``minidl analyze CHECKPOINT``: the course's error analysis of a ``minidl train`` classifier.

The run's splits are rebuilt from its checkpoint (data, seed, limit, validation and
training-dev shares, normalization) and its selected weights are evaluated on each:

* train: the samples it trained on (as they are, without augmentation);
* training-dev: ``minidl train --training-dev F``'s held-out share of the training
  distribution, never trained on;
* dev: the validation split (a share of the training data, or ``--val-data``);
* test: the test split.

Gaps, after Ng's "bias / variance / data mismatch" analysis (``human`` is human-level error,
``--human-error``, a proxy for the Bayes error):

====================  ================================  ==================================
avoidable bias        train - human                     a bigger model, longer training,
                                                        a better optimizer
variance              training-dev - train              more data, regularization
                                                        (L2, dropout, augmentation)
data mismatch         dev - training-dev                make training data like dev's
                                                        (synthesis), collect dev-like data
overfitting to dev    test - dev                        a bigger dev set
====================  ================================  ==================================

Without a training-dev set, a dev set carved out of the training data is itself drawn from
the training distribution: it stands in for training-dev, and the mismatch is 0 by
construction. A dev set from other data (``--val-data``) with no training-dev set cannot
separate variance from mismatch: their sum, dev - train, is reported as such. The largest
gap is named. Error analysis of one split (``--split``, default dev): its confusion matrix
(a plot), the most-confused (true, predicted) pairs and a grid of their examples.
"""
import json
import os
import sys

import numpy as np

from .arguments import positive_int
from .tasks import Command, register_command, report_missing_files

__all__ = ["GAPS", "split_predictions", "diagnose", "most_confused", "analyze_checkpoint"]

SPLITS = ("train", "training-dev", "dev", "test")
GAPS = {"avoidable bias": "a bigger model, longer training or a better optimizer",
        "variance": "more training data, or regularization (L2, dropout, augmentation)",
        "variance + data mismatch": "a training-dev set (minidl train --training-dev F) to "
                                    "tell them apart",
        "data mismatch": "training data more like the dev data (synthesis, collection)",
        "overfitting to dev": "a bigger dev set"}


def split_predictions(model, dataset, batch_size=1000):
    """``(predictions, targets, confidence, images)`` of ``model`` (eval mode, no gradients)
    over a dataset of normalized ``(image, target)`` pairs: int64 arrays, the softmax
    probability of the predicted class (``ensemble.view_probabilities``) and the images as
    one N x C x H x W array."""
    from ..utils.data import DataLoader
    from .ensemble import view_probabilities
    images, targets = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    p = view_probabilities(model, [images], None, batch_size)[0]
    return (p.argmax(axis=1).astype(np.int64), targets.numpy().astype(np.int64),
            p.max(axis=1), images.numpy())


def diagnose(errors, human_error=0.0, dev_from_training=True):
    """``[(gap, value)]`` from the errors of ``SPLITS`` (None where a split is missing) and
    the largest as ``(gap, value)`` (see the module); ``dev_from_training``: the dev set was
    carved out of the training data, so without a training-dev set it stands in for one."""
    train, tdev, dev, test = (errors.get(s) for s in SPLITS)
    if tdev is None and dev is not None and dev_from_training:
        tdev = dev
    gaps = [("avoidable bias", train - human_error)]
    if tdev is not None:
        gaps.append(("variance", tdev - train))
        if dev is not None:
            gaps.append(("data mismatch", dev - tdev))
    elif dev is not None:
        gaps.append(("variance + data mismatch", dev - train))
    if dev is not None and test is not None:
        gaps.append(("overfitting to dev", test - dev))
    return gaps, max(gaps, key=lambda g: g[1])


def most_confused(confusion, k=5):
    """The ``k`` largest off-diagonal cells of a confusion matrix: ``[(true, predicted,
    count)]``, largest first (ties by class order), zeros left out."""
    off = confusion.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    cells = [np.unravel_index(i, off.shape) for i in order]
    return [(int(t), int(p), int(off[t, p])) for t, p in cells if off[t, p] > 0]


def analyze_checkpoint(path, human_error=0.0, split="dev", batch_size=1000):
    """The figures of ``minidl analyze`` (see the module) as a dict: ``errors`` and ``sizes``
    per split, ``gaps``, ``largest``, ``split`` (the one analysed), ``confusion``,
    ``confused`` (``most_confused``), ``classes``, and for the plots ``images`` (that split's
    images in [0, 1]), ``predictions``, ``targets``, ``confidence``."""
    from ..utils.data import Subset
    from .recipes import load_classifier, prepare_image_data
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if not 0.0 <= human_error < 1.0:
        raise ValueError(f"human_error is a fraction in [0, 1), got {human_error}")
    model, config = load_classifier(path)
    train, dev, test, info = prepare_image_data(
        config["data"], config.get("limit"), int(config.get("seed", 0)), config["normalize"],
        config.get("val_fraction") or 0, config.get("val_data"), config.get("training_dev") or 0)
    tdev = Subset(train.dataset, info["training_dev_indices"]) if info[
        "training_dev_indices"] else None
    sets = dict(zip(SPLITS, (train, tdev, dev, test)))
    if sets.get(split) is None:
        raise ValueError(f"the run has no {split} split (it was trained with "
                         f"{'no validation' if split == 'dev' else 'no --training-dev'}); "
                         f"choose --split among "
                         f"{', '.join(s for s in SPLITS if sets[s] is not None)}")
    results = {name: split_predictions(model, data, batch_size)
               for name, data in sets.items() if data is not None}
    errors = {name: float((r[0] != r[1]).mean()) for name, r in results.items()}
    gaps, largest = diagnose(errors, human_error, dev_from_training=not config.get("val_data"))
    from .metrics import confusion_matrix
    preds, targets, confidence, images = results[split]
    confusion = confusion_matrix(preds, targets, len(info["classes"]))
    mean, std = config["normalize"]
    images = images * std + mean
    return {"errors": errors, "sizes": {n: len(r[1]) for n, r in results.items()},
            "human_error": human_error, "gaps": gaps, "largest": largest, "split": split,
            "confusion": confusion, "confused": most_confused(confusion),
            "classes": list(info["classes"]), "images": np.clip(images, 0.0, 1.0),
            "predictions": preds, "targets": targets, "confidence": confidence,
            "model": config.get("model", config["arch"]), "data": config["data"]}


def plot_confusion(confusion, classes, path, title):
    """The confusion matrix as a heat map (rows: true class, columns: predicted), counts
    written in the cells; saved to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.6 + 0.5 * k))
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for t in range(k):
        for p in range(k):
            ax.text(p, t, str(confusion[t, p]), ha="center", va="center", fontsize=7,
                    color="white" if confusion[t, p] > confusion.max() / 2 else "black")
    ax.set_xticks(range(k), [str(c) for c in classes], rotation=60, fontsize=7)
    ax.set_yticks(range(k), [str(c) for c in classes], fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_confused_examples(report, path, per_pair=8):
    """A grid: one row per most-confused pair, its ``per_pair`` most confident mistakes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pairs, classes = report["confused"], report["classes"]
    preds, targets, conf = report["predictions"], report["targets"], report["confidence"]
    rows = max(1, len(pairs))
    fig, axes = plt.subplots(rows, per_pair, figsize=(1.1 * per_pair, 1.35 * rows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for r, (t, p, count) in enumerate(pairs):
        wrong = np.flatnonzero((targets == t) & (preds == p))
        wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:per_pair]
        for c, i in enumerate(wrong):
            axes[r, c].imshow(report["images"][i].transpose(1, 2, 0).squeeze(-1), cmap="gray",
                              vmin=0, vmax=1)
            axes[r, c].set_title(f"{conf[i]:.2f}", fontsize=7)
        axes[r, 0].text(-0.15, 0.5, f"{classes[t]}\nas {classes[p]}\n({count})", fontsize=7,
                        ha="right", va="center", transform=axes[r, 0].transAxes)
    fig.suptitle(f"most-confused {report['split']} examples (confidence of the wrong class)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a classifier checkpoint written by 'minidl train MODEL'")
    parser.add_argument("--human-error", type=float, default=0.0, metavar="P",
                        help="human-level error in percent, the proxy for the Bayes error "
                             "that avoidable bias is measured from (default 0)")
    parser.add_argument("--split", choices=SPLITS, default="dev",
                        help="the split whose confusion matrix and mistakes are shown "
                             "(default dev)")
    parser.add_argument("--examples", type=positive_int, default=8, metavar="N",
                        help="mistakes shown per confused pair (default 8)")
    parser.add_argument("--out", metavar="DIR",
                        help="where the plots and analysis.json go (default: the "
                             "checkpoint's folder)")
    parser.add_argument("--batch-size", type=positive_int, default=1000)


def _run(args):
    prog = "minidl analyze"
    missing = report_missing_files(prog, checkpoint=args.checkpoint)
    if missing:
        return missing
    if not 0 <= args.human_error < 100:
        print(f"{prog}: error: --human-error is a percentage in [0, 100), got "
              f"{args.human_error}", file=sys.stderr)
        return 1
    try:
        r = analyze_checkpoint(args.checkpoint, args.human_error / 100, args.split,
                               args.batch_size)
    except (ValueError, RuntimeError, KeyError) as e:
        print(f"{prog}: error: {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    print(f"{r['model']} on {r['data']} ({args.checkpoint})")
    print(f"{'split':14} {'samples':>8} {'error':>8}")
    print(f"{'human level':14} {'':>8} {args.human_error:7.2f}%")
    for name in SPLITS:
        if name in r["errors"]:
            print(f"{name:14} {r['sizes'][name]:8d} {100 * r['errors'][name]:7.2f}%")
    print("gaps:")
    for gap, value in r["gaps"]:
        print(f"  {gap:26} {100 * value:+7.2f} points")
    gap, value = r["largest"]
    print(f"largest gap: {gap} ({100 * value:.2f} points) -> {GAPS[gap]}")
    classes = r["classes"]
    print(f"most confused on {r['split']} (true -> predicted, count): " + ", ".join(
        f"{classes[t]} -> {classes[p]} {n}" for t, p, n in r["confused"]))
    out = args.out or os.path.dirname(os.path.abspath(args.checkpoint))
    os.makedirs(out, exist_ok=True)
    files = {"confusion": os.path.join(out, f"confusion_{r['split']}.png"),
             "confused": os.path.join(out, f"confused_{r['split']}.png"),
             "json": os.path.join(out, "analysis.json")}
    plot_confusion(r["confusion"], classes, files["confusion"],
                   f"{r['model']} on {r['data']}: {r['split']} confusion matrix")
    plot_confused_examples(r, files["confused"], args.examples)
    with open(files["json"], "w") as f:
        json.dump({"errors": r["errors"], "sizes": r["sizes"], "human_error": r["human_error"],
                   "gaps": dict(r["gaps"]), "largest": gap, "split": r["split"],
                   "confusion": r["confusion"].tolist(), "confused": r["confused"]}, f, indent=2)
    print(f"wrote {files['confusion']}, {files['confused']}, {files['json']}")
    return 0


register_command(Command(
    "analyze", "error analysis of a classifier checkpoint: bias, variance, data mismatch",
    _arguments, _run,
    description="Rebuild the splits of the run that wrote CHECKPOINT (minidl train MODEL) and "
                "print its error on train, training-dev (--training-dev), dev and test, the "
                "gaps between them (avoidable bias, variance, data mismatch, overfitting to "
                "dev) and the largest; save the confusion matrix of --split and a grid of its "
                "most-confused examples."))
