"""Side-by-side training-step timings: minidl vs PyTorch, same process, same threads.

    python -m benchmarks.run [--threads N ...] [--repeat R] [--steps S]
                             [--workloads W1 ... W5] [--breakdown W ...] [--no-memory]

Each workload builds the *same* model with both libraries (the code below is written once
against the torch API and run with ``lib = minidl`` and ``lib = torch``), copies torch's
initial weights into minidl, and times one training step on the same batch: forward,
mean cross-entropy (W4 and W5, the language models: over every token of the batch), backward,
plain SGD update. Reported: median milliseconds per step after warm-up and the ratio
minidl / torch (lower is better; 1.0 = parity); with ``--repeat R`` and several
``--threads``, the thread counts alternate R times and the median ratio of each is printed
at the end (the README's figures: ``--threads 1 2 --repeat 3``). With
``--breakdown`` (on by default for W3) it also prints the time per op family (conv
forward, conv backward, batch norm, pooling, ...) for both libraries.

Beside the times: the arithmetic rate each library reaches, GFLOP/s = the step's
matrix-product and convolution FLOPs (forward and backward, counted once by torch's
``FlopCounterMode``) / its time, as a share of the machine's GEMM peak (NumPy's float32
1024^3 product at the same thread count, best of 5); and the peak memory of a step in
each library, each measured in a fresh process (``benchmarks.memory``).
"""
import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import minidl

from .breakdown import minidl_breakdown, print_breakdown, torch_breakdown
from .memory import step_memory


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, 10))


def lenet5(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def small_resnet(lib):
    """W3: 3x3 stem at 32 channels, 2 basic blocks at 32, 2 at 64 (first strided, 1x1
    projection shortcut), global average pooling, fc 10 (He et al. 2016)."""
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            y = lib.relu(self.bn1(self.conv1(x)))
            return lib.relu(self.bn2(self.conv2(y)) + self.shortcut(x))

    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        BasicBlock(32, 32, 1), BasicBlock(32, 32, 1), BasicBlock(32, 64, 2), BasicBlock(64, 64, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


VOCAB = 2000


def lstm_lm(lib):
    """W4: a word-level LSTM language model -- embedding 2000 x 128, one LSTM layer of 256,
    linear 256 -> 2000 scoring the next token at every step (Zaremba et al. 2014, small)."""
    nn = lib.nn

    class LSTMLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 128)
            self.lstm = nn.LSTM(128, 256)
            self.decode = nn.Linear(256, VOCAB)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return self.decode(hidden).reshape(-1, VOCAB)

    return LSTMLanguageModel()


def transformer_lm(lib):
    """W5: a GPT-style Transformer language model -- token embedding 2000 x 128 plus a learned
    position embedding, 2 pre-LN blocks [LayerNorm, causal 4-head self-attention with one
    fused QKV projection, residual, LayerNorm, feed-forward 512 with ReLU, residual], a final
    LayerNorm and a linear layer to 2000 (Vaswani et al. 2017; Radford et al. 2019)."""
    nn, F = lib.nn, lib.nn.functional
    d_model, heads, seq_len = 128, 4, 64

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.ff = nn.Sequential(nn.Linear(d_model, 512), nn.ReLU(), nn.Linear(512, d_model))

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, heads, -1).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d_model))
            return x + self.ff(self.ln2(x))

    class TransformerLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, d_model)
            self.position = nn.Embedding(seq_len, d_model)
            self.blocks = nn.Sequential(Block(), Block())
            self.ln = nn.LayerNorm(d_model)
            self.decode = nn.Linear(d_model, VOCAB)

        def forward(self, tokens):
            positions = lib.arange(tokens.shape[1])
            x = self.blocks(self.embed(tokens) + self.position(positions))
            return self.decode(self.ln(x)).reshape(-1, VOCAB)

    return TransformerLanguageModel()


def images(rng, shape):
    """A standard-normal image batch and class labels 0-9."""
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, shape[0])


def tokens(rng, shape):
    """Token ids of `shape` (W4: steps x batch, W5: batch x steps) and next-token targets."""
    return rng.integers(0, VOCAB, shape), rng.integers(0, VOCAB, shape[0] * shape[1])


WORKLOADS = {
    "W1": ("MLP 784-256-256-10, batch 128", mlp, (128, 1, 28, 28), images),
    "W2": ("LeNet-5, batch 128, 1x28x28", lenet5, (128, 1, 28, 28), images),
    "W3": ("small ResNet, batch 64, 3x32x32", small_resnet, (64, 3, 32, 32), images),
    "W4": ("LSTM LM, 35 steps x batch 32", lstm_lm, (35, 32), tokens),
    "W5": ("Transformer LM, batch 32 x 64 tokens", transformer_lm, (32, 64), tokens),
}


def make_step(lib, model, x, y, lr=0.01, optimizer="SGD", **options):
    """A training step of ``model`` on (``x``, ``y``): zero_grad, forward, mean
    cross-entropy, backward, an update by ``lib.optim.<optimizer>``."""
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = getattr(lib.optim, optimizer)(model.parameters(), lr=lr, **options)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def time_steps(step, steps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def build_pair(builder, input_shape, make_batch=images, seed=0):
    """The same model, inputs and targets in both libraries."""
    torch.manual_seed(seed)
    t_model = builder(torch)
    m_model = builder(minidl)
    m_model.load_state_dict({k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(seed)
    x, y = make_batch(rng, input_shape)
    return (m_model, minidl.from_numpy(x.copy()), minidl.from_numpy(y.copy())), \
        (t_model, torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))


def memory_step(framework, name):
    """Workload ``name``'s training step in ``framework`` alone (``benchmarks.memory``'s
    builder)."""
    title, builder, shape, make_batch = WORKLOADS[name]
    lib = {"minidl": minidl, "torch": torch}[framework]
    x, y = make_batch(np.random.default_rng(0), shape)
    return make_step(lib, builder(lib), lib.from_numpy(x), lib.from_numpy(y))


def step_flops(t_step):
    """FLOPs of one training step (matrix products and convolutions, forward and backward),
    counted on the torch step."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        t_step()
    return counter.get_total_flops()


def gemm_peak(n=1024, repeats=5):
    """GFLOP/s of NumPy's float32 n x n x n matrix product, best of ``repeats``."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    best = min(seconds(lambda: a @ a) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def seconds(fn):
    """Seconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(names, threads, steps, warmup, breakdown=(), memory=True):
    """Rows (name, title, minidl ms, torch ms, ratio, GFLOP per step, memory or None)."""
    torch.set_num_threads(threads)
    rows = []
    with threadpool_limits(limits=threads):
        for name in names:
            title, builder, shape, make_batch = WORKLOADS[name]
            (mm, mx, my), (tm, tx, ty) = build_pair(builder, shape, make_batch)
            m_step, t_step = make_step(minidl, mm, mx, my), make_step(torch, tm, tx, ty)
            # interleave the two libraries so that machine noise hits both alike
            m_times, t_times = [], []
            for _ in range(3):
                m_times.append(time_steps(m_step, steps // 3, warmup))
                t_times.append(time_steps(t_step, steps // 3, warmup))
            m, t = statistics.median(m_times), statistics.median(t_times)
            mem = {fw: step_memory("benchmarks.run:memory_step", fw, threads, name)
                   for fw in ("minidl", "torch")} if memory else None
            rows.append((name, title, m * 1e3, t * 1e3, m / t, step_flops(t_step) / 1e9, mem))
            if name in breakdown:
                print_breakdown(f"{name} {title}", minidl_breakdown(m_step),
                                torch_breakdown(t_step))
    return rows


def print_table(rows, threads):
    with threadpool_limits(limits=threads):
        peak = gemm_peak()
    print(f"\nthreads={threads}  (median ms per training step; ratio = minidl / torch; "
          f"GFLOP/s and % of the {peak:.0f} GFLOP/s GEMM peak; peak MiB of a step)")
    print(f"{'':4} {'workload':36} {'minidl ms':>9} {'torch ms':>9} {'ratio':>6} "
          f"{'GFLOP':>6} {'minidl GF/s':>12} {'torch GF/s':>12} {'MiB minidl':>10} "
          f"{'torch':>6} {'ratio':>6}")
    for name, title, m, t, r, gflop, mem in rows:
        rates = "".join(f" {g:6.1f} ({g / peak:3.0%})" for g in (gflop / m * 1e3, gflop / t * 1e3))
        line = f"{name:4} {title:36} {m:9.2f} {t:9.2f} {r:6.2f} {gflop:6.2f}{rates}"
        if mem:
            mm, tm = mem["minidl"].peak_mib, mem["torch"].peak_mib
            line += f" {mm:10.0f} {tm:6.0f} {mm / tm:6.2f}"
        print(line, flush=True)


def print_summary(ratios, threads, repeat):
    """Median (and range) of each workload's ratio over the repeats, per thread count."""
    print(f"\nratio minidl / torch, median of {repeat} runs (min - max), thread counts "
          f"alternating")
    print(f"{'':4} " + " ".join(f"{f'{t} thread' + 's' * (t > 1):>20}" for t in threads))
    for name in dict.fromkeys(n for _, n in ratios):
        cells = []
        for t in threads:
            r = ratios[t, name]
            cells.append(f"{statistics.median(r):6.2f} ({min(r):.2f} - {max(r):.2f})")
        print(f"{name:4} " + " ".join(f"{c:>20}" for c in cells))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[2],
                   help="thread counts, run in turn (e.g. 1 2)")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of every thread count, alternating; prints the median ratios")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    p.add_argument("--breakdown", nargs="*", default=["W3"], metavar="W",
                   help="workloads to break down by op family (default: W3; none: --breakdown)")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory subprocesses")
    a = p.parse_args(argv)
    ratios, all_rows = {}, []
    for i in range(a.repeat):
        for threads in a.threads:   # breakdown and memory on the first run only
            rows = run(a.workloads, threads, a.steps, a.warmup, a.breakdown if i == 0 else (),
                       a.memory and i == 0)
            print_table(rows, threads)
            for row in rows:
                ratios.setdefault((threads, row[0]), []).append(row[4])
            all_rows.append((threads, rows))
    if a.repeat > 1 or len(a.threads) > 1:
        print_summary(ratios, a.threads, a.repeat)
    return all_rows


if __name__ == "__main__":
    main()
