"""SGD, momentum, RMSprop and Adam on 2-D loss surfaces: the paths they take.

Each optimiser of ``minidl.optim`` moves one 2-element parameter tensor theta = (x, y):

    SGD       theta -= lr g
    momentum  v = beta v + g,  theta -= lr v                       (Polyak 1964)
    RMSprop   s = rho s + (1 - rho) g^2,  theta -= lr g / (sqrt(s) + eps)   (Hinton 2012)
    Adam      m, s as above with bias correction, theta -= lr m_hat / (sqrt(s_hat) + eps)
                                                                    (Kingma & Ba 2015)

on (a) an elongated quadratic f = (x^2 + kappa y^2) / 2 (condition number kappa): SGD's lr must
stay below 2 / kappa for the steep y direction, so it crawls along the shallow x direction;
momentum accumulates speed along x, and RMSprop / Adam rescale each coordinate; and on
(b) Rosenbrock's valley f = (1 - x)^2 + 100 (y - x^2)^2, minimum (1, 1), ten times as many
steps (its curved valley is slow for all of them). The figure (--out,
default runs/optimizer_paths/optimizer_paths.png) draws the paths on the contour plots, and
the distance to the minimum per step.

    PYTHONPATH=. python examples/optimizer_paths.py --out runs/optimizer_paths
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minidl  # noqa: E402


def quadratic(kappa):
    def f(theta):
        return (theta[0] ** 2 + kappa * theta[1] ** 2) / 2
    return f


def rosenbrock(theta):
    return (1 - theta[0]) ** 2 + 100 * (theta[1] - theta[0] ** 2) ** 2


# surface: (function, start, minimum, {optimiser: (class, keywords)}, plot box, step factor)
def surfaces(kappa):
    sgd_lr = 1.8 / kappa
    return {
        f"quadratic, kappa={kappa:g}": (
            quadratic(kappa), (-4.0, 1.0), (0.0, 0.0), {
                "SGD": (minidl.optim.SGD, {"lr": sgd_lr}),
                "momentum": (minidl.optim.SGD, {"lr": sgd_lr / 4, "momentum": 0.9}),
                "RMSprop": (minidl.optim.RMSprop, {"lr": 0.05}),
                "Adam": (minidl.optim.Adam, {"lr": 0.1}),
            }, ((-4.5, 1.0), (-1.5, 1.5)), 1),
        "Rosenbrock": (
            rosenbrock, (-1.5, 2.0), (1.0, 1.0), {
                "SGD": (minidl.optim.SGD, {"lr": 5e-4}),
                "momentum": (minidl.optim.SGD, {"lr": 2e-4, "momentum": 0.9}),
                "RMSprop": (minidl.optim.RMSprop, {"lr": 0.01}),
                "Adam": (minidl.optim.Adam, {"lr": 0.05}),
            }, ((-2.0, 2.0), (-1.0, 3.0)), 10),
    }


def path(f, start, optimizer_class, keywords, steps):
    """The (steps + 1, 2) array of iterates of ``optimizer_class(**keywords)`` on ``f``."""
    theta = minidl.tensor(list(start), dtype=minidl.float64, requires_grad=True)
    optimizer = optimizer_class([theta], **keywords)
    points = [theta.detach().numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(theta).backward()
        optimizer.step()
        points.append(theta.detach().numpy().copy())
    return np.array(points)


def plot(results, boxes, path_png):
    fig, axes = plt.subplots(2, len(results), figsize=(6 * len(results), 9))
    for col, (name, (f, runs, minimum)) in enumerate(results.items()):
        (x0, x1), (y0, y1) = boxes[name]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        z = f(np.stack([gx, gy]))
        top, bottom = axes[0, col], axes[1, col]
        top.contour(gx, gy, np.log1p(z), levels=30, cmap="Greys", linewidths=0.6)
        for label, points in runs.items():
            top.plot(points[:, 0], points[:, 1], marker=".", ms=2, lw=1, label=label)
            bottom.semilogy(np.linalg.norm(points - np.array(minimum), axis=1), label=label)
        top.plot(*minimum, "k*", ms=12)
        top.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y", title=name)
        bottom.set(xlabel="step", ylabel="||theta - theta*||", title=f"{name}: distance")
        top.legend(fontsize=8)
        bottom.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path_png, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kappa", type=float, default=50.0, help="condition number of (a)")
    p.add_argument("--steps", type=int, default=300, help="steps on (a); 10x as many on (b)")
    p.add_argument("--quick", action="store_true", help="100 steps")
    p.add_argument("--out", default=os.path.join("runs", "optimizer_paths"))
    args = p.parse_args(argv)
    if args.quick:
        args.steps = 100
    return args


def main(argv=None):
    """Returns {"paths": {surface: {optimiser: (steps + 1, 2) iterates}},
    "distance": {surface: {optimiser: final ||theta - theta*||}}, "figure": path}."""
    args = parse(argv)
    os.makedirs(args.out, exist_ok=True)
    results, boxes, paths, distance = {}, {}, {}, {}
    for name, (f, start, minimum, optimisers, box, factor) in surfaces(args.kappa).items():
        steps = args.steps * factor
        paths[name] = {label: path(f, start, cls, kw, steps)
                       for label, (cls, kw) in optimisers.items()}
        distance[name] = {label: float(np.linalg.norm(p[-1] - np.array(minimum)))
                          for label, p in paths[name].items()}
        results[name], boxes[name] = (f, paths[name], minimum), box
        print(f"{name}: distance to the minimum after {steps} steps: " + ", ".join(
            f"{label} {d:.2e}" for label, d in distance[name].items()))
    path_png = os.path.join(args.out, "optimizer_paths.png")
    plot(results, boxes, path_png)
    print(f"figure: {path_png}")
    return {"paths": paths, "distance": distance, "figure": path_png}


if __name__ == "__main__":
    main()
