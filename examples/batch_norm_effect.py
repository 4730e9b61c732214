"""Training with and without batch normalisation, at a small and a large learning rate.

Batch norm (Ioffe & Szegedy 2015) standardises each feature over the mini-batch and rescales
it with learned gamma, beta,

    y = gamma * (x - mean_B(x)) / sqrt(var_B(x) + eps) + beta,

so every layer's input keeps mean ~0 and variance ~1 whatever the weights upstream do; the
loss surface is smoother (Santurkar et al. 2018) and much larger learning rates train stably.

The same MLP (``--depth`` hidden Linear layers of ``--width`` units, ReLU, torch's default
initialisation, same seed) is trained on mnist-mini with plain SGD, once as
Linear-ReLU blocks and once as Linear-BatchNorm1d-ReLU blocks, at each learning rate of
``--lrs``; the validation set is carved from the training split with
``minidl.train.stratified_split``. The figure (--out, default
runs/batch_norm/batch_norm_effect.png) shows the training loss per step (smoothed) and the
validation accuracy per epoch; a run whose loss becomes NaN / inf stops there.

    PYTHONPATH=. python examples/batch_norm_effect.py --out runs/batch_norm
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


def mnist_train_val(limit, val_fraction, seed):
    """Flattened, standardised float32 mnist-mini (x_train, y_train, x_val, y_val); the
    validation rows are a stratified share of the training split, the training rows are
    then cut to ``limit``."""
    images, labels = load_bundled("mnist-mini", train=True)
    x = images.numpy().reshape(len(labels), -1).astype(np.float32) / 255.0
    x = (x - x.mean()) / x.std()
    y = labels.numpy()
    train, val = stratified_split(y, val_fraction, seed=seed)
    train = train[:limit]
    return (minidl.from_numpy(x[train]), minidl.from_numpy(y[train]),
            minidl.from_numpy(x[val]), minidl.from_numpy(y[val]))


def mlp(depth, width, batch_norm, in_features=784, classes=10):
    """``depth`` hidden blocks Linear(-BatchNorm1d)-ReLU and a Linear head."""
    layers, size = [], in_features
    for _ in range(depth):
        layers.append(nn.Linear(size, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        size = width
    return nn.Sequential(*layers, nn.Linear(size, classes))


def accuracy(model, x, y):
    model.eval()
    with minidl.no_grad():
        correct = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return correct


def train(batch_norm, lr, data, args):
    """Returns {"loss": per-step training loss, "val_acc": per-epoch validation accuracy,
    "diverged_at": the step whose loss was NaN / inf (the run stops there) or None}."""
    x, y, x_val, y_val = data
    minidl.manual_seed(args.seed)
    model = mlp(args.depth, args.width, batch_norm)
    optimizer = minidl.optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(args.seed)
    losses, val_acc, diverged_at = [], [], None
    for _ in range(args.epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(order) - args.batch_size + 1, args.batch_size):
            rows = minidl.from_numpy(order[start:start + args.batch_size])
            with np.errstate(over="ignore", invalid="ignore"):
                loss = F.cross_entropy(model(x[rows]), y[rows])
            losses.append(loss.item())
            if not np.isfinite(losses[-1]):
                diverged_at = len(losses) - 1
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if diverged_at is not None:
            break
        val_acc.append(accuracy(model, x_val, y_val))
    return {"loss": np.array(losses), "val_acc": np.array(val_acc), "diverged_at": diverged_at}


def smooth(values, window=20):
    """Moving average over ``window`` steps."""
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot(runs, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for (batch_norm, lr), run in runs.items():
        label = f"{'with' if batch_norm else 'without'} BN, lr={lr:g}"
        style = "-" if batch_norm else "--"
        a.plot(smooth(run["loss"]), style, label=label)
        b.plot(np.arange(1, len(run["val_acc"]) + 1), run["val_acc"], style, marker="o",
               label=label)
    a.set(xlabel="SGD step", ylabel="training loss (moving average)", yscale="log",
          ylim=(None, 10), title="(a) training loss (a diverging run leaves the top)")
    b.set(xlabel="epoch", ylabel="validation accuracy", title="(b) validation accuracy")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--depth", type=int, default=4, help="hidden layers")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--lrs", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=8000, help="training rows")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a few seconds: 1500 rows, 2 epochs")
    p.add_argument("--out", default=os.path.join("runs", "batch_norm"))
    args = p.parse_args(argv)
    if args.quick:
        args.limit, args.epochs = 1500, 2
    return args


def main(argv=None):
    """Returns {"runs": {(batch_norm, lr): {"loss", "val_acc"}}, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    data = mnist_train_val(args.limit, args.val_fraction, args.seed)
    runs = {(batch_norm, lr): train(batch_norm, lr, data, args)
            for lr in args.lrs for batch_norm in (False, True)}
    path = os.path.join(args.out, "batch_norm_effect.png")
    plot(runs, path)
    for (batch_norm, lr), run in runs.items():
        name = f"{'with' if batch_norm else 'without':7s} BN  lr={lr:<5g}"
        if run["diverged_at"] is not None:
            print(f"{name} diverged: loss not finite at step {run['diverged_at']}")
            continue
        tail = run["loss"][-max(1, len(run["loss"]) // 10):].mean()
        print(f"{name} final loss (last 10% of steps) {tail:.4f}  "
              f"validation accuracy {run['val_acc'][-1]:.4f}")
    print(f"figure: {path}")
    return {"runs": runs, "figure": path}


if __name__ == "__main__":
    main()
