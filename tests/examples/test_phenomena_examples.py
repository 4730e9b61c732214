"""The course's phenomena examples in their short modes: each writes its figure and the
phenomenon shows in the numbers it returns."""
import math

import numpy as np

from tests.test_examples import load


def _figure_written(result, tmp_path, name):
    assert result["figure"] == str(tmp_path / name)
    assert (tmp_path / name).stat().st_size > 10000


def test_gradient_norms_vanish_explode_or_stay_and_equal_init_keeps_units_identical(tmp_path):
    result = load("gradient_flow.py").main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "gradient_flow.png")
    norms = result["norms"]
    assert all(len(values) == 15 for values in norms.values())
    naive, xavier = norms["sigmoid, N(0, 0.01^2)"], norms["sigmoid, Xavier"]
    assert naive[0] < 1e-15 * naive[-1]          # vanishes over ~20 orders of magnitude
    assert np.all(np.diff(np.log(naive)) > 0)    # geometrically, layer by layer
    assert 1e-12 * xavier[-1] < xavier[0] < 1e-4 * xavier[-1]  # sigmoid still vanishes
    exploding, he = norms["ReLU, N(0, 1)"], norms["ReLU, He"]
    assert exploding.min() > 1e8                 # every layer's gradient is huge
    assert he.max() / he.min() < 10 and 0.1 < he.max() < 100
    equal, random = result["weights"]["equal"], result["weights"]["random"]
    np.testing.assert_allclose(equal, np.broadcast_to(equal[0], equal.shape), rtol=0,
                               atol=1e-12)
    assert np.abs(equal - 0.05).max() > 1e-4     # the identical units did train
    assert result["spread"]["equal"].max() <= 1e-12
    assert result["spread"]["random"][-1] > 0.05
    assert np.abs(random - random[0]).max() > 0.05


def test_batch_norm_trains_where_the_plain_mlp_does_not_at_the_large_lr(tmp_path):
    result = load("batch_norm_effect.py").main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "batch_norm_effect.png")
    runs = result["runs"]
    assert set(runs) == {(False, 0.1), (True, 0.1), (False, 1.0), (True, 1.0)}

    def final_loss(run):
        return run["loss"][-10:].mean() if run["diverged_at"] is None else math.inf

    for lr in (0.1, 1.0):
        with_bn, without = runs[(True, lr)], runs[(False, lr)]
        assert with_bn["diverged_at"] is None
        assert final_loss(with_bn) < 0.5 * final_loss(without)
        assert with_bn["val_acc"][-1] > without["val_acc"][-1] + 0.2
    assert final_loss(runs[(True, 1.0)]) < 0.6 and runs[(True, 1.0)]["val_acc"][-1] > 0.8


def test_momentum_rmsprop_and_adam_get_closer_than_sgd(tmp_path):
    result = load("optimizer_paths.py").main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "optimizer_paths.png")
    quadratic, rosenbrock = result["distance"]["quadratic, kappa=50"], result["distance"][
        "Rosenbrock"]
    for label in ("momentum", "RMSprop", "Adam"):
        assert quadratic[label] < 0.25 * quadratic["SGD"]
        assert rosenbrock[label] < rosenbrock["SGD"]
    paths = result["paths"]["quadratic, kappa=50"]
    assert all(p.shape == (101, 2) for p in paths.values())
    np.testing.assert_array_equal(paths["SGD"][0], [-4.0, 1.0])
    lr = 1.8 / 50   # SGD's iterates are the closed form (1 - lr h)^t theta_0 per coordinate
    t = np.arange(101)
    np.testing.assert_allclose(paths["SGD"][:, 0], -4.0 * (1 - lr) ** t, rtol=1e-9)
    np.testing.assert_allclose(paths["SGD"][:, 1], (1 - 50 * lr) ** t, rtol=1e-9, atol=1e-300)


def test_lr_curves_follow_the_closed_forms_and_decay_settles_the_loss(tmp_path):
    result = load("lr_decay_rules.py").main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "lr_decay_rules.png")
    runs = result["runs"]
    assert len(runs) == 6
    for run in runs.values():
        assert len(run["lr"]) == 10 and len(run["loss"]) == 11
        np.testing.assert_allclose(run["lr"], run["closed_form"], rtol=1e-12)
    e = np.arange(10)
    np.testing.assert_allclose(runs["inverse_time (rate 0.5)"]["lr"], 0.5 / (1 + 0.5 * e))
    np.testing.assert_allclose(runs["staircase (base 0.5, every 5)"]["lr"],
                               np.where(e < 5, 0.5, 0.25))
    np.testing.assert_allclose(runs["linear_warmup (5 epochs)"]["lr"][:6],
                               0.5 * np.arange(1, 7) / 6)
    # the constant lr of 0.5 rattles (its loss can jump by 10x from epoch to epoch, and where
    # it ends depends on the BLAS's rounding and the thread count); once the decays have
    # acted, their loss falls over the last epochs (not always at every one: a staircase
    # step can still rattle once) and stays well below it
    constant = runs["constant"]["loss"][-5:].mean()
    for label in ("inverse_time (rate 0.5)", "exponential (base 0.9)", "inverse_sqrt (k 1)",
                  "staircase (base 0.5, every 5)"):
        late = runs[label]["loss"][-5:]
        assert late[-1] < min(late[0], constant)
        if not label.startswith("staircase"):  # it only halves the lr once, at epoch 5
            assert late.mean() < 0.5 * constant


def test_dropout_narrows_the_train_dev_gap(tmp_path):
    module = load("dropout_gap.py")
    result = module.main(["--quick", "--out", str(tmp_path)])
    _figure_written(result, tmp_path, "dropout_gap.png")
    plain, dropped = result["runs"][0.0], result["runs"][0.5]
    assert all(len(values) == 20 for values in plain.values())
    assert plain["train_acc"][-1] == 1.0 and plain["train_loss"][-1] < 0.05   # memorised
    assert dropped["train_loss"][-1] > 2 * plain["train_loss"][-1]
    gap_plain, gap_dropped = result["gap"][0.0], result["gap"][0.5]
    assert gap_plain["acc"] > 0.1
    assert gap_dropped["acc"] < gap_plain["acc"] - 0.01
    assert gap_dropped["loss"] < 0.9 * gap_plain["loss"]
    assert dropped["dev_acc"][-1] > 0.8
    x, y, x_dev, y_dev = module.train_dev(300, 0.05, 0)
    assert len(y) == 300 and len(y_dev) == 500     # both carved from the 10000 training rows
    assert np.bincount(y.numpy(), minlength=10).min() >= 25   # stratified: every class
    train_rows = {row.tobytes() for row in x.numpy()}
    assert not any(row.tobytes() in train_rows for row in x_dev.numpy())
