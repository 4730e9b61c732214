"""``minidl train captioning`` end to end on a tiny model and a few scenes, and
``minidl caption`` on a PNG."""
import contextlib
import io
import json
import os

import numpy as np
import pytest

import minidl
from minidl import cli
from minidl.text.vocab import Vocab
from minidl.vision.captioning_task import CaptionBatches, load_captioner

TINY = ["--epochs", "1", "--train-scenes", "16", "--eval-scenes", "4", "--batch-size", "8",
        "--channels", "4,4,4,4", "--embed-size", "8", "--hidden-size", "16",
        "--attention-size", "8", "--beam-size", "2", "--no-progress", "--threads", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(output folder, printed text) of one tiny run."""
    out = str(tmp_path_factory.mktemp("captioning"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(["train", "captioning", "--data", "scenes-fashion", "--out", out,
                         *TINY]) == 0
    return out, printed.getvalue()


def test_train_writes_its_files_metrics_and_examples(trained):
    run, printed = trained
    for name in ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
                 "curves.png", "attention.png", "sample_scene.png"):
        assert os.path.getsize(os.path.join(run, name)) > 0, name
    with open(os.path.join(run, "metrics.json")) as f:
        metrics = json.load(f)
    epoch = metrics["history"][0]
    assert {"train_loss", "val_loss", "val_cross_entropy", "val_bleu", "val_exact",
            "images_per_s"} <= set(epoch)
    assert metrics["selected"]["monitor"] == "val_bleu"
    assert 0 <= metrics["test"]["bleu"] <= 100 and "exact" in metrics["test"]
    config = metrics["config"]
    assert config["model"]["channels"] == [4, 4, 4, 4] and config["noun"] == "item"
    assert config["vocab"]["itos"][:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]
    assert "ankle" in config["vocab"]["itos"] or "coat" in config["vocab"]["itos"]
    assert 0 <= config["baseline"]["test_bleu"] <= 100
    assert "image-blind baseline" in printed and "images/s" in printed
    assert printed.count("test scene ") == 4 and "references: " in printed
    assert "test with beam 2: BLEU-4" in printed
    model, vocab, _ = load_captioner(os.path.join(run, "best.safetensors"))
    assert len(vocab) == config["model"]["vocab_size"] and not model.training


def test_caption_command_on_a_png(trained, tmp_path, capsys):
    from PIL import Image
    run = trained[0]
    png = str(tmp_path / "scene.png")
    image = np.zeros((48, 48), np.uint8)  # another size than the training canvas: resized
    image[10:30, 5:20] = 255
    Image.fromarray(image).save(png)
    words = str(tmp_path / "words.png")
    best = os.path.join(run, "best.safetensors")
    assert cli.main(["caption", best, png, "--attention", words, "--beam-size", "1"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    _, vocab, _ = load_captioner(best)
    assert set(out.split()) <= set(vocab.itos)
    assert os.path.getsize(words) > 0
    assert cli.main(["caption", os.path.join(run, "sample_scene.png"), png]) == 1
    assert "error" in capsys.readouterr().err
    assert cli.main(["caption", str(tmp_path / "missing.safetensors"), png]) == 1
    err = capsys.readouterr().err
    assert "checkpoint" in err and "does not exist" in err
    assert cli.main(["caption", best, str(tmp_path / "missing.png")]) == 1
    assert "image" in capsys.readouterr().err
    other = str(tmp_path / "other.safetensors")
    minidl.save({"model": {}, "config": {"task": "seq2seq"}}, other)
    assert cli.main(["caption", other, png]) == 1
    assert "not a checkpoint of 'minidl train captioning'" in capsys.readouterr().err


def test_bad_options_are_refused(tmp_path, capsys):
    for bad in (["--channels", "8,x"], ["--dropout", "1.5"], ["--data", "mnist"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(["train", "captioning", *bad])
        assert stop.value.code == 2
        assert bad[0] in capsys.readouterr().err
    assert cli.main(["train", "captioning", "--channels", "4,4,4,4,4,4,4", "--train-scenes",
                     "2", "--eval-scenes", "2", "--out", str(tmp_path)]) == 1
    assert "multiples of 64" in capsys.readouterr().err


def test_batches_pad_inputs_and_targets_and_blank_blind_images():
    vocab = Vocab([["one", "digit", ":", "a", "3"], ["two", "digits"]])
    images = np.ones((3, 1, 4, 4), np.float32)
    captions = [["one", "digit", ":", "a", "3"], ["two", "digits"], ["a", "3"]]
    batches = CaptionBatches(images, captions, vocab, 2, blind=True)
    assert len(batches) == 2
    blank, inputs, targets, lengths, idx = next(iter(batches))
    assert not blank.numpy().any() and idx.tolist() == [0, 1]
    assert lengths.tolist() == [6, 3] and inputs.shape == targets.shape == (2, 6)
    assert inputs.numpy()[:, 0].tolist() == [vocab.bos_index] * 2
    assert targets.numpy()[0, 5] == vocab.eos_index and targets.numpy()[1, 2] == vocab.eos_index
    assert targets.numpy()[1, 3:].tolist() == [vocab.pad_index] * 3
    assert vocab.lookup_tokens(inputs.numpy()[0, 1:].tolist()) == captions[0]
