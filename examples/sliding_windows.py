"""Find digits on a larger canvas with one pass of a fully convolutional LeNet-5.

    PYTHONPATH=. python examples/sliding_windows.py --epochs 2

Trains LeNet-5 briefly on the bundled MNIST (pixels scaled to [0, 1], so that black is 0 like
the first convolution's zero padding), with an 11th "background" class of off-centre crops
(``--negatives``; without it, windows half on a digit are often confidently scored as some
digit), places a few test digits on a black canvas at known positions, and scores every
28 x 28 window at the network's total stride (4) twice: once with
``minidl.vision.sliding_windows.to_fully_convolutional`` (the Linear layers as convolutions,
one forward pass) and once crop by crop (``sliding_window_scores``, batched and one window
at a time). Prints the median time of each and their largest difference, and the digits
found (windows whose top digit probability is > ``--threshold``, after NMS) against those
placed. Writes the canvas, the heatmap of the top digit probability, and the confident
windows' classes to ``--out``/sliding_windows.png.
"""
import argparse
import os
import time

import numpy as np

import minidl
import minidl.nn.functional as F
from minidl.utils.data import DataLoader, TensorDataset
from minidl.vision.datasets import load_bundled
from minidl.vision.models import LeNet5
from minidl.vision.ops import box_iou, nms
from minidl.vision.sliding_windows import (
    blank_margin_windows,
    sliding_window_scores,
    to_fully_convolutional,
    total_stride,
)

WINDOW = 28
# Top-left corners (row, col) of the placed digits on the 56 x 112 canvas: multiples of the
# stride, so that one window sits exactly on each digit.
PLACES = ((4, 0), (28, 40), (0, 84))


def images(train, limit=None):
    x, y = load_bundled("mnist-mini", train=train)
    return x[:limit].float().unsqueeze(1) / 255.0, y[:limit]


def off_centre_crops(x, count, rng, min_shift=6, max_shift=20):
    """``count`` 28 x 28 crops of digits of ``x`` (N, 1, 28, 28) moved by (dy, dx), each in
    [-max_shift, max_shift] with max(|dy|, |dx|) >= min_shift, on black: what a window near a
    digit but not on it sees."""
    pad = max_shift
    padded = np.pad(x[rng.integers(0, len(x), count)], ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    shifts = rng.integers(-max_shift, max_shift + 1, (4 * count, 2))
    shifts = shifts[np.abs(shifts).max(1) >= min_shift][:count]
    return np.stack([im[:, pad + dy:pad + dy + WINDOW, pad + dx:pad + dx + WINDOW]
                     for im, (dy, dx) in zip(padded, shifts)])


def train(epochs, limit, lr, seed, negatives):
    """LeNet-5 on the digits, plus (``negatives`` > 0) a background class 10 of
    ``negatives`` x N off-centre crops, so that windows beside a digit score low."""
    minidl.manual_seed(seed)
    x, y = images(True, limit)
    count = int(round(negatives * len(y)))
    if count:
        crops = off_centre_crops(x.numpy(), count, np.random.default_rng(seed))
        x = minidl.cat([x, minidl.from_numpy(crops)])
        y = minidl.cat([y, minidl.full((count,), 10, dtype=y.dtype)])
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = LeNet5(num_classes=11 if count else 10)
    optimizer = minidl.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    model.eval()
    x, y = images(False)
    with minidl.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    return model, accuracy


def canvas_of_digits(height=56, width=112):
    """A black canvas with the first test digits of distinct classes at ``PLACES``."""
    x, y = images(False)
    picked, labels = [], []
    for k, label in enumerate(y.numpy()):
        if label not in labels:
            picked.append(k)
            labels.append(int(label))
        if len(picked) == len(PLACES):
            break
    canvas = np.zeros((1, height, width), dtype=np.float32)
    for k, (r, c) in zip(picked, PLACES):
        canvas[:, r:r + WINDOW, c:c + WINDOW] = x[k].numpy()
    return minidl.from_numpy(canvas), labels


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def detect(probabilities, stride, threshold, iou):
    """(label, row, col, probability) of the windows whose top digit class is confident,
    after NMS; ``probabilities`` (digit classes, rows, cols)."""
    top, label = probabilities.max(0), probabilities.argmax(0)
    rows, cols = np.nonzero(top > threshold)
    if not len(rows):
        return []
    boxes = np.stack([cols * stride[1], rows * stride[0], cols * stride[1] + WINDOW,
                      rows * stride[0] + WINDOW], 1).astype(np.float32)
    keep = nms(minidl.from_numpy(boxes), minidl.from_numpy(top[rows, cols]), iou).numpy()
    return [(int(label[rows[k], cols[k]]), int(rows[k] * stride[0]), int(cols[k] * stride[1]),
             float(top[rows[k], cols[k]])) for k in keep]


def match(found, placed):
    """For each placed (label, row, col): the found detection of its label with IoU >= 0.5."""
    def box(r, c):
        return [c, r, c + WINDOW, r + WINDOW]
    if not found:
        return [None] * len(placed)
    iou = box_iou(minidl.tensor([box(r, c) for _, r, c in placed], dtype=minidl.float32),
                  minidl.tensor([box(r, c) for _, r, c, _ in found], dtype=minidl.float32))
    iou = iou.numpy()
    return [next((f for k, f in enumerate(found) if f[0] == p[0] and iou[i, k] >= 0.5), None)
            for i, p in enumerate(placed)]


def plot(canvas, probabilities, stride, threshold, found, placed, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    top, label = probabilities.max(0), probabilities.argmax(0)
    rows, cols = top.shape
    # Window (i, j) is drawn at its centre: the extent covers the centres' span.
    extent = (WINDOW / 2 - stride[1] / 2, WINDOW / 2 + (cols - 0.5) * stride[1],
              WINDOW / 2 + (rows - 0.5) * stride[0], WINDOW / 2 - stride[0] / 2)
    fig = Figure(figsize=(13, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    axes[0].imshow(canvas[0], cmap="gray")
    for _, r, c in placed:
        axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), WINDOW, WINDOW, fill=False, ec="tab:blue",
                                    lw=1, ls="--"))
    for lab, r, c, p in found:
        axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), WINDOW, WINDOW, fill=False, ec="tab:red",
                                    lw=2))
        axes[0].text(c + 1, r + 6, f"{lab} ({p:.2f})", color="tab:red", fontsize=8)
    axes[0].set_title("canvas: placed (blue), found (red)")
    im = axes[1].imshow(top, cmap="viridis", vmin=0, vmax=1, extent=extent)
    fig.colorbar(im, ax=axes[1], fraction=0.03)
    axes[1].set_title("top digit probability (window centres)")
    confident = np.ma.masked_where(top <= threshold, label)
    im = axes[2].imshow(confident, cmap="tab10", vmin=-0.5, vmax=9.5, extent=extent)
    fig.colorbar(im, ax=axes[2], fraction=0.03, ticks=range(10))
    axes[2].set_title(f"class of windows with p > {threshold}")
    for ax in axes[1:]:
        ax.set_xlim(0, canvas.shape[2])
        ax.set_ylim(canvas.shape[1], 0)
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=None, help="use the first N training images")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--negatives", type=float, default=1.0,
                   help="off-centre crops per training digit, as a background class; 0: "
                        "the plain 10-class LeNet-5 (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threshold", type=float, default=0.9,
                   help="probability above which a window counts as a digit (default 0.9)")
    p.add_argument("--nms-iou", type=float, default=0.25,
                   help="IoU above which NMS drops the less confident window (default 0.25)")
    p.add_argument("--repeats", type=int, default=5, help="timing runs, median (default 5)")
    p.add_argument("--out", default="runs/sliding_windows",
                   help="folder of the figure (default runs/sliding_windows)")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    start = time.perf_counter()
    model, accuracy = train(a.epochs, a.limit, a.lr, a.seed, a.negatives)
    train_s = time.perf_counter() - start
    canvas, labels = canvas_of_digits()
    placed = [(lab, r, c) for lab, (r, c) in zip(labels, PLACES)]
    stride = total_stride(model)
    convolutional = to_fully_convolutional(model, (1, WINDOW, WINDOW))

    def conv_pass():
        with minidl.no_grad():
            return convolutional(canvas.unsqueeze(0))[0]

    scores = conv_pass().numpy()
    reference = sliding_window_scores(model, canvas, WINDOW, stride).numpy()
    blank = blank_margin_windows(canvas, WINDOW, stride, margin=2)
    times = {"conv_pass_s": median_seconds(conv_pass, a.repeats),
             "windows_batched_s": median_seconds(
                 lambda: sliding_window_scores(model, canvas, WINDOW, stride), a.repeats),
             "windows_one_by_one_s": median_seconds(
                 lambda: sliding_window_scores(model, canvas, WINDOW, stride, batch_size=1),
                 a.repeats)}
    difference = np.abs(scores - reference)
    probabilities = minidl.from_numpy(scores).softmax(0).numpy()[:10]  # digits, not background
    found = detect(probabilities, stride, a.threshold, a.nms_iou)
    matched = match(found, placed)
    at_placed = [(int(probabilities[:, r // stride[0], c // stride[1]].argmax()),
                  float(probabilities[:, r // stride[0], c // stride[1]].max()))
                 for _, r, c in placed]
    path = os.path.join(a.out, "sliding_windows.png")
    plot(canvas.numpy(), probabilities, stride, a.threshold, found, placed, path)

    windows = scores.shape[1] * scores.shape[2]
    print(f"LeNet-5 ({'with' if a.negatives else 'no'} background class): {a.epochs} epochs "
          f"in {train_s:.1f} s, test accuracy {accuracy:.4f}; "
          f"total stride {stride}, {scores.shape[1]} x {scores.shape[2]} = {windows} windows "
          f"on the {canvas.shape[1]} x {canvas.shape[2]} canvas")
    print(f"one conv pass {1e3 * times['conv_pass_s']:.2f} ms; window by window "
          f"{1e3 * times['windows_batched_s']:.2f} ms batched, "
          f"{1e3 * times['windows_one_by_one_s']:.2f} ms one at a time (medians of "
          f"{a.repeats})")
    print(f"largest |conv - crop| score difference: {difference[:, blank].max():.2e} on the "
          f"{blank.sum()} windows with a black 2-pixel margin, {difference.max():.2e} over all "
          f"(the first conv's padding sees real neighbours on the canvas)")
    print(f"placed: {', '.join(f'{lab} at {(r, c)}' for lab, r, c in placed)}")
    print(f"found (p > {a.threshold}, after NMS): "
          f"{', '.join(f'{lab} at {(r, c)} p={q:.3f}' for lab, r, c, q in found) or 'none'}")
    print("at the placed windows: " + ", ".join(
        f"{lab}: predicted {pred} p={q:.3f}" for (lab, _, _), (pred, q) in zip(placed, at_placed)))
    print(f"{sum(m is not None for m in matched)} of {len(placed)} placed digits found, "
          f"{len(found) - sum(m is not None for m in matched)} other detections; figure {path}")
    return {"accuracy": accuracy, "stride": stride, "scores": scores, "reference": reference,
            "blank_margin": blank, "placed": placed, "found": found, "matched": matched,
            "at_placed": at_placed,
            "figure": path, **times}


if __name__ == "__main__":
    main()
