"""Next-frame prediction with a ConvLSTM (Shi et al. 2015) on generated moving shapes.

An encoder ``nn.ConvLSTM`` reads the frames one by one and, at every step t, a 1x1
convolution maps its hidden state to the logits of frame t + 1 (sigmoid, binary
cross-entropy). Squares and discs (``--digits``: MNIST digits, "Moving MNIST") move with
constant velocities and bounce off the walls (``minidl.vision.datasets.MovingShapes``);
train, validation and test sequences are drawn with different seeds. The epoch with the
lowest validation MSE is kept, and the test split is read once with it.

Test MSE (per pixel) is reported over the predictions made after at least two frames
(when the velocity can be known), against two baselines on the same frames: copying the
last frame seen, and the mean training frame. A figure (rows: input frames, true next
frames, predicted next frames) goes to ``--out``.

    PYTHONPATH=. python examples/conv_lstm_next_frame.py            # full run, a few minutes
    PYTHONPATH=. python examples/conv_lstm_next_frame.py --epochs 1 --limit 32   # seconds
"""
import argparse
import json
import os
import time

import numpy as np

import minidl as torch
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.utils.data import DataLoader
from minidl.vision.datasets import MovingShapes, load_bundled


class NextFrame(nn.Module):
    """ConvLSTM encoder + convolution head: frames (N, T, 1, H, W) -> logits of the next
    frames (N, T, 1, H, W)."""

    def __init__(self, hidden, kernel_size, num_layers, head_kernel):
        super().__init__()
        self.lstm = nn.ConvLSTM(1, hidden, kernel_size, num_layers=num_layers,
                                batch_first=True)
        self.head = nn.Conv2d(hidden, 1, head_kernel, padding=head_kernel // 2)

    def forward(self, frames):
        states, _ = self.lstm(frames)
        n, t = states.shape[:2]
        return self.head(states.flatten(0, 1)).reshape(n, t, *frames.shape[2:])


def splits(args):
    """(train, validation, test) MovingShapes; digit sprites from the bundled MNIST train
    split (train, validation) and test split (test)."""
    sizes = [min(n, args.limit) if args.limit else n for n in (args.train, args.val, args.test)]
    if args.digits:
        digits = [load_bundled("mnist-mini", train=split)[0] for split in (True, True, False)]
    else:
        digits = [None] * 3
    return [MovingShapes(n, seq_len=args.seq_len, size=args.size, num_shapes=args.shapes,
                         seed=args.seed * 3 + k, digits=d)
            for k, (n, d) in enumerate(zip(sizes, digits))]


def squared_errors(model, data, mean_frame, warmup, batch_size):
    """Summed squared errors of the model, copy-last-frame and mean frame, and the pixel
    count, over the target steps t >= warmup."""
    totals = np.zeros(3)
    count = 0
    model.eval()
    with torch.no_grad():
        for inputs, targets in DataLoader(data, batch_size=batch_size):
            pred = torch.sigmoid(model(inputs))[:, warmup:].numpy()
            truth = targets[:, warmup:].numpy()
            last = inputs[:, warmup:].numpy()
            totals += [((p - truth) ** 2).sum() for p in (pred, last, mean_frame)]
            count += truth.size
    return totals, count


def save_figure(model, data, path, steps=8):
    """Rows: the input frames, the true next frames, the predicted next frames."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inputs, targets = data[0]
    model.eval()
    with torch.no_grad():
        pred = torch.sigmoid(model(inputs[None]))[0].numpy()
    steps = min(steps, len(inputs))
    rows = [("input", inputs.numpy()), ("true next", targets.numpy()), ("predicted", pred)]
    fig, axes = plt.subplots(3, steps, figsize=(1.3 * steps, 4.2), squeeze=False)
    for r, (name, frames) in enumerate(rows):
        for t in range(steps):
            ax = axes[r, t]
            ax.imshow(frames[t, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if t == 0:
                ax.set_ylabel(name)
            if r == 0:
                ax.set_title(f"t={t}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--train", type=int, default=800, help="training sequences")
    p.add_argument("--val", type=int, default=100, help="validation sequences")
    p.add_argument("--test", type=int, default=200, help="test sequences")
    p.add_argument("--limit", type=int, default=0, help="at most this many sequences a split")
    p.add_argument("--seq-len", type=int, default=10)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--shapes", type=int, default=2)
    p.add_argument("--digits", action="store_true", help="MNIST digits instead of shapes")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--kernel", type=int, default=5)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--head-kernel", type=int, default=1, choices=(1, 3))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--warmup", type=int, default=1,
                   help="leave the first N predictions out of the MSE (1: score the ones "
                        "made after seeing at least 2 frames)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="BLAS threads (0: leave as is)")
    p.add_argument("--out", default=os.path.join("runs", "convlstm"))
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    train, val, test = splits(args)
    mean_frame = train.frames.numpy().mean((0, 1))  # (1, H, W)
    model = NextFrame(args.hidden, args.kernel, args.layers, args.head_kernel)
    with torch.no_grad():  # start from predicting the mean intensity everywhere
        p = float(mean_frame.mean())
        model.head.bias.fill_(np.log(p / (1 - p)))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    best, best_val, best_epoch = None, float("inf"), 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        losses = []
        for inputs, targets in loader:
            loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        totals, count = squared_errors(model, val, mean_frame, args.warmup, args.batch_size)
        val_mse = totals[0] / count
        print(f"epoch {epoch}: train BCE {np.mean(losses):.4f}, validation MSE {val_mse:.5f} "
              f"(copy last {totals[1] / count:.5f}), {time.perf_counter() - start:.0f} s")
        if val_mse < best_val:
            best_val, best_epoch = val_mse, epoch
            best = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best)
    totals, count = squared_errors(model, test, mean_frame, args.warmup, args.batch_size)
    os.makedirs(args.out, exist_ok=True)
    figure = os.path.join(args.out, "next_frame.png")
    save_figure(model, test, figure)
    result = {"test_mse": totals[0] / count, "copy_last_mse": totals[1] / count,
              "mean_frame_mse": totals[2] / count, "val_mse": best_val, "best_epoch": best_epoch,
              "sequences": [len(train), len(val), len(test)],
              "seconds": time.perf_counter() - start,
              "cpu_seconds": time.process_time() - cpu_start, "figure": figure}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"test MSE {result['test_mse']:.5f} (epoch {best_epoch}); copy last frame "
          f"{result['copy_last_mse']:.5f}; mean frame {result['mean_frame_mse']:.5f}; "
          f"{result['seconds']:.0f} s ({result['cpu_seconds']:.0f} s CPU); figure {figure}")
    return result


if __name__ == "__main__":
    main()
