"""Dropout and the train / dev gap of an over-sized MLP on a small training set.

Inverted dropout (Srivastava et al. 2014) zeroes each hidden activation with probability p
during training and scales the survivors by 1 / (1 - p),

    h~ = m * h / (1 - p),   m_i ~ Bernoulli(1 - p),

so no unit can rely on particular others; in eval mode it is the identity. An MLP with far
more weights than training samples memorises them without it (training accuracy 1, a wide
gap to the dev set); with p = 0.5 the training fit is looser and the gap narrower.

The training rows are a small stratified subset of mnist-mini's training split and the dev
(validation) set a disjoint stratified share of the same split, both carved with
``minidl.train.stratified_split`` (the test split is never used). The same MLP (same seed,
same batches) is trained with Adam for each ``--p``; train and dev accuracy and loss are
measured in eval mode after each epoch. The figure (--out, default
runs/dropout_gap/dropout_gap.png) shows accuracy and loss per epoch.

    PYTHONPATH=. python examples/dropout_gap.py --out runs/dropout_gap
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.train import stratified_split  # noqa: E402
from minidl.vision.datasets import load_bundled  # noqa: E402


def train_dev(train_rows, dev_fraction, seed):
    """(x_train, y_train, x_dev, y_dev): the dev rows a stratified ``dev_fraction`` of
    mnist-mini's training split, the training rows a stratified subset of about
    ``train_rows`` of the rest."""
    images, labels = load_bundled("mnist-mini", train=True)
    x = images.numpy().reshape(len(labels), -1).astype(np.float32) / 255.0
    x = (x - x.mean()) / x.std()
    y = labels.numpy()
    rest, dev = stratified_split(y, dev_fraction, seed=seed)
    _, subset = stratified_split(y[rest], train_rows / len(rest), seed=seed)
    train = rest[subset]
    return (minidl.from_numpy(x[train]), minidl.from_numpy(y[train]),
            minidl.from_numpy(x[dev]), minidl.from_numpy(y[dev]))


def mlp(width, p, in_features=784, classes=10):
    """Two hidden ReLU layers of ``width`` units, Dropout(p) after each."""
    return nn.Sequential(nn.Linear(in_features, width), nn.ReLU(), nn.Dropout(p),
                         nn.Linear(width, width), nn.ReLU(), nn.Dropout(p),
                         nn.Linear(width, classes))


def evaluate(model, x, y):
    """(accuracy, mean cross-entropy) in eval mode."""
    model.eval()
    with minidl.no_grad():
        logits = model(x)
        result = ((logits.argmax(dim=1) == y).float().mean().item(),
                  F.cross_entropy(logits, y).item())
    model.train()
    return result


def train(p, data, args):
    """Per-epoch {"train_acc", "dev_acc", "train_loss", "dev_loss"} arrays."""
    x, y, x_dev, y_dev = data
    minidl.manual_seed(args.seed)
    model = mlp(args.width, p)
    optimizer = minidl.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    log = {"train_acc": [], "dev_acc": [], "train_loss": [], "dev_loss": []}
    for _ in range(args.epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(order), args.batch_size):
            rows = minidl.from_numpy(order[start:start + args.batch_size])
            optimizer.zero_grad()
            F.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
        for split, (xs, ys) in (("train", (x, y)), ("dev", (x_dev, y_dev))):
            acc, loss = evaluate(model, xs, ys)
            log[f"{split}_acc"].append(acc)
            log[f"{split}_loss"].append(loss)
    return {key: np.array(values) for key, values in log.items()}


def plot(runs, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for (p, run), color in zip(runs.items(), ("tab:red", "tab:blue", "tab:green")):
        epochs = np.arange(1, len(run["train_acc"]) + 1)
        for split, style in (("train", "-"), ("dev", "--")):
            a.plot(epochs, run[f"{split}_acc"], style, color=color, label=f"p={p:g} {split}")
            b.plot(epochs, run[f"{split}_loss"], style, color=color, label=f"p={p:g} {split}")
    a.set(xlabel="epoch", ylabel="accuracy", title="(a) train (solid) / dev (dashed) accuracy")
    b.set(xlabel="epoch", ylabel="cross-entropy", yscale="log",
          title="(b) train / dev loss")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def gaps(run, last):
    """{"acc": mean train - dev accuracy, "loss": mean dev - train loss} over the ``last``
    epochs."""
    return {"acc": float((run["train_acc"][-last:] - run["dev_acc"][-last:]).mean()),
            "loss": float((run["dev_loss"][-last:] - run["train_loss"][-last:]).mean())}


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--p", type=float, nargs="+", default=[0.0, 0.5], help="dropout rates")
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--train-rows", type=int, default=300)
    p.add_argument("--dev-fraction", type=float, default=0.2)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="a few seconds: 20 epochs, a 5% dev set")
    p.add_argument("--out", default=os.path.join("runs", "dropout_gap"))
    args = p.parse_args(argv)
    if args.quick:
        args.train_rows, args.width, args.epochs, args.dev_fraction = 300, 256, 20, 0.05
    return args


def main(argv=None):
    """Returns {"runs": {p: per-epoch logs}, "gap": {p: {"acc", "loss"} gaps over the last 5
    epochs}, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    data = train_dev(args.train_rows, args.dev_fraction, args.seed)
    runs = {p: train(p, data, args) for p in args.p}
    gap = {p: gaps(run, min(5, args.epochs)) for p, run in runs.items()}
    path = os.path.join(args.out, "dropout_gap.png")
    plot(runs, path)
    print(f"{len(data[1])} training rows, {len(data[3])} dev rows, width {args.width}")
    for p, run in runs.items():
        print(f"p={p:g}: train acc {run['train_acc'][-1]:.4f}  dev acc {run['dev_acc'][-1]:.4f}"
              f"  train loss {run['train_loss'][-1]:.4f}  dev loss {run['dev_loss'][-1]:.4f}"
              f"  gaps (last 5 epochs): accuracy {gap[p]['acc']:.4f} loss {gap[p]['loss']:.4f}")
    print(f"figure: {path}")
    return {"runs": runs, "gap": gap, "figure": path}


if __name__ == "__main__":
    main()
