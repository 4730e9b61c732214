"""minidl tune: the search space's sampling and narrowing, and a short search."""
import csv
import math

import numpy as np
import pytest

import minidl.train.tune  # noqa: F401 (registers the command)
from minidl import cli
from minidl.train.search_space import narrow, parse_param, sample


def test_log_uniform_sampling_covers_every_decade_equally():
    p = parse_param("lr=log:1e-4:1e-1")
    assert (p.name, p.kind, p.low, p.high) == ("lr", "log", 1e-4, 1e-1)
    values = np.array([sample(p, np.random.default_rng(s)) for s in range(3000)])
    assert values.min() >= 1e-4 and values.max() <= 1e-1
    decades = np.histogram(np.log10(values), bins=[-4, -3, -2, -1])[0] / len(values)
    np.testing.assert_allclose(decades, 1 / 3, atol=0.04)  # uniform would give .01 .09 .9


def test_sampling_is_seeded():
    params = [parse_param("lr=log:1e-4:1e-1"), parse_param("batch-size=choice:32,64,128"),
              parse_param("momentum=uniform:0.8:0.99"), parse_param("epochs=int:1:3")]

    def draw(seed):
        rng = np.random.default_rng(seed)
        return [[sample(p, rng) for p in params] for _ in range(5)]
    assert draw(3) == draw(3) and draw(3) != draw(4)
    lr, batch, momentum, epochs = zip(*draw(3))
    assert set(batch) <= {"32", "64", "128"} and all(0.8 <= m <= 0.99 for m in momentum)
    assert all(isinstance(e, int) and 1 <= e <= 3 for e in epochs)
    assert all(float(f"{v:.4g}") == v for v in lr)  # the value shown is the value used


def test_narrowing_around_the_best_values():
    p = parse_param("lr=log:1e-4:1e-1")
    q = narrow(p, [1e-3, 3e-3])
    # [1e-3, 3e-3] widened by a quarter of the 3 decades (0.75 decade) on each side
    assert math.isclose(math.log10(q.low), -3.75) and math.isclose(q.high, 3e-3 * 10 ** 0.75)
    assert q.kind == "log" and p.low < q.low < q.high < p.high
    assert narrow(parse_param("batch-size=choice:32,64,128"), ["64", "64"]).choices == ("64",)
    r = narrow(parse_param("epochs=int:1:9"), [5])
    assert (r.low, r.high) == (3, 7)


@pytest.mark.parametrize("text, message", [
    ("lr", "NAME=KIND:SPEC"), ("lr=exp:1:2", "unknown kind"), ("lr=log:1e-1:1e-4", "below"),
    ("lr=log:0:1", "positive"), ("lr=uniform:a:b", "two numbers")])
def test_bad_parameters(text, message):
    with pytest.raises(ValueError, match=message):
        parse_param(text)


def test_three_trials_write_the_table_and_the_plot(tmp_path, capsys):
    out = tmp_path / "tune"
    assert cli.main(["tune", "lenet", "--trials", "3", "--param", "lr=log:1e-4:1e-2",
                     "--param", "batch-size=choice:32,64", "--epochs", "1", "--limit", "100",
                     "--out", str(out)]) == 0
    text = capsys.readouterr().out
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and [r["rank"] for r in rows] == ["1", "2", "3"]
    accuracies = [float(r["val_acc"]) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    assert not any("test" in column for column in rows[0])  # ranked on validation only
    assert (out / "tune.png").stat().st_size > 0
    assert (out / rows[0]["out_dir"].split("/")[-1] / "best.safetensors").is_file()
    assert f"best: trial {rows[0]['trial']} (--lr {rows[0]['lr']}" in text


def test_options_are_checked_before_any_trial(tmp_path, capsys):
    assert cli.main(["tune", "lenet", "--param", "colour=log:1:2", "--out",
                     str(tmp_path)]) == 1
    assert "'colour' is not a minidl train option" in capsys.readouterr().err
    assert cli.main(["tune", "lenet", "--param", "lr=log:1e-3:1e-2", "--set", "lr=0.1"]) == 1
    assert "lr given twice" in capsys.readouterr().err
    assert cli.main(["tune", "lenet9", "--param", "lr=log:1e-3:1e-2"]) == 1
    assert "unknown model 'lenet9'" in capsys.readouterr().err
