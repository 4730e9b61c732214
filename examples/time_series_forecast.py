"""One-step-ahead forecasting of a noisy multi-seasonal series: LSTM, TCN, linear, naive.

The series (``make_series``, seeded) is hourly, ``--steps`` long:

    s(t) = 1.5 t / T                                     trend
         + sin(2 pi t / 24) + 0.4 sin(4 pi t / 24 + 1)   daily season, with its 2nd harmonic
         + 0.6 sin(2 pi t / 168)                         weekly season
         + e(t),  e(t) ~ N(0, sigma^2), sigma = --noise  white noise

so sigma^2 is the error floor no forecaster can beat. It is split by time into train /
validation / test (70 / 15 / 15 %) and standardised with the training part's mean and std
only. Every model sees the last ``--window`` values and forecasts the next one
(``SlidingWindowDataset``, many-to-one); a validation or test window may reach back into the
previous part, its target never does. The models:

* LSTM: ``nn.LSTM`` over the window, a linear head on the last hidden state;
* TCN: residual blocks of two ``nn.CausalConv1d`` (kernel 3) with dilations 1, 2, 4, 8
  (Bai, Kolter & Koltun 2018), a linear head on the last step's channels;
* linear: ridge regression on the window (closed form), the ridge chosen on validation;
* naive seasonal: the value one period ago, the period (24 or 168) chosen on validation.

The three learnt models see the window relative to its last value and forecast the change
from it (so the trend's new levels in the test part need no extrapolation); the networks are
trained with Adam on the MSE (gradient norm clipped at 1), keeping the epoch with the lowest
validation MSE. Test MSE / MAE (in the series' units) are computed once, at the end, and a
figure of the test stretch is written to --out.

    PYTHONPATH=. python examples/time_series_forecast.py --out runs/forecast
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
from minidl.utils.data import DataLoader, SlidingWindowDataset  # noqa: E402

DAY, WEEK = 24, 168


def make_series(steps, noise, seed):
    """The documented series (float32, shape (steps,)) and its noise-free part."""
    t = np.arange(steps, dtype=np.float64)
    clean = (1.5 * t / steps
             + np.sin(2 * np.pi * t / DAY) + 0.4 * np.sin(4 * np.pi * t / DAY + 1.0)
             + 0.6 * np.sin(2 * np.pi * t / WEEK))
    noisy = clean + noise * np.random.default_rng(seed).standard_normal(steps)
    return noisy.astype(np.float32), clean


def split_points(steps, fractions=(0.7, 0.15)):
    """The ends of the training and validation parts (the test part is the rest)."""
    train_end = int(steps * fractions[0])
    return train_end, train_end + int(steps * fractions[1])


def window_sets(z, window, train_end, val_end):
    """Train / validation / test SlidingWindowDatasets whose targets lie in their own part."""
    return {"train": SlidingWindowDataset(z[:train_end], window),
            "val": SlidingWindowDataset(z[train_end - window:val_end], window),
            "test": SlidingWindowDataset(z[val_end - window:], window)}


def arrays(ds):
    """(windows (N, W), targets (N,)) of a data set as NumPy arrays."""
    x, y = next(iter(DataLoader(ds, batch_size=len(ds))))
    return x.numpy(), y.numpy()[:, 0]


class LSTMForecaster(nn.Module):
    """x (N, W) -> next value (N,): an LSTM over the steps, a head on the last hidden state."""

    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        last = x[:, -1:]
        out, _ = self.lstm((x - last).unsqueeze(-1))
        return last[:, 0] + self.head(out[:, -1]).squeeze(-1)


class TemporalBlock(nn.Module):
    """relu(x + conv(relu(conv(x)))) with causal dilated convolutions; a 1x1 convolution
    matches the channels of the skip path when they differ."""

    def __init__(self, in_channels, channels, kernel_size, dilation):
        super().__init__()
        self.conv1 = nn.CausalConv1d(in_channels, channels, kernel_size, dilation=dilation)
        self.conv2 = nn.CausalConv1d(channels, channels, kernel_size, dilation=dilation)
        self.skip = (nn.Conv1d(in_channels, channels, 1) if in_channels != channels
                     else nn.Identity())

    def forward(self, x):
        return F.relu(self.skip(x) + self.conv2(F.relu(self.conv1(x))))


class TCNForecaster(nn.Module):
    """x (N, W) -> next value (N,): TemporalBlocks with dilations 1, 2, 4, ..., a head on the
    channels of the last step. Receptive field 1 + 2 (kernel_size - 1) (2^levels - 1)."""

    def __init__(self, channels, levels, kernel_size=3):
        super().__init__()
        self.blocks = nn.Sequential(*[
            TemporalBlock(1 if i == 0 else channels, channels, kernel_size, 2 ** i)
            for i in range(levels)])
        self.head = nn.Linear(channels, 1)
        self.receptive_field = 1 + 2 * (kernel_size - 1) * (2 ** levels - 1)

    def forward(self, x):
        last = x[:, -1:]
        features = self.blocks((x - last).unsqueeze(1))[:, :, -1]
        return last[:, 0] + self.head(features).squeeze(-1)


def predict(model, x):
    model.eval()
    with minidl.no_grad():
        return model(minidl.from_numpy(x)).numpy()


def train(model, sets, args, seed):
    """Adam on the MSE; returns the weights of the epoch with the lowest validation MSE and
    the per-epoch (train, validation) MSE, both on the standardised scale."""
    minidl.manual_seed(seed)
    loader = DataLoader(sets["train"], batch_size=args.batch_size, shuffle=True,
                        generator=minidl.Generator().manual_seed(seed))
    x_val, y_val = arrays(sets["val"])
    opt = minidl.optim.Adam(model.parameters(), lr=args.lr)
    history, best, best_state = [], np.inf, None
    for _ in range(args.epochs):
        model.train()
        total, n = 0.0, 0
        for x, y in loader:
            loss = F.mse_loss(model(x), y[:, 0])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total, n = total + loss.item() * len(y), n + len(y)
        val = float(np.mean((predict(model, x_val) - y_val) ** 2))
        history.append((total / n, val))
        if val < best:
            best, best_state = val, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return history


def ridge(x, y, lam):
    """w, b minimising |x w + b - y|^2 + lam |w|^2 (the bias unpenalised)."""
    xm, ym = x.mean(0), y.mean()
    xc = (x - xm).astype(np.float64)
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ (y - ym))
    return w, ym - xm @ w


def linear_baseline(sets):
    """Ridge on the window, lambda chosen on validation: (val MSE, predict function, lambda)."""
    def forecast(windows, w, b):  # the change from the last value, as the networks
        return windows[:, -1] + (windows - windows[:, -1:]) @ w + b

    x, y = arrays(sets["train"])
    x_val, y_val = arrays(sets["val"])
    fits = {lam: ridge(x - x[:, -1:], y - x[:, -1], lam)
            for lam in (1e-3, 1e-1, 1.0, 10.0, 100.0)}
    scores = {lam: np.mean((forecast(x_val, *wb) - y_val) ** 2) for lam, wb in fits.items()}
    lam = min(scores, key=scores.get)
    return scores[lam], (lambda windows: forecast(windows, *fits[lam])), lam


def naive_seasonal(z, train_end, val_end):
    """s(t - P) as the forecast of s(t), P in (DAY, WEEK) chosen on validation:
    (period, validation MSE, test forecasts) on the standardised scale."""
    val = np.arange(train_end, val_end)
    scores = {p: np.mean((z[val - p] - z[val]) ** 2) for p in (DAY, WEEK)}
    period = min(scores, key=scores.get)
    test = np.arange(val_end, len(z))
    return period, scores[period], z[test - period]


def plot(path, truth, forecasts, histories, show):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 8), height_ratios=(3, 2))
    span = slice(0, min(show, len(truth)))
    top.plot(truth[span], color="black", lw=1.2, label="truth")
    for name, f in forecasts.items():
        top.plot(f[span], lw=0.9, alpha=0.85, label=name)
    top.set_title(f"test stretch (first {span.stop} hours): one-step-ahead forecasts")
    top.set_xlabel("hour of the test part")
    top.legend(ncol=5, fontsize=8, loc="upper left")
    for name, h in histories.items():
        h = np.array(h)
        line, = bottom.plot(np.arange(1, len(h) + 1), h[:, 1], label=f"{name} validation")
        bottom.plot(np.arange(1, len(h) + 1), h[:, 0], ls="--", color=line.get_color(),
                    label=f"{name} train")
    bottom.set_yscale("log")
    bottom.set_xlabel("epoch")
    bottom.set_ylabel("MSE (standardised)")
    bottom.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=40 * WEEK, help="length of the series (hours)")
    p.add_argument("--noise", type=float, default=0.3, help="noise standard deviation")
    p.add_argument("--window", type=int, default=48)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=32, help="LSTM hidden size")
    p.add_argument("--channels", type=int, default=16, help="TCN channels")
    p.add_argument("--levels", type=int, default=4, help="TCN blocks (dilations 1, 2, 4, ...)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="a few seconds: 6 weeks, 3 epochs, small networks")
    p.add_argument("--out", default=os.path.join("runs", "forecast"))
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.epochs, args.hidden, args.channels, args.levels = 6 * WEEK, 3, 16, 8, 3
    if args.window < 1 or args.epochs < 1:
        p.error("--window and --epochs must be >= 1")
    if args.steps * 0.15 <= args.window or args.steps < 2 * WEEK:
        p.error(f"--steps {args.steps} is too short: the validation part (15 %) must hold more "
                f"than --window {args.window} steps, and the series two weeks")
    return args


def main(argv=None):
    """Train and evaluate every model; returns the figures (test / validation metrics in the
    series' units, per-epoch histories, chosen hyperparameters, the figure's path)."""
    args = parse(argv)
    start = time.time()
    series, _ = make_series(args.steps, args.noise, args.seed)
    train_end, val_end = split_points(args.steps)
    mean, std = series[:train_end].mean(), series[:train_end].std()
    z = (series - mean) / std
    sets = window_sets(z, args.window, train_end, val_end)
    x_test, y_test = arrays(sets["test"])

    models = {"LSTM": LSTMForecaster(args.hidden),
              "TCN": TCNForecaster(args.channels, args.levels)}
    histories, forecasts, val_mse = {}, {}, {}
    for i, (name, model) in enumerate(models.items()):
        t0 = time.time()
        histories[name] = train(model, sets, args, args.seed + i)
        val_mse[name] = min(v for _, v in histories[name])
        forecasts[name] = predict(model, x_test)
        print(f"{name}: best validation MSE {val_mse[name] * std ** 2:.4f} "
              f"(epoch {int(np.argmin([v for _, v in histories[name]])) + 1} of {args.epochs}), "
              f"{sum(p.numel() for p in model.parameters())} parameters, "
              f"{time.time() - t0:.0f} s")
    val_mse["linear"], linear, lam = linear_baseline(sets)
    forecasts["linear"] = linear(x_test)
    period, val_mse["naive seasonal"], forecasts["naive seasonal"] = naive_seasonal(
        z, train_end, val_end)
    print(f"linear: ridge lambda {lam:g}; naive seasonal: period {period} h "
          f"(both chosen on validation)")

    truth = y_test * std + mean
    test = {}
    for name, f in forecasts.items():  # the test part, read once, in the series' units
        err = f * std + mean - truth
        test[name] = {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}
    print(f"\ntest ({len(truth)} hours; noise floor sigma^2 = {args.noise ** 2:.4f}):")
    for name, m in test.items():
        print(f"  {name:15s} MSE {m['mse']:.4f}  MAE {m['mae']:.4f}  "
              f"(validation MSE {val_mse[name] * std ** 2:.4f})")

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "forecast.png")
    plot(path, truth, {n: f * std + mean for n, f in forecasts.items()}, histories, 2 * WEEK)
    print(f"\nwrote {path} ({time.time() - start:.0f} s in all)")
    return {"test": test, "val_mse": {n: float(v * std ** 2) for n, v in val_mse.items()},
            "history": histories, "ridge_lambda": lam, "seasonal_period": period,
            "receptive_field": models["TCN"].receptive_field, "noise_floor": args.noise ** 2,
            "figure": path}


if __name__ == "__main__":
    main()
