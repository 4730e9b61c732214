"""``minidl train seq2seq`` end to end on a tiny model, and ``minidl translate``."""
import json
import os

import pytest

from minidl import cli
from minidl.text.seq2seq_task import load_translator

TINY = ["--epochs", "1", "--limit", "64", "--embed-size", "8", "--hidden-size", "16",
        "--batch-size", "32", "--max-len", "12", "--no-progress"]


@pytest.fixture(scope="module")
def dates_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("seq2seq-dates"))
    assert cli.main(["train", "seq2seq", "--data", "dates", "--beam-size", "2", "--out", out,
                     *TINY]) == 0
    return out


def test_train_writes_checkpoints_metrics_curves_and_heatmap(dates_run, capsys):
    for name in ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
                 "curves.png", "attention.png"):
        assert os.path.getsize(os.path.join(dates_run, name)) > 0, name
    with open(os.path.join(dates_run, "metrics.json")) as f:
        metrics = json.load(f)
    epoch = metrics["history"][0]
    assert {"train_loss", "val_loss", "val_exact", "val_bleu", "tokens_per_s"} <= set(epoch)
    assert metrics["selected"]["monitor"] == "val_exact"
    assert {"exact", "bleu", "loss"} <= set(metrics["test"])
    config = metrics["config"]
    assert config["codec"]["src_tokenizer"] == "char" and config["model"]["attention"]
    assert config["codec"]["tgt_itos"][:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]
    model, codec, _ = load_translator(os.path.join(dates_run, "best.safetensors"))
    assert len(codec.tgt_vocab) == config["model"]["tgt_vocab_size"]


def test_translate_prints_a_translation_and_draws_its_attention(dates_run, tmp_path, capsys):
    png = str(tmp_path / "map.png")
    assert cli.main(["translate", os.path.join(dates_run, "best.safetensors"),
                     "3 May 2011", "--beam-size", "3", "--heatmap", png]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and set(out.strip()) <= set("0123456789-")
    assert os.path.getsize(png) > 0
    assert cli.main(["translate", str(tmp_path / "missing.safetensors"), "x"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_en_es_without_attention_and_its_refusals(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "seq2seq", "--data", "en-es", "--no-attention", "--out", out,
                     *TINY]) == 0
    assert not os.path.exists(os.path.join(out, "attention.png"))
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    assert metrics["selected"]["monitor"] == "val_bleu"
    assert metrics["config"]["codec"]["tgt_tokenizer"] == "word"
    assert 0 <= metrics["test"]["bleu"] <= 100
    capsys.readouterr()
    best = os.path.join(out, "best.safetensors")
    assert cli.main(["translate", best, "In the beginning God created the heaven."]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert cli.main(["translate", best, "and God said", "--heatmap",
                     str(tmp_path / "x.png")]) == 1
    assert "--no-attention" in capsys.readouterr().err
