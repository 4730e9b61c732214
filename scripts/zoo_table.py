"""The README's model-zoo table from finished ``minidl train`` runs.

    python scripts/zoo_table.py runs/resnet18-fashion-mnist-mini-*/ runs/lenet-*/ ...

For each run folder it reads ``metrics.json`` (written by the CLI): the model, the epochs
run, the batch size, the selected epoch and its validation accuracy (the best one), the
test accuracy of that epoch's weights (the run's one test evaluation), and the median
training seconds per epoch (the training pass only, as the CLI prints it). Parameters and
multiply-accumulates per image come from ``minidl.summary`` of the same model, built with
the run's arguments, on one image of the run's data. Prints one Markdown row per run.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import minidl  # noqa: E402
from minidl.train.recipes import open_image_data  # noqa: E402
from minidl.vision import models  # noqa: E402


def row(folder):
    path = os.path.join(folder, "metrics.json")
    with open(path) as f:
        run = json.load(f)
    config, history, selected, test = (_entry(run, key, path) for key in
                                       ("config", "history", "selected", "test"))
    images = open_image_data(config["data"], train=False).to_tensors()[0]
    model = models.get_model(config["arch"], **config["model_kwargs"])
    s = minidl.summary(model, tuple(images.shape[1:]))
    val = "-" if selected["val_acc"] is None else f"{100 * selected['val_acc']:.2f}"
    seconds = statistics.median(h["time_s"] for h in history)
    return (f"| {config['model']} | {len(history)} | {config['batch_size']} | "
            f"{selected['epoch']} | {val} | {100 * test['acc']:.2f} | "
            f"{count(s.total_params)} | {count(s.total_macs)} | "
            f"{seconds:.{1 if seconds < 10 else 0}f} |")


def _entry(run, key, path):
    if run.get(key) is None:
        raise SystemExit(f"{path} has no {key!r} entry: it was written by an older minidl "
                         f"train, or the run did not finish; train it again")
    return run[key]


def count(n):
    """1234567 -> '1.23 M', 61706 -> '61.7 k'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.{2 if n < 10 * size else 1}f} {unit}"
    return str(n)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", help="run folders holding metrics.json")
    a = p.parse_args(argv)
    print("| model | epochs | batch | best epoch | val acc. % (best) | test acc. % | params "
          "| MACs / image | s / epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    missing = [f for f in a.runs if not os.path.isfile(os.path.join(f, "metrics.json"))]
    if missing:
        p.error(f"no metrics.json (written by 'minidl train') in {', '.join(missing)}")
    for folder in a.runs:
        print(row(folder), flush=True)


if __name__ == "__main__":
    main()
