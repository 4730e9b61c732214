"""Peak memory of one training step, measured in a fresh process per (framework, model).

    python -m benchmarks.memory SPEC FRAMEWORK THREADS [ARG ...]

``SPEC`` is ``module:function``, a module-level builder that the child process imports and
calls as ``function(framework, *ARGS)`` (``framework``: ``minidl`` or ``torch``); it builds
the model, the batch and the optimizer and returns the training step, a function of no
arguments. The child runs one warm-up step (the optimizer allocates its state there), frees
what the allocator holds unused (``gc.collect()`` and glibc's ``malloc_trim(0)``), reads its
resident set size ``VmRSS`` from ``/proc/self/status`` (the baseline), resets the peak
(writing ``5`` to ``/proc/self/clear_refs`` sets ``VmHWM`` to the current RSS), runs one
step and reads ``VmHWM``. It prints both as JSON; ``step_memory`` returns them.

Counted in the step's peak (``VmHWM - baseline``, the largest resident set during the step
beyond the baseline): activations saved for backward, temporaries, gradients, and whatever
the allocators (glibc malloc, NumPy's and torch's small-block caches, OpenBLAS / oneDNN
scratch buffers) had taken from the system at that moment, in use or cached. Not counted:
memory resident at the baseline and reused by the step -- the weights, the optimizer's
moments, the warm-up step's gradients (both libraries' ``zero_grad`` drops them; the pages of
a large gradient go back to the system at once, so its reallocation counts again, those of
a small one may be reused from malloc's heap and not count), and whatever freed memory the
allocators kept after the warm-up that ``malloc_trim`` could not return. torch's CPU
allocator does not cache freed blocks: they go back to malloc, as NumPy's large arrays do.
The baseline (reported beside the peak) holds the interpreter, both libraries (the child
imports whatever ``SPEC``'s module imports), the weights, gradients and optimizer state.
"""
import ctypes
import gc
import importlib
import json
import os
import subprocess
import sys
from collections import namedtuple

from threadpoolctl import threadpool_limits

StepMemory = namedtuple("StepMemory", ["peak_mib", "baseline_mib"])


def _status_mib(field):
    """``field`` (``VmRSS``, ``VmHWM``) of ``/proc/self/status``, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field} (Linux only)")


def _release_free_memory():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the baseline keeps the allocator's cache
        pass


def measure(spec, framework, threads, *args):
    """In this process: build ``spec``'s step, warm it up, return its ``StepMemory``."""
    module, _, function = spec.partition(":")
    builder = getattr(importlib.import_module(module), function)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        step = builder(framework, *args)
        step()
        _release_free_memory()
        baseline = _status_mib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        step()
        peak = _status_mib("VmHWM")
    return StepMemory(peak - baseline, baseline)


def step_memory(spec, framework, threads=1, *args):
    """``StepMemory(peak_mib, baseline_mib)`` of one training step of ``spec`` (see the
    module docstring), measured in a fresh Python process."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", spec, framework,
                          str(threads), *map(str, args)], cwd=root, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"memory measurement of {spec} {framework} {args} failed:\n"
                           f"{out.stderr}")
    return StepMemory(**json.loads(out.stdout.strip().splitlines()[-1]))


def peak_step_mib(spec, framework, threads=1, *args):
    """Peak MiB one training step of ``spec`` adds to the process (fresh process)."""
    return step_memory(spec, framework, threads, *args).peak_mib


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    spec, framework, threads, *args = argv
    print(json.dumps(measure(spec, framework, int(threads), *args)._asdict()))


if __name__ == "__main__":
    main()
