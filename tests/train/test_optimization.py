"""``minidl train --scheduler / --decay / --decay-step / --warmup``: each schedule's lr per
epoch equals the course's formula; options a schedule would ignore are refused."""
import json
import math

import numpy as np
import pytest

from minidl import cli, nn
from minidl.train import optimization
from minidl.train.optimization import DECAY_DEFAULTS, SCHEDULERS

ALPHA0, EPOCHS = 0.1, 8


def _lrs(name, warmup=0, decay=None, decay_step=None, epochs=EPOCHS):
    opt = optimization.build_optimizer("sgd", nn.Linear(2, 1).parameters(), ALPHA0)
    scheduler = optimization.build_scheduler(name, opt, epochs, warmup, decay, decay_step)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradients: nothing moves, but the order is the Trainer's
        if scheduler is not None:
            scheduler.step()
    return np.array(out)


@pytest.mark.parametrize("name, decay, decay_step, formula", [
    ("inverse-time", None, None, lambda e: ALPHA0 / (1 + 1.0 * e)),
    ("inverse-time", 0.5, None, lambda e: ALPHA0 / (1 + 0.5 * e)),
    ("exponential", None, None, lambda e: 0.95 ** e * ALPHA0),
    ("exponential", 0.8, None, lambda e: 0.8 ** e * ALPHA0),
    ("inverse-sqrt", 2.0, None, lambda e: 2.0 / math.sqrt(e + 1) * ALPHA0),
    ("staircase", None, None, lambda e: ALPHA0 * 0.95 ** e),
    ("staircase", 0.5, 3, lambda e: ALPHA0 * 0.5 ** (e // 3)),
    ("cosine", None, None, lambda e: ALPHA0 * (1 + math.cos(math.pi * e / EPOCHS)) / 2),
    ("step", None, None, lambda e: ALPHA0 * 0.1 ** (e // (EPOCHS // 3))),
    ("none", None, None, lambda e: ALPHA0),
])
def test_each_schedule_follows_its_formula(name, decay, decay_step, formula):
    expected = [formula(e) for e in range(EPOCHS)]
    np.testing.assert_allclose(_lrs(name, decay=decay, decay_step=decay_step), expected,
                               rtol=1e-12)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_warmup_rises_linearly_then_hands_over_to_the_rule(name):
    warmup = 3
    lrs = _lrs(name, warmup=warmup)
    np.testing.assert_allclose(lrs[:warmup], ALPHA0 * np.arange(1, warmup + 1) / (warmup + 1),
                               rtol=1e-12)
    rest = _lrs(name, epochs=EPOCHS - warmup)  # the rule, started at epoch W
    np.testing.assert_allclose(lrs[warmup:], rest, rtol=1e-12)


def test_options_a_schedule_would_ignore_are_refused():
    opt = optimization.build_optimizer("sgd", nn.Linear(2, 1).parameters(), ALPHA0)
    with pytest.raises(ValueError, match="--decay .* 'cosine' takes none"):
        optimization.build_scheduler("cosine", opt, EPOCHS, decay=0.5)
    with pytest.raises(ValueError, match="--decay-step belongs to the staircase"):
        optimization.build_scheduler("exponential", opt, EPOCHS, decay_step=2)
    with pytest.raises(ValueError, match=r"base in \(0, 1\], got 1.5"):
        optimization.build_scheduler("exponential", opt, EPOCHS, decay=1.5)
    with pytest.raises(ValueError, match="--warmup 8 must be fewer epochs than --epochs 8"):
        optimization.build_scheduler("cosine", opt, EPOCHS, warmup=8)
    with pytest.raises(ValueError, match="unknown scheduler 'linear'"):
        optimization.build_scheduler("linear", opt, EPOCHS)
    assert set(DECAY_DEFAULTS) < set(SCHEDULERS)


def test_the_command_line_refuses_them_before_training(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "lenet", "--decay", "0.5"])  # the default scheduler is cosine
    assert e.value.code == 2
    assert "--decay sets the rate of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "lenet", "--epochs", "2", "--warmup", "2"])
    assert "--warmup 2 must be fewer epochs than --epochs 2" in capsys.readouterr().err


def test_a_real_run_warms_up_then_decays(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "lenet", "--epochs", "3", "--limit", "256", "--no-progress",
                     "--scheduler", "exponential", "--decay", "0.5", "--warmup", "1",
                     "--out", str(out)]) == 0
    assert "exponential schedule (decay 0.5) after 1 warm-up epochs" in capsys.readouterr().out
    history = json.loads((out / "metrics.json").read_text())
    history = history["history"]
    np.testing.assert_allclose([row["lr"] for row in history], [1e-3, 2e-3, 1e-3], rtol=1e-9)
