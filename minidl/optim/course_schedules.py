"""The course's learning-rate decay rules, one call each.

Every function returns an ordinary scheduler of ``minidl.optim.lr_scheduler`` (``LambdaLR``,
``ExponentialLR``, ``StepLR``, ``LinearLR`` or ``SequentialLR``), so ``step()``,
``get_last_lr()`` and ``state_dict()`` / ``load_state_dict()`` work as in torch. ``alpha0`` is
each parameter group's initial lr and ``epoch`` counts the scheduler's ``step()`` calls (0 right
after construction): epochs if you step once per epoch, iterations if once per batch.

=====================  ===============================================
``inverse_time_decay``  alpha = alpha0 / (1 + decay_rate * epoch)
``exponential_decay``   alpha = base^epoch * alpha0
``inverse_sqrt_decay``  alpha = k / sqrt(t) * alpha0, with t = epoch + 1
``staircase_decay``     alpha = alpha0 * base^floor(epoch / decay_step)
``linear_warmup``       alpha rises linearly to alpha0 over warmup_steps
=====================  ===============================================
"""
import math
import numbers

from .lr_scheduler_base import LRScheduler, _check_optimizer
from .lr_scheduler_composite import SequentialLR
from .lr_scheduler_decay import ExponentialLR, LambdaLR, LinearLR, StepLR

__all__ = ["inverse_time_decay", "exponential_decay", "inverse_sqrt_decay", "staircase_decay",
           "linear_warmup"]


def _real(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{fn}(): {name} must be a finite real number, got {value!r}")
    return float(value)


def _positive_int(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}(): {name} must be a positive integer, got {value!r}")
    return int(value)


def _decay_base(fn, base):
    base = _real(fn, "base", base)
    if not 0.0 < base <= 1.0:
        raise ValueError(f"{fn}(): base must be in (0, 1], got {base}")
    return base


class _InverseTimeFactor:
    """epoch -> 1 / (1 + decay_rate * epoch); a callable object, so ``LambdaLR.state_dict``
    keeps ``decay_rate``."""

    def __init__(self, decay_rate):
        self.decay_rate = decay_rate

    def __call__(self, epoch):
        return 1.0 / (1.0 + self.decay_rate * epoch)

    def __repr__(self):
        return f"InverseTimeFactor(decay_rate={self.decay_rate})"


class _InverseSqrtFactor:
    """epoch -> k / sqrt(epoch + 1)."""

    def __init__(self, k):
        self.k = k

    def __call__(self, epoch):
        return self.k / math.sqrt(epoch + 1)

    def __repr__(self):
        return f"InverseSqrtFactor(k={self.k})"


def inverse_time_decay(optimizer, decay_rate):
    """alpha = alpha0 / (1 + decay_rate * epoch), a ``LambdaLR``.

    ``decay_rate`` >= 0 (0 keeps the lr constant); it is kept in the ``state_dict``.
    """
    _check_optimizer(optimizer)
    rate = _real("inverse_time_decay", "decay_rate", decay_rate)
    if rate < 0:
        raise ValueError(f"inverse_time_decay(): decay_rate must be >= 0, got {rate}")
    return LambdaLR(optimizer, _InverseTimeFactor(rate))


def exponential_decay(optimizer, base=0.95):
    """alpha = base^epoch * alpha0 (the course's 0.95^epoch * alpha0), an ``ExponentialLR``
    with ``gamma=base``; ``base`` in (0, 1]."""
    _check_optimizer(optimizer)
    return ExponentialLR(optimizer, gamma=_decay_base("exponential_decay", base))


def inverse_sqrt_decay(optimizer, k):
    """alpha = k / sqrt(t) * alpha0 with t = epoch + 1, a ``LambdaLR``.

    t counts from 1, so the first lr (right after construction) is ``k * alpha0`` and
    k / sqrt(0) never occurs; with ``k=1`` the schedule starts at alpha0. ``k`` > 0.
    """
    _check_optimizer(optimizer)
    k = _real("inverse_sqrt_decay", "k", k)
    if k <= 0:
        raise ValueError(f"inverse_sqrt_decay(): k must be > 0, got {k}")
    return LambdaLR(optimizer, _InverseSqrtFactor(k))


def staircase_decay(optimizer, base=0.95, *, decay_step):
    """alpha = alpha0 * base^floor(epoch / decay_step), a ``StepLR`` with
    ``step_size=decay_step, gamma=base``: the lr drops by ``base`` every ``decay_step`` steps.
    """
    _check_optimizer(optimizer)
    base = _decay_base("staircase_decay", base)
    step = _positive_int("staircase_decay", "decay_step", decay_step)
    return StepLR(optimizer, step_size=step, gamma=base)


def linear_warmup(optimizer, warmup_steps, start_factor=None, then=None):
    """Linear warm-up: alpha = alpha0 * (f + (1 - f) * min(epoch, W) / W), a ``LinearLR``
    with ``start_factor=f, end_factor=1, total_iters=W`` (W = ``warmup_steps``).

    ``start_factor`` in (0, 1] defaults to 1 / (W + 1), which gives
    alpha = alpha0 * (epoch + 1) / (W + 1): equal steps up to alpha0 at epoch W, never 0.
    With ``then`` (a scheduler built on the same optimizer beforehand) the result is a
    ``SequentialLR`` that switches to ``then`` at epoch W, e.g.
    ``linear_warmup(opt, 5, then=CosineAnnealingLR(opt, T_max=95))``.
    """
    _check_optimizer(optimizer)
    steps = _positive_int("linear_warmup", "warmup_steps", warmup_steps)
    if start_factor is None:
        start_factor = 1.0 / (steps + 1)
    start = _real("linear_warmup", "start_factor", start_factor)
    if not 0.0 < start <= 1.0:
        raise ValueError(f"linear_warmup(): start_factor must be in (0, 1], got {start}")
    if then is not None:
        if not isinstance(then, LRScheduler):
            raise TypeError(f"linear_warmup(): then must be an LRScheduler, got "
                            f"{type(then).__name__}")
        if then.optimizer is not optimizer:
            raise ValueError("linear_warmup(): then must be a scheduler of the same optimizer")
    warmup = LinearLR(optimizer, start_factor=start, end_factor=1.0, total_iters=steps)
    if then is None:
        return warmup
    return SequentialLR(optimizer, [warmup, then], milestones=[steps])
