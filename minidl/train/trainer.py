"""``Trainer`` / ``fit``: the epoch loop of supervised training, with callbacks.

One epoch: for every ``(input, target)`` batch of ``train_loader``: forward, loss, backward,
optimizer step (and the scheduler when it steps per batch); then evaluation on
``val_loader`` (loss and accuracy), the scheduler's epoch step, model selection, and the
callbacks (progress, checkpoints, logs, plots, early stopping). Accuracy is counted when the
model returns class scores ``N x C`` for integer targets ``N``.

Protocol: selection, early stopping and ``ReduceLROnPlateau`` read the validation figures
only; ``test_loader`` is evaluated once, after the last epoch, with the selected weights.
"""
import math
import os
import sys
import time

import numpy as np

from ..autograd import no_grad
from .callbacks import (  # noqa: F401
    Callback,
    EarlyStopping,
    MetricsLogger,
    ModelCheckpoint,
    PlotCurves,
    ProgressBar,
    _Monitor,
    _safe_len,
)
from .checkpointing import (
    TrainingInterrupted,
    build_checkpoint,
    interrupt_message,
    load_checkpoint,
    restore_checkpoint,
    stop_on_signals,
)

__all__ = ["Trainer", "fit", "evaluate", "load_checkpoint", "TrainingInterrupted"]


def _n_correct(output, target):
    """Correct top-1 predictions of a batch, or None when the task is not classification."""
    out, tgt = output.detach().numpy(), target.numpy()
    if out.ndim != 2 or tgt.ndim != 1 or tgt.dtype.kind not in "iu":
        return None
    return int(np.count_nonzero(out.argmax(1) == tgt))


def _split_batch(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"expected the data loader to yield (input, target) pairs, got "
                        f"{type(batch).__name__}"
                        f"{' of length ' + str(len(batch)) if hasattr(batch, '__len__') else ''}")
    return batch


def evaluate(model, loader, loss_fn=None, top_k=None):
    """Mean loss and top-1 accuracy of ``model`` over ``loader`` (eval mode, no gradients).

    Returns ``{'loss', 'acc', 'correct', 'n'}`` (``loss`` is None without ``loss_fn``,
    ``acc`` / ``correct`` are None when the outputs are not class scores); with ``top_k``
    also ``'top<k>_acc'``, the share of samples whose class is among the ``k`` largest scores
    (``metrics.top_k_accuracy``; ties broken by class order).
    """
    from .metrics import top_k_correct
    was_training = model.training
    model.eval()
    total_loss, correct, n, top = 0.0, 0, 0, 0
    classify = True
    try:
        with no_grad():
            for batch in loader:
                x, y = _split_batch(batch)
                out = model(x)
                m = len(y)
                if loss_fn is not None:
                    total_loss += float(loss_fn(out, y).item()) * m
                c = _n_correct(out, y)
                classify = classify and c is not None
                correct += c or 0
                if top_k is not None and c is not None:
                    top += top_k_correct(out.numpy(), y.numpy(), top_k)
                n += m
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluate: the data loader yielded no samples")
    result = {"loss": total_loss / n if loss_fn is not None else None,
              "acc": correct / n if classify else None,
              "correct": correct if classify else None, "n": n}
    if top_k is not None:
        result[f"top{top_k}_acc"] = top / n if classify else None
    return result


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``train_loader``, selecting on ``val_loader``.

    ``loss_fn`` defaults to ``nn.CrossEntropyLoss()``. After every epoch the model is
    evaluated on ``val_loader``; the epoch where ``monitor`` is best is the selected one
    (``best_epoch``, the first of equals; its weights are kept and written to
    ``best.safetensors``). ``monitor`` defaults to ``'val_acc'`` (largest wins) when the
    model returns class scores, else ``'val_loss'`` (smallest wins); ``mode`` (``'max'`` /
    ``'min'``) defaults to ``'max'`` for names ending in ``_acc``. Without ``val_loader``
    nothing is selected: the last epoch is the model, and early stopping and
    ``ReduceLROnPlateau`` (which read the validation loss) are refused.

    ``test_loader`` is not touched while training: when ``fit`` ends, the selected weights
    are evaluated on it once (``test_metrics``) and the model gets its last-epoch weights
    back (``best_state()`` returns the selected ones).

    ``scheduler`` steps once per epoch (``scheduler_interval='step'``: after every optimizer
    step). With ``out_dir`` the default callbacks write ``last.safetensors`` /
    ``best.safetensors``, ``metrics.json`` / ``metrics.csv`` and ``curves.png`` there;
    ``progress`` shows a tqdm bar (False: one summary line per epoch, None: silent).
    ``config`` (a JSON-able dict) is stored in checkpoints and logs so that a run can be
    rebuilt from them. ``history`` holds one metrics dict per finished epoch.

    ``accumulate_grad_batches=k`` sums the gradients of ``k`` batches, each loss divided by
    ``k``, before one optimizer step (and ``zero_grad``); the last group of an epoch steps
    even when it is shorter. For a loss that averages over the batch, ``k`` batches of ``b``
    then make the same step as one batch of ``k * b`` (without batch norm). A per-step
    scheduler counts optimizer steps. Before each step ``clip_grad_value`` clamps every
    gradient to ``[-value, value]`` (``nn.utils.clip_grad_value_``) and then
    ``clip_grad_norm`` rescales them so that their global 2-norm is at most that value
    (``nn.utils.clip_grad_norm_``).

    A training loss that is NaN or infinite raises ``FloatingPointError`` naming the epoch
    and batch, before its backward pass and step, so no checkpoint holds the diverged
    weights. SIGINT (Ctrl-C) and SIGTERM stop ``fit`` with ``TrainingInterrupted`` (a
    ``KeyboardInterrupt``) after printing where the last checkpoint is and how to resume
    (``resume_hint``, e.g. the command line to run; default: ``Trainer.resume(...)``).
    ``resume`` restores the whole state, random streams and data order included
    (``checkpointing``), so an interrupted run resumed from ``last.safetensors`` ends with
    the weights the uninterrupted run would have had.

    ``top_k`` (an int, e.g. 5) adds the top-k accuracy (``top5_acc``, logged as
    ``val_top5_acc``) to every evaluation of class scores.

    Other tasks subclass it and override ``training_step`` (a batch -> its loss and counts)
    and ``evaluate_loader`` (a loader -> ``{'loss', 'acc', ...}``; further keys such as
    ``ppl`` are logged as ``val_ppl``); ``unit`` names what ``n`` counts (``'samples'``,
    ``'tokens'``) for the progress bar and the ``<unit>_per_s`` figure.
    """

    unit = "samples"

    def __init__(self, model, optimizer, loss_fn=None, train_loader=None, val_loader=None,
                 scheduler=None, callbacks=None, out_dir=None, progress=True, config=None,
                 scheduler_interval="epoch", early_stopping_patience=None, test_loader=None,
                 monitor=None, mode=None, clip_grad_norm=None, clip_grad_value=None,
                 accumulate_grad_batches=1, top_k=None, resume_hint=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        from ..optim.lr_scheduler import ReduceLROnPlateau
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
            raise ValueError("ReduceLROnPlateau steps on the validation loss, which exists once "
                             "per epoch: use scheduler_interval='epoch'")
        if (isinstance(accumulate_grad_batches, bool)
                or not isinstance(accumulate_grad_batches, (int, np.integer))
                or accumulate_grad_batches < 1):
            raise ValueError(f"accumulate_grad_batches must be a positive integer, got "
                             f"{accumulate_grad_batches!r}")
        if clip_grad_value is not None and not clip_grad_value > 0:
            raise ValueError(f"clip_grad_value must be positive, got {clip_grad_value}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
        self.accumulate_grad_batches = int(accumulate_grad_batches)
        self.clip_grad_value, self.top_k, self.resume_hint = clip_grad_value, top_k, resume_hint
        self.optimizer_steps = 0
        self.interrupted = None  # the signal's name when fit was stopped by one
        if loss_fn is None:
            from ..nn import CrossEntropyLoss
            loss_fn = CrossEntropyLoss()
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.val_loader = train_loader, val_loader
        self.test_loader = test_loader
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.monitor, self.mode = monitor, mode
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be a positive norm, got {clip_grad_norm}")
        self.clip_grad_norm = clip_grad_norm
        self.out_dir = out_dir
        self.config = dict(config or {})
        self.history = []
        self.epoch = 0          # the last finished epoch
        self.epochs = 0         # the epoch fit() runs up to
        self.best_epoch = None  # the selected epoch
        self.test_metrics = None
        self.should_stop = False
        self._selection = None
        self._best_state = None
        cbs = []
        if progress is not None:
            cbs.append(ProgressBar(bar=bool(progress)))
        if out_dir is not None:
            cbs += [ModelCheckpoint(out_dir), MetricsLogger(out_dir), PlotCurves(out_dir)]
        if early_stopping_patience is not None:
            cbs.append(EarlyStopping(patience=early_stopping_patience))
        cbs += list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be minidl.train.Callback instances, got "
                                f"{type(cb).__name__}")
        self.callbacks = cbs

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # ---------------------------------------------------------------- loop
    def fit(self, epochs):
        """Train until epoch ``epochs`` (counting epochs already done when resumed), then
        evaluate the selected weights on ``test_loader`` once; returns ``history``."""
        if self.train_loader is None:
            raise ValueError("Trainer.fit needs a train_loader")
        from ..optim.lr_scheduler import ReduceLROnPlateau
        if isinstance(self.scheduler, ReduceLROnPlateau) and self.val_loader is None:
            raise ValueError("ReduceLROnPlateau watches the validation loss; give the Trainer "
                             "a val_loader")
        self.epochs = int(epochs)
        self.should_stop = False
        self.test_metrics = None
        self.interrupted = None
        with stop_on_signals():
            try:
                self._fit_loop()
            except TrainingInterrupted as e:
                self.interrupted = e.signal_name
                print(interrupt_message(self, e.signal_name), file=sys.stderr, flush=True)
                raise
        return self.history

    def _fit_loop(self):
        self._call("on_fit_start")
        try:
            while self.epoch < self.epochs and not self.should_stop:
                epoch = self.epoch + 1
                self._call("on_epoch_start", epoch)
                train = self.train_epoch()
                logs = {"epoch": epoch, "train_loss": train.pop("train_loss"),
                        "train_acc": train.pop("train_acc")}
                if self.val_loader is not None:
                    val = self.evaluate_loader(self.val_loader)
                    logs.update({f"val_{k}": v for k, v in val.items()
                                 if k not in ("n", "correct")})
                logs.update(train)
                self._scheduler_epoch_step(logs)
                self.epoch = epoch
                self.history.append(logs)
                self._select(epoch, logs)
                self._call("on_epoch_end", epoch, logs)
            if self.test_loader is not None and self.history:
                self.test_metrics = self.test()
        finally:
            self._call("on_fit_end")

    def training_step(self, batch):
        """Forward one training batch: ``{'loss': Tensor, 'n': count, 'correct': int|None}``."""
        x, y = _split_batch(batch)
        out = self.model(x)
        return {"loss": self.loss_fn(out, y), "n": len(y), "correct": _n_correct(out, y)}

    def evaluate_loader(self, loader):
        """Validation / test figures of the model on ``loader`` (``evaluate``)."""
        if self.top_k is None:
            return evaluate(self.model, loader, self.loss_fn)
        return evaluate(self.model, loader, self.loss_fn, top_k=self.top_k)

    def optimizer_step(self):
        """Clip the accumulated gradients, step the optimizer (and a per-step scheduler),
        zero the gradients."""
        self.optimizer_steps += 1
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        if self.clip_grad_value is not None:
            from ..nn.utils import clip_grad_value_
            clip_grad_value_(params, self.clip_grad_value)
        if self.clip_grad_norm is not None:
            from ..nn.utils import clip_grad_norm_
            clip_grad_norm_(params, self.clip_grad_norm)
        self._call("on_before_optimizer_step", self.optimizer_steps)
        self.optimizer.step()
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        self.optimizer.zero_grad()

    def train_epoch(self):
        """One pass over ``train_loader``; returns the epoch's training metrics."""
        model, opt, k = self.model, self.optimizer, self.accumulate_grad_batches
        model.train()
        lr = opt.param_groups[0]["lr"]
        total_loss, correct, n = 0.0, 0, 0
        classify = True
        pending = 0  # batches whose gradients wait for the next optimizer step
        t0 = time.perf_counter()
        opt.zero_grad()
        for i, batch in enumerate(self.train_loader):
            self._call("on_batch_start", i)
            step = self.training_step(batch)
            loss, m, c = step["loss"], step["n"], step.get("correct")
            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(self._divergence_message(value, i))
            (loss / k if k > 1 else loss).backward()
            pending += 1
            if pending == k:
                self.optimizer_step()
                pending = 0
            classify = classify and c is not None
            total_loss += value * m
            correct += c or 0
            n += m
            self._call("on_batch_end", i, {"loss": value, "correct": c, "n": m})
        if pending:
            self.optimizer_step()
        elapsed = time.perf_counter() - t0
        if n == 0:
            raise ValueError("the training data loader yielded no samples")
        return {"train_loss": total_loss / n, "train_acc": correct / n if classify else None,
                "lr": lr, f"{self.unit}_per_s": n / max(elapsed, 1e-9), "time_s": elapsed}

    def _divergence_message(self, value, i):
        total = _safe_len(self.train_loader)
        of = "" if total is None else f" of {total}"
        return (f"the training loss is {value} at epoch {self.epoch + 1}, batch {i + 1}{of}: "
                f"stopped before its optimizer step, so no checkpoint holds the diverged "
                f"weights (the last one is of epoch {self.epoch}); try a lower learning rate "
                f"or gradient clipping")

    def _scheduler_epoch_step(self, logs):
        s = self.scheduler
        if s is None or self.scheduler_interval != "epoch":
            return
        from ..optim.lr_scheduler import ReduceLROnPlateau
        if isinstance(s, ReduceLROnPlateau):
            s.step(logs["val_loss"])
        else:
            s.step()

    # ------------------------------------------------------------ selection
    def _select(self, epoch, logs, keep_weights=True):
        """Make ``epoch`` the selected one when its validation figure is the best so far."""
        if self.val_loader is None:
            self.best_epoch = epoch  # no validation, no selection: the last epoch is the model
            return
        if self._selection is None:
            monitor = self.monitor or ("val_acc" if logs.get("val_acc") is not None
                                       else "val_loss")
            mode = self.mode or ("max" if monitor.endswith("_acc") else "min")
            self._selection = _Monitor(monitor, mode)
            self.monitor, self.mode = monitor, mode
        if self._selection.improved(self._selection.value(logs)):
            self.best_epoch = epoch
            self._best_state = _copy_state(self.model) if keep_weights else None

    @property
    def best_metrics(self):
        """The metrics of the selected epoch (None before the first epoch)."""
        return next((row for row in self.history if row["epoch"] == self.best_epoch), None)

    def best_state(self):
        """A ``state_dict`` of the selected weights."""
        if self.best_epoch == self.epoch:
            return _copy_state(self.model)
        if self._best_state is None:
            raise RuntimeError(f"the weights of the selected epoch {self.best_epoch} are not "
                               f"in memory: resuming found no best.safetensors of that epoch")
        return self._best_state

    def test(self):
        """Evaluate the selected weights on ``test_loader``; the model keeps its own weights.

        Returns ``evaluate``'s dict plus ``epoch``, the selected epoch.
        """
        if self.test_loader is None or not self.history:
            raise ValueError("Trainer.test needs a test_loader and a finished epoch")
        last = None
        if self.best_epoch != self.epoch:
            best, last = self.best_state(), _copy_state(self.model)
            self.model.load_state_dict(best)
        try:
            result = self.evaluate_loader(self.test_loader)
        finally:
            if last is not None:
                self.model.load_state_dict(last)
        return {"epoch": self.best_epoch, **result}

    # ---------------------------------------------------------- checkpoints
    def checkpoint(self, epoch=None, metrics=None):
        """The dict a checkpoint file holds: model, optimizer, scheduler, epoch, metrics,
        history, config, random and data-order state, callback states
        (``checkpointing.build_checkpoint``)."""
        return build_checkpoint(self, epoch, metrics)

    def save_checkpoint(self, path):
        from ..serialization import save
        save(self.checkpoint(), path)

    def resume(self, path):
        """Restore everything ``checkpoint`` stored, so that training continues exactly as
        the run that wrote ``path`` would have (``checkpointing.restore_checkpoint``).

        The selection is replayed from the history; when an earlier epoch is the selected
        one, its weights are read from the ``best.safetensors`` beside ``path``.
        """
        ckpt = restore_checkpoint(self, path)
        self._selection, self._best_state, self.best_epoch = None, None, None
        for row in self.history:
            self._select(row["epoch"], row, keep_weights=False)
        best_path = os.path.join(os.path.dirname(os.fspath(path)), "best.safetensors")
        if self.best_epoch != self.epoch and os.path.isfile(best_path):
            best = load_checkpoint(best_path)
            if best.get("epoch") == self.best_epoch:
                self._best_state = best["model"]
        return ckpt


def _copy_state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def fit(model, train_loader, val_loader=None, optimizer=None, loss_fn=None, epochs=1,
        scheduler=None, callbacks=None, out_dir=None, *, test_loader=None, progress=True,
        config=None, resume=None, scheduler_interval="epoch", early_stopping_patience=None,
        monitor=None, mode=None, clip_grad_norm=None, clip_grad_value=None,
        accumulate_grad_batches=1, top_k=None):
    """Train ``model`` for ``epochs`` epochs and return the ``Trainer`` (see there).

    Selection uses ``val_loader``; ``test_loader`` is evaluated once at the end with the
    selected weights. The trainer holds ``history`` (per-epoch train / validation metrics),
    ``best_epoch``, ``best_metrics`` and ``test_metrics``. ``optimizer`` defaults to
    ``optim.Adam(model.parameters())``; ``resume`` is the path of a checkpoint to continue
    from (its epochs count towards ``epochs``); ``clip_grad_norm``, ``clip_grad_value``,
    ``accumulate_grad_batches`` and ``top_k`` go to the ``Trainer``.
    """
    if optimizer is None:
        from ..optim import Adam
        optimizer = Adam(model.parameters())
    trainer = Trainer(model, optimizer, loss_fn, train_loader, val_loader, scheduler, callbacks,
                      out_dir, progress, config, scheduler_interval, early_stopping_patience,
                      test_loader, monitor, mode, clip_grad_norm, clip_grad_value,
                      accumulate_grad_batches, top_k)
    if resume is not None:
        trainer.resume(resume)
    trainer.fit(epochs)
    return trainer
