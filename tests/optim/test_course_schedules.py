"""The course's decay rules: closed forms over many steps, torch's trajectories, state_dict."""
import io
import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

import minidl
from minidl import optim
from minidl.optim import course_schedules as cs
from minidl.optim import lr_scheduler as ours_sched
from minidl.serialization import load, save

STEPS = 120
LRS = (0.1, 0.2)  # two parameter groups, alpha0 each


def make_opt(lib="minidl"):
    mod, zeros = (torch.optim, torch.zeros) if lib == "torch" else (optim, minidl.zeros)
    groups = [{"params": [zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    return mod.SGD(groups, momentum=0.9)


def run(opt, sched, steps=STEPS):
    lrs = [list(sched.get_last_lr())]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(lrs)


def closed_form(factor, steps=STEPS):
    return np.array([[a0 * factor(e) for a0 in LRS] for e in range(steps + 1)])


CLOSED_FORMS = {
    "inverse_time": (lambda o: cs.inverse_time_decay(o, decay_rate=0.5),
                     lambda e: 1 / (1 + 0.5 * e)),
    "exponential": (lambda o: cs.exponential_decay(o), lambda e: 0.95 ** e),
    "exponential-0.8": (lambda o: cs.exponential_decay(o, base=0.8), lambda e: 0.8 ** e),
    "inverse_sqrt": (lambda o: cs.inverse_sqrt_decay(o, k=2.0), lambda e: 2.0 / math.sqrt(e + 1)),
    "staircase": (lambda o: cs.staircase_decay(o, decay_step=7), lambda e: 0.95 ** (e // 7)),
    "staircase-0.5": (lambda o: cs.staircase_decay(o, 0.5, decay_step=10),
                      lambda e: 0.5 ** math.floor(e / 10)),
    "warmup": (lambda o: cs.linear_warmup(o, 9), lambda e: (min(e, 9) + 1) / 10),
    "warmup-start": (lambda o: cs.linear_warmup(o, 20, start_factor=0.25),
                     lambda e: 0.25 + 0.75 * min(e, 20) / 20),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_closed_form_over_many_steps(name):
    make, factor = CLOSED_FORMS[name]
    o = make_opt()
    np.testing.assert_allclose(run(o, make(o)), closed_form(factor), rtol=1e-12)


TORCH_EQUIVALENTS = {
    "inverse_time": (lambda o: cs.inverse_time_decay(o, 0.3),
                     lambda o: torch_sched.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e))),
    "inverse_sqrt": (lambda o: cs.inverse_sqrt_decay(o, 1.5),
                     lambda o: torch_sched.LambdaLR(o, lambda e: 1.5 / math.sqrt(e + 1))),
    "exponential": (lambda o: cs.exponential_decay(o, 0.9),
                    lambda o: torch_sched.ExponentialLR(o, 0.9)),
    "staircase": (lambda o: cs.staircase_decay(o, 0.95, decay_step=4),
                  lambda o: torch_sched.StepLR(o, step_size=4, gamma=0.95)),
    "warmup": (lambda o: cs.linear_warmup(o, 6, start_factor=0.1),
               lambda o: torch_sched.LinearLR(o, 0.1, 1.0, total_iters=6)),
}


@pytest.mark.parametrize("name", list(TORCH_EQUIVALENTS))
def test_equals_torch_trajectory(name):
    ours, theirs = TORCH_EQUIVALENTS[name]
    o, t = make_opt(), make_opt("torch")
    np.testing.assert_allclose(run(o, ours(o)), run(t, theirs(t)), rtol=1e-12)


def test_warmup_then_cosine_equals_torch_sequential_lr():
    o = make_opt()
    cosine = ours_sched.CosineAnnealingLR(o, T_max=50, eta_min=0.001)
    ours = run(o, cs.linear_warmup(o, 10, then=cosine), steps=70)
    t = make_opt("torch")
    t_cosine = torch_sched.CosineAnnealingLR(t, T_max=50, eta_min=0.001)
    t_warm = torch_sched.LinearLR(t, start_factor=1 / 11, end_factor=1.0, total_iters=10)
    theirs = run(t, torch_sched.SequentialLR(t, [t_warm, t_cosine], milestones=[10]), steps=70)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[:11, 0], 0.1 * np.arange(1, 12) / 11, rtol=1e-12)


def test_warmup_then_staircase():
    o = make_opt()
    sched = cs.linear_warmup(o, 4, then=cs.staircase_decay(o, 0.5, decay_step=3))
    assert isinstance(sched, ours_sched.SequentialLR)
    lrs = run(o, sched, steps=12)[:, 0]
    np.testing.assert_allclose(lrs[:5], 0.1 * np.arange(1, 6) / 5, rtol=1e-12)
    # after the switch the staircase restarts its own count at alpha0
    np.testing.assert_allclose(lrs[4:], 0.1 * 0.5 ** (np.arange(9) // 3), rtol=1e-12)


def test_returns_torch_scheduler_types():
    o = make_opt()
    assert isinstance(cs.inverse_time_decay(o, 1.0), ours_sched.LambdaLR)
    assert isinstance(cs.inverse_sqrt_decay(o, 1.0), ours_sched.LambdaLR)
    assert isinstance(cs.exponential_decay(o), ours_sched.ExponentialLR)
    assert isinstance(cs.staircase_decay(o, decay_step=2), ours_sched.StepLR)
    assert isinstance(cs.linear_warmup(o, 3), ours_sched.LinearLR)


RESUMABLE = {
    "inverse_time": lambda o: cs.inverse_time_decay(o, 0.2),
    "inverse_sqrt": lambda o: cs.inverse_sqrt_decay(o, 1.0),
    "exponential": lambda o: cs.exponential_decay(o, 0.9),
    "staircase": lambda o: cs.staircase_decay(o, 0.8, decay_step=3),
    "warmup-then-exp": lambda o: cs.linear_warmup(o, 5, then=cs.exponential_decay(o, 0.9)),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_round_trip(name):
    make = RESUMABLE[name]
    o = make_opt()
    full = run(o, make(o), steps=20)
    o = make_opt()
    s = make(o)
    run(o, s, steps=8)
    buf = io.BytesIO()
    save({"sched": s.state_dict(), "opt": o.state_dict()}, buf)
    buf.seek(0)
    ckpt = load(buf)
    o2 = make_opt()
    s2 = make(o2)
    o2.load_state_dict(ckpt["opt"])
    s2.load_state_dict(ckpt["sched"])
    np.testing.assert_allclose(run(o2, s2, steps=12), full[8:], rtol=1e-12)


def test_state_dict_keeps_the_rule_parameter():
    o = make_opt()
    s = cs.inverse_time_decay(o, 0.25)
    assert s.state_dict()["lr_lambdas"] == [{"decay_rate": 0.25}, {"decay_rate": 0.25}]
    s2 = cs.inverse_time_decay(make_opt(), 9.0)
    s2.load_state_dict(s.state_dict())
    assert s2.lr_lambdas[0](4) == 1 / (1 + 0.25 * 4)
    assert cs.inverse_sqrt_decay(o, 3.0).state_dict()["lr_lambdas"][0] == {"k": 3.0}


@pytest.mark.parametrize("call,error,match", [
    (lambda o: cs.inverse_time_decay(o, -0.1), ValueError, "decay_rate must be >= 0"),
    (lambda o: cs.inverse_time_decay(o, "fast"), ValueError, "decay_rate must be a finite"),
    (lambda o: cs.inverse_time_decay(o, math.nan), ValueError, "decay_rate must be a finite"),
    (lambda o: cs.exponential_decay(o, 1.5), ValueError, r"base must be in \(0, 1\]"),
    (lambda o: cs.exponential_decay(o, 0.0), ValueError, r"base must be in \(0, 1\]"),
    (lambda o: cs.inverse_sqrt_decay(o, 0), ValueError, "k must be > 0"),
    (lambda o: cs.staircase_decay(o, decay_step=0), ValueError, "decay_step must be a positive"),
    (lambda o: cs.staircase_decay(o, decay_step=2.5), ValueError, "decay_step must be a positive"),
    (lambda o: cs.staircase_decay(o, 0.9), TypeError, "decay_step"),
    (lambda o: cs.linear_warmup(o, 0), ValueError, "warmup_steps must be a positive"),
    (lambda o: cs.linear_warmup(o, 5, start_factor=0), ValueError, "start_factor must be in"),
    (lambda o: cs.linear_warmup(o, 5, then=0.5), TypeError, "then must be an LRScheduler"),
    (lambda o: cs.linear_warmup(o, 5, then=cs.exponential_decay(make_opt())), ValueError,
     "same optimizer"),
    (lambda o: cs.linear_warmup(o, 5, then=ours_sched.ReduceLROnPlateau(o)), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: cs.exponential_decay(object()), TypeError, "is not an Optimizer"),
    (lambda o: cs.inverse_time_decay([], 0.1), TypeError, "is not an Optimizer"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(make_opt())
