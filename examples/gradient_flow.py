"""Gradient flow through a deep MLP: vanishing / exploding norms by layer, and symmetry.

Backpropagation through L layers a_l = f(z_l), z_l = W_l a_{l-1} + b_l multiplies one factor
per layer,

    dL/da_{l-1} = W_l^T (f'(z_l) * dL/da_l),   dL/dW_l = (f'(z_l) * dL/da_l) a_{l-1}^T,

so ||dL/dW_l|| shrinks or grows geometrically towards the input when the typical gain
||W_l|| * |f'| per layer is below or above 1 (Hochreiter 1991; Glorot & Bengio 2010). A
sigmoid has f' <= 1/4; N(0, 0.01^2) weights make every factor about 0.01 sqrt(n) / 4, and
N(0, 1) weights under ReLU about sqrt(n / 2). Xavier (Var W = 2 / (n_in + n_out), Glorot &
Bengio 2010) and He (Var W = 2 / n_in for ReLU, He et al. 2015) keep the factor near 1.

Symmetry: if every weight of a layer starts equal, every hidden unit computes the same value
and receives the same gradient, so the units stay identical for ever: the layer behaves as one
unit. A random initialisation breaks the symmetry.

The figure (--out, default runs/gradient_flow/gradient_flow.png) has two panels:
(a) ||dL/dW_l|| against l (log scale), on one batch of mnist-mini, float64, for a
    ``--depth``-layer MLP of width ``--width``, sigmoid / ReLU x naive / Xavier / He;
    (sigmoid vanishes towards the input; ReLU with N(0, 1) explodes: the activations grow
    forward and the deltas backward, so every layer's norm is huge);
(b) the spread of the first hidden layer's weight rows, max_jk |w_jk - w_0k|, during SGD
    training from all-equal and from random weights.

    PYTHONPATH=. python examples/gradient_flow.py --out runs/gradient_flow
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
from minidl.vision.datasets import load_bundled  # noqa: E402

# label: (activation, initialiser of a weight tensor)
SETTINGS = {
    "sigmoid, N(0, 0.01^2)": (nn.Sigmoid, lambda w: nn.init.normal_(w, std=0.01)),
    "sigmoid, Xavier": (nn.Sigmoid, nn.init.xavier_normal_),
    "ReLU, N(0, 1)": (nn.ReLU, lambda w: nn.init.normal_(w, std=1.0)),
    "ReLU, He": (nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
}


def mnist_batch(n, train=True):
    """n mnist-mini images as float64 rows scaled to mean 0, std 1 per pixel set, and labels."""
    images, labels = load_bundled("mnist-mini", train=train)
    x = images.numpy()[:n].reshape(n, -1).astype(np.float64) / 255.0
    x = (x - x.mean()) / x.std()
    return minidl.from_numpy(x), labels[:n]


def deep_mlp(depth, width, activation, init, in_features=784, classes=10):
    """``depth`` Linear layers (float64), ``activation`` after each but the last, weights by
    ``init``, biases zero."""
    layers, sizes = [], [in_features] + [width] * (depth - 1) + [classes]
    for i in range(depth):
        linear = nn.Linear(sizes[i], sizes[i + 1], dtype=minidl.float64)
        init(linear.weight)
        nn.init.zeros_(linear.bias)
        layers += [linear] + ([activation()] if i < depth - 1 else [])
    return nn.Sequential(*layers)


def layer_gradient_norms(model, x, y):
    """||dL/dW_l|| (Frobenius) of every Linear layer, first to last, for the cross-entropy."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return np.array([float(np.linalg.norm(m.weight.grad.numpy()))
                     for m in model if isinstance(m, nn.Linear)])


def gradient_norms(depth, width, batch, seed):
    """Panel (a): {label: per-layer gradient norms}."""
    x, y = mnist_batch(batch)
    norms = {}
    for label, (activation, init) in SETTINGS.items():
        minidl.manual_seed(seed)
        norms[label] = layer_gradient_norms(deep_mlp(depth, width, activation, init), x, y)
    return norms


def row_spread(weight):
    """max_jk |w_jk - w_0k| over the rows (hidden units) j of a weight matrix."""
    w = weight.detach().numpy()
    return float(np.abs(w - w[0]).max())


def symmetry_run(equal, steps, hidden, batch, lr, seed):
    """Train a 784-hidden-hidden-10 sigmoid MLP with SGD; returns (spread of the first layer's
    rows per step, final first-layer weights). ``equal``: every weight and bias 0.05."""
    x, y = mnist_batch(batch)
    minidl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, hidden), nn.Sigmoid(), nn.Linear(hidden, hidden),
                          nn.Sigmoid(), nn.Linear(hidden, 10)).double()
    if equal:
        for p in model.parameters():
            nn.init.constant_(p, 0.05)
    optimizer = minidl.optim.SGD(model.parameters(), lr=lr)
    spread = [row_spread(model[0].weight)]
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        spread.append(row_spread(model[0].weight))
    return np.array(spread), model[0].weight.detach().numpy().copy()


def plot(norms, spreads, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for label, values in norms.items():
        a.semilogy(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label)
    a.set(xlabel="layer l (1 = input side)", ylabel="||dL/dW_l||",
          title="(a) gradient norm by layer, one batch")
    a.legend(fontsize=8)
    for label, values in spreads.items():
        b.plot(values, label=label)
    b.set(xlabel="SGD step", ylabel="max_jk |w_jk - w_0k|",
          title="(b) first hidden layer: units' weight spread")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--depth", type=int, default=15, help="number of Linear layers")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=200, help="SGD steps of the symmetry runs")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a few seconds: 20 symmetry steps")
    p.add_argument("--out", default=os.path.join("runs", "gradient_flow"))
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.batch_size = 20, 64
    return args


def main(argv=None):
    """Returns {"norms": {label: per-layer norms}, "spread": {"equal" | "random": per step},
    "weights": {"equal" | "random": final first-layer weights}, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    norms = gradient_norms(args.depth, args.width, args.batch_size, args.seed)
    spreads, weights = {}, {}
    for name, equal in (("equal", True), ("random", False)):
        spreads[name], weights[name] = symmetry_run(equal, args.steps, args.hidden,
                                                    args.batch_size, args.lr, args.seed)
    path = os.path.join(args.out, "gradient_flow.png")
    plot(norms, {"all weights 0.05": spreads["equal"], "torch default (random)":
                 spreads["random"]}, path)
    for label, values in norms.items():
        print(f"{label:24s} ||dL/dW_1|| = {values[0]:.3e}  ||dL/dW_L|| = {values[-1]:.3e}  "
              f"ratio first/last = {values[0] / values[-1]:.3e}")
    print(f"equal init: unit spread after {args.steps} steps {spreads['equal'][-1]:.3e}; "
          f"random init: {spreads['random'][-1]:.3e}")
    print(f"figure: {path}")
    return {"norms": norms, "spread": spreads, "weights": weights, "figure": path}


if __name__ == "__main__":
    main()
