"""``minidl tune MODEL``: random hyper-parameter search over ``minidl train`` options.

    minidl tune lenet --trials 8 --param lr=log:1e-4:1e-1 \\
        --param batch-size=choice:32,64,128 --epochs 2 --refine 1

Each trial is one ``minidl train MODEL`` run (in this process, its output in the trial's
``train.log``) with every ``--param`` drawn at random (``search_space``: log-uniform for
rates, uniform, integers, choices) and the fixed options ``--epochs``, ``--data``,
``--limit``, ``--set OPTION=VALUE``. Trials are ranked on the VALIDATION metric of their
selected epoch (``--metric``: ``val_acc``, largest first, or ``val_loss``); the test
accuracy each run measures at its end is never read, so that the search does not select on
the test split (test the winner once: ``minidl eval BEST/best.safetensors``). Every trial
trains with the same ``--seed`` of ``minidl train`` (its default 0 unless ``--set seed=S``),
so trials differ by their parameters only; ``--seed`` here seeds the sampler.

Coarse to fine: ``--refine R`` adds R rounds of ``--trials`` trials each, sampled from the
ranges narrowed around the best ``--top`` trials so far (``search_space.narrow``).

Writes into ``--out``: a folder per trial (``trial-001``...), ``results.csv`` (best first)
and ``tune.png`` (the metric against each parameter, log x for log-scale ones, one colour
per round, the best trial starred).
"""
import contextlib
import csv
import json
import math
import os
import sys
import time

import numpy as np

from .arguments import positive_int
from .search_space import narrow, parse_param, sample
from .tasks import Command, default_out_dir, register_command

__all__ = ["run_search", "METRICS", "write_results", "plot_results"]

METRICS = {"val_acc": "max", "val_loss": "min"}
_RESERVED = {"out", "resume", "no-progress", "help"}


def _train_options():
    """The option names (without dashes) that ``minidl train`` takes."""
    from ..cli import build_parser
    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions).choices["train"]
    return {s[2:] for a in train._actions for s in a.option_strings if s.startswith("--")}


def trial_argv(model, values, fixed, out):
    """The ``minidl train`` command line of one trial (a list of strings)."""
    argv = ["train", model, "--out", out, "--no-progress"]
    for name, value in [*fixed.items(), *values.items()]:
        argv += [f"--{name}", str(value)]
    return argv


def _run_trial(argv, out):
    """``(exit status, metrics.json or None)`` of one in-process ``minidl train`` run."""
    from ..cli import main
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "train.log"), "w") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            status = main(argv)
        except SystemExit as e:  # the train parser refused an option value
            status = e.code if isinstance(e.code, int) else 2
    path = os.path.join(out, "metrics.json")
    if status != 0 or not os.path.isfile(path):
        return status, None
    with open(path) as f:
        return status, json.load(f)


def _score(row, metric):
    """Sort key: best first, failed trials last."""
    v = row.get(metric)
    if v is None:
        return (1, 0.0)
    return (0, -v if METRICS[metric] == "max" else v)


def run_search(model, params, trials=8, refine=0, top=None, fixed=None, metric="val_acc",
               seed=0, out="runs/tune", log=print):
    """Run the search (see the module); returns the trial rows, best first. A row holds
    ``trial``, ``round``, each parameter's value, ``val_acc``, ``val_loss``, ``best_epoch``,
    ``time_s``, ``status`` and ``out_dir``."""
    fixed = dict(fixed or {})
    top = top or max(2, trials // 4)
    rng = np.random.default_rng(seed)
    space, rows = list(params), []
    for round_ in range(1, refine + 2):
        if round_ > 1:
            ranked = sorted((r for r in rows if r.get(metric) is not None),
                            key=lambda r: _score(r, metric))[:top]
            if not ranked:
                break
            space = [narrow(p, [r[p.name] for r in ranked]) for p in space]
            log(f"round {round_}: " + ", ".join(p.describe() for p in space))
        for _ in range(trials):
            number = len(rows) + 1
            values = {p.name: sample(p, rng) for p in space}
            trial_out = os.path.join(out, f"trial-{number:03d}")
            t0 = time.perf_counter()
            status, metrics = _run_trial(trial_argv(model, values, fixed, trial_out), trial_out)
            selected = (metrics or {}).get("selected") or {}
            row = {"trial": number, "round": round_, **values,
                   "val_acc": selected.get("val_acc"), "val_loss": selected.get("val_loss"),
                   "best_epoch": selected.get("epoch"),
                   "time_s": round(time.perf_counter() - t0, 2),
                   "status": "ok" if status == 0 else f"exit {status}", "out_dir": trial_out}
            rows.append(row)
            shown = " ".join(f"{k}={v}" for k, v in values.items())
            result = (f"{metric} {_format(metric, row[metric])}" if row[metric] is not None
                      else f"failed ({row['status']}, see {trial_out}/train.log)")
            log(f"trial {number} (round {round_}): {shown} -> {result} [{row['time_s']:.1f}s]")
            if status == 130:  # interrupted: stop the search, keep what is done
                return sorted(rows, key=lambda r: _score(r, metric))
    return sorted(rows, key=lambda r: _score(r, metric))


def _format(metric, value):
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if metric.endswith("_acc") else f"{value:.4f}"


def write_results(rows, params, path):
    """``results.csv``: one line per trial, best first, with its rank."""
    names = [p.name for p in params]
    columns = ["rank", "trial", "round", *names, "val_acc", "val_loss", "best_epoch",
               "time_s", "status", "out_dir"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for rank, row in enumerate(rows, 1):
            writer.writerow({"rank": rank, **{k: row.get(k) for k in columns[1:]}})


def format_table(rows, params, metric):
    """The results as aligned text, best first."""
    names = [p.name for p in params]
    header = ["rank", "trial", "round", *names, metric, "epoch", "time_s"]
    lines = [[str(rank), str(r["trial"]), str(r["round"]), *(str(r[n]) for n in names),
              _format(metric, r[metric]) if r[metric] is not None else r["status"],
              str(r["best_epoch"] or "-"), f"{r['time_s']:.1f}"] for rank, r in
             enumerate(rows, 1)]
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    return "\n".join("  ".join(x.rjust(w) for x, w in zip(line, widths))
                     for line in [header, *lines])


def plot_results(rows, params, metric, path):
    """``tune.png``: ``metric`` against each parameter (log x where log-scale)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    scale = 100.0 if metric.endswith("_acc") else 1.0
    done = [r for r in rows if r[metric] is not None]
    fig = Figure(figsize=(4.5 * len(params), 3.8), dpi=100)
    FigureCanvasAgg(fig)
    for i, p in enumerate(params):
        ax = fig.add_subplot(1, len(params), i + 1)
        if p.kind == "choice":
            ax.set_xticks(range(len(p.choices)), p.choices)
            ax.set_xlim(-0.5, len(p.choices) - 0.5)
        for round_ in sorted({r["round"] for r in done}):
            these = [r for r in done if r["round"] == round_]
            ax.scatter([_position(p, r[p.name]) for r in these],
                       [r[metric] * scale for r in these], label=f"round {round_}", s=25)
        if done:
            best = done[0]
            ax.scatter([_position(p, best[p.name])], [best[metric] * scale], marker="*",
                       s=200, color="tab:red", label=f"best (trial {best['trial']})")
        if p.log_scale:
            ax.set_xscale("log")
        ax.set_xlabel(p.name + (" (log scale)" if p.log_scale else ""))
        ax.set_ylabel(f"{metric} (%)" if scale == 100.0 else metric)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def _position(param, value):
    return param.choices.index(str(value)) if param.kind == "choice" else float(value)


def _arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="the model to tune (see 'minidl models')")
    parser.add_argument("--param", action="append", required=True, metavar="NAME=KIND:SPEC",
                        help="a searched minidl train option: NAME=log:LO:HI (log-uniform, for "
                             "rates), uniform:LO:HI, int:LO:HI or choice:A,B,C; repeatable")
    parser.add_argument("--trials", type=positive_int, default=8,
                        help="trials per round (default 8)")
    parser.add_argument("--refine", type=int, default=0, metavar="R",
                        help="coarse-to-fine: R more rounds around the best trials (default 0)")
    parser.add_argument("--top", type=positive_int, metavar="K",
                        help="best trials the next round narrows around (default "
                             "max(2, trials / 4))")
    parser.add_argument("--metric", choices=sorted(METRICS), default="val_acc",
                        help="validation metric that ranks the trials (default val_acc)")
    parser.add_argument("--epochs", type=positive_int, help="epochs of every trial")
    parser.add_argument("--data", help="data of every trial (default: minidl train's)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="training samples of every trial (minidl train --limit)")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="a fixed minidl train option for every trial; repeatable")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler (default 0)")
    parser.add_argument("--out", help="output folder (default runs/tune-<model>-<data>-<time>)")


def _setup(args):
    """``(params, fixed)`` from the command line; ValueError names a bad option."""
    params = [parse_param(text) for text in args.param]
    fixed = {k: v for k, v in (("epochs", args.epochs), ("data", args.data),
                               ("limit", args.limit)) if v is not None}
    for text in args.set:
        name, eq, value = text.partition("=")
        if not eq or not name.strip("- "):
            raise ValueError(f"--set {text!r}: write OPTION=VALUE, e.g. --set optimizer=sgd")
        fixed[name.strip().lstrip("-")] = value
    options = _train_options()
    names = [p.name for p in params]
    for name in [*names, *fixed]:
        if name in _RESERVED or name not in options:
            raise ValueError(f"'{name}' is not a minidl train option tune can set; choose "
                             f"from {', '.join(sorted(options - _RESERVED))}")
    twice = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(fixed)))
    if twice:
        raise ValueError(f"{', '.join(twice)} given twice (searched and fixed, or searched "
                         f"twice)")
    if fixed.get("val-fraction") in ("0", "0.0"):
        raise ValueError("tune ranks trials on validation; --set val-fraction=0 has none")
    return params, fixed


def _run(args):
    prog = "minidl tune"
    try:
        params, fixed = _setup(args)
        if args.refine < 0:
            raise ValueError(f"--refine must be >= 0, got {args.refine}")
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    from ..cli import build_parser
    from .recipes import RECIPES, find_recipe
    if find_recipe(args.model) is None:
        print(f"{prog}: error: unknown model {args.model!r}; available models: "
              f"{', '.join(sorted(RECIPES))}", file=sys.stderr)
        return 1
    probe = trial_argv(args.model, {p.name: sample(p, np.random.default_rng(0)) for p in params},
                       fixed, "probe")
    try:
        build_parser().parse_args(probe)  # refuses a bad model or value before any trial
    except SystemExit:
        print(f"{prog}: error: minidl train refuses {' '.join(probe[:2] + probe[5:])} "
              f"(see its message above)", file=sys.stderr)
        return 1
    out = args.out or default_out_dir(f"tune-{args.model}", fixed.get("data", "mnist-mini"))
    os.makedirs(out, exist_ok=True)
    total = args.trials * (args.refine + 1)
    print(f"{prog} {args.model}: {total} trials ({args.refine + 1} round(s) of {args.trials}) "
          f"of minidl train, ranked on {args.metric}; searching "
          f"{', '.join(p.describe() for p in params)}; output folder {out}", flush=True)
    t0 = time.perf_counter()
    rows = run_search(args.model, params, args.trials, args.refine, args.top, fixed,
                      args.metric, args.seed, out, log=lambda s: print(s, flush=True))
    write_results(rows, params, os.path.join(out, "results.csv"))
    plot_results(rows, params, args.metric, os.path.join(out, "tune.png"))
    print(format_table(rows, params, args.metric))
    best = rows[0]
    if best[args.metric] is None:
        print(f"{prog}: error: every trial failed (see the train.log in {out}/trial-*)",
              file=sys.stderr)
        return 1
    shown = " ".join(f"--{p.name} {best[p.name]}" for p in params)
    print(f"best: trial {best['trial']} ({shown}): {args.metric} "
          f"{_format(args.metric, best[args.metric])}, checkpoint "
          f"{best['out_dir']}/best.safetensors; {math.ceil(time.perf_counter() - t0)}s in all; "
          f"results.csv and tune.png in {out}")
    return 0


register_command(Command(
    "tune", "random hyper-parameter search over minidl train options, on validation",
    _arguments, _run,
    description="Random search (log-uniform for rates) over minidl train options given as "
                "--param NAME=KIND:SPEC, with --refine coarse-to-fine rounds around the best "
                "trials; trials are ranked on their validation metric, never the test split. "
                "Writes results.csv, tune.png and one folder per trial."))
