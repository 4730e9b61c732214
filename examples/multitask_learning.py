"""Multi-task learning: one conv trunk, two heads, a weighted sum of the two losses.

Tasks learned together from a shared representation can help each other: what one task
needs the trunk to see acts as an inductive bias (and extra signal) for the other
(Caruana 1997, "Multitask Learning"). Here a small conv trunk on mnist-mini digits feeds

* head 1: the digit class, 10-way cross-entropy L1, and
* head 2: its parity (odd = 1), one logit with binary cross-entropy L2,

trained on L = w1 * L1 + w2 * L2 (``--weights w1 w2``). The single-task nets are the same
two-head net with the other weight set to 0 (same size, same initial weights, same batches,
same epochs; the unused head then gets zero gradients and Adam leaves it untouched).

What it measures on mnist-mini (2000 training rows, seeds 0-2): one shared trunk does
both jobs as well as two separate nets, at half the cost -- digit test accuracy 0.955-0.965
against 0.958-0.965 alone, parity 0.973-0.977 against 0.966-0.976 alone (a small gain on
parity, none on the digit). In the first epochs the multi-task parity head lags: the digit
loss dominates the shared trunk's gradient.

The training rows are a stratified subset of mnist-mini's training split, the validation
set a disjoint stratified share (``minidl.train.stratified_split``) measured after every
epoch; the test split is read once, at the end, with each run's last weights. The figure
(--out, default runs/multitask_learning/multitask_learning.png) shows validation accuracy
of both tasks per epoch.

    PYTHONPATH=. python examples/multitask_learning.py --weights 1.0 0.5
"""
import argparse
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
from minidl.vision.datasets import Bundled  # noqa: E402

TASKS = ("digit", "parity")
FULL = {"train_rows": 2000, "epochs": 15, "val_fraction": 0.1}
QUICK = {"train_rows": 1000, "epochs": 8, "val_fraction": 0.05}


class TwoHeadNet(nn.Module):
    """A LeNet-like trunk (two conv-ReLU-pool stages, a 64-unit hidden layer) and two
    linear heads: 10 digit logits and one parity logit."""

    def __init__(self, hidden=64):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, hidden), nn.ReLU())
        self.digit_head = nn.Linear(hidden, 10)
        self.parity_head = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.digit_head(h), self.parity_head(h).squeeze(1)


def losses(model, x, digits, weights):
    """(L, L1, L2): L = w1 * L1 + w2 * L2, L1 the digit cross-entropy, L2 the parity
    binary cross-entropy (with logits) of ``model`` on the batch."""
    digit_logits, parity_logit = model(x)
    l1 = F.cross_entropy(digit_logits, digits)
    l2 = F.binary_cross_entropy_with_logits(parity_logit, (digits % 2).float())
    return weights[0] * l1 + weights[1] * l2, l1, l2


def accuracies(model, x, digits):
    """{"digit": accuracy, "parity": accuracy} in eval mode."""
    model.eval()
    with minidl.no_grad():
        digit_logits, parity_logit = model(x)
        result = {"digit": (digit_logits.argmax(dim=1) == digits).float().mean().item(),
                  "parity": ((parity_logit > 0).long() == digits % 2).float().mean().item()}
    model.train()
    return result


def load_data(args):
    """{"train", "val", "test"}: (x, digits) pairs, normalized by the training rows."""
    train_set = Bundled("mnist-mini", train=True)
    x, y = train_set.to_tensors()
    labels = y.numpy()
    rest, val = stratified_split(labels, args.val_fraction, seed=args.seed)
    _, subset = stratified_split(labels[rest], args.train_rows / len(rest), seed=args.seed)
    train = rest[subset]
    mean, std = float(x.numpy()[train].mean()), float(x.numpy()[train].std())
    x, y = train_set.to_tensors(mean, std)
    pick = {name: minidl.from_numpy(rows) for name, rows in (("train", train), ("val", val))}
    return {**{name: (x[rows], y[rows]) for name, rows in pick.items()},
            "test": Bundled("mnist-mini", train=False).to_tensors(mean, std)}


def train(weights, data, args):
    """{"model", "loss", "l1", "l2": per-epoch means over the training batches,
    "val": {task: per-epoch accuracy}, "test": {task: accuracy of the last weights}}."""
    minidl.manual_seed(args.seed)
    model = TwoHeadNet(args.hidden)
    optimizer = minidl.optim.Adam(model.parameters(), lr=args.lr)
    (x, y), (x_val, y_val) = data["train"], data["val"]
    rng = np.random.default_rng(args.seed)
    log = {"loss": [], "l1": [], "l2": [], "val": {task: [] for task in TASKS}}
    for _ in range(args.epochs):
        sums, order = np.zeros(3), rng.permutation(len(y))
        for start in range(0, len(order), args.batch_size):
            rows = minidl.from_numpy(order[start:start + args.batch_size])
            optimizer.zero_grad()
            parts = losses(model, x[rows], y[rows], weights)
            parts[0].backward()
            optimizer.step()
            sums += [p.item() * len(rows) for p in parts]
        for key, value in zip(("loss", "l1", "l2"), sums / len(y)):
            log[key].append(value)
        for task, acc in accuracies(model, x_val, y_val).items():
            log["val"][task].append(acc)
    return {"model": model, **{k: np.array(log[k]) for k in ("loss", "l1", "l2")},
            "val": {task: np.array(v) for task, v in log["val"].items()},
            "test": accuracies(model, *data["test"])}


def plot(runs, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, task, single in zip(axes, TASKS, ("digit only", "parity only")):
        for label, color in ((single, "tab:gray"), ("multi-task", "tab:red")):
            acc = runs[label]["val"][task]
            ax.plot(np.arange(1, len(acc) + 1), acc, color=color,
                    label=f"{label} (test {runs[label]['test'][task]:.3f})")
        ax.set(xlabel="epoch", ylabel="validation accuracy", title=f"{task} head")
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", type=float, nargs=2, default=[1.0, 0.5],
                   metavar=("W1", "W2"), help="loss weights of the digit and parity tasks")
    p.add_argument("--train-rows", type=int, help="default 2000 (quick: 1000)")
    p.add_argument("--val-fraction", type=float, help="default 0.1 (quick: 0.05)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--epochs", type=int, help="default 15 (quick: 8)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="a few seconds: 1000 training rows, 8 epochs, a 5%% val set")
    p.add_argument("--out", default=os.path.join("runs", "multitask_learning"))
    args = p.parse_args(argv)
    if any(w < 0 for w in args.weights) or not any(args.weights):
        p.error(f"--weights must be non-negative and not both 0, got {args.weights}")
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    """Returns {"runs": {"multi-task" | "digit only" | "parity only": train()'s dict},
    "weights": (w1, w2), "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    data = load_data(args)
    w1, w2 = args.weights
    runs = {label: train(weights, data, args) for label, weights in
            (("multi-task", (w1, w2)), ("digit only", (w1 or 1.0, 0.0)),
             ("parity only", (0.0, w2 or 1.0)))}
    path = os.path.join(args.out, "multitask_learning.png")
    plot(runs, path)
    print(f"{len(data['train'][1])} training rows, {len(data['val'][1])} validation, "
          f"{len(data['test'][1])} test; L = {w1:g} * L_digit + {w2:g} * L_parity")
    for label, run in runs.items():
        tasks = TASKS if label == "multi-task" else (label.split()[0],)
        print(f"{label:>11}: " + "  ".join(
            f"{task} val {run['val'][task][-1]:.4f} test {run['test'][task]:.4f}"
            for task in tasks))
    print(f"figure: {path}  ({time.perf_counter() - t0:.1f} s)")
    return {"runs": runs, "weights": (w1, w2), "figure": path}


if __name__ == "__main__":
    main()
