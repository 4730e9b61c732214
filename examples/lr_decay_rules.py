"""The course's learning-rate decay rules: their lr curves and their effect on training.

``minidl.optim.course_schedules`` (alpha0 the initial lr, epoch counting scheduler steps):

    inverse_time_decay   alpha = alpha0 / (1 + decay_rate * epoch)
    exponential_decay    alpha = base^epoch * alpha0
    inverse_sqrt_decay   alpha = k / sqrt(epoch + 1) * alpha0
    staircase_decay      alpha = alpha0 * base^floor(epoch / decay_step)
    linear_warmup        alpha = alpha0 * (epoch + 1) / (W + 1) up to epoch W, then alpha0

A large constant lr makes fast early progress and then rattles around the minimum with the
mini-batch noise; decaying the lr (Robbins & Monro 1951) trades late speed for a smaller
noise floor, and warm-up (Goyal et al. 2017) starts gently. The same MLP (same seed, same
batch order) is trained on mnist-mini with SGD under each rule, the scheduler stepped once
per epoch. The figure (--out, default runs/lr_decay/lr_decay_rules.png) shows (a) the lr per
epoch and (b) the training loss on the whole training set after each epoch.

    PYTHONPATH=. python examples/lr_decay_rules.py --out runs/lr_decay
"""
import argparse
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl.optim import course_schedules  # noqa: E402
from minidl.vision.datasets import load_bundled  # noqa: E402


def rules(args):
    """{label: (scheduler factory on an optimizer or None for a constant lr,
    closed form epoch -> lr)}."""
    a0 = args.lr
    return {
        "constant": (None, lambda e: a0),
        f"inverse_time (rate {args.decay_rate:g})": (
            lambda o: course_schedules.inverse_time_decay(o, args.decay_rate),
            lambda e: a0 / (1 + args.decay_rate * e)),
        f"exponential (base {args.base:g})": (
            lambda o: course_schedules.exponential_decay(o, args.base),
            lambda e: args.base ** e * a0),
        "inverse_sqrt (k 1)": (
            lambda o: course_schedules.inverse_sqrt_decay(o, 1.0),
            lambda e: a0 / math.sqrt(e + 1)),
        f"staircase (base 0.5, every {args.decay_step})": (
            lambda o: course_schedules.staircase_decay(o, 0.5, decay_step=args.decay_step),
            lambda e: a0 * 0.5 ** (e // args.decay_step)),
        f"linear_warmup ({args.warmup} epochs)": (
            lambda o: course_schedules.linear_warmup(o, args.warmup),
            lambda e: a0 * (min(e, args.warmup) + 1) / (args.warmup + 1)),
    }


def mnist_rows(limit):
    images, labels = load_bundled("mnist-mini", train=True)
    x = images.numpy()[:limit].reshape(-1, 784).astype(np.float32) / 255.0
    x = (x - x.mean()) / x.std()
    return minidl.from_numpy(x), labels[:limit]


def train(make_scheduler, x, y, args):
    """Returns (lr used in each epoch, full-set training loss after each epoch, with the
    initial loss first)."""
    minidl.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    optimizer = minidl.optim.SGD(model.parameters(), lr=args.lr)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    rng = np.random.default_rng(args.seed)

    def full_loss():
        with minidl.no_grad():
            return F.cross_entropy(model(x), y).item()

    lrs, losses = [], [full_loss()]
    for _ in range(args.epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        order = rng.permutation(len(y))
        for start in range(0, len(order), args.batch_size):
            rows = minidl.from_numpy(order[start:start + args.batch_size])
            optimizer.zero_grad()
            F.cross_entropy(model(x[rows]), y[rows]).backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(full_loss())
    return np.array(lrs), np.array(losses)


def plot(results, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, run in results.items():
        a.plot(np.arange(len(run["lr"])), run["lr"], marker=".", label=label)
        b.semilogy(np.arange(len(run["loss"])), run["loss"], marker=".", label=label)
    a.set(xlabel="epoch", ylabel="learning rate", title="(a) lr of each rule")
    b.set(xlabel="epoch", ylabel="training loss (whole training set)",
          title="(b) training loss, same model and batches")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lr", type=float, default=0.5, help="alpha0 (large on purpose)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--decay-rate", type=float, default=0.5)
    p.add_argument("--base", type=float, default=0.9)
    p.add_argument("--decay-step", type=int, default=5)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--limit", type=int, default=4000, help="training rows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a few seconds: 1000 rows, 10 epochs")
    p.add_argument("--out", default=os.path.join("runs", "lr_decay"))
    args = p.parse_args(argv)
    if args.quick:
        args.limit, args.epochs = 1000, 10
    return args


def main(argv=None):
    """Returns {"runs": {label: {"lr", "closed_form", "loss"}}, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    x, y = mnist_rows(args.limit)
    results = {}
    for label, (make_scheduler, closed_form) in rules(args).items():
        lrs, losses = train(make_scheduler, x, y, args)
        results[label] = {"lr": lrs, "loss": losses,
                          "closed_form": np.array([closed_form(e) for e in range(args.epochs)])}
        print(f"{label:32s} lr {lrs[0]:.4f} -> {lrs[-1]:.4f}  training loss "
              f"{losses[0]:.4f} -> {losses[-1]:.4f}")
    path = os.path.join(args.out, "lr_decay_rules.png")
    plot(results, path)
    print(f"figure: {path}")
    return {"runs": results, "figure": path}


if __name__ == "__main__":
    main()
