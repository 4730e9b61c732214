"""Per-op Python overhead: microseconds per call on tiny tensors, minidl vs PyTorch.

    python -m benchmarks.op_overhead [--size 8] [--calls 2000] [--rounds 5]

On a tensor of ``--size`` float32 elements the arithmetic is nothing, so the time per call is
the framework's dispatch: argument checks, dtype promotion, output allocation, and with
``requires_grad`` the graph node. Each op is called ``--calls`` times in a loop, the two
libraries alternating for ``--rounds`` rounds; the best round is kept (the least disturbed by
the machine). Printed: microseconds per call and the ratio minidl / torch (lower is better).
The ``fwd+bwd`` row times a whole tiny graph (``((a * b + c).relu().sum()).backward()``),
which is what W1 at batch 1-32 pays per layer.
"""
import argparse
import time

import numpy as np
import torch

import minidl

# name: a call on (lib, a, b) with a and b tensors of the same small shape
OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "add scalar": lambda lib, a, b: a + 1.0,
    "relu": lambda lib, a, b: lib.relu(a),
    "exp": lambda lib, a, b: lib.exp(a),
    "sum": lambda lib, a, b: a.sum(),
    "matmul": lambda lib, a, b: a.reshape(1, -1) @ b.reshape(-1, 1),
    "reshape": lambda lib, a, b: a.reshape(-1, 1),
    "index [0]": lambda lib, a, b: a[0],
    "cat": lambda lib, a, b: lib.cat([a, b]),
}


def _graph(lib, a, b):
    c = a * b + b
    c.relu().sum().backward()


def time_calls(fn, lib, a, b, calls):
    """Seconds per call of ``fn(lib, a, b)`` over ``calls`` calls."""
    fn(lib, a, b)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn(lib, a, b)
    return (time.perf_counter() - t0) / calls


def measure(size=8, calls=2000, rounds=5):
    """``[(name, requires_grad, minidl_us, torch_us)]`` for every op and the tiny graph."""
    x = np.random.default_rng(0).standard_normal((2, size // 2)).astype(np.float32)
    y = np.random.default_rng(1).standard_normal((2, size // 2)).astype(np.float32)
    rows = []
    cases = [(name, fn, grad) for name, fn in OPS.items() for grad in (False, True)]
    cases.append(("fwd+bwd", _graph, True))
    for name, fn, grad in cases:
        best = {}
        for _ in range(rounds):
            for lib in (minidl, torch):
                a = lib.tensor(x, requires_grad=grad)
                b = lib.tensor(y, requires_grad=grad)
                t = time_calls(fn, lib, a, b, calls if name != "fwd+bwd" else calls // 4)
                best[lib] = min(best.get(lib, np.inf), t)
        rows.append((name, grad, best[minidl] * 1e6, best[torch] * 1e6))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=8, help="elements per tensor (even; default 8)")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)
    if a.size < 2 or a.size % 2:
        p.error(f"--size must be an even number >= 2, got {a.size}")
    torch.set_num_threads(1)
    rows = measure(a.size, a.calls, a.rounds)
    print(f"microseconds per call on {a.size}-element float32 tensors (best of {a.rounds} "
          f"rounds of {a.calls}); ratio = minidl / torch")
    print(f"{'op':12} {'grad':>5} {'minidl us':>10} {'torch us':>9} {'ratio':>6}")
    for name, grad, m, t in rows:
        print(f"{name:12} {'yes' if grad else 'no':>5} {m:10.2f} {t:9.2f} {m / t:6.2f}")
    ratios = np.array([m / t for _, _, m, t in rows])
    print(f"median ratio {np.median(ratios):.2f}")
    return rows


if __name__ == "__main__":
    main()
