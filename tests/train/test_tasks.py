"""The Trainer's extension points (training_step, evaluate_loader, unit, clip_grad_norm) and the
command-line task / command registry that the sequence and text tasks plug into."""
import json
import os

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import cli
from minidl.train import Trainer, load_checkpoint
from minidl.train.callbacks import _curve_metrics, format_metrics
from minidl.train.tasks import (
    COMMANDS,
    TASKS,
    Command,
    Task,
    add_training_arguments,
    register_command,
    register_task,
)


def _tokens(n, seed=0):
    """Batches of (inputs (4, 5), next-token targets) of a counting sequence mod 7."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        start = rng.integers(0, 7, size=(4, 1))
        seq = (start + np.arange(6)) % 7
        out.append((minidl.tensor(seq[:, :-1]), minidl.tensor(seq[:, 1:])))
    return out


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(7, 8)
        self.out = nn.Linear(8, 7)

    def forward(self, x):
        return self.out(self.emb(x))


class TokenTrainer(Trainer):
    """A next-token task: the loss is averaged over tokens, validation reports perplexity."""

    unit = "tokens"

    def training_step(self, batch):
        x, y = batch
        logits = self.model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
        return {"loss": loss, "n": y.numel(), "correct": None}

    def evaluate_loader(self, loader):
        self.model.eval()
        total, n = 0.0, 0
        with minidl.no_grad():
            for x, y in loader:
                logits = self.model(x)
                total += float(nn.functional.cross_entropy(
                    logits.reshape(-1, 7), y.reshape(-1), reduction="sum").item())
                n += y.numel()
        self.model.train()
        return {"loss": total / n, "acc": None, "ppl": float(np.exp(total / n)), "n": n}


def test_a_subclassed_trainer_logs_its_own_metrics_and_unit(tmp_path):
    minidl.manual_seed(0)
    model = TinyLM()
    trainer = TokenTrainer(model, minidl.optim.Adam(model.parameters(), lr=0.05),
                           train_loader=_tokens(20), val_loader=_tokens(3, 1),
                           test_loader=_tokens(3, 2), out_dir=str(tmp_path), progress=None,
                           monitor="val_loss", mode="min")
    history = trainer.fit(4)
    first, last = history[0], history[-1]
    assert last["val_ppl"] < first["val_ppl"] and last["val_ppl"] < 2.0
    assert "tokens_per_s" in last and "samples_per_s" not in last
    assert np.isclose(last["val_ppl"], np.exp(last["val_loss"]))
    assert trainer.test_metrics["ppl"] < 2.0 and trainer.test_metrics["n"] == 3 * 4 * 5
    text = format_metrics(last)
    assert "val_ppl" in text and "tokens/s" in text
    logged = json.loads((tmp_path / "metrics.json").read_text())
    assert logged["history"][-1]["val_ppl"] == pytest.approx(last["val_ppl"])
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert load_checkpoint(str(tmp_path / "best.safetensors"))["epoch"] == trainer.best_epoch


def test_the_curves_show_task_metrics_when_there_is_no_accuracy():
    assert _curve_metrics([{"train_acc": 0.5, "val_ppl": 3.0}]) == ["acc"]
    assert _curve_metrics([{"val_loss": 1.0, "val_ppl": 3.0, "val_bleu": None},
                           {"val_bleu": 20.0}]) == ["ppl", "bleu"]


def test_clip_grad_norm_bounds_every_step(monkeypatch):
    minidl.manual_seed(0)
    model = TinyLM()
    seen = []
    opt = minidl.optim.SGD(model.parameters(), lr=0.0)
    step = opt.step

    def record():
        seen.append(float(np.sqrt(sum((p.grad.numpy() ** 2).sum()
                                      for p in model.parameters()))))
        step()

    monkeypatch.setattr(opt, "step", record)
    TokenTrainer(model, opt, train_loader=_tokens(5), progress=None,
                 clip_grad_norm=0.01).fit(1)
    assert len(seen) == 5 and max(seen) <= 0.01 * (1 + 1e-5)
    with pytest.raises(ValueError, match="clip_grad_norm"):
        Trainer(model, opt, clip_grad_norm=0)


@pytest.fixture
def registry():
    """A task and a command registered for one test, removed afterwards."""
    calls = []

    def add_arguments(parser):
        add_training_arguments(parser, {"epochs": 2, "batch_size": 8, "lr": 0.1})
        parser.add_argument("--width", type=int, default=3)

    def run(args):
        calls.append(args)
        return 0

    def add_command_arguments(parser):
        parser.add_argument("checkpoint")

    register_task(Task("toy-task", "a task for the test", add_arguments, run))
    register_command(Command("toy-command", "a command for the test", add_command_arguments,
                             run))
    yield calls
    TASKS.pop("toy-task")
    COMMANDS.pop("toy-command")


def test_train_dispatches_to_a_registered_task_with_its_own_options(registry, capsys):
    assert cli.main(["train", "toy-task", "--width", "5", "--epochs", "3"]) == 0
    args = registry[-1]
    assert (args.width, args.epochs, args.batch_size, args.lr, args.seed) == (5, 3, 8, 0.1, 0)
    with pytest.raises(SystemExit):
        cli.main(["train", "toy-task", "--no-such-option"])
    assert "--no-such-option" in capsys.readouterr().err
    assert cli.main(["toy-command", "ckpt.safetensors"]) == 0
    assert registry[-1].checkpoint == "ckpt.safetensors"
    assert cli.main(["models"]) == 0
    assert "toy-task" in capsys.readouterr().out


def test_names_are_registered_once(registry):
    with pytest.raises(ValueError, match="toy-task"):
        register_task(Task("toy-task", "again", None, None))
    with pytest.raises(ValueError, match="toy-command"):
        register_command(Command("toy-command", "again", None, None))


def test_default_out_dir_is_unique(tmp_path, monkeypatch):
    from minidl.train.tasks import default_out_dir
    monkeypatch.chdir(tmp_path)
    first = default_out_dir("toy", "data.txt")
    os.makedirs(first)
    second = default_out_dir("toy", "data.txt")
    assert first != second and second.startswith(first)
