"""``minidl train char-lstm / word-lstm --data FILE`` and ``minidl generate`` end to end."""
import json
import os

import pytest

from minidl import cli
from minidl.text.lm_task import LineWordTokenizer, load_language_model, load_text_splits

VERSE = ("To be, or not to be, that is the question:\n"
         "Whether it is nobler in the mind to suffer\n"
         "The slings and arrows of outrageous fortune,\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "verse.txt"
    path.write_text(VERSE * 12, encoding="utf-8")
    return str(path)


SMALL = ["--epochs", "1", "--hidden-size", "12", "--embed-dim", "6", "--seq-len", "8",
         "--batch-size", "4", "--no-progress"]


def test_train_char_lstm_then_generate(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "char-lstm", "--data", corpus, *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "val_ppl" in printed and "test_loss" in printed and "tokens/s" in printed
    assert {"best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
            "curves.png"} <= set(os.listdir(out))
    log = json.loads((out / "metrics.json").read_text())
    epoch = log["history"][0]
    assert epoch["val_ppl"] > 1 and "tokens_per_s" in epoch and log["test"]["ppl"] > 1
    config = log["config"]
    assert config["tokenizer"] == {"kind": "char"} and config["model"]["cell"] == "lstm"
    assert config["model"]["hidden_size"] == 12 and config["seq_len"] == 8
    ckpt = str(out / "best.safetensors")
    model, vocab, tokenizer, _ = load_language_model(ckpt)
    assert vocab.itos[0] == "<unk>" and set(VERSE) <= set(vocab.itos)
    assert cli.main(["generate", ckpt, "--prompt", "ab", "--max-new-tokens", "5"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ab") and len(text) == len("ab") + 5 + 1
    args = ["generate", ckpt, "--prompt", "To", "--max-new-tokens", "20", "--seed", "4",
            "--temperature", "0.8", "--top-k", "5", "--top-p", "0.9"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert cli.main(args) == 0 and capsys.readouterr().out == first
    assert cli.main(["generate", ckpt, "--prompt", "To", "--temperature", "0"]) == 1
    assert "temperature" in capsys.readouterr().err


def test_train_word_lstm_keeps_line_breaks(corpus, tmp_path, capsys):
    out = tmp_path / "words"
    args = ["train", "word-lstm", "--data", corpus, *SMALL, "--min-freq", "2", "--out", str(out)]
    assert cli.main(args) == 0
    capsys.readouterr()
    model, vocab, tokenizer, ckpt = load_language_model(str(out / "last.safetensors"))
    assert isinstance(tokenizer, LineWordTokenizer) and "\n" in vocab and "be" in vocab
    assert ckpt["config"]["min_freq"] == 2
    assert cli.main(["generate", str(out / "best.safetensors"), "--prompt", "To be",
                     "--max-new-tokens", "4", "--strategy", "greedy"]) == 0
    assert capsys.readouterr().out.startswith("to be")


def test_line_word_tokenizer_round_trip():
    tok = LineWordTokenizer(lower=False)
    tokens = tok.tokenize(VERSE)
    assert tokens[:4] == ["To", "be", ",", "or"] and tokens.count("\n") == 3
    assert tok.detokenize(tokens) == VERSE


def test_text_file_split_is_contiguous_90_5_5(corpus):
    train, val, test = load_text_splits(corpus)
    text = VERSE * 12
    assert train + val + test == text
    assert len(train) == int(0.9 * len(text)) and len(train + val) == int(0.95 * len(text))


def test_errors(corpus, tmp_path, capsys):
    assert cli.main(["train", "char-gru", "--data", str(tmp_path / "missing.txt"),
                     "--no-progress"]) == 1
    assert "--data must be 'shakespeare' or the path" in capsys.readouterr().err
    assert cli.main(["train", "char-rnn", "--data", corpus, "--seq-len", "400",
                     "--no-progress"]) == 1
    assert "--seq-len" in capsys.readouterr().err
    assert cli.main(["generate", str(tmp_path / "none.safetensors"), "--prompt", "a"]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "char-lstm", "--dropout", "1.5"])
