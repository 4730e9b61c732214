"""Per-layer timings of convolution and pooling: minidl vs PyTorch, same process, same threads.

    python -m benchmarks.conv_ops [--threads 1 2] [--repeat 30] [--layers W2.conv2 ...]
                                  [--clock cpu|wall]

Every conv / pool layer of the LeNet-5 (W2) and small-ResNet (W3) training steps, and the
convolutions of ResNet-18 on 28x28 images (R18), is run
alone, with both libraries on the same float32 arrays: the forward (inputs and parameters
require grad, as in training) and the forward plus backward (of a fixed upstream gradient).
The two libraries take turns in short bursts so that machine noise hits both alike; each
time is the best of ``--repeat`` calls, by process CPU time (``--clock cpu``, robust to a busy
machine; with several threads it sums their CPU) or by wall time (``--clock wall``).
Printed: milliseconds and the ratio minidl / torch (lower is better; 1.0 = parity).
"""
import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import minidl

# name: (op, input shape, op keyword arguments, weight shape or None, bias, input needs grad)
LAYERS = {
    "W2.conv1": ("conv2d", (128, 1, 28, 28), dict(padding=2), (6, 1, 5, 5), True, False),
    "W2.pool1": ("max_pool2d", (128, 6, 28, 28), dict(kernel_size=2), None, False, True),
    "W2.conv2": ("conv2d", (128, 6, 14, 14), dict(), (16, 6, 5, 5), True, True),
    "W2.pool2": ("max_pool2d", (128, 16, 10, 10), dict(kernel_size=2), None, False, True),
    "W3.stem": ("conv2d", (64, 3, 32, 32), dict(padding=1), (32, 3, 3, 3), False, False),
    "W3.conv32": ("conv2d", (64, 32, 32, 32), dict(padding=1), (32, 32, 3, 3), False, True),
    "W3.down": ("conv2d", (64, 32, 32, 32), dict(stride=2, padding=1), (64, 32, 3, 3), False,
                True),
    "W3.proj": ("conv2d", (64, 32, 32, 32), dict(stride=2), (64, 32, 1, 1), False, True),
    "W3.conv64": ("conv2d", (64, 64, 16, 16), dict(padding=1), (64, 64, 3, 3), False, True),
    "W3.gap": ("adaptive_avg_pool2d", (64, 64, 16, 16), dict(output_size=1), None, False, True),
    # ResNet-18 with the small-input stem on 28x28 images (minidl train resnet18), batch 128:
    # the deep stages have small maps, where one GEMM per image would re-read the weights
    "R18.l1": ("conv2d", (128, 64, 14, 14), dict(padding=1), (64, 64, 3, 3), False, True),
    "R18.l2": ("conv2d", (128, 128, 7, 7), dict(padding=1), (128, 128, 3, 3), False, True),
    "R18.l3": ("conv2d", (128, 256, 4, 4), dict(padding=1), (256, 256, 3, 3), False, True),
    "R18.l4": ("conv2d", (128, 512, 2, 2), dict(padding=1), (512, 512, 3, 3), False, True),
    "R18.down4": ("conv2d", (128, 256, 4, 4), dict(stride=2, padding=1), (512, 256, 3, 3),
                  False, True),
}


def make_calls(lib, name, seed=0):
    """(forward, forward+backward) closures for layer ``name`` in ``lib``."""
    op, shape, kw, w_shape, bias, x_grad = LAYERS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    args = []
    if w_shape is not None:
        args.append(rng.standard_normal(w_shape).astype(np.float32) * 0.1)
        if bias:
            args.append(rng.standard_normal(w_shape[0]).astype(np.float32))
    x = lib.from_numpy(x).requires_grad_(x_grad)
    args = [lib.from_numpy(a).requires_grad_(True) for a in args]
    fn = getattr(lib.nn.functional, op)
    y_shape = tuple(fn(x, *args, **kw).shape)
    g = lib.from_numpy(rng.standard_normal(y_shape).astype(np.float32))

    def forward():
        return fn(x, *args, **kw)

    def forward_backward():
        for t in [x] + args:
            t.grad = None
        fn(x, *args, **kw).backward(g)
    return forward, forward_backward


def best_of(calls, repeat, clock, burst=5):
    """Best time of each call in ``calls`` over ``repeat`` calls, taking turns in bursts.

    A burst calls one function ``burst`` times in a row and drops the first call: with
    several threads, one library's pool threads can still be spinning when the other
    starts (OpenBLAS and OpenMP wait actively), which would otherwise slow both."""
    best = [float("inf")] * len(calls)
    for _ in range(max(1, repeat // (burst - 1))):
        for i, c in enumerate(calls):
            for k in range(burst):
                t0 = clock()
                c()
                if k:
                    best[i] = min(best[i], clock() - t0)
    return best


def run(layers, threads, repeat, clock):
    """Rows (layer, threads, phase, minidl ms, torch ms, ratio)."""
    rows = []
    torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        for name in layers:
            m_fwd, m_fb = make_calls(minidl, name)
            t_fwd, t_fb = make_calls(torch, name)
            for phase, pair in (("fwd", (m_fwd, t_fwd)), ("fwd+bwd", (m_fb, t_fb))):
                m, t = best_of(pair, repeat, clock)
                rows.append((name, threads, phase, m * 1e3, t * 1e3, m / t))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    p.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    a = p.parse_args(argv)
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    print(f"best of {a.repeat}, {a.clock} time; ratio = minidl / torch")
    print(f"{'layer':10} {'thr':>3} {'phase':8} {'minidl ms':>10} {'torch ms':>10} {'ratio':>6}")
    rows = []
    for threads in a.threads:
        for row in run(a.layers, threads, a.repeat, clock):
            print("{:10} {:3d} {:8} {:10.2f} {:10.2f} {:6.2f}".format(*row), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
