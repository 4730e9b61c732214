"""The train / validation / test protocol: selection, early stopping and plateau schedules
read the validation figures; the test set is read once, after the last epoch."""
import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.train import Callback, EarlyStopping, evaluate, fit, recipes
from minidl.train import trainer as trainer_module
from minidl.utils.data import DataLoader, Dataset, TensorDataset

from ..vision.idx_helpers import make_mnist_folder


def _drifting():
    """``Linear(1, 2)`` on zero inputs: its outputs are its bias, (0, 1) at first, so it
    predicts class 1. SGD at lr 0.25 on class-0 targets moves the prediction to class 0 at
    epoch 4. A validation set of 1s is best at epoch 1, a test set of 0s at epochs 4-5."""
    model = nn.Linear(1, 2)
    with minidl.no_grad():
        model.weight.zero_()
        model.bias.copy_(minidl.tensor([0.0, 1.0]))
    x = minidl.zeros(4, 1)
    zeros, ones = minidl.zeros(4, dtype=minidl.int64), minidl.ones(4, dtype=minidl.int64)
    loaders = [DataLoader(TensorDataset(x, t), batch_size=4) for t in (zeros, ones, zeros)]
    return model, optim.SGD(model.parameters(), lr=0.25), loaders


@pytest.mark.parametrize("monitor", [None, "val_loss"])
def test_selection_follows_validation_where_test_disagrees(monitor):
    model, opt, (train, val, test) = _drifting()
    trainer = fit(model, train, val, opt, epochs=5, test_loader=test, progress=None,
                  monitor=monitor)
    assert [h["val_acc"] for h in trainer.history] == [1, 1, 1, 0, 0]
    assert trainer.best_epoch == 1 and trainer.monitor == (monitor or "val_acc")
    # the selected weights fail the test set; the last ones (which test-set selection would
    # have picked) pass it
    assert trainer.test_metrics["epoch"] == 1 and trainer.test_metrics["acc"] == 0.0
    assert evaluate(model, test)["acc"] == 1.0
    assert float(trainer.best_state()["bias"].numpy()[1]) > 0.5


def test_early_stopping_reads_validation():
    model, opt, (train, val, test) = _drifting()
    stopper = EarlyStopping(patience=2)  # the validation loss only rises: stop at epoch 3
    trainer = fit(model, train, val, opt, epochs=10, test_loader=test, progress=None,
                  callbacks=[stopper])
    assert stopper.stopped_epoch == 3 and trainer.epoch == 3 and trainer.best_epoch == 1


def test_plateau_scheduler_steps_on_the_validation_loss():
    seen = []

    class Plateau(optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(float(metrics))
            super().step(metrics)

    model, opt, (train, val, test) = _drifting()
    trainer = fit(model, train, val, opt, epochs=3, scheduler=Plateau(opt), test_loader=test,
                  progress=None)
    assert seen == [h["val_loss"] for h in trainer.history]
    assert seen != [h["train_loss"] for h in trainer.history]


class Watched(Dataset):
    """A dataset that logs every read into ``log``."""

    def __init__(self, dataset, log):
        self.dataset, self.log = dataset, log

    def __len__(self):
        self.log.append("test read")
        return len(self.dataset)

    def __getitem__(self, index):
        self.log.append("test read")
        return self.dataset[index]


class EpochLog(Callback):
    def __init__(self, log):
        self.log = log

    def on_fit_start(self, trainer):
        self.trainer = trainer

    def on_epoch_end(self, trainer, epoch, logs):
        self.log.append(f"epoch_end {epoch}")

    def on_fit_end(self, trainer):
        self.log.append("fit_end")


def test_the_test_set_is_read_only_after_the_last_epoch(tmp_path):
    log = []
    model, opt, (train, val, test) = _drifting()
    test_loader = DataLoader(Watched(test.dataset, log), batch_size=2)
    log.clear()
    trainer = fit(model, train, val, opt, epochs=3, test_loader=test_loader, progress=None,
                  callbacks=[EpochLog(log)], out_dir=str(tmp_path), early_stopping_patience=5)
    first = log.index("test read")
    assert log[:first] == ["epoch_end 1", "epoch_end 2", "epoch_end 3"]
    assert log[-1] == "fit_end" and set(log[first:-1]) == {"test read"}
    assert trainer.test_metrics["n"] == 4


def test_train_classifier_tests_once_after_training(monkeypatch):
    """The recipe behind `minidl train`: validation every epoch, the test loader once, last."""
    calls = []
    watcher = EpochLog(calls)
    real = trainer_module.evaluate

    def spy(model, loader, loss_fn=None):
        t = watcher.trainer
        calls.append("test" if loader is t.test_loader else
                     "val" if loader is t.val_loader else "other")
        return real(model, loader, loss_fn)

    monkeypatch.setattr(trainer_module, "evaluate", spy)
    config = recipes.resolve_config("mlp", epochs=3, limit=200, augment="crop+flip")
    result = recipes.train_classifier(config, progress=None, callbacks=[watcher])
    assert calls == ["val", "epoch_end 1", "val", "epoch_end 2", "val", "epoch_end 3", "test",
                     "fit_end"]
    t = watcher.trainer
    assert result["best_epoch"] == t.best_epoch and result["test_acc"] == t.test_metrics["acc"]
    assert result["val_acc"] == max(h["val_acc"] for h in result["history"])
    # the validation batches are the held-out images as they are: never augmented
    xv, yv = next(iter(t.val_loader))
    assert len(xv) == 1000 and type(t.train_loader).__name__ == "_AugmentedLoader"
    train, val, _, _ = recipes.prepare_image_data("mnist-mini", 200, 0)
    expected = val[list(range(1000))]
    assert np.array_equal(xv.numpy(), expected[0].numpy())
    assert np.array_equal(yv.numpy(), expected[1].numpy())


def test_validation_is_a_stratified_seeded_share_of_the_training_split():
    targets = recipes.open_image_data("mnist-mini", True).targets.numpy()
    train, val, _, info = recipes.prepare_image_data("mnist-mini", seed=3, val_fraction=0.1)
    t_idx, v_idx = np.asarray(train.indices), np.asarray(val.indices)
    assert train.dataset is val.dataset                      # one tensor set, two index sets
    assert len(np.intersect1d(t_idx, v_idx)) == 0 and len(t_idx) + len(v_idx) == len(targets)
    for c in range(10):
        assert abs(np.count_nonzero(targets[v_idx] == c) -
                   0.1 * np.count_nonzero(targets == c)) <= 1
    # the training images alone set the normalization
    x = train.dataset.tensors[0].numpy()
    assert abs(float(x[t_idx].mean())) < 1e-3 and info["train_size"] == len(t_idx)
    again = recipes.prepare_image_data("mnist-mini", seed=3, val_fraction=0.1)[1]
    other = recipes.prepare_image_data("mnist-mini", seed=4, val_fraction=0.1)[1]
    assert np.array_equal(again.indices, v_idx) and not np.array_equal(other.indices, v_idx)
    # --limit draws from what the validation split left; the validation set stays whole
    limited, val2, _, _ = recipes.prepare_image_data("mnist-mini", limit=64, seed=3)
    assert len(limited) == 64 and np.array_equal(val2.indices, v_idx)
    assert len(np.intersect1d(limited.indices, v_idx)) == 0
    none = recipes.prepare_image_data("mnist-mini", val_fraction=0)
    assert none[1] is None and len(none[0]) == len(targets)


def test_separate_validation_data(tmp_path):
    make_mnist_folder(tmp_path / "a", n_train=50, n_test=20, seed=0)
    make_mnist_folder(tmp_path / "b", n_train=30, n_test=10, seed=1)
    make_mnist_folder(tmp_path / "small", n_train=30, n_test=10, size=20)
    train, val, test, info = recipes.prepare_image_data(str(tmp_path / "a"),
                                                        val_data=str(tmp_path / "b"))
    assert len(train) == 50 and len(val) == 30 and len(test) == 20 and info["val_size"] == 30
    assert recipes.resolve_config("mlp", val_data="x")["val_fraction"] is None
    with pytest.raises(ValueError, match="is the training data itself"):
        recipes.prepare_image_data(str(tmp_path / "a"), val_data=str(tmp_path / "a") + "/")
    with pytest.raises(ValueError, match=r"images 1 x 20 x 20\) does not match the training"):
        recipes.prepare_image_data(str(tmp_path / "a"), val_data=str(tmp_path / "small"))
