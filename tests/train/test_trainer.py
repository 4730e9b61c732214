"""Trainer / fit on a tiny slice of the bundled data: loss falls, files written, resume works."""
import csv
import json
import os

import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.serialization import save
from minidl.train import (
    Callback,
    EarlyStopping,
    ProgressBar,
    Trainer,
    evaluate,
    fit,
    load_checkpoint,
    recipes,
)
from minidl.utils.data import DataLoader, TensorDataset
from minidl.vision import models
from minidl.vision.datasets import Bundled


@pytest.fixture(scope="module")
def tiny():
    """512 training and 256 validation images of mnist-mini's training split, 256 test ones."""
    train, test = Bundled("mnist-mini", train=True), Bundled("mnist-mini", train=False)
    x, y = (t.numpy() for t in train.to_tensors(0.13, 0.31))
    xt, yt = (t.numpy() for t in test.to_tensors(0.13, 0.31))
    pick = np.random.default_rng(0).permutation(len(y))
    fit_, val = pick[:512], pick[512:768]
    return tuple(minidl.from_numpy(a.copy()) for a in
                 (x[fit_], y[fit_], x[val], y[val], xt[:256], yt[:256]))


def _loaders(tiny, batch_size=64, seed=0):
    """``(train, val, test)`` data loaders; the training one shuffles with ``seed``."""
    x, y, xv, yv, xt, yt = tiny
    g = minidl.Generator().manual_seed(seed)
    return (DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=g),
            DataLoader(TensorDataset(xv, yv), batch_size=128),
            DataLoader(TensorDataset(xt, yt), batch_size=128))


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_batch_end(self, trainer, batch, logs):
        assert set(logs) == {"loss", "correct", "n"}
        self.events.append("batch")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end {epoch}")

    def on_fit_end(self, trainer):
        self.events.append("fit_end")


def test_fit_writes_everything(tiny, tmp_path, capsys):
    minidl.manual_seed(0)
    model = models.mlp(hidden=(64,))
    train_loader, val_loader, test_loader = _loaders(tiny)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    rec = Recorder()
    trainer = fit(model, train_loader, val_loader, opt, nn.CrossEntropyLoss(), epochs=3,
                  scheduler=sched, callbacks=[rec], out_dir=str(tmp_path), progress=False,
                  config={"note": "tiny"}, test_loader=test_loader)
    history = trainer.history
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_acc"] > 0.6
    assert [h["lr"] for h in history] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert rec.events[:2] == ["fit_start", "epoch_start 1"] and rec.events[-1] == "fit_end"
    assert rec.events.count("batch") == 3 * 8
    out = capsys.readouterr().out
    assert "epoch 3/3" in out and "val_acc" in out and "samples/s" in out
    best_val = max(h["val_acc"] for h in history)
    best_epoch = next(h["epoch"] for h in history if h["val_acc"] == best_val)
    assert trainer.best_epoch == best_epoch and trainer.monitor == "val_acc"
    assert f"selected epoch {best_epoch} (best val_acc): test_loss" in out

    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "curves.png", "last.safetensors",
                                            "metrics.csv", "metrics.json"]
    log = json.loads((tmp_path / "metrics.json").read_text())
    assert log["config"] == {"note": "tiny"} and len(log["history"]) == 3
    assert log["history"][2]["val_acc"] == pytest.approx(history[2]["val_acc"])
    assert log["selected"] == {"epoch": best_epoch, "monitor": "val_acc",
                               "val_loss": pytest.approx(history[best_epoch - 1]["val_loss"]),
                               "val_acc": pytest.approx(best_val)}
    assert log["test"]["epoch"] == best_epoch and log["test"]["n"] == 256
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert list(rows[0])[:5] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert not any(k.startswith("test") for k in rows[0])
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[0]["train_loss"]) == pytest.approx(history[0]["train_loss"])
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    ckpt = load_checkpoint(tmp_path / "last.safetensors")
    assert ckpt["epoch"] == 3 and ckpt["config"] == {"note": "tiny"}
    assert ckpt["metrics"]["val_acc"] == pytest.approx(history[2]["val_acc"])
    assert set(ckpt) >= {"model", "optimizer", "scheduler", "history"}
    best = load_checkpoint(tmp_path / "best.safetensors")
    assert best["epoch"] == best_epoch and best["metrics"]["val_acc"] == best_val

    # the test figures are those of the best checkpoint; the model keeps its last weights
    selected = models.mlp(hidden=(64,))
    load_checkpoint(tmp_path / "best.safetensors", selected)
    tested = evaluate(selected, test_loader, nn.CrossEntropyLoss())
    assert trainer.test_metrics == {"epoch": best_epoch, **tested} == log["test"]
    fresh = models.mlp(hidden=(64,))
    load_checkpoint(tmp_path / "last.safetensors", fresh)
    a, b = evaluate(model, val_loader, nn.CrossEntropyLoss()), evaluate(fresh, val_loader,
                                                                        nn.CrossEntropyLoss())
    assert a == b and a["acc"] == pytest.approx(history[-1]["val_acc"])
    assert a["n"] == 256 and model.training  # evaluate restores the training mode


def test_resume_continues_like_an_uninterrupted_run(tiny, tmp_path):
    def make():
        minidl.manual_seed(1)
        model = models.mlp(hidden=(32,))
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return model, opt

    # 2 epochs straight through
    model, opt = make()
    train_loader, val_loader, test_loader = _loaders(tiny, seed=3)
    full = Trainer(model, opt, train_loader=train_loader, val_loader=val_loader,
                   test_loader=test_loader, progress=None)
    full.fit(2)

    # 1 epoch, checkpoint, then a new trainer resumes for the second
    model, opt = make()
    train_loader, val_loader, _ = _loaders(tiny, seed=3)
    first = Trainer(model, opt, train_loader=train_loader, val_loader=val_loader, progress=None,
                    out_dir=str(tmp_path))
    first.fit(1)
    model2 = models.mlp(hidden=(32,))
    opt2 = optim.SGD(model2.parameters(), lr=0.05, momentum=0.9)
    train_loader2, _, _ = _loaders(tiny, seed=3)  # its order comes from the checkpoint
    second = Trainer(model2, opt2, train_loader=train_loader2, val_loader=val_loader,
                     test_loader=test_loader, progress=None)
    second.resume(tmp_path / "last.safetensors")
    assert second.epoch == 1 and len(second.history) == 1 and second.best_epoch == 1
    history = second.fit(2)
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["train_loss"] == full.history[1]["train_loss"]
    assert history[1]["val_acc"] == full.history[1]["val_acc"]
    for a, b in zip(full.model.parameters(), second.model.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert second.best_epoch == full.best_epoch
    assert second.test_metrics["acc"] == pytest.approx(full.test_metrics["acc"])


def test_resume_reads_the_selected_weights_from_best_safetensors(tiny, tmp_path):
    minidl.manual_seed(0)
    model = models.mlp(hidden=(16,))
    train_loader, val_loader, test_loader = _loaders(tiny)
    opt = optim.SGD(model.parameters(), lr=0.1)
    first = Trainer(model, opt, train_loader=train_loader, val_loader=val_loader,
                    out_dir=str(tmp_path), progress=None)
    first.fit(1)
    opt.param_groups[0]["lr"] = 5.0  # the second epoch diverges: epoch 1 stays selected
    first.fit(2)
    assert first.best_epoch == 1
    model2 = models.mlp(hidden=(16,))
    second = Trainer(model2, optim.SGD(model2.parameters(), lr=0.0), train_loader=train_loader,
                     val_loader=val_loader, test_loader=test_loader, progress=None)
    second.resume(tmp_path / "last.safetensors")
    assert second.best_epoch == 1
    second.fit(2)  # nothing left to train: the test evaluation only
    selected = models.mlp(hidden=(16,))
    load_checkpoint(tmp_path / "best.safetensors", selected)
    assert second.test_metrics == {"epoch": 1, **evaluate(selected, test_loader, second.loss_fn)}
    os.remove(tmp_path / "best.safetensors")
    third = Trainer(model2, optim.SGD(model2.parameters(), lr=0.0), train_loader=train_loader,
                    val_loader=val_loader, test_loader=test_loader, progress=None)
    third.resume(tmp_path / "last.safetensors")
    with pytest.raises(RuntimeError, match="selected epoch 1 are not in memory"):
        third.fit(2)


def test_early_stopping(tiny, capsys):
    minidl.manual_seed(0)
    model = models.mlp(hidden=(16,))
    train_loader, val_loader, _ = _loaders(tiny)
    opt = optim.SGD(model.parameters(), lr=0.0)  # nothing changes: no improvement after epoch 1
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    trainer = fit(model, train_loader, val_loader, opt, epochs=10, callbacks=[stopper],
                  progress=None)
    assert len(trainer.history) == 3 and stopper.stopped_epoch == 3
    assert "early stopping at epoch 3" in capsys.readouterr().out


def test_no_validation_set_and_errors(tiny, tmp_path):
    model = models.mlp(hidden=(16,))
    train_loader, _, test_loader = _loaders(tiny)
    trainer = fit(model, train_loader, epochs=2, out_dir=str(tmp_path), progress=None,
                  test_loader=test_loader)
    history = trainer.history
    assert history[0]["train_acc"] is not None and "val_acc" not in history[0]
    assert trainer.best_epoch == 2 and trainer.test_metrics["epoch"] == 2  # no selection
    assert load_checkpoint(tmp_path / "best.safetensors")["epoch"] == 2
    log = json.loads((tmp_path / "metrics.json").read_text())
    assert log["selected"] == {"epoch": 2, "monitor": None, "val_loss": None, "val_acc": None}
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="early stopping watches 'val_loss', which needs a "
                                         "validation set"):
        fit(model, train_loader, optimizer=opt, early_stopping_patience=2, progress=None)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="ReduceLROnPlateau watches the validation loss"):
        fit(model, train_loader, optimizer=opt, scheduler=plateau, progress=None)
    with pytest.raises(TypeError, match="Callback instances"):
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=[object()])
    with pytest.raises(TypeError, match=r"\(input, target\) pairs"):
        fit(model, [minidl.zeros(2, 784)], epochs=1, progress=None)
    with pytest.raises(ValueError, match="no samples"):
        evaluate(model, [])
    save({"weights": minidl.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(RuntimeError, match="not a minidl.train checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_progress_bar_runs(tiny, capsys):
    model = models.mlp(hidden=(16,))
    train_loader, val_loader, _ = _loaders(tiny)
    fit(model, train_loader, val_loader, epochs=1, progress=None,
        callbacks=[ProgressBar(mininterval=0, refresh_every=1)])
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and "samples/s" in captured.err  # the tqdm bar
    assert "epoch 1/1" in captured.out  # the summary line
    assert "test" not in captured.out   # no test set, no test line


def test_recipe_prepares_normalized_data():
    train, val, test, info = recipes.prepare_image_data("mnist-mini", limit=300, seed=0)
    x = train[list(range(len(train)))][0].numpy()
    assert x.shape == (300, 1, 28, 28) and len(val) == 1000 and len(test) == 2000
    assert tuple(test[0][0].shape) == (1, 28, 28)
    assert abs(float(x.mean())) < 1e-3 and abs(float(x.std()) - 1) < 1e-3
    assert info["num_classes"] == 10 and info["in_features"] == 784
    assert info["train_size"] == 300 and info["val_size"] == 1000
    assert recipes.resolve_config("lenet", lr=0.5)["lr"] == 0.5
    with pytest.raises(ValueError, match="available models: .*lenet, mlp"):
        recipes.resolve_config("vgg")
    with pytest.raises(ValueError, match="or a folder"):
        recipes.open_image_data("nothing-here")
