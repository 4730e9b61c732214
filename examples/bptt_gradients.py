"""Backpropagation through time: vanishing and exploding gradients, made visible.

Backpropagating a loss read at the last step T through a recurrence h_t = f(h_{t-1}, x_t)
multiplies one Jacobian per step,

    dL/dx_t = dL/dh_T (prod_{s=t+1..T} dh_s/dh_{s-1}) dh_t/dx_t,
    tanh RNN:  dh_s/dh_{s-1} = diag(1 - h_s^2) W_hh,

so the norm falls or grows geometrically in T - t as these factors are below or above 1
(Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013). An LSTM's cell path has
dc_s/dc_{s-1} = diag(f_s), the forget gate (Hochreiter & Schmidhuber 1997): with torch's
default initialisation f is about sigmoid(0) = 0.5, and a forget-gate bias b_f (Gers et al.
2000; Jozefowicz et al. 2015) raises it to sigmoid(b_f).

The figure (--out, default runs/bptt/bptt.png) has five panels:

(a) ||dL/dx_t|| against t (log scale, float64, L = ||h_T||^2 / 2) for a tanh ``nn.RNN`` and
    an ``nn.LSTM`` of the same hidden size on the same random input sequence, the LSTM with
    its default initialisation and with b_f = 1 and 3; by ``autograd.grad`` on the input;
(b) the same for the RNN with W_hh = s Q (Q orthogonal, so the spectral radius is s);
(c) training a tanh RNN on next-step prediction of noisy sines (frequency and phase vary per
    sequence and must be read from the history) with SGD (momentum 0.9) at a large learning
    rate, with and without ``nn.utils.clip_grad_norm_``: the loss,
(d) the gradient norm before clipping, and (e) the spectral radius of W_hh during training.

    PYTHONPATH=. python examples/bptt_gradients.py --out runs/bptt
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

FORGET_BIASES = (None, 1.0, 3.0)  # None: torch's default initialisation (b_f ~ 0)
SCALES = (0.5, 0.9, 1.0, 1.2, 1.5, 2.0)


def input_gradient_norms(layer, x):
    """||dL/dx_t|| over the batch and features, t = 0..T-1, for L = ||h_T||^2 / 2 of
    ``layer`` (an nn.RNN / nn.LSTM, time first) on ``x`` (T, N, F)."""
    x = x.detach().requires_grad_(True)
    out, _ = layer(x)
    loss = (out[-1] ** 2).sum() / 2
    (grad,) = minidl.autograd.grad(loss, x)
    return np.sqrt((grad.numpy() ** 2).sum(axis=(1, 2)))


def lstm_with_forget_bias(input_size, hidden, forget_bias, seed):
    """An nn.LSTM (float64) with its forget-gate bias (gate order i, f, g, o) set to
    ``forget_bias`` (b_ih's chunk; b_hh's is zeroed), or left as initialised when None."""
    minidl.manual_seed(seed)
    lstm = nn.LSTM(input_size, hidden, dtype=minidl.float64)
    if forget_bias is not None:
        with minidl.no_grad():
            lstm.bias_ih_l0[hidden:2 * hidden] = forget_bias
            lstm.bias_hh_l0[hidden:2 * hidden] = 0.0
    return lstm


def rnn_with_spectral_radius(input_size, hidden, scale, seed):
    """An nn.RNN (tanh, float64) with W_hh = scale * Q, Q a seeded random orthogonal matrix."""
    minidl.manual_seed(seed)
    rnn = nn.RNN(input_size, hidden, dtype=minidl.float64)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((hidden, hidden)))
    with minidl.no_grad():
        rnn.weight_hh_l0.copy_(minidl.from_numpy(scale * q))
    return rnn


def gradient_curves(steps, hidden, seed, input_size=4, batch=16):
    """Panels (a) and (b): {label: ||dL/dx_t||, t = 0..steps-1}."""
    minidl.manual_seed(seed)
    x = minidl.randn(steps, batch, input_size, dtype=minidl.float64)
    minidl.manual_seed(seed)
    models = {"RNN (tanh)": nn.RNN(input_size, hidden, dtype=minidl.float64)}
    for b in FORGET_BIASES:
        label = "LSTM, default init" if b is None else f"LSTM, forget bias {b:g}"
        models[label] = lstm_with_forget_bias(input_size, hidden, b, seed)
    cells = {name: input_gradient_norms(m, x) for name, m in models.items()}
    scales = {s: input_gradient_norms(rnn_with_spectral_radius(input_size, hidden, s, seed), x)
              for s in SCALES}
    return cells, scales


def noisy_sines(n, steps, rng, noise=0.1):
    """n sequences sin(2 pi f t + phase) + noise, f ~ U(0.02, 0.1), as (inputs (n, T, 1),
    next-step targets (n, T))."""
    f = rng.uniform(0.02, 0.1, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    s = np.sin(2 * np.pi * f * np.arange(steps + 1) + phase)
    s = (s + noise * rng.standard_normal(s.shape)).astype(np.float32)
    return minidl.from_numpy(s[:, :-1, None].copy()), minidl.from_numpy(s[:, 1:].copy())


class NextStep(nn.Module):
    """A tanh RNN with a linear read-out at every step."""

    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out).squeeze(-1)


def train_rnn(clip, args):
    """SGD on the next-step MSE; per step the loss, the gradient norm before clipping and the
    spectral radius of W_hh. Stops at the first non-finite loss (``diverged`` is that step)."""
    minidl.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = NextStep(args.hidden)
    opt = minidl.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    log = {"loss": [], "grad_norm": [], "radius": [], "diverged": None}
    with np.errstate(all="ignore"):  # the unclipped run overflows on purpose
        for step in range(args.train_steps):
            x, y = noisy_sines(args.batch_size, args.train_length, rng)
            loss = F.mse_loss(model(x), y)
            if not np.isfinite(loss.item()):
                log["diverged"] = step
                break
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(),
                                            clip if clip is not None else float("inf"))
            opt.step()
            log["loss"].append(loss.item())
            log["grad_norm"].append(float(norm))
            w = model.rnn.weight_hh_l0.detach().numpy()
            log["radius"].append(float(np.abs(np.linalg.eigvals(w)).max())
                                 if np.isfinite(w).all() else np.inf)
    return log


def decay_per_step(norms):
    """The geometric mean factor by which ||dL/dx_t|| changes per step back in time."""
    return float((norms[0] / norms[-1]) ** (1.0 / (len(norms) - 1)))


def plot(path, cells, scales, runs, args):
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    (a, b, c), (d, e, text) = axes
    t = np.arange(len(next(iter(cells.values()))))
    for name, n in cells.items():
        a.semilogy(t, n, label=name)
    a.set_title(f"(a) ||dL/dx_t||, L = ||h_T||^2/2, T = {len(t)}, hidden {args.hidden}")
    for s, n in scales.items():
        b.semilogy(t, n, label=f"spectral radius {s:g}")
    b.set_title("(b) tanh RNN with W_hh = s Q (Q orthogonal)")
    for ax in (a, b):
        ax.set_xlabel("input step t")
        ax.legend(fontsize=8)
    for name, log in runs.items():
        steps = np.arange(len(log["loss"]))
        line, = c.semilogy(steps, log["loss"], lw=0.9, label=name)
        d.semilogy(steps, log["grad_norm"], lw=0.9, color=line.get_color(), label=name)
        e.semilogy(steps, log["radius"], lw=1.2, color=line.get_color(), label=name)
        if log["diverged"] is not None:
            for ax, key in ((c, "loss"), (d, "grad_norm"), (e, "radius")):
                ax.plot(steps[-1], log[key][-1], "x", ms=10, color=line.get_color())
            c.annotate(f"loss non-finite at step {log['diverged']}", (steps[-1], log["loss"][-1]),
                       fontsize=8, xytext=(5, -12), textcoords="offset points")
    d.axhline(args.clip, color="gray", ls=":", label=f"max_norm {args.clip:g}")
    e.axhline(1.0, color="gray", ls=":")
    c.set_title(f"(c) training loss, SGD lr {args.lr:g} momentum 0.9, T = {args.train_length}")
    d.set_title("(d) gradient norm before clipping")
    e.set_title("(e) spectral radius of W_hh")
    for ax in (c, d, e):
        ax.set_xlabel("SGD step")
        ax.legend(fontsize=8)
    lines = [f"{name}: ||g_0|| / ||g_T-1|| = {n[0] / n[-1]:.2e}, x{decay_per_step(n):.3f} / step"
             for name, n in cells.items()]
    lines += [f"radius {s:g}: ratio {n[0] / n[-1]:.2e}" for s, n in scales.items()]
    text.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=8)
    text.set_title("measured: ||dL/dx_0|| / ||dL/dx_T-1||, factor per step", fontsize=10)
    text.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=85)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--length", type=int, default=100, help="sequence length of panels a, b")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--train-steps", type=int, default=600)
    p.add_argument("--train-length", type=int, default=50, help="training sequence length")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (large on purpose)")
    p.add_argument("--clip", type=float, default=0.25, help="clip_grad_norm_'s max_norm")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a few seconds: 60 steps of training")
    p.add_argument("--out", default=os.path.join("runs", "bptt"))
    args = p.parse_args(argv)
    if args.quick:
        args.length, args.train_steps = 60, 60
    if args.length < 2 or args.train_steps < 1 or args.train_length < 1 or args.clip <= 0:
        p.error("--length must be >= 2, --train-steps and --train-length >= 1, --clip > 0")
    return args


def main(argv=None):
    """Compute every panel; returns the figures (gradient norms per step, training logs,
    the figure's path)."""
    args = parse(argv)
    start = time.time()
    cells, scales = gradient_curves(args.length, args.hidden, args.seed)
    print(f"||dL/dx_0|| / ||dL/dx_T-1|| over T = {args.length} steps (float64):")
    for name, n in cells.items():
        print(f"  {name:22s} {n[0] / n[-1]:9.2e}  (x{decay_per_step(n):.3f} per step)")
    for s, n in scales.items():
        print(f"  RNN, spectral radius {s:<4g} {n[0] / n[-1]:9.2e}  (x{decay_per_step(n):.3f} "
              f"per step)")
    runs = {"no clipping": train_rnn(None, args),
            f"clip_grad_norm_({args.clip:g})": train_rnn(args.clip, args)}
    for name, log in runs.items():
        losses = log["loss"]
        end = (f"loss non-finite at step {log['diverged']} (gradient norm "
               f"{log['grad_norm'][-1]:.2e}, spectral radius {log['radius'][-1]:.2f} the step "
               f"before)" if log["diverged"] is not None else
               f"last-50-step mean loss {np.mean(losses[-50:]):.4f}")
        print(f"{name}: first loss {losses[0]:.4f}, {end}; "
              f"max gradient norm {max(log['grad_norm']):.2e}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "bptt.png")
    plot(path, cells, scales, runs, args)
    print(f"wrote {path} ({time.time() - start:.0f} s in all)")
    return {"gradients": cells, "scales": scales, "runs": runs, "figure": path}


if __name__ == "__main__":
    main()
