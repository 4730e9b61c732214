"""Optimizers and per-epoch learning-rate schedules by name, for ``minidl train``.

``--scheduler`` choices (``alpha0`` is ``--lr``, ``e`` the epoch from 0, E the epochs):

=================  =====================================================  ==============
``cosine``         alpha0 (1 + cos(pi e / E)) / 2 (``CosineAnnealingLR``)
``step``           alpha0 0.1^floor(e / (E // 3))  (``StepLR``)
``inverse-time``   alpha0 / (1 + d e)                                      d: 1.0
``exponential``    d^e alpha0                                              d: 0.95
``inverse-sqrt``   d / sqrt(e + 1) alpha0                                  d: 1.0
``staircase``      alpha0 d^floor(e / s), s = ``--decay-step``             d: 0.95, s: 1
``none``           alpha0
=================  =====================================================  ==============

The last column is ``--decay`` (d) and ``--decay-step`` (s) when left out; the course's
rules are ``minidl.optim.course_schedules``. ``--warmup W`` precedes any of them with a
linear warm-up over W epochs (alpha0 (e + 1) / (W + 1), ``linear_warmup``); the rule then
starts at epoch W and the cosine anneals over the E - W epochs left.
"""
from .. import optim
from ..optim import course_schedules

__all__ = ["OPTIMIZERS", "SCHEDULERS", "DECAY_DEFAULTS", "build_optimizer", "build_scheduler",
           "check_schedule_options"]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
              "radam")
SCHEDULERS = ("cosine", "step", "inverse-time", "exponential", "inverse-sqrt", "staircase",
              "none")
DECAY_DEFAULTS = {"inverse-time": 1.0, "exponential": 0.95, "inverse-sqrt": 1.0,
                  "staircase": 0.95}


def build_optimizer(name, params, lr, momentum=0.9, weight_decay=0.0):
    """An optimizer by name; ``momentum`` applies to sgd and rmsprop only."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    others = {"adadelta": optim.Adadelta, "adamax": optim.Adamax, "nadam": optim.NAdam,
              "radam": optim.RAdam}
    if name in others:
        return others[name](params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def check_schedule_options(name, epochs, warmup=0, decay=None, decay_step=None):
    """Raise ValueError naming the option when ``decay`` / ``decay_step`` / ``warmup`` do not
    fit the schedule ``name`` (an option the schedule would ignore is refused)."""
    if name not in SCHEDULERS and name is not None:
        raise ValueError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}")
    if decay is not None and name not in DECAY_DEFAULTS:
        raise ValueError(f"--decay sets the rate of {', '.join(DECAY_DEFAULTS)}; scheduler "
                         f"{name!r} takes none")
    if decay_step is not None and name != "staircase":
        raise ValueError(f"--decay-step belongs to the staircase scheduler, not {name!r}")
    if decay is not None and name in ("exponential", "staircase") and not 0 < decay <= 1:
        raise ValueError(f"--decay of the {name} scheduler is the base in (0, 1], got {decay}")
    if warmup and warmup >= epochs:
        raise ValueError(f"--warmup {warmup} must be fewer epochs than --epochs {epochs}")


def build_scheduler(name, optimizer, epochs, warmup=0, decay=None, decay_step=None):
    """The per-epoch schedule ``name`` (see the module) or None for ``none`` without warm-up."""
    check_schedule_options(name, epochs, warmup, decay, decay_step)
    d = DECAY_DEFAULTS.get(name) if decay is None else decay
    left = max(1, epochs - warmup)
    if name == "cosine":
        rule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=left)
    elif name == "step":
        rule = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, left // 3), gamma=0.1)
    elif name == "inverse-time":
        rule = course_schedules.inverse_time_decay(optimizer, d)
    elif name == "exponential":
        rule = course_schedules.exponential_decay(optimizer, d)
    elif name == "inverse-sqrt":
        rule = course_schedules.inverse_sqrt_decay(optimizer, d)
    elif name == "staircase":
        rule = course_schedules.staircase_decay(optimizer, d, decay_step=decay_step or 1)
    else:
        rule = None
    if not warmup:
        return rule
    if rule is None:
        return course_schedules.linear_warmup(optimizer, warmup)
    return course_schedules.linear_warmup(optimizer, warmup, then=rule)
