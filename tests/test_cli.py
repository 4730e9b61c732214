"""The ``minidl`` command: help, train (on a small --limit subset), eval, models, errors."""
import json
import os
import subprocess
import sys

import pytest

from minidl import cli

from .vision.idx_helpers import make_mnist_folder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "minidl", "--help"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    for command in ("train", "eval", "models", "summary"):
        assert command in out


def test_train_help_documents_options(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--data", "--epochs", "--batch-size", "--lr", "--optimizer", "--momentum",
                   "--weight-decay", "--seed", "--out", "--device", "--no-progress", "--limit",
                   "--augment", "--threads", "--val-fraction", "--val-data", "--patience",
                   "--accumulate", "--clip-grad-norm", "--clip-grad-value",
                   "--label-smoothing", "--resume"):
        assert option in out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "commands" in capsys.readouterr().out


def test_models_command(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lenet" in out and "mlp" in out and "adam" in out
    for name in ("alexnet", "vgg16_bn", "googlenet", "resnet18", "resnet101", "densenet121",
                 "mobilenet_v2", "nin"):
        assert any(line.startswith(f"{name} ") for line in out.splitlines())
    assert "augment auto" in out and "(builder lenet5)" in out


def test_train_then_eval(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code = cli.main(["train", "lenet", "--epochs", "1", "--limit", "256", "--batch-size", "32",
                     "--out", str(out_dir), "--no-progress", "--seed", "3"])
    assert code == 0
    out = capsys.readouterr().out
    assert f"output folder: {out_dir}" in out and "validation 10% (stratified)" in out
    assert {"best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
            "curves.png"} <= set(os.listdir(out_dir))
    log = json.loads((out_dir / "metrics.json").read_text())
    config = log["config"]
    assert config["model"] == "lenet" and config["arch"] == "lenet5" and config["limit"] == 256
    assert config["batch_size"] == 32 and config["seed"] == 3 and config["optimizer"] == "adam"
    assert config["data"] == "mnist-mini" and len(config["normalize"]) == 2
    assert config["val_fraction"] == 0.1 and config["val_data"] is None
    assert config["train_size"] == 256 and config["val_size"] == 1000
    val, test = log["selected"], log["test"]
    assert val["epoch"] == test["epoch"] == 1 and val["monitor"] == "val_acc"
    assert val["val_acc"] == log["history"][0]["val_acc"] and test["n"] == 2000
    assert ("done in " in out and f"best epoch 1 of 1, val accuracy {100 * val['val_acc']:.2f}%, "
            f"test accuracy {100 * test['acc']:.2f}%; checkpoints" in out)

    # eval: the explicit one-off test of a checkpoint gives the run's test figure
    assert cli.main(["eval", str(out_dir / "best.safetensors")]) == 0
    out = capsys.readouterr().out
    assert f"accuracy {100 * test['acc']:.2f}%" in out and "mnist-mini" in out and "/2000)" in out


def test_train_without_validation_keeps_the_last_epoch(tmp_path, capsys):
    out_dir = tmp_path / "run"
    assert cli.main(["train", "mlp", "--epochs", "2", "--limit", "128", "--val-fraction", "0",
                     "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "no validation, 2 epochs" in out and "no validation, last epoch 2 kept" in out
    log = json.loads((out_dir / "metrics.json").read_text())
    assert log["selected"] == {"epoch": 2, "monitor": None, "val_loss": None, "val_acc": None}
    assert log["test"]["epoch"] == 2 and "val_acc" not in log["history"][0]
    assert log["config"]["val_size"] == 0


def test_train_with_separate_validation_data(tmp_path, capsys):
    make_mnist_folder(tmp_path / "data" / "MNIST" / "raw", n_train=100, n_test=40, seed=0)
    make_mnist_folder(tmp_path / "val", n_train=30, n_test=10, seed=1)
    out_dir = tmp_path / "run"
    assert cli.main(["train", "mlp", "--data", str(tmp_path / "data"), "--val-data",
                     str(tmp_path / "val"), "--epochs", "2", "--patience", "1",
                     "--out", str(out_dir), "--no-progress"]) == 0
    assert f"validation {tmp_path / 'val'}, 2 epochs" in capsys.readouterr().out
    log = json.loads((out_dir / "metrics.json").read_text())
    config = log["config"]
    assert config["val_data"] == str(tmp_path / "val") and config["val_fraction"] is None
    assert config["train_size"] == 100 and config["val_size"] == 30 and log["test"]["n"] == 40


def test_same_seed_same_run(tmp_path, capsys):
    logs = []
    for name in ("a", "b"):
        assert cli.main(["train", "mlp", "--epochs", "2", "--limit", "128", "--seed", "7",
                         "--out", str(tmp_path / name), "--no-progress"]) == 0
        log = json.loads((tmp_path / name / "metrics.json").read_text())
        logs.append([{k: v for k, v in h.items() if k not in ("time_s", "samples_per_s")}
                     for h in log["history"]] + [log["selected"], log["test"]])
    assert logs[0] == logs[1]


def test_train_mlp_on_a_folder_with_sgd(tmp_path, capsys):
    data = tmp_path / "data"
    make_mnist_folder(data / "MNIST" / "raw", n_train=100, n_test=40)
    out_dir = tmp_path / "run"
    code = cli.main(["train", "mlp", "--data", str(data), "--epochs", "2", "--optimizer", "sgd",
                     "--lr", "0.01", "--momentum", "0.5", "--weight-decay", "1e-4",
                     "--scheduler", "step", "--out", str(out_dir), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "sgd lr 0.01" in out
    assert cli.main(["eval", str(out_dir / "best.safetensors"), "--data", str(data)]) == 0
    assert "/40)" in capsys.readouterr().out


def test_default_out_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "mlp", "--epochs", "1", "--limit", "64", "--no-progress"]) == 0
    out = capsys.readouterr().out
    runs = os.listdir(tmp_path / "runs")
    assert len(runs) == 1 and runs[0].startswith("mlp-mnist-mini-")
    assert f"output folder: {os.path.join('runs', runs[0])}" in out


def test_bad_model_name(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "resnet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown model 'resnet'; available models: alexnet, densenet121" in err
    assert "lenet, mlp, mobilenet_v2, nin, resnet101" in err


def test_train_by_builder_name_with_augmentation(tmp_path, capsys):
    """`train lenet5` finds the lenet recipe; --augment crop+flip runs the batch path."""
    out_dir = tmp_path / "run"
    assert cli.main(["train", "lenet5", "--epochs", "1", "--limit", "64", "--augment",
                     "crop+flip", "--out", str(out_dir), "--no-progress"]) == 0
    assert "adam lr 0.002, cosine schedule, seed 0, augment crop+flip, limit 64" in \
        capsys.readouterr().out
    config = json.loads((out_dir / "metrics.json").read_text())["config"]
    assert config["model"] == "lenet5" and config["arch"] == "lenet5"
    assert config["augment"] == "crop+flip"


def test_summary_command(capsys):
    assert cli.main(["summary", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ResNet: input [1, 3, 224, 224] -> output [1, 1000]")
    assert "Total params: 11,689,512" in out and "Total MACs: 1,814,073,344" in out
    assert cli.main(["summary", "googlenet", "--input-size", "1", "28", "28", "--small-input",
                     "--num-classes", "10", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "input [1, 1, 28, 28] -> output [1, 10]" in out and "inception3a (Inception)" in out
    assert "  branch1" not in out                                          # depth 1 only
    assert cli.main(["summary", "lenet"]) == 0                             # a recipe name
    assert "Total params: 61,706" in capsys.readouterr().out
    assert cli.main(["summary", "mlp", "--input-size", "1", "8", "8", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "input [2, 1, 8, 8] -> output [2, 10]" in out and "for a batch of 2" in out


def test_summary_errors(capsys):
    assert cli.main(["summary", "densenet121", "--input-size", "1", "28", "28"]) == 1
    err = capsys.readouterr().err
    assert "densenet121 on a 1 x 28 x 28 input" in err and "try --small-input" in err
    with pytest.raises(SystemExit) as info:
        cli.main(["summary", "resnet9"])
    assert info.value.code == 2 and "unknown model 'resnet9'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["summary", "resnet18", "--input-size", "3", "32"])
    assert info.value.code == 2


@pytest.mark.parametrize("argv, message", [
    (["train", "lenet", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["train", "lenet", "--epochs", "0"], "expected a positive integer, got 0"),
    (["train", "lenet", "--device", "cuda"], "invalid choice: 'cuda'"),
    (["train", "lenet", "--val-fraction", "1"], "expected a fraction 0 <= f < 1"),
    (["train", "lenet", "--val-fraction", "-0.1"], "expected a fraction 0 <= f < 1"),
    (["train", "lenet", "--val-fraction", "half"], "expected a fraction 0 <= f < 1"),
    (["train", "lenet", "--val-fraction", "0", "--patience", "3"], "--patience needs validation"),
    (["train", "lenet", "--val-fraction", "0.2", "--val-data", "fashion-mnist-mini"],
     "--val-fraction and --val-data exclude each other"),
    (["eval", "/nonexistent/best.safetensors"], "does not exist"),
    (["train"], "give MODEL (see 'minidl models'), or --resume DIR"),
    (["train", "--resume", "/nonexistent/run"], "no last.safetensors there to resume from"),
    (["train", "lenet", "--accumulate", "0"], "expected a positive integer, got 0"),
    (["train", "lenet", "--clip-grad-norm", "0"], "expected a positive number, got 0"),
    (["train", "lenet", "--label-smoothing", "1"], "expected a label smoothing 0 <= eps < 1"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_bad_data_and_checkpoint(tmp_path, capsys):
    assert cli.main(["train", "mlp", "--data", "imagenet", "--no-progress"]) == 1
    assert "mnist-mini" in capsys.readouterr().err
    (tmp_path / "x.safetensors").write_bytes(b"not a checkpoint")
    assert cli.main(["eval", str(tmp_path / "x.safetensors")]) == 1
    assert "not a minidl checkpoint" in capsys.readouterr().err


def test_training_options_reach_the_run(tmp_path, capsys):
    out_dir = tmp_path / "run"
    assert cli.main(["train", "mlp", "--epochs", "1", "--limit", "128", "--optimizer", "nadam",
                     "--accumulate", "2", "--clip-grad-norm", "1.5", "--clip-grad-value",
                     "0.5", "--label-smoothing", "0.1", "--out", str(out_dir),
                     "--no-progress"]) == 0
    config = json.loads((out_dir / "metrics.json").read_text())["config"]
    assert (config["optimizer"], config["accumulate"], config["clip_grad_norm"],
            config["clip_grad_value"], config["label_smoothing"]) == ("nadam", 2, 1.5, 0.5, 0.1)
    capsys.readouterr()
    assert cli.main(["eval", str(out_dir / "best.safetensors")]) == 0
    assert ", top-5 " in capsys.readouterr().out  # ten classes: the top-5 accuracy too
    # resuming a finished run with other options is refused, naming the option
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "lenet", "--resume", str(out_dir)])
    assert info.value.code == 2
    assert "MODEL lenet conflicts with the run's 'mlp'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(out_dir), "--out", str(tmp_path / "elsewhere")])
    assert "drop --out" in capsys.readouterr().err
