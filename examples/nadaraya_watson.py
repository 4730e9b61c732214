"""Attention as kernel regression: Nadaraya-Watson with a fixed and with a learned kernel.

Nadaraya (1964) and Watson (1964) predict at a query x by averaging the training targets
y_i with weights from a kernel of the distance to the keys x_i. With a Gaussian kernel the
weights are a softmax over the training points -- attention, with x the query, the x_i
the keys and the y_i the values:

    f(x) = sum_i softmax_i(-(x - x_i)^2 / 2) y_i                       (a) fixed width
    f(x) = sum_i softmax_i(-((x - x_i) w)^2 / 2) y_i                   (b) learned w

The data are n_train noisy samples of y = 2 sin(x) + x^0.8 + N(0, 0.5^2) on [0, 5]
(seeded). w starts at 1 (the fixed kernel) and is trained by minidl autograd and SGD on the
leave-one-out MSE over the training points: each training point is predicted from the
others only (its own weight is masked out of the softmax), since with itself as a key a
narrow enough kernel would just copy its noisy target. Both are scored by the MSE against
the noise-free function on a grid of test points.

The figure (--out, default runs/nadaraya_watson/nadaraya_watson.png) shows (left) the data,
the true function and both fits; (middle, right) the attention weights of the test points
(rows, by x) over the training points (columns, sorted by x_i) for each kernel.

    PYTHONPATH=. python examples/nadaraya_watson.py --out runs/nadaraya_watson
"""
import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minidl  # noqa: E402
import minidl.nn as nn  # noqa: E402


def true_function(x):
    return 2 * np.sin(x) + x ** 0.8


def make_data(n_train, n_test, noise, seed):
    """Sorted training inputs uniform on [0, 5] with noisy targets; an even test grid."""
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(0, 5, n_train))
    y_train = true_function(x_train) + rng.normal(0, noise, n_train)
    x_test = np.linspace(0, 5, n_test, endpoint=False)
    return x_train, y_train, x_test, true_function(x_test)


def attention_weights(queries, keys, w=1.0, leave_one_out=False):
    """softmax over the keys of -((query - key) w)^2 / 2, (n_queries, n_keys); with
    ``leave_one_out`` (queries are the keys) each point's weight on itself is zero."""
    scores = -((queries.unsqueeze(1) - keys.unsqueeze(0)) * w) ** 2 / 2
    if leave_one_out:
        scores = scores.masked_fill(minidl.eye(len(keys), dtype=minidl.bool), float("-inf"))
    return scores.softmax(dim=1)


class NadarayaWatson(nn.Module):
    """The kernel regression with one learned width ``w`` (initialised to 1)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(minidl.ones(1, dtype=minidl.float64))

    def forward(self, queries, keys, values, leave_one_out=False):
        weights = attention_weights(queries, keys, self.w, leave_one_out)
        return weights @ values, weights


def train(model, x_train, y_train, steps, lr):
    """Full-batch SGD on the leave-one-out MSE; returns the loss per step."""
    optimizer = minidl.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        prediction, _ = model(x_train, x_train, y_train, leave_one_out=True)
        loss = ((prediction - y_train) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def plot(path, data, fits, weights):
    x_train, y_train, x_test, y_true = data
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    axes[0].plot(x_train, y_train, "o", ms=3, color="0.5", label="training data")
    axes[0].plot(x_test, y_true, "k-", lw=1, label="true function")
    for (name, fit), style in zip(fits.items(), ("C0--", "C3-")):
        axes[0].plot(x_test, fit, style, label=name)
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("y")
    axes[0].legend(fontsize=8)
    axes[0].set_title("Nadaraya-Watson kernel regression")
    for ax, (name, w) in zip(axes[1:], weights.items()):
        image = ax.imshow(w, aspect="auto", cmap="Reds", origin="lower",
                          extent=(-0.5, len(x_train) - 0.5, x_test[0], x_test[-1]))
        fig.colorbar(image, ax=ax)
        ax.set_xlabel("training point i, sorted by x_i (keys)")
        ax.set_ylabel("test input x (queries)")
        ax.set_title(f"attention weights: {name}")
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-train", type=int, default=50)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--noise", type=float, default=0.5, help="standard deviation of the noise")
    p.add_argument("--steps", type=int, default=1000, help="full-batch SGD steps on w")
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a second: 40 SGD steps")
    p.add_argument("--out", default=os.path.join("runs", "nadaraya_watson"))
    args = p.parse_args(argv)
    if args.quick:
        args.steps = 40
    if args.n_train < 2 or args.n_test < 1 or args.steps < 1 or args.lr <= 0:
        p.error("--n-train must be >= 2, --n-test and --steps >= 1, --lr > 0")
    return args


def main(argv=None):
    """Fit both kernels; returns the test MSEs, the learned w, the weights and the paths."""
    args = parse(argv)
    start = time.time()
    data = make_data(args.n_train, args.n_test, args.noise, args.seed)
    x_train, y_train, x_test, y_true = (minidl.from_numpy(a) for a in data)
    model = NadarayaWatson()
    losses = train(model, x_train, y_train, args.steps, args.lr)
    with minidl.no_grad():
        fixed_weights = attention_weights(x_test, x_train)
        learned_fit, learned_weights = model(x_test, x_train, y_train)
    fixed_fit = fixed_weights @ y_train
    w = abs(model.w.item())
    results = {
        "mse_fixed": float(((fixed_fit - y_true) ** 2).mean()),
        "mse_learned": float(((learned_fit - y_true) ** 2).mean()),
        "w": w, "loo_mse_first": losses[0], "loo_mse_last": losses[-1], "steps": args.steps,
    }
    print(f"leave-one-out training MSE: {losses[0]:.4f} (w = 1) -> {losses[-1]:.4f} "
          f"after {args.steps} SGD steps; learned |w| = {w:.3f}")
    print(f"test MSE against the true function: fixed kernel {results['mse_fixed']:.4f}, "
          f"learned kernel {results['mse_learned']:.4f}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "nadaraya_watson.png")
    plot(path, data, {"fixed kernel (w = 1)": fixed_fit.numpy(),
                      f"learned kernel (w = {w:.2f})": learned_fit.numpy()},
         {"fixed (w = 1)": fixed_weights.numpy(), f"learned (w = {w:.2f})":
          learned_weights.numpy()})
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {path} ({time.time() - start:.1f} s in all)")
    return {**results, "figure": path, "losses": losses,
            "weights": {"fixed": fixed_weights.numpy(), "learned": learned_weights.numpy()}}


if __name__ == "__main__":
    main()
