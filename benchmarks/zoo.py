"""The zoo's seconds per epoch and peak step memory: minidl vs PyTorch, on the CLI's recipe.

    python -m benchmarks.zoo [--models resnet18 densenet121 googlenet mobilenet_v2]
                             [--threads 1] [--steps 5] [--warmup 1] [--no-memory]

For each model, the recipe ``minidl train MODEL --data fashion-mnist-mini`` uses (batch
size, optimizer and learning rate from ``minidl.train.recipes``; 1 x 28 x 28 inputs, 10
classes, so the ``small_input=True`` variant): minidl's model, and its torch twin built from
the same source file with the same initial weights (``benchmarks.transplant``). One training
step -- zero_grad, forward in train mode, mean cross-entropy, backward, optimizer step -- on
one standard-normal batch with labels 0-9 is timed in both libraries, alternating, after
warm-up. s / epoch = median step time x ceil(9000 / batch): the bundled training split holds
9,000 images after the 1,000 held out for validation (data loading, augmentation and the
per-epoch validation are not timed). Peak memory: MiB one training step adds on top of the
process's resident set, each (framework, model) in a fresh process (``benchmarks.memory``,
whose docstring says what is counted); the baseline RSS (interpreter, both libraries,
weights, optimizer state) is printed beside it. Ratios are minidl / torch (1.0 = parity).
"""
import argparse
import math
import statistics

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import minidl
from minidl.train.recipes import get_recipe
from minidl.vision import models

from .memory import step_memory
from .run import make_step as training_step
from .run import seconds
from .transplant import copy_weights, torch_builder

DEFAULT_MODELS = ["resnet18", "densenet121", "googlenet", "mobilenet_v2"]
TRAIN_IMAGES = 9000  # fashion-mnist-mini: 10,000 training images, 10 % held out
# what recipes.prepare_image_data reports for fashion-mnist-mini (shape and classes only)
DATA_INFO = {"num_classes": 10, "in_channels": 1, "image_size": (28, 28), "in_features": 784}
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW"}


def recipe_config(name):
    """(builder name, model kwargs, batch size, optimizer name, lr, weight decay) of the
    ``minidl train NAME --data fashion-mnist-mini`` recipe."""
    recipe = get_recipe(name)
    d = recipe.defaults
    if d["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"{name}: optimizer {d['optimizer']!r} is not benchmarked "
                         f"(only {', '.join(OPTIMIZERS)})")
    return (recipe.arch, recipe.model_kwargs(DATA_INFO), d["batch_size"], d["optimizer"],
            d["lr"], d.get("weight_decay", 0.0))


def make_step(lib, model, x, y, optimizer, lr, weight_decay):
    """A full training step of ``model`` (in train mode) on (``x``, ``y``) with the recipe's
    optimizer."""
    model.train()
    return training_step(lib, model, x, y, lr, OPTIMIZERS[optimizer], weight_decay=weight_decay)


def batch(batch_size, seed=0):
    """A standard-normal 1 x 28 x 28 image batch and labels 0-9, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    shape = (batch_size, DATA_INFO["in_channels"], *DATA_INFO["image_size"])
    return (rng.standard_normal(shape).astype(np.float32),
            rng.integers(0, DATA_INFO["num_classes"], batch_size))


def build_pair(name, seed=0):
    """minidl's model of recipe ``name`` and its torch twin (same weights), each with its
    training step on the same batch; and the recipe's batch size."""
    arch, kwargs, batch_size, optimizer, lr, wd = recipe_config(name)
    minidl.manual_seed(seed)
    m_model = models.get_model(arch, **kwargs)
    t_model = copy_weights(m_model, torch_builder(arch)(**kwargs))
    x, y = batch(batch_size, seed)
    m_step = make_step(minidl, m_model, minidl.from_numpy(x.copy()), minidl.from_numpy(y.copy()),
                       optimizer, lr, wd)
    t_step = make_step(torch, t_model, torch.from_numpy(x.copy()), torch.from_numpy(y.copy()),
                       optimizer, lr, wd)
    return m_step, t_step, batch_size


def memory_step(framework, name):
    """The training step of recipe ``name`` in ``framework`` alone (``benchmarks.memory``'s
    builder: weights are random, the batch is the recipe's)."""
    arch, kwargs, batch_size, optimizer, lr, wd = recipe_config(name)
    x, y = batch(batch_size)
    if framework == "minidl":
        lib, model = minidl, models.get_model(arch, **kwargs)
    elif framework == "torch":
        lib, model = torch, torch_builder(arch)(**kwargs)
    else:
        raise ValueError(f"framework must be minidl or torch, not {framework!r}")
    return make_step(lib, model, lib.from_numpy(x), lib.from_numpy(y), optimizer, lr, wd)


def time_pair(m_step, t_step, steps, warmup):
    """Median seconds per step of each, the two alternating step by step (machine noise
    hits both alike)."""
    for _ in range(warmup):
        m_step()
        t_step()
    m_times, t_times = [], []
    for _ in range(steps):
        m_times.append(seconds(m_step))
        t_times.append(seconds(t_step))
    return statistics.median(m_times), statistics.median(t_times)


def run(names, threads, steps, warmup, memory=True):
    """One row per model: name, batch, minidl and torch s / epoch, and (``memory``) the
    ``StepMemory`` of each."""
    torch.set_num_threads(threads)
    rows = []
    for name in names:
        with threadpool_limits(limits=threads):
            m_step, t_step, batch_size = build_pair(name)
            m, t = time_pair(m_step, t_step, steps, warmup)
        del m_step, t_step  # free the models before the memory subprocesses run
        epoch = math.ceil(TRAIN_IMAGES / batch_size)
        row = {"model": name, "batch": batch_size, "minidl": m * epoch, "torch": t * epoch}
        if memory:
            for fw in ("minidl", "torch"):
                row[f"{fw}_mem"] = step_memory("benchmarks.zoo:memory_step", fw, threads, name)
        rows.append(row)
        print_row(row, memory)
    return rows


def print_header(threads, memory):
    print(f"threads={threads}  (s / epoch = median step x ceil({TRAIN_IMAGES} / batch); "
          f"ratio = minidl / torch)")
    line = f"{'model':14} {'batch':>5} {'minidl s/ep':>11} {'torch s/ep':>10} {'ratio':>6}"
    if memory:
        line += (f" | {'minidl MiB':>10} {'torch MiB':>9} {'ratio':>6}"
                 f" | {'base minidl':>11} {'base torch':>10}")
    print(line, flush=True)


def print_row(row, memory):
    line = (f"{row['model']:14} {row['batch']:5d} {row['minidl']:11.1f} {row['torch']:10.1f} "
            f"{row['minidl'] / row['torch']:6.2f}")
    if memory:
        m, t = row["minidl_mem"], row["torch_mem"]
        line += (f" | {m.peak_mib:10.0f} {t.peak_mib:9.0f} {m.peak_mib / t.peak_mib:6.2f}"
                 f" | {m.baseline_mib:11.0f} {t.baseline_mib:10.0f}")
    print(line, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=DEFAULT_MODELS, metavar="MODEL",
                   help="zoo recipes (`minidl models`); default: %(default)s")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=5, help="timed steps per library")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="skip the peak-memory subprocesses")
    a = p.parse_args(argv)
    print_header(a.threads, a.memory)
    return run(a.models, a.threads, a.steps, a.warmup, a.memory)


if __name__ == "__main__":
    main()
