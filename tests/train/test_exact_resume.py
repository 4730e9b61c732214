"""Exact resume: a real ``minidl train`` run stopped by SIGINT and resumed with ``--resume``
ends with the weights of the run that was never stopped, bit for bit; Ctrl-C keeps a
loadable checkpoint; a diverging loss stops before any NaN checkpoint is written."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.train import EarlyStopping, Trainer, load_checkpoint
from minidl.train.checkpointing import (
    TrainingInterrupted,
    capture_data_state,
    restore_data_state,
    stop_on_signals,
)
from minidl.utils.data import DataLoader, TensorDataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# crops and flips (the augmentation's generator), shuffling (the loader's), cosine schedule,
# early stopping's state, and a selected epoch that may differ from the last
RUN = ["train", "lenet", "--limit", "1536", "--epochs", "3", "--no-progress", "--seed", "3",
       "--augment", "crop+flip", "--patience", "5"]


def _minidl(args, **kwargs):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    return subprocess.Popen([sys.executable, "-m", "minidl", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _weights(path):
    return {k: v.numpy() for k, v in load_checkpoint(path)["model"].items()}


def test_sigint_then_resume_gives_the_uninterrupted_weights(tmp_path):
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full = _minidl([*RUN, "--out", str(full_dir)])
    cut = _minidl([*RUN, "--out", str(cut_dir)])
    last = cut_dir / "last.safetensors"
    logged = cut_dir / "metrics.json"  # written after epoch 1's last and best checkpoints
    deadline = time.monotonic() + 60
    while not logged.exists() and cut.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    cut.send_signal(signal.SIGINT)
    out, err = cut.communicate(timeout=60)
    assert cut.returncode == 130, (out, err)
    assert f"resume with: minidl train --resume {cut_dir}" in err
    stopped = load_checkpoint(last)
    assert 1 <= stopped["epoch"] < 3 and len(stopped["history"]) == stopped["epoch"]

    # options that differ from the run's are refused; equal ones are accepted
    refused = _minidl(["train", "--resume", str(cut_dir), "--lr", "0.5"])
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 2 and "--lr 0.5 conflicts with the run's 0.002" in err
    resumed = _minidl(["train", "lenet", "--resume", str(cut_dir), "--seed", "3",
                       "--no-progress"])
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert f"epoch {stopped['epoch'] + 1}/3" in out and "epoch 1/3" not in out
    full_out, full_err = full.communicate(timeout=60)
    assert full.returncode == 0, full_err

    a, b = _weights(full_dir / "last.safetensors"), _weights(last)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert np.array_equal(load_checkpoint(full_dir / "last.safetensors")["optimizer"]["state"]
                          [0]["exp_avg"].numpy(),
                          load_checkpoint(last)["optimizer"]["state"][0]["exp_avg"].numpy())
    # the selected epoch's weights and the test figure agree too
    assert (load_checkpoint(full_dir / "best.safetensors")["epoch"]
            == load_checkpoint(cut_dir / "best.safetensors")["epoch"])
    assert full_out.splitlines()[-2] == out.splitlines()[-2]  # "selected epoch ...: test ..."


def _tiny(seed=0, n=96):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return TensorDataset(minidl.from_numpy(x), minidl.from_numpy(y))


def _trainer(out_dir, loss_fn=None, patience=None, lr=0.05):
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.3), nn.ReLU(), nn.Linear(8, 2))
    loader = DataLoader(_tiny(), batch_size=16, shuffle=True,
                        generator=minidl.Generator().manual_seed(1))
    val = DataLoader(_tiny(1, 32), batch_size=32)
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), loss_fn, loader, val,
                   out_dir=out_dir, progress=None, early_stopping_patience=patience)


def test_in_process_resume_restores_random_streams_and_callbacks(tmp_path):
    """Dropout draws from the global generator, the loader shuffles with its own: both
    come back, and so does early stopping's count."""
    full = _trainer(tmp_path / "a", patience=10)
    full.fit(4)
    part = _trainer(tmp_path / "b", patience=10)
    part.fit(2)
    minidl.manual_seed(123)  # the resumed process starts from other random streams
    again = _trainer(tmp_path / "b", patience=10)
    again.train_loader.generator.manual_seed(99)
    again.resume(tmp_path / "b" / "last.safetensors")
    stopper = next(cb for cb in again.callbacks if isinstance(cb, EarlyStopping))
    assert stopper.wait == next(cb for cb in part.callbacks
                                if isinstance(cb, EarlyStopping)).wait
    assert np.isfinite(stopper._monitor.best)
    again.fit(4)
    for (k, v), w in zip(full.model.state_dict().items(), again.model.state_dict().values()):
        assert np.array_equal(v.numpy(), w.numpy()), k


def test_data_state_paths_and_mismatch():
    g = minidl.Generator().manual_seed(5)
    loader = DataLoader(_tiny(), batch_size=16, shuffle=True, generator=g)
    state = capture_data_state(loader)
    assert list(state) == ["loader.sampler.generator"]  # shared with the loader: once
    first = [y.numpy().tolist() for _, y in loader]
    restore_data_state(loader, state)
    assert [y.numpy().tolist() for _, y in loader] == first
    with pytest.raises(RuntimeError, match="data-order state does not fit"):
        restore_data_state(DataLoader(_tiny(), batch_size=16), state)


def test_signal_leaves_a_loadable_checkpoint(tmp_path, capsys):
    trainer = _trainer(tmp_path)

    class KillDuringEpoch2(minidl.train.Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.epoch == 1 and batch == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    trainer.callbacks.append(KillDuringEpoch2())
    with pytest.raises(TrainingInterrupted):
        trainer.fit(3)
    assert trainer.interrupted == "SIGTERM"
    err = capsys.readouterr().err
    assert "stopped by SIGTERM during epoch 2" in err and "Trainer.resume(" in err
    assert load_checkpoint(tmp_path / "last.safetensors")["epoch"] == 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is gone
    with stop_on_signals():
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler


def test_nan_loss_stops_before_the_step_and_the_checkpoint(tmp_path):
    calls = []

    def loss_fn(out, y):
        calls.append(1)
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if len(calls) == 9 else loss  # epoch 2, batch 3

    trainer = _trainer(tmp_path, loss_fn=lambda o, y: loss_fn(o, y))
    trainer.val_loader = None
    before = None

    class Keep(minidl.train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            nonlocal before
            before = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}

    trainer.callbacks.append(Keep())
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 2, batch 3 of 6"):
        trainer.fit(3)
    ckpt = load_checkpoint(tmp_path / "last.safetensors")
    assert ckpt["epoch"] == 1
    assert all(np.isfinite(v.numpy()).all() for v in ckpt["model"].values())
    # the two batches of epoch 2 before the NaN stepped; the NaN batch did not
    assert all(np.isfinite(v.numpy()).all() for v in trainer.model.state_dict().values())
    assert before is not None
