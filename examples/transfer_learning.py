"""Transfer learning: MNIST features for Fashion-MNIST with 1 % of its labels.

A network trained on one task learns features that serve others; the early layers are the
most general, the late ones the most specific (Yosinski et al. 2014, "How transferable are
features in deep neural networks?"). So with few labels for a new task one loads a trained
net, replaces its head with a fresh one for the new classes and either

* freezes the feature extractor (``requires_grad_(False)`` on the conv layers) and trains
  only the classifier after it, or
* fine-tunes every layer, the pretrained ones at a smaller learning rate
  (``--fine-tune-lr-factor``; the new head at the full one, two ``param_groups``),

against training the same net from scratch on the same few labels.

What it measures (full mode, three 1 % subsets of 100 images): the frozen MNIST features
give a head start (validation accuracy over epochs 1-5: 0.55 against scratch's 0.43), but
at each run's best epoch scratch is as good as either transfer: test accuracy 0.685
(scratch), 0.673 (frozen), 0.654 (fine-tune all). MNIST strokes transfer only partly to
clothing, and 100 images already train LeNet-5's few conv filters.

A LeNet-5 is pretrained on mnist-mini (or loaded from a ``minidl train lenet`` checkpoint
with ``--checkpoint``). A seeded, stratified 1 % of fashion-mnist-mini's training split is
the labelled set; a disjoint stratified share of the rest is the validation set that picks
each run's best epoch (its weights are kept); the test split is read once, at the end. All
Fashion images are normalized as the pretraining data was. ``--seeds`` repeats the three
runs on other 1 % subsets. The figure (--out, default runs/transfer_learning/
transfer_learning.png) shows validation accuracy per epoch.

    PYTHONPATH=. python examples/transfer_learning.py --out runs/transfer_learning
"""
import argparse
import copy
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.train import stratified_split  # noqa: E402
from minidl.train.recipes import load_classifier  # noqa: E402
from minidl.vision.datasets import Bundled  # noqa: E402
from minidl.vision.models import get_model  # noqa: E402

MODES = ("scratch", "frozen", "fine-tune")
FULL = {"pretrain_epochs": 5, "epochs": 50, "val_fraction": 0.1, "seeds": [0, 1, 2]}
QUICK = {"pretrain_epochs": 2, "epochs": 30, "val_fraction": 0.05, "seeds": [0]}


def batches(n, batch_size, rng):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield minidl.from_numpy(order[start:start + batch_size])


def accuracy(model, x, y, batch_size=1000):
    model.eval()
    with minidl.no_grad():
        hits = sum((model(x[i:i + batch_size]).argmax(dim=1) == y[i:i + batch_size])
                   .sum().item() for i in range(0, len(y), batch_size))
    model.train()
    return hits / len(y)


def pretrain(args):
    """(LeNet-5 trained on mnist-mini, (mean, std) of its inputs, MNIST test accuracy)."""
    if args.checkpoint:
        model, config = load_classifier(args.checkpoint)
        mean, std = (float(v) for v in config["normalize"])
    else:
        train_set = Bundled("mnist-mini", train=True)
        x, y = train_set.to_tensors()
        mean, std = float(x.numpy().mean()), float(x.numpy().std())
        x, y = train_set.to_tensors(mean, std)
        x, y = x[:args.pretrain_rows], y[:args.pretrain_rows]
        minidl.manual_seed(args.seed)
        model = get_model("lenet5", num_classes=10)
        optimizer = minidl.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(args.seed)
        for _ in range(args.pretrain_epochs):
            for rows in batches(len(y), 64, rng):
                optimizer.zero_grad()
                F.cross_entropy(model(x[rows]), y[rows]).backward()
                optimizer.step()
    x_test, y_test = Bundled("mnist-mini", train=False).to_tensors(mean, std)
    return model, (mean, std), accuracy(model, x_test, y_test)


def fashion(normalize, args, seed):
    """{"train", "val", "test"}: (x, y) pairs; train a stratified ``args.labelled`` share
    of Fashion's training split, val a stratified ``args.val_fraction`` of it (disjoint)."""
    x, y = Bundled("fashion-mnist-mini", train=True).to_tensors(*normalize)
    labels = y.numpy()
    rest, val = stratified_split(labels, args.val_fraction, seed=seed)
    _, few = stratified_split(labels[rest], args.labelled * len(labels) / len(rest), seed=seed)
    few = minidl.from_numpy(rest[few])
    val = minidl.from_numpy(val)
    return {"train": (x[few], y[few]), "val": (x[val], y[val]),
            "test": Bundled("fashion-mnist-mini", train=False).to_tensors(*normalize)}


def make_model(mode, pretrained, seed):
    """The net for ``mode``: a fresh LeNet-5 ("scratch"), or a copy of ``pretrained`` with
    its last Linear replaced by a fresh 10-way one and, for "frozen", ``features`` frozen."""
    minidl.manual_seed(seed)
    if mode == "scratch":
        return get_model("lenet5", num_classes=10)
    model = copy.deepcopy(pretrained)
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, 10)
    if mode == "frozen":
        model.features.requires_grad_(False)
    return model


def fine_tune(mode, pretrained, data, args, seed):
    """{"model": the weights of the best validation epoch, "val_acc": per epoch,
    "best_epoch": 1-based, "test_acc": of the best weights}."""
    model = make_model(mode, pretrained, seed)
    head = list(model.classifier[-1].parameters())
    body = [p for p in model.parameters() if p.requires_grad and all(p is not h for h in head)]
    factor = args.fine_tune_lr_factor if mode == "fine-tune" else 1.0
    optimizer = minidl.optim.Adam([{"params": body, "lr": args.lr * factor},
                                   {"params": head}], lr=args.lr)
    (x, y), (x_val, y_val) = data["train"], data["val"]
    rng = np.random.default_rng(seed)
    val_acc, best, best_state = [], -1.0, None
    for _ in range(args.epochs):
        for rows in batches(len(y), args.batch_size, rng):
            optimizer.zero_grad()
            F.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
        val_acc.append(accuracy(model, x_val, y_val))
        if val_acc[-1] > best:
            best, best_state = val_acc[-1], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return {"model": model, "val_acc": np.array(val_acc),
            "best_epoch": int(np.argmax(val_acc)) + 1,
            "test_acc": accuracy(model, *data["test"])}


def plot(runs, path):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for mode, color in zip(MODES, ("tab:gray", "tab:blue", "tab:red")):
        curves = np.array([run["val_acc"] for run in runs[mode]])
        epochs = np.arange(1, curves.shape[1] + 1)
        for curve in curves if len(curves) > 1 else ():
            ax.plot(epochs, curve, color=color, alpha=0.25, lw=0.8)
        test = np.mean([run["test_acc"] for run in runs[mode]])
        ax.plot(epochs, curves.mean(0), color=color, label=f"{mode} (test {test:.3f})")
    ax.set(xlabel="epoch", ylabel="validation accuracy",
           title=f"Fashion-MNIST from 1% of its labels, LeNet-5 pretrained on MNIST"
           f"\n(mean of {len(runs[MODES[0]])} subsets; faint: each)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", help="a `minidl train lenet` checkpoint to start from")
    p.add_argument("--pretrain-epochs", type=int, help="default 5 (quick: 2)")
    p.add_argument("--pretrain-rows", type=int, default=10000)
    p.add_argument("--labelled", type=float, default=0.01,
                   help="share of Fashion's training split with labels")
    p.add_argument("--val-fraction", type=float, help="default 0.1 (quick: 0.05)")
    p.add_argument("--epochs", type=int, help="default 50 (quick: 30)")
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--fine-tune-lr-factor", type=float, default=0.3,
                   help="learning-rate factor of the pretrained layers when fine-tuning all "
                   "(the new head keeps --lr)")
    p.add_argument("--seed", type=int, default=0, help="seed of the pretraining")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="seeds of the 1%% subsets and new heads (default 0 1 2; quick: 0)")
    p.add_argument("--quick", action="store_true",
                   help="~15 s: 2 pretraining epochs, 30 epochs, one subset, a 5%% val set")
    p.add_argument("--out", default=os.path.join("runs", "transfer_learning"))
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    """Returns {"runs": {mode: [per-seed run]}, "test_acc": {mode: mean}, "early_val_acc":
    {mode: mean validation accuracy of epochs 1-5}, "pretrained": the pretrained net,
    "pretrain_acc": its MNIST test accuracy, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    pretrained, normalize, pretrain_acc = pretrain(args)
    print(f"pretrained LeNet-5: MNIST test accuracy {pretrain_acc:.4f} "
          f"({time.perf_counter() - t0:.1f} s)")
    runs = {mode: [] for mode in MODES}
    for seed in args.seeds:
        data = fashion(normalize, args, seed)
        for mode in MODES:
            runs[mode].append(fine_tune(mode, pretrained, data, args, seed))
    print(f"{len(data['train'][1])} labelled Fashion images, {len(data['val'][1])} "
          f"validation, {len(data['test'][1])} test; seeds {args.seeds}")
    test_acc = {mode: float(np.mean([r["test_acc"] for r in runs[mode]])) for mode in MODES}
    early = {mode: float(np.mean([r["val_acc"][:5] for r in runs[mode]])) for mode in MODES}
    for mode in MODES:
        accs = [r["test_acc"] for r in runs[mode]]
        print(f"{mode:>9}: test accuracy {test_acc[mode]:.4f} +- {np.std(accs):.4f} "
              f"(per seed {', '.join(f'{a:.4f}' for a in accs)}; best epochs "
              f"{[r['best_epoch'] for r in runs[mode]]}); val accuracy over epochs 1-5 "
              f"{early[mode]:.4f}")
    path = os.path.join(args.out, "transfer_learning.png")
    plot(runs, path)
    print(f"figure: {path}  ({time.perf_counter() - t0:.1f} s)")
    return {"runs": runs, "test_acc": test_acc, "early_val_acc": early,
            "pretrained": pretrained,
            "pretrain_acc": pretrain_acc, "figure": path}


if __name__ == "__main__":
    main()
