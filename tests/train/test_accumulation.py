"""Gradient accumulation, gradient clipping by value / norm, and the scheduler options."""
import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.train import Callback, Trainer, fit
from minidl.utils.data import DataLoader, TensorDataset


def _data(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = rng.integers(0, 3, n).astype(np.int64)
    return TensorDataset(minidl.from_numpy(x), minidl.from_numpy(y))


def _model():
    minidl.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))


def _train(batch_size, k, n=48, epochs=2, momentum=0.9):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, opt, train_loader=DataLoader(_data(n), batch_size=batch_size),
                      scheduler=sched, scheduler_interval="step", progress=None,
                      accumulate_grad_batches=k)
    trainer.fit(epochs)
    return trainer


def test_k_batches_of_b_step_like_one_batch_of_k_times_b():
    accumulated, whole = _train(8, 3), _train(24, 1)
    assert accumulated.optimizer_steps == whole.optimizer_steps == 4
    # the per-step scheduler counted optimizer steps, not batches
    assert accumulated.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 4)
    for a, b in zip(accumulated.model.parameters(), whole.model.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    # the training loss logged is the batches' own loss, not divided by k
    assert accumulated.history[0]["train_loss"] == pytest.approx(
        whole.history[0]["train_loss"], rel=1e-5)
    # and accumulation really changes the run (k = 1 with batch 8 differs)
    plain = _train(8, 1)
    assert not np.allclose(plain.model[0].weight.detach().numpy(),
                       whole.model[0].weight.detach().numpy())


def test_a_short_last_group_still_steps():
    trainer = _train(8, 3, n=40, epochs=1)  # 5 batches: steps after batch 3 and at the end
    assert trainer.optimizer_steps == 2
    assert all(p.grad is None for p in trainer.model.parameters())


class GradientRecorder(Callback):
    def __init__(self):
        self.largest, self.norms, self.steps = [], [], []

    def on_before_optimizer_step(self, trainer, step):
        grads = [p.grad.numpy() for p in trainer.model.parameters()]
        self.steps.append(step)
        self.largest.append(max(float(np.abs(g).max()) for g in grads))
        self.norms.append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))))


def test_fit_forwards_clip_grad_value_and_clip_grad_norm():
    loader = DataLoader(_data(32), batch_size=8)
    rec = GradientRecorder()
    fit(_model(), loader, optimizer=None, epochs=1, callbacks=[rec], progress=None,
        clip_grad_value=1e-3)
    assert rec.steps == [1, 2, 3, 4] and max(rec.largest) <= 1e-3 + 1e-9
    rec = GradientRecorder()
    fit(_model(), loader, epochs=1, callbacks=[rec], progress=None, clip_grad_norm=1e-2)
    assert max(rec.norms) <= 1e-2 * (1 + 1e-5)
    rec = GradientRecorder()
    fit(_model(), loader, epochs=1, callbacks=[rec], progress=None)
    assert min(rec.norms) > 1e-2  # without clipping they are larger


def test_refusals():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="ReduceLROnPlateau steps on the validation loss"):
        Trainer(model, opt, scheduler=plateau, scheduler_interval="step")
    for k in (0, 1.5, True):
        with pytest.raises(ValueError, match="accumulate_grad_batches must be a positive"):
            Trainer(model, opt, accumulate_grad_batches=k)
    with pytest.raises(ValueError, match="clip_grad_value must be positive"):
        Trainer(model, opt, clip_grad_value=0)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        Trainer(model, opt, top_k=0)


def test_subclasses_that_override_training_step_accumulate_too():
    """The tasks' trainers override training_step only; accumulation is the base loop's."""
    class Regression(Trainer):
        def training_step(self, batch):
            x, y = batch
            out = self.model(x)
            return {"loss": ((out[:, 0] - y.float()) ** 2).mean(), "n": len(y),
                    "correct": None}

    def run(batch_size, k):
        model = _model()
        trainer = Regression(model, optim.Adam(model.parameters(), lr=0.01),
                             train_loader=DataLoader(_data(48), batch_size=batch_size),
                             progress=None, accumulate_grad_batches=k)
        trainer.fit(1)
        return trainer

    accumulated, whole = run(12, 4), run(48, 1)
    assert accumulated.optimizer_steps == whole.optimizer_steps == 1
    for a, b in zip(accumulated.model.parameters(), whole.model.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
