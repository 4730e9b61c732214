"""Checkpoints that resume exactly, and training runs that stop cleanly on a signal.

A checkpoint (``build_checkpoint``) holds what the weights alone cannot replay: the
optimizer's and scheduler's state, the random state (``capture_random_state``: minidl's
default generator, Python's ``random`` and NumPy's legacy global one), the random state of
the data order (``capture_data_state``: every ``minidl.Generator`` reachable from the
training loader -- a ``DataLoader``'s, its sampler's, an augmentation's -- and every integer
``epoch`` counter of the loaders that deal ``(seed, epoch)`` orders), the generators the
trainer holds itself (a GAN's noise), each callback's ``state_dict`` (``EarlyStopping``'s
wait and best value) and the metrics history.

Resuming (``restore_checkpoint``) sets all of it back, so a run stopped at an epoch boundary
and resumed from that epoch's ``last.safetensors`` ends with the same weights, bit for bit,
as the run that was never stopped (the interrupted epoch is replayed from its start).

``stop_on_signals`` turns SIGINT (Ctrl-C) and SIGTERM into ``TrainingInterrupted``, raised
where the training happens to be; the last checkpoint on disk is the one of the last
finished epoch, since ``minidl.save`` replaces a file only once it is complete.
"""
import contextlib
import os
import random
import signal
import threading

import numpy as np

from ..backend.random import Generator, get_rng_state, set_rng_state

__all__ = ["TrainingInterrupted", "stop_on_signals", "interrupt_message", "capture_random_state",
           "restore_random_state", "capture_data_state", "restore_data_state",
           "build_checkpoint", "restore_checkpoint", "load_checkpoint", "FORMAT"]

FORMAT = "minidl.train/1"
_MAX_DEPTH = 5      # how deep capture_data_state looks into the loader's attributes
_MAX_ITEMS = 64     # longer lists / tuples (data, not structure) are not searched


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by a signal (``signal_name``: ``'SIGINT'`` / ``'SIGTERM'``)."""

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name


@contextlib.contextmanager
def stop_on_signals(signals=("SIGINT", "SIGTERM")):
    """While active, SIGINT / SIGTERM raise ``TrainingInterrupted`` (main thread only; in
    other threads signals cannot be caught and this does nothing). The previous handlers
    come back on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise TrainingInterrupted(signal.Signals(signum).name)

    previous = {}
    try:
        for name in signals:
            sig = getattr(signal, name)
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def interrupt_message(trainer, signal_name):
    """What ``Trainer.fit`` prints when a signal stops it: where the last checkpoint is and
    how to resume (``trainer.resume_hint``, else the ``Trainer.resume`` call)."""
    last = (os.path.join(trainer.out_dir, "last.safetensors") if trainer.out_dir is not None
            else None)
    if last is None or not os.path.isfile(last):
        return (f"training stopped by {signal_name} during epoch {trainer.epoch + 1}; no "
                f"checkpoint was written" + ("" if trainer.out_dir is not None else
                                             " (the Trainer has no out_dir)"))
    hint = trainer.resume_hint or f"Trainer.resume({last!r}) and fit({trainer.epochs})"
    return (f"training stopped by {signal_name} during epoch {trainer.epoch + 1}; the last "
            f"checkpoint is {last} (epoch {trainer.epoch}); resume with: {hint}")


# ---------------------------------------------------------------- random state
def capture_random_state():
    """The global random streams: minidl's default generator (dropout, initialisation, a
    shuffling ``DataLoader`` without its own generator), Python's ``random`` and NumPy's
    legacy ``np.random``."""
    return {"minidl": get_rng_state(), "python": random.getstate(),
            "numpy": np.random.get_state()}


def restore_random_state(state):
    """Undo ``capture_random_state``."""
    set_rng_state(state["minidl"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(state["numpy"]))


def _walk(obj, path, depth, seen, found):
    if id(obj) in seen or depth > _MAX_DEPTH:
        return
    seen.add(id(obj))
    if isinstance(obj, Generator):
        found[path] = obj
        return
    if isinstance(obj, (list, tuple)):
        if len(obj) <= _MAX_ITEMS:
            for i, item in enumerate(obj):
                _walk(item, f"{path}.{i}", depth + 1, seen, found)
        return
    if not type(obj).__module__.startswith("minidl.") or not hasattr(obj, "__dict__"):
        return
    from ..nn import Module
    from ..tensor import Tensor
    if isinstance(obj, (Module, Tensor)):
        return
    for name, value in vars(obj).items():
        if name == "epoch" and isinstance(value, int) and not isinstance(value, bool):
            found[f"{path}.epoch"] = (obj, "epoch")
        elif not name.startswith("__"):
            _walk(value, f"{path}.{name}", depth + 1, seen, found)


def _sources(root, name):
    found = {}
    _walk(root, name, 0, set(), found)
    return found


def capture_data_state(root, name="loader"):
    """``{path: state}`` of every ``Generator`` and integer ``epoch`` counter reachable from
    ``root`` through attributes of minidl objects (paths such as ``loader.generator``,
    ``loader.augment.transforms.0.generator``; a generator shared by several is stored once)."""
    state = {}
    for path, source in _sources(root, name).items():
        state[path] = (source.get_state() if isinstance(source, Generator)
                       else getattr(*source))
    return state


def restore_data_state(root, state, name="loader"):
    """Undo ``capture_data_state`` on a ``root`` built the same way; refuses a checkpoint
    whose paths do not match, naming them."""
    sources = _sources(root, name)
    if set(sources) != set(state):
        raise RuntimeError(
            f"the checkpoint's data-order state does not fit this {name}: it holds "
            f"{', '.join(sorted(state)) or 'nothing'}, the {name} has "
            f"{', '.join(sorted(sources)) or 'nothing'} (was the run built differently?)")
    for path, value in state.items():
        source = sources[path]
        if isinstance(source, Generator):
            source.set_state(value)
        else:
            setattr(source[0], source[1], int(value))


def _trainer_generators(trainer):
    """The generators a trainer holds as attributes (a GAN's noise, an autoencoder's)."""
    return {name: g for name, g in vars(trainer).items() if isinstance(g, Generator)}


def _callback_keys(callbacks):
    """``'EarlyStopping'``, ``'EarlyStopping#2'``...: the callbacks by class and order."""
    counts, keys = {}, []
    for cb in callbacks:
        n = counts[type(cb).__name__] = counts.get(type(cb).__name__, 0) + 1
        keys.append(type(cb).__name__ if n == 1 else f"{type(cb).__name__}#{n}")
    return keys


# ----------------------------------------------------------------- checkpoints
def build_checkpoint(trainer, epoch=None, metrics=None):
    """The dict ``Trainer.checkpoint`` writes (see the module docstring)."""
    ckpt = {"format": FORMAT,
            "epoch": trainer.epoch if epoch is None else epoch,
            "model": trainer.model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "metrics": dict(metrics if metrics is not None else
                            (trainer.history[-1] if trainer.history else {})),
            "history": list(trainer.history),
            "config": trainer.config,
            "random_state": capture_random_state(),
            "trainer_generators": {k: g.get_state()
                                   for k, g in _trainer_generators(trainer).items()},
            "callbacks": {key: state for key, cb in zip(_callback_keys(trainer.callbacks),
                                                        trainer.callbacks)
                          if (state := cb.state_dict())}}
    if trainer.train_loader is not None:
        ckpt["data_state"] = capture_data_state(trainer.train_loader)
    if trainer.scheduler is not None:
        ckpt["scheduler"] = trainer.scheduler.state_dict()
    return ckpt


def restore_checkpoint(trainer, path):
    """Load ``path`` into ``trainer``: model, optimizer, scheduler, epoch, history, random
    and data-order state, callback states. Returns the checkpoint dict. A checkpoint
    written without random state (before exact resume existed) restores the rest."""
    ckpt = load_checkpoint(path, trainer.model, trainer.optimizer, trainer.scheduler)
    trainer.epoch = int(ckpt["epoch"])
    trainer.history = list(ckpt.get("history", []))
    if not trainer.config:
        trainer.config = dict(ckpt.get("config") or {})
    if "random_state" in ckpt:
        restore_random_state(ckpt["random_state"])
    if "data_state" in ckpt and trainer.train_loader is not None:
        restore_data_state(trainer.train_loader, ckpt["data_state"])
    generators = _trainer_generators(trainer)
    for name, state in ckpt.get("trainer_generators", {}).items():
        if name in generators:
            generators[name].set_state(state)
    states = ckpt.get("callbacks", {})
    for key, cb in zip(_callback_keys(trainer.callbacks), trainer.callbacks):
        if key in states:
            cb.load_state_dict(states[key])
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
