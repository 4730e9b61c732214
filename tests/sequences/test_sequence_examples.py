"""The two sequence examples in their --quick mode, holding them to what they document."""
import os

import numpy as np

from tests.test_examples import load


def test_forecast_splits_by_time_and_its_models_learn(tmp_path):
    module = load("time_series_forecast.py")
    z = np.arange(100.0)
    sets = module.window_sets(z, 8, 70, 85)
    targets = {name: module.arrays(ds)[1] for name, ds in sets.items()}
    assert targets["train"].max() < 70 <= targets["val"].min()   # no target crosses a split
    assert targets["val"].tolist() == list(range(70, 85)) and targets["test"][0] == 85

    figures = module.main(["--quick", "--out", str(tmp_path)])
    assert os.path.getsize(figures["figure"]) > 10_000
    test = figures["test"]
    assert set(test) == {"LSTM", "TCN", "linear", "naive seasonal"}
    assert all(np.isfinite([m["mse"], m["mae"]]).all() for m in test.values())
    for name in ("LSTM", "TCN"):
        val = [v for _, v in figures["history"][name]]
        assert min(val[1:]) < val[0], f"{name}'s validation loss did not decrease: {val}"
    # the closed-form linear model on the window is near the noise floor, the naive one not
    assert test["linear"]["mse"] < 1.5 * figures["noise_floor"] < test["naive seasonal"]["mse"]


def test_bptt_gradients_vanish_explode_and_clipping_saves_training(tmp_path):
    figures = load("bptt_gradients.py").main(["--quick", "--out", str(tmp_path)])
    assert os.path.getsize(figures["figure"]) > 10_000
    g = figures["gradients"]
    rnn, lstm, lstm_b1 = g["RNN (tanh)"], g["LSTM, default init"], g["LSTM, forget bias 1"]
    assert rnn[0] < 1e-2 * lstm[0] and lstm[0] < 1e-6 * lstm_b1[0]  # orders of magnitude
    assert rnn[0] < 1e-12 * rnn[-1]                                  # vanished over 60 steps
    ratios = [n[0] / n[-1] for n in figures["scales"].values()]
    assert ratios == sorted(ratios) and ratios[0] < 1e-10 and ratios[-1] > 10  # < 1 vs > 1
    plain, clipped = figures["runs"].values()
    assert plain["diverged"] is not None and max(plain["grad_norm"]) > 1e6
    assert clipped["diverged"] is None and np.isfinite(clipped["loss"]).all()
    assert np.mean(clipped["loss"][-10:]) < 0.25 * clipped["loss"][0]
