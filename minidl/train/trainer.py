"""``Trainer`` / ``fit``: the epoch loop of supervised training, with callbacks.

One epoch: for every ``(input, target)`` batch of ``train_loader``: forward, loss, backward,
optimizer step (and the scheduler when it steps per batch); then evaluation on
``val_loader`` (loss and accuracy), the scheduler's epoch step, and the callbacks (progress,
checkpoints, logs, plots, early stopping). Accuracy is counted when the model returns class
scores ``N x C`` for integer targets ``N``.
"""
import time

import numpy as np

from ..autograd import no_grad
from .callbacks import (Callback, EarlyStopping, MetricsLogger, ModelCheckpoint,  # noqa: F401
                        PlotCurves, ProgressBar)

__all__ = ["Trainer", "fit", "evaluate", "load_checkpoint"]


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


def evaluate(model, loader, loss_fn=None):
    """Mean loss and top-1 accuracy of ``model`` over ``loader`` (eval mode, no gradients).

    Returns ``{'loss', 'acc', 'correct', 'n'}`` (``loss`` is None without ``loss_fn``,
    ``acc`` / ``correct`` are None when the outputs are not class scores).
    """
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
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
                n += m
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluate: the data loader yielded no samples")
    return {"loss": total_loss / n if loss_fn is not None else None,
            "acc": correct / n if classify else None,
            "correct": correct if classify else None, "n": n}


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``train_loader``, evaluating on ``val_loader``.

    ``loss_fn`` defaults to ``nn.CrossEntropyLoss()``. ``scheduler`` steps once per epoch
    (``scheduler_interval='step'``: after every optimizer step; ``ReduceLROnPlateau`` gets the
    validation loss). With ``out_dir`` the default callbacks write ``last.safetensors`` /
    ``best.safetensors`` (best validation accuracy), ``metrics.json`` / ``metrics.csv`` and
    ``curves.png`` there; ``progress`` shows a tqdm bar (False: one summary line per epoch,
    None: silent). ``config`` (a JSON-able dict) is stored in checkpoints and logs so that a
    run can be rebuilt from them. ``history`` holds one metrics dict per finished epoch.
    """

    def __init__(self, model, optimizer, loss_fn=None, train_loader=None, val_loader=None,
                 scheduler=None, callbacks=None, out_dir=None, progress=True, config=None,
                 scheduler_interval="epoch", early_stopping_patience=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if loss_fn is None:
            from ..nn import CrossEntropyLoss
            loss_fn = CrossEntropyLoss()
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.val_loader = train_loader, val_loader
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.out_dir = out_dir
        self.config = dict(config or {})
        self.history = []
        self.epoch = 0          # the last finished epoch
        self.epochs = 0         # the epoch fit() runs up to
        self.should_stop = False
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
        """Train until epoch ``epochs`` (counting epochs already done when resumed)."""
        if self.train_loader is None:
            raise ValueError("Trainer.fit needs a train_loader")
        self.epochs = int(epochs)
        self.should_stop = False
        self._call("on_fit_start")
        try:
            while self.epoch < self.epochs and not self.should_stop:
                epoch = self.epoch + 1
                self._call("on_epoch_start", epoch)
                logs = self.train_epoch()
                if self.val_loader is not None:
                    val = evaluate(self.model, self.val_loader, self.loss_fn)
                    logs["val_loss"], logs["val_acc"] = val["loss"], val["acc"]
                self._scheduler_epoch_step(logs)
                logs = {"epoch": epoch, **logs}
                self.epoch = epoch
                self.history.append(logs)
                self._call("on_epoch_end", epoch, logs)
        finally:
            self._call("on_fit_end")
        return self.history

    def train_epoch(self):
        """One pass over ``train_loader``; returns the epoch's training metrics."""
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        model.train()
        lr = opt.param_groups[0]["lr"]
        total_loss, correct, n = 0.0, 0, 0
        classify = True
        t0 = time.perf_counter()
        for i, batch in enumerate(self.train_loader):
            x, y = _split_batch(batch)
            out = model(x)
            loss = loss_fn(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            m = len(y)
            value = float(loss.item())
            c = _n_correct(out, y)
            classify = classify and c is not None
            total_loss += value * m
            correct += c or 0
            n += m
            self._call("on_batch_end", i, {"loss": value, "correct": c, "n": m})
        elapsed = time.perf_counter() - t0
        if n == 0:
            raise ValueError("the training data loader yielded no samples")
        return {"train_loss": total_loss / n, "train_acc": correct / n if classify else None,
                "lr": lr, "samples_per_s": n / max(elapsed, 1e-9), "time_s": elapsed}

    def _scheduler_epoch_step(self, logs):
        s = self.scheduler
        if s is None or self.scheduler_interval != "epoch":
            return
        from ..optim.lr_scheduler import ReduceLROnPlateau
        if isinstance(s, ReduceLROnPlateau):
            metric = logs.get("val_loss")
            s.step(logs["train_loss"] if metric is None else metric)
        else:
            s.step()

    # ---------------------------------------------------------- checkpoints
    def checkpoint(self, epoch=None, metrics=None):
        """The dict a checkpoint file holds (model, optimizer, scheduler, epoch, metrics...)."""
        ckpt = {"format": "minidl.train/1",
                "epoch": self.epoch if epoch is None else epoch,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "metrics": dict(metrics if metrics is not None else
                                (self.history[-1] if self.history else {})),
                "history": list(self.history),
                "config": self.config}
        if self.scheduler is not None:
            ckpt["scheduler"] = self.scheduler.state_dict()
        return ckpt

    def save_checkpoint(self, path):
        from ..serialization import save
        save(self.checkpoint(), path)

    def resume(self, path):
        """Restore model, optimizer, scheduler, epoch count and history from a checkpoint."""
        ckpt = load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        self.epoch = int(ckpt["epoch"])
        self.history = list(ckpt.get("history", []))
        if not self.config:
            self.config = dict(ckpt.get("config") or {})
        return ckpt


def load_checkpoint(path, model=None, optimizer=None, scheduler=None):
    """Read a checkpoint written by ``ModelCheckpoint`` / ``Trainer.save_checkpoint``.

    Loads the states into ``model`` / ``optimizer`` / ``scheduler`` when they are given and
    returns the whole checkpoint dict (``epoch``, ``metrics``, ``history``, ``config`` ...).
    """
    from ..serialization import load
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        keys = f" with keys {', '.join(map(str, ckpt))}" if isinstance(ckpt, dict) else ""
        raise RuntimeError(f"{path} is not a minidl.train checkpoint (expected a dict with a "
                           f"'model' state_dict; found {type(ckpt).__name__}{keys})")
    if model is not None:
        model.load_state_dict(ckpt["model"])
    if optimizer is not None and "optimizer" in ckpt:
        optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and "scheduler" in ckpt:
        scheduler.load_state_dict(ckpt["scheduler"])
    return ckpt


def fit(model, train_loader, val_loader=None, optimizer=None, loss_fn=None, epochs=1,
        scheduler=None, callbacks=None, out_dir=None, *, progress=True, config=None,
        resume=None, scheduler_interval="epoch", early_stopping_patience=None):
    """Train ``model`` for ``epochs`` epochs and return the metrics history (see ``Trainer``).

    ``optimizer`` defaults to ``optim.Adam(model.parameters())``; ``resume`` is the path of a
    checkpoint to continue from (its epochs count towards ``epochs``).
    """
    if optimizer is None:
        from ..optim import Adam
        optimizer = Adam(model.parameters())
    trainer = Trainer(model, optimizer, loss_fn, train_loader, val_loader, scheduler, callbacks,
                      out_dir, progress, config, scheduler_interval, early_stopping_patience)
    if resume is not None:
        trainer.resume(resume)
    return trainer.fit(epochs)
