"""Samplers of the generative checkpoints: one registry for every ``minidl train`` generative task.

A task module registers, at import, how to turn one of its checkpoints into a *sampler*::

    register_sampler("vae", fn)       # fn(checkpoint_dict, config) -> sampler
    sampler(n, labels=None, generator_seed=0) -> float32 ndarray (n, 1, 28, 28) in [0, 1]

``labels`` (n integer class indices) are required by the conditional tasks (their config
holds ``num_classes``) and refused by the others. ``load_sampler(path)`` reads a checkpoint
written by ``minidl train`` (``load_task_checkpoint``), refuses one of a task without a
sampler by its task's name, and returns ``(sampler, config)``; that sampler checks its
arguments and the registered sampler's output against the contract above.
"""
import numbers

import numpy as np

__all__ = ["SAMPLERS", "register_sampler", "load_sampler", "check_labels", "check_samples"]

SAMPLERS = {}


def register_sampler(task, fn):
    """Make ``fn(checkpoint_dict, config) -> sampler`` build the samplers of ``task``."""
    if not isinstance(task, str) or not task:
        raise TypeError(f"task must be a non-empty string, got {task!r}")
    if not callable(fn):
        raise TypeError(f"the sampler factory of {task!r} must be callable, got "
                        f"{type(fn).__name__}")
    if task in SAMPLERS and SAMPLERS[task] is not fn:
        raise ValueError(f"a sampler for the task {task!r} is already registered")
    SAMPLERS[task] = fn
    return fn


def check_labels(labels, n, num_classes):
    """``labels`` as an int64 array of ``n`` class indices in [0, num_classes), or an error
    naming what is wrong; ``num_classes`` None (an unconditional model) refuses any labels."""
    if num_classes is None:
        if labels is not None:
            raise ValueError("labels are for conditional models; this model is unconditional")
        return None
    if labels is None:
        raise ValueError(f"this model is conditional: give labels, {n} class indices in "
                         f"[0, {num_classes})")
    array = np.asarray(labels)
    if array.shape != (n,) or array.dtype.kind not in "iu":
        raise ValueError(f"labels must be {n} integer class indices, got an array of shape "
                         f"{array.shape} and dtype {array.dtype}")
    if n and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values from "
                         f"{array.min()} to {array.max()}")
    return array.astype(np.int64)


def check_samples(images, n, where="the sampler"):
    """Raise unless ``images`` is a float32 array (n, 1, H, W) of finite values in [0, 1]."""
    if not isinstance(images, np.ndarray) or images.dtype != np.float32:
        raise TypeError(f"{where} must return a float32 ndarray, got "
                        f"{type(images).__name__} {getattr(images, 'dtype', '')}".rstrip())
    if images.ndim != 4 or images.shape[0] != n or images.shape[1] != 1:
        raise ValueError(f"{where} must return images of shape ({n}, 1, H, W), got "
                         f"{tuple(images.shape)}")
    if images.size and not (np.isfinite(images).all() and images.min() >= 0
                            and images.max() <= 1):
        raise ValueError(f"{where} must return finite pixel values in [0, 1], got values "
                         f"from {np.nanmin(images)} to {np.nanmax(images)}")
    return images


def _checked(sampler, task, num_classes):
    def sample(n, labels=None, generator_seed=0):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive number of samples, got {n!r}")
        n = int(n)
        labels = check_labels(labels, n, num_classes)
        images = sampler(n, labels=labels, generator_seed=generator_seed)
        return check_samples(images, n, f"the sampler of the task {task!r}")
    sample.task, sample.num_classes = task, num_classes
    return sample


def load_sampler(path):
    """``(sampler, config)`` of a generative checkpoint written by ``minidl train``.

    The task modules (``minidl.train.tasks.PROVIDERS``) are imported first so that their
    samplers are registered; a checkpoint of any other task (a classifier, a language
    model...) is refused with the name of its task.
    """
    from ..train.tasks import load_providers, load_task_checkpoint
    load_providers()
    if not SAMPLERS:
        raise RuntimeError("no generative task has registered a sampler (none of the "
                           "modules in minidl.train.tasks.PROVIDERS calls register_sampler)")
    ckpt, config = load_task_checkpoint(path, tuple(sorted(SAMPLERS)))
    task = config["task"]
    sampler = SAMPLERS[task](ckpt, config)
    num_classes = config.get("num_classes")
    return _checked(sampler, task, None if num_classes is None else int(num_classes)), config
