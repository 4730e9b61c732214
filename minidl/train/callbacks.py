"""Callbacks: small objects the ``Trainer`` calls at fixed points of training.

Hooks (all optional): ``on_fit_start(trainer)``, ``on_epoch_start(trainer, epoch)``,
``on_batch_start(trainer, batch)``, ``on_before_optimizer_step(trainer, step)`` (the
gradients are complete and clipped; ``step`` counts the optimizer steps of the run so far),
``on_batch_end(trainer, batch, logs)`` with ``logs = {'loss', 'correct', 'n'}`` of that batch,
``on_epoch_end(trainer, epoch, logs)`` with the epoch's metrics (``train_loss``,
``train_acc``, ``val_loss``, ``val_acc``, ``lr``, ``samples_per_s`` (``<unit>_per_s``),
``time_s``, and any further ``val_*`` figure the trainer's ``evaluate_loader`` gives; the
trainer's ``best_epoch`` already counts it), and ``on_fit_end(trainer)``, where
``trainer.test_metrics`` holds the one test evaluation of the selected weights (None without
a test set, or when training stopped on an error). A callback stops training by setting
``trainer.should_stop = True``. A callback with state that a resumed run needs returns it
from ``state_dict()`` (checkpointed every epoch) and takes it back in ``load_state_dict``.
"""
import csv
import json
import math
import os
import sys
import time

__all__ = ["Callback", "ProgressBar", "ModelCheckpoint", "MetricsLogger", "PlotCurves",
           "EarlyStopping"]


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_start(self, trainer):
        pass

    def on_epoch_start(self, trainer, epoch):
        pass

    def on_batch_start(self, trainer, batch):
        pass

    def on_before_optimizer_step(self, trainer, step):
        pass

    def on_batch_end(self, trainer, batch, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_fit_end(self, trainer):
        pass

    def state_dict(self):
        """What a resumed run needs to carry on (a dict of numbers / strings); ``{}``: none."""
        return {}

    def load_state_dict(self, state):
        """Take back what ``state_dict`` returned."""


def format_metrics(logs):
    """``'train_loss 0.1234  train_acc 96.50%  ...'`` for the numeric entries of ``logs``:
    losses and accuracies first, then any other metric (``val_ppl``...), the learning
    rate, the throughput (``<unit>_per_s``) and the time."""
    known = ("train_loss", "train_acc", "val_loss", "val_acc")
    rates = [k for k in logs if k.endswith("_per_s")]
    extra = [k for k in logs if k not in known and k not in rates
             and k not in ("epoch", "lr", "time_s")]
    parts = []
    for key in (*known, *extra, "lr", *rates, "time_s"):
        v = logs.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if key.endswith("_acc"):
            parts.append(f"{key} {100 * v:.2f}%")
        elif key == "lr":
            parts.append(f"lr {v:.3g}")
        elif key.endswith("_per_s"):
            parts.append(f"{v:.0f} {key[:-len('_per_s')]}/s")
        elif key == "time_s":
            parts.append(f"{v:.1f}s")
        else:
            parts.append(f"{key} {v:.4f}")
    return "  ".join(parts)


class ProgressBar(Callback):
    """A tqdm bar per epoch showing running loss, accuracy and samples/s (the trainer's
    ``unit`` per second: tokens/s for a language model), then a summary line.

    ``bar=False`` keeps only the one-line summary per epoch (``minidl train --no-progress``).
    """

    def __init__(self, bar=True, file=None, refresh_every=10, mininterval=0.1):
        self.bar = bar
        self.file = file
        self.refresh_every = refresh_every
        self.mininterval = mininterval
        self._tqdm = None

    def on_epoch_start(self, trainer, epoch):
        self._loss = self._correct = self._n = 0.0
        self._batches = 0
        self._t0 = time.perf_counter()
        if self.bar:
            from tqdm.auto import tqdm
            total = _safe_len(trainer.train_loader)
            self._tqdm = tqdm(total=total, desc=f"epoch {epoch}/{trainer.epochs}",
                              unit="batch", leave=False, file=self.file or sys.stderr,
                              dynamic_ncols=True, mininterval=self.mininterval)

    def on_batch_end(self, trainer, batch, logs):
        self._loss += logs["loss"] * logs["n"]
        self._correct += logs.get("correct") or 0
        self._n += logs["n"]
        self._batches += 1
        if self._tqdm is not None:
            self._tqdm.update(1)
            if self._batches % self.refresh_every == 1 or self.refresh_every == 1:
                rate = self._n / max(time.perf_counter() - self._t0, 1e-9)
                post = {"loss": f"{self._loss / self._n:.4f}"}
                if logs.get("correct") is not None:
                    post["acc"] = f"{100 * self._correct / self._n:.2f}%"
                post[f"{trainer.unit}/s"] = f"{rate:.0f}"
                self._tqdm.set_postfix(post, refresh=False)

    def on_epoch_end(self, trainer, epoch, logs):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        print(f"epoch {epoch}/{trainer.epochs}  {format_metrics(logs)}",
              file=self.file or sys.stdout, flush=True)

    def on_fit_end(self, trainer):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        if trainer.test_metrics is not None:
            print(f"{selection_text(trainer)}: {format_test(trainer.test_metrics)}",
                  file=self.file or sys.stdout, flush=True)


def selection_text(trainer):
    """``'selected epoch 12 (best val_acc)'``, or ``'last epoch 20 (no validation set)'``."""
    if trainer.val_loader is None:
        return f"last epoch {trainer.best_epoch} (no validation set)"
    return f"selected epoch {trainer.best_epoch} (best {trainer.monitor})"


def format_test(test):
    """``'test_loss 0.0456  test_acc 98.45%'`` of a ``Trainer.test`` result, and any further
    figure a task reports (``test_bleu``, ``test_map50``...)."""
    return format_metrics({f"test_{k}": v for k, v in test.items()
                           if k not in ("epoch", "n", "correct")})


def _safe_len(obj):
    try:
        return len(obj)
    except TypeError:
        return None


class _Monitor:
    """Tracks the best value of one metric (``mode='min'`` or ``'max'``)."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs):
        if logs.get(self.monitor) is not None:
            return logs[self.monitor]
        known = ", ".join(k for k in sorted(logs) if logs[k] is not None)
        raise KeyError(f"metric {self.monitor!r} not found in the epoch's metrics ({known})")

    def improved(self, value):
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class ModelCheckpoint(Callback):
    """Save ``last.safetensors`` every epoch and ``best.safetensors`` at each epoch the
    trainer selects (its best validation figure; every epoch when there is no validation set).

    A checkpoint holds the model's ``state_dict``, the optimizer's (and scheduler's) state,
    the epoch, its metrics, the metrics history and the run's ``config`` (see
    ``Trainer.checkpoint``); read it back with ``minidl.train.load_checkpoint``.
    """

    def __init__(self, out_dir, save_last=True):
        self.out_dir = out_dir
        self.save_last = save_last

    @property
    def best_path(self):
        return os.path.join(self.out_dir, "best.safetensors")

    @property
    def last_path(self):
        return os.path.join(self.out_dir, "last.safetensors")

    def on_fit_start(self, trainer):
        os.makedirs(self.out_dir, exist_ok=True)

    def on_epoch_end(self, trainer, epoch, logs):
        from ..serialization import save
        ckpt = trainer.checkpoint(epoch, logs)
        if self.save_last:
            save(ckpt, self.last_path)
        if trainer.best_epoch == epoch:
            save(ckpt, self.best_path)


class MetricsLogger(Callback):
    """Write the run's metrics to ``metrics.json`` and the per-epoch ones to ``metrics.csv``.

    ``metrics.json`` holds ``config``, ``history`` (per epoch: ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc``, ``lr``, ...), ``selected`` (``epoch``, ``monitor`` -- None
    without a validation set, when the last epoch is the model -- and that epoch's
    ``val_loss`` / ``val_acc``) and ``test`` (``epoch``, ``loss``, ``acc``, ``correct``,
    ``n`` of the one test evaluation; None until training has ended). Both files are
    rewritten after every epoch, so an interrupted run keeps its log.
    """

    def __init__(self, out_dir, json_name="metrics.json", csv_name="metrics.csv"):
        self.out_dir = out_dir
        self.json_path = os.path.join(out_dir, json_name)
        self.csv_path = os.path.join(out_dir, csv_name)

    def on_fit_start(self, trainer):
        os.makedirs(self.out_dir, exist_ok=True)

    def on_epoch_end(self, trainer, epoch, logs):
        self.write(trainer)

    def on_fit_end(self, trainer):
        if trainer.history:
            self.write(trainer)

    def write(self, trainer):
        history, best = trainer.history, trainer.best_metrics
        selected = {"epoch": trainer.best_epoch,
                    "monitor": None if trainer.val_loader is None else trainer.monitor,
                    "val_loss": best.get("val_loss"), "val_acc": best.get("val_acc")}
        _atomic_write(self.json_path, json.dumps(
            {"config": trainer.config, "history": history, "selected": selected,
             "test": trainer.test_metrics}, indent=2, default=_jsonable))
        keys = []
        for row in history:
            keys += [k for k in row if k not in keys]
        tmp = self.csv_path + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(history)
        os.replace(tmp, self.csv_path)


def _jsonable(obj):
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def _atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class PlotCurves(Callback):
    """Draw loss and accuracy per epoch (train and validation) into ``curves.png``; a task
    without accuracy gets its own validation figures (perplexity, BLEU...) instead.

    When training ends, the test figures of the selected weights are drawn as a star at
    the selected epoch.
    """

    def __init__(self, out_dir, name="curves.png", every_epoch=True):
        self.path = os.path.join(out_dir, name)
        self.out_dir = out_dir
        self.every_epoch = every_epoch

    def on_epoch_end(self, trainer, epoch, logs):
        if self.every_epoch:
            self.plot(trainer.history)

    def on_fit_end(self, trainer):
        if trainer.history and (not self.every_epoch or trainer.test_metrics is not None):
            self.plot(trainer.history, trainer.test_metrics)

    def plot(self, history, test=None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        epochs = [row["epoch"] for row in history]
        panels = [("loss", "loss", 1.0)]
        for metric in _curve_metrics(history):
            panels.append((metric, "accuracy (%)", 100.0) if metric == "acc" else
                          (metric, metric, 1.0))
        fig = Figure(figsize=(5 * len(panels), 4), dpi=100)
        FigureCanvasAgg(fig)  # render with Agg: no display, no pyplot state
        for i, (metric, label, scale) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            for split, style in (("train", "o-"), ("val", "s-")):
                values = [row.get(f"{split}_{metric}") for row in history]
                if any(v is not None for v in values):
                    ax.plot(epochs, [math.nan if v is None else v * scale for v in values],
                            style, label=split, markersize=3)
            if test is not None and test.get(metric) is not None:
                ax.plot([test["epoch"]], [test[metric] * scale], "*", color="tab:red",
                        markersize=12, label=f"test (epoch {test['epoch']})")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.tight_layout()
        os.makedirs(self.out_dir, exist_ok=True)
        tmp = self.path + ".tmp.png"
        fig.savefig(tmp)
        os.replace(tmp, self.path)


def _curve_metrics(history):
    """The figures besides the loss that have values: accuracy, else the validation
    metrics a task reports (``val_ppl``, ``val_bleu``...), at most two."""
    if any(row.get("train_acc") is not None or row.get("val_acc") is not None
           for row in history):
        return ["acc"]
    names = []
    for row in history:
        names += [k[4:] for k, v in row.items() if k.startswith("val_") and v is not None
                  and k not in ("val_loss", "val_acc") and k[4:] not in names]
    return names[:2]


class EarlyStopping(Callback):
    """Stop when ``monitor`` (a validation metric) has not improved by ``min_delta`` for
    ``patience`` epochs."""

    def __init__(self, monitor="val_loss", patience=5, mode="min", min_delta=0.0):
        self._monitor = _Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.wait = 0
        self.stopped_epoch = None

    def state_dict(self):
        return {"wait": self.wait, "best": self._monitor.best,
                "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state):
        self.wait, self._monitor.best = int(state["wait"]), float(state["best"])
        self.stopped_epoch = state["stopped_epoch"]

    def on_fit_start(self, trainer):
        if self._monitor.monitor.startswith("val_") and trainer.val_loader is None:
            raise ValueError(f"early stopping watches {self._monitor.monitor!r}, which needs a "
                             f"validation set: give the Trainer a val_loader")

    def on_epoch_end(self, trainer, epoch, logs):
        if self._monitor.improved(self._monitor.value(logs)):
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.should_stop = True
            print(f"early stopping at epoch {epoch}: {self._monitor.monitor} has not improved "
                  f"for {self.patience} epochs (best {self._monitor.best:.4f})", flush=True)
