"""``minidl analyze``: train / training-dev / dev / test errors of a run, the course's gaps
(avoidable bias, variance, data mismatch), the confusion matrix and the confused examples."""
import json
import os

import numpy as np
import pytest

from minidl import cli
from minidl.train import analyze, recipes
from minidl.train.analyze import diagnose, most_confused

from ..vision.idx_helpers import bundled_subset_folder, write_idx


def test_gaps_follow_the_course():
    errors = {"train": 0.08, "training-dev": 0.10, "dev": 0.12, "test": 0.125}
    gaps, largest = diagnose(errors, human_error=0.01)
    assert [g for g, _ in gaps] == ["avoidable bias", "variance", "data mismatch",
                                    "overfitting to dev"]
    np.testing.assert_allclose([v for _, v in gaps], [0.07, 0.02, 0.02, 0.005])
    assert largest[0] == "avoidable bias"
    # dev carved from the training data stands in for training-dev: no mismatch
    gaps, largest = diagnose({"train": 0.01, "dev": 0.05, "test": 0.05})
    assert dict(gaps) == pytest.approx({"avoidable bias": 0.01, "variance": 0.04,
                                        "data mismatch": 0.0, "overfitting to dev": 0.0})
    assert largest[0] == "variance"
    # dev from other data and no training-dev set: variance and mismatch cannot be told apart
    gaps, largest = diagnose({"train": 0.01, "dev": 0.3, "test": 0.3}, dev_from_training=False)
    assert largest == ("variance + data mismatch", pytest.approx(0.29))
    gaps, _ = diagnose({"train": 0.02, "test": 0.03})  # no validation at all
    assert [g for g, _ in gaps] == ["avoidable bias"]


def test_most_confused_reads_the_off_diagonal():
    confusion = np.array([[50, 3, 0], [7, 40, 3], [0, 1, 60]])
    assert most_confused(confusion, 3) == [(1, 0, 7), (0, 1, 3), (1, 2, 3)]
    assert most_confused(np.diag([5, 5])) == []


def _train(tmp_path, *extra):
    out = tmp_path / "run"
    assert cli.main(["train", "lenet", "--epochs", "2", "--no-progress", "--out", str(out),
                     *extra]) == 0
    return out


def test_a_real_run_analysed(tmp_path, capsys):
    out = _train(tmp_path, "--limit", "1500", "--training-dev", "0.1")
    capsys.readouterr()
    ckpt = str(out / "best.safetensors")
    assert cli.main(["analyze", ckpt, "--human-error", "0.3"]) == 0
    text = capsys.readouterr().out
    for words in ("training-dev", "avoidable bias", "variance", "data mismatch",
                  "largest gap:", "most confused on dev"):
        assert words in text
    saved = json.loads((out / "analysis.json").read_text())
    run = json.loads((out / "metrics.json").read_text())
    # the test error is the run's own figure for the selected weights
    assert saved["errors"]["test"] == pytest.approx(1 - run["test"]["acc"], abs=1e-12)
    assert saved["errors"]["dev"] == pytest.approx(1 - run["selected"]["val_acc"], abs=1e-12)
    assert saved["sizes"] == {"train": 1500, "training-dev": 900, "dev": 1000, "test": 2000}
    # the training-dev samples were neither trained on nor validated on
    train, dev, _, info = recipes.prepare_image_data("mnist-mini", 1500, 0, None, 0.1,
                                                     training_dev=0.1)
    tdev = set(info["training_dev_indices"])
    assert not tdev & set(train.indices.tolist()) and not tdev & set(dev.indices.tolist())
    assert saved["gaps"]["avoidable bias"] == pytest.approx(saved["errors"]["train"] - 0.003)
    confusion = np.array(saved["confusion"])
    assert confusion.sum() == 1000 and np.trace(confusion) == round(1000 * (1 - saved[
        "errors"]["dev"]))
    for name in ("confusion_dev.png", "confused_dev.png"):
        assert os.path.getsize(out / name) > 10000


def test_a_dev_set_from_other_data_shows_the_mismatch(tmp_path, capsys):
    train = bundled_subset_folder(str(tmp_path / "digits"), "mnist-mini", 2000, 500)
    rotated = tmp_path / "rotated"  # the same kind of digits, turned a quarter
    os.makedirs(rotated)
    images, labels = recipes.open_image_data("mnist-mini").to_tensors()
    images = (np.rot90(images.numpy()[2000:2600, 0], axes=(1, 2)) * 255).round()
    for prefix, part in (("train", slice(0, 500)), ("t10k", slice(500, 600))):
        write_idx(str(rotated / f"{prefix}-images-idx3-ubyte"), images[part].astype(np.uint8))
        write_idx(str(rotated / f"{prefix}-labels-idx1-ubyte"),
                  labels.numpy()[2000:2600][part].astype(np.uint8))
    out = _train(tmp_path, "--data", train, "--val-data", str(rotated), "--training-dev",
                 "0.1")
    capsys.readouterr()
    report = analyze.analyze_checkpoint(str(out / "best.safetensors"))
    errors = report["errors"]
    assert errors["dev"] > errors["training-dev"] + 0.3  # the rotated digits are far harder
    assert report["largest"][0] == "data mismatch"
    assert abs(errors["training-dev"] - errors["train"]) < 0.1
    assert cli.main(["analyze", str(out / "last.safetensors"), "--split", "training-dev",
                     "--out", str(tmp_path / "a")]) == 0
    assert "largest gap: data mismatch" in capsys.readouterr().out
    assert (tmp_path / "a" / "confused_training-dev.png").exists()


def test_clear_errors(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "lenet", "--epochs", "1", "--limit", "300", "--no-progress",
                     "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["analyze", str(out / "best.safetensors"), "--split", "training-dev"]) == 1
    assert "has no training-dev split" in capsys.readouterr().err
    assert cli.main(["analyze", str(out / "best.safetensors"), "--human-error", "120"]) == 1
    assert "--human-error is a percentage" in capsys.readouterr().err
    assert cli.main(["analyze", str(tmp_path / "missing.safetensors")]) != 0


def test_analyze_checkpoint_names_a_bad_split_or_human_error():
    with pytest.raises(ValueError, match="split must be one of train, training-dev, dev, test"):
        analyze.analyze_checkpoint("unused.safetensors", split="val")
    with pytest.raises(ValueError, match=r"human_error is a fraction in \[0, 1\), got 5"):
        analyze.analyze_checkpoint("unused.safetensors", human_error=5)
