"""Learning-rate schedules against torch.optim.lr_scheduler: the lr lists over 30 steps."""
import io
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

import minidl
from minidl import optim
from minidl.optim import lr_scheduler as ours_sched
from minidl.serialization import load, save

STEPS = 30


def make_opt(lib, opt="SGD", groups=2, **kw):
    if lib == "torch":
        ps = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
        cls = getattr(torch.optim, opt)
    else:
        ps = [minidl.zeros(2, requires_grad=True) for _ in range(groups)]
        cls = getattr(optim, opt)
    pg = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(ps)]
    return cls(pg, **kw), ps


def trajectory(lib, make_sched, opt="SGD", steps=STEPS, metrics=None, **opt_kw):
    o, ps = make_opt(lib, opt, **opt_kw)
    s = make_sched(torch_sched if lib == "torch" else ours_sched, o)
    lrs, moms = [s.get_last_lr()], []
    for i in range(steps):
        for p in ps:
            p.grad = None
        o.step()
        if metrics is not None:
            s.step(metrics[i])
        else:
            s.step()
        lrs.append(list(s.get_last_lr()))
        moms.append([g.get("momentum", g.get("betas", (None,))[0]) for g in o.param_groups])
    return lrs, moms


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
    "StepLR-default": lambda m, o: m.StepLR(o, 3),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 + e % 3]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR-args": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=12),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS + 1),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=8, anneal_strategy="linear",
        three_phase=True, pct_start=0.25),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=3,
                                                    step_size_down=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                  mode="exp_range", gamma=0.9),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20)],
        milestones=[5]),
    "SequentialLR-3": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.2, total_iters=3), m.ExponentialLR(o, 0.9),
            m.StepLR(o, 4)], milestones=[4, 12]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9)]),
    "Chained-two-recursive": lambda m, o: (m.StepLR(o, 5), m.CosineAnnealingLR(o, 8))[1],
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_trajectory_matches_torch(name):
    make = SCHEDULES[name]
    opt = "SGD"
    ours, om = trajectory("minidl", make, opt, momentum=0.9)
    theirs, tm = trajectory("torch", make, opt, momentum=0.9)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(om, tm, rtol=1e-12)


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_momentum_cycling_with_adam_betas(name):
    ours, om = trajectory("minidl", SCHEDULES[name], "Adam")
    theirs, tm = trajectory("torch", SCHEDULES[name], "Adam")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(om, tm, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", factor=0.5, patience=2),
                                    dict(patience=1, cooldown=2, min_lr=[0.02, 0.05]),
                                    dict(threshold_mode="abs", threshold=0.1, patience=0),
                                    dict(mode="max", threshold_mode="abs", patience=1,
                                         eps=0.05)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    r = np.random.default_rng(0)
    metrics = (np.concatenate([np.linspace(1, 0.5, 5), np.full(10, 0.5), np.linspace(0.5, 0.3, 5),
                               0.3 + 0.01 * r.random(10)])).tolist()
    make = lambda m, o: m.ReduceLROnPlateau(o, **kwargs)  # noqa: E731
    ours, _ = trajectory("minidl", make, metrics=metrics)
    theirs, _ = trajectory("torch", make, metrics=metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR-args", "ConstantLR", "PolynomialLR"])
def test_closed_form_step_with_epoch_matches_torch(name):
    out = {}
    for lib, mod in (("minidl", ours_sched), ("torch", torch_sched)):
        o, _ = make_opt(lib)
        s = SCHEDULES[name](mod, o)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 7, 1, 12, 25]:
                o.step()
                s.step(e)
                lrs.append(s.get_last_lr())
        out[lib] = lrs
    np.testing.assert_allclose(out["minidl"], out["torch"], rtol=1e-12)


PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7,
                   0.7, 0.7, 0.7, 0.65, 0.65, 0.65, 0.65, 0.65, 0.65, 0.65, 0.6, 0.6, 0.6, 0.6, 0.6]
SCHEDULES_WITH_METRICS = {
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
}


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "MultiplicativeLR",
                                  "LinearLR-args", "CosineAnnealingLR", "OneCycleLR", "CyclicLR",
                                  "CyclicLR-exp_range", "SequentialLR", "LambdaLR",
                                  "CosineAnnealingWarmRestarts-mult", "ReduceLROnPlateau"])
def test_state_dict_resume(name):
    """Checkpoint scheduler + optimizer after 10 steps, restore into fresh objects, continue."""
    metrics = PLATEAU_METRICS if name in SCHEDULES_WITH_METRICS else None
    make = SCHEDULES_WITH_METRICS.get(name) or SCHEDULES[name]
    full, _ = trajectory("minidl", make, metrics=metrics, momentum=0.9)
    torch_full, _ = trajectory("torch", make, metrics=metrics, momentum=0.9)
    np.testing.assert_allclose(full, torch_full, rtol=1e-12)
    step = (lambda s, i: s.step(metrics[i])) if metrics else (lambda s, i: s.step())
    o, ps = make_opt("minidl", momentum=0.9)
    s = make(ours_sched, o)
    for i in range(10):
        o.step()
        step(s, i)
    buf = io.BytesIO()
    save({"sched": s.state_dict(), "opt": o.state_dict()}, buf)
    buf.seek(0)
    ckpt = load(buf)
    o2, _ = make_opt("minidl", momentum=0.9)
    s2 = make(ours_sched, o2)
    o2.load_state_dict(ckpt["opt"])
    s2.load_state_dict(ckpt["sched"])
    assert s2.get_last_lr() == full[10]
    rest = []
    for i in range(10, 20):
        o2.step()
        step(s2, i)
        rest.append(s2.get_last_lr())
    np.testing.assert_allclose(rest, full[11:21], rtol=1e-12)
    if metrics:  # the plateau really reduced the lr before and after the checkpoint
        assert full[10] < full[0] and full[20] < full[10]


class _HalvingScale:
    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


def test_cyclic_lr_state_dict_has_torch_keys_and_keeps_a_scale_object():
    o, _ = make_opt("minidl", momentum=0.9)
    t, _ = make_opt("torch", momentum=0.9)
    for kw in (dict(), dict(scale_fn=lambda x: 1.0), dict(scale_fn=_HalvingScale())):
        ours = ours_sched.CyclicLR(o, 0.01, 0.1, step_size_up=3, **kw).state_dict()
        theirs = torch_sched.CyclicLR(t, 0.01, 0.1, step_size_up=3, **kw).state_dict()
        assert set(ours) == set(theirs) - {"_get_lr_called_within_step"}
        assert ours["_scale_fn_custom"] == theirs["_scale_fn_custom"]
    scale = _HalvingScale()
    s = ours_sched.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=scale)
    assert s.state_dict()["_scale_fn_custom"] == {"base": 0.5}
    scale2 = _HalvingScale()
    scale2.base = 0.9
    s2 = ours_sched.CyclicLR(make_opt("minidl", momentum=0.9)[0], 0.01, 0.1, step_size_up=3,
                             scale_fn=scale2)
    s2.load_state_dict(s.state_dict())
    assert s2._scale_fn_custom is scale2 and scale2.base == 0.5


def test_resume_with_last_epoch():
    o, _ = make_opt("minidl")
    s = ours_sched.StepLR(o, 3, gamma=0.5)
    for _ in range(4):
        o.step()
        s.step()
    o2, _ = make_opt("minidl")
    o2.load_state_dict(o.state_dict())
    s2 = ours_sched.StepLR(o2, 3, gamma=0.5, last_epoch=4)
    assert s2.base_lrs == [0.1, 0.2]
    with pytest.raises(KeyError, match="initial_lr"):
        ours_sched.StepLR(make_opt("minidl")[0], 3, last_epoch=4)


def test_scheduler_before_optimizer_step_warns():
    o, _ = make_opt("minidl")
    s = ours_sched.StepLR(o, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    o2, _ = make_opt("minidl")
    s2 = ours_sched.StepLR(o2, 3)
    o2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_lambda_state_dict_skips_functions_keeps_callable_objects():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate ** e

    o, _ = make_opt("minidl")
    fn = Decay()
    s = ours_sched.LambdaLR(o, [fn, lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    fn.rate = 0.1
    s.load_state_dict(sd)
    assert fn.rate == 0.5


def test_scheduler_errors():
    o, _ = make_opt("minidl")
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours_sched.StepLR(object(), 3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        ours_sched.LambdaLR(o, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ours_sched.ReduceLROnPlateau(o, factor=1.5)
    with pytest.raises(ValueError, match="mode foo is unknown"):
        ours_sched.ReduceLROnPlateau(o, mode="foo")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        ours_sched.ReduceLROnPlateau(o, min_lr=[0, 0, 0])
    with pytest.raises(ValueError, match="total_steps OR"):
        ours_sched.OneCycleLR(o, max_lr=0.1)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s = ours_sched.OneCycleLR(o, max_lr=0.1, total_steps=3)
        for _ in range(4):
            o.step()
            s.step()
    o3, _ = make_opt("minidl", "Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        ours_sched.OneCycleLR(o3, max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        ours_sched.CosineAnnealingWarmRestarts(o, T_0=0)
    with pytest.raises(ValueError, match="number of milestones"):
        ours_sched.SequentialLR(o, [ours_sched.StepLR(o, 2)], milestones=[3])
    with pytest.raises(ValueError, match="between 0 and 1"):
        ours_sched.ConstantLR(o, factor=2.0)
    assert math.isclose(ours_sched.StepLR(o, 2).get_last_lr()[0], o.param_groups[0]["lr"])
