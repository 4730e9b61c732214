"""Where a training step's time goes, per op family, in minidl and in PyTorch.

minidl: every Kernel's forward and backward are wrapped with a timer for the duration of
the measurement; what is left of the step is the engine, the optimizer and Python glue
("other"). torch: the profiler's self CPU time per aten op, folded into the same families.
"""
import collections
import contextlib
import time

import torch

from minidl.autograd import Kernel

FAMILIES = ("conv forward", "conv backward", "normalization", "pooling", "attention",
            "linear / matmul", "loss", "other")


def _family(name, backward):
    n = name.lower()
    if "conv" in n:
        return "conv backward" if backward else "conv forward"
    if "norm" in n and ("batch" in n or "layer" in n) or n == "normalize":
        return "normalization"  # batch / layer norm (minidl: the one Normalize kernel)
    if "pool" in n:
        return "pooling"
    if "attention" in n:
        return "attention"
    if n in ("linear", "matmul", "mm", "addmm", "bmm") or "linear" in n:
        return "linear / matmul"
    if "entropy" in n or "nll" in n or "softmax" in n:
        return "loss"
    return "other"


def _kernels(cls=Kernel):
    for sub in cls.__subclasses__():
        yield sub
        yield from _kernels(sub)


@contextlib.contextmanager
def timed_kernels(totals):
    """Accumulate seconds spent in each kernel family's forward/backward into ``totals``."""
    originals = []
    for k in set(_kernels()):
        for phase in ("forward", "backward"):
            if phase not in vars(k):
                continue
            fn = vars(k)[phase].__func__ if isinstance(vars(k)[phase], staticmethod) else None
            if fn is None:
                continue
            fam = _family(k.__name__, phase == "backward")

            def timed(*args, _fn=fn, _fam=fam, **kw):
                t0 = time.perf_counter()
                try:
                    return _fn(*args, **kw)
                finally:
                    totals[_fam] += time.perf_counter() - t0
            originals.append((k, phase, vars(k)[phase]))
            setattr(k, phase, staticmethod(timed))
    try:
        yield totals
    finally:
        for k, phase, original in originals:
            setattr(k, phase, original)


def minidl_breakdown(step, steps=10):
    """Milliseconds per step in each family for a minidl training step."""
    totals = collections.Counter()
    with timed_kernels(totals):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        total = time.perf_counter() - t0
    out = {f: totals[f] / steps * 1e3 for f in FAMILIES if f != "other"}
    out["other"] = total / steps * 1e3 - sum(out.values())
    return out


_TORCH_BACKWARD = ("backward",)


def torch_breakdown(step, steps=10):
    """Milliseconds per step in each family for a torch step (profiler self CPU time)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        total = time.perf_counter() - t0
    out = collections.Counter()
    for evt in prof.key_averages():
        name = evt.key.replace("aten::", "")
        if not evt.key.startswith("aten::"):
            continue
        backward = "backward" in name
        fam = _family(name.replace("_backward", "").replace("native_", "")
                      .replace("mkldnn_", "").replace("cudnn_", ""), backward)
        if fam == "conv forward" and backward:
            fam = "conv backward"
        out[fam] += evt.self_cpu_time_total / 1e3 / steps
    result = {f: out[f] for f in FAMILIES if f != "other"}
    result["other"] = total / steps * 1e3 - sum(result.values())
    return result


def print_breakdown(name, m, t):
    print(f"\n{name}: ms per step by op family (other = engine, optimizer, Python glue)")
    print(f"  {'family':18} {'minidl':>9} {'torch':>9} {'ratio':>7}")
    for f in FAMILIES:
        ratio = m[f] / t[f] if t[f] > 1e-3 else float("nan")
        print(f"  {f:18} {m[f]:9.2f} {t[f]:9.2f} {ratio:7.2f}")
