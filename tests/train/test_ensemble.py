"""minidl ensemble: mean softmax of checkpoints and of multi-crop views, on the test split."""
import json

import numpy as np
import pytest

import minidl.train.ensemble  # noqa: F401 (registers the command)
from minidl import cli, no_grad
from minidl._creation import from_numpy
from minidl.train.ensemble import ensemble_report
from minidl.train.recipes import load_classifier, open_image_data


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("members")
    paths = []
    for seed in (0, 1):
        out = root / f"lenet-{seed}"
        assert cli.main(["train", "lenet", "--epochs", "1", "--limit", "150", "--seed",
                         str(seed), "--out", str(out), "--no-progress"]) == 0
        paths.append(str(out / "best.safetensors"))
    return paths


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _member_probabilities(path, images):
    """Softmax of one checkpoint on raw [0, 1] images, computed here without ensemble.py."""
    model, config = load_classifier(path)
    mean, std = config["normalize"]
    model.eval()
    with no_grad():
        logits = model(from_numpy(((images - mean) / std).astype(np.float32))).numpy()
    return _softmax(logits.astype(np.float64))


def _test_images():
    x, y = open_image_data("mnist-mini", train=False).to_tensors()
    return x.numpy(), y.numpy()


def test_ensemble_probabilities_are_the_members_mean(checkpoints):
    images, targets = _test_images()
    members = [_member_probabilities(p, images) for p in checkpoints]
    r = ensemble_report(checkpoints)
    np.testing.assert_allclose(r["probabilities"], np.mean(members, axis=0), atol=1e-6)
    assert r["n"] == len(targets) == 2000
    for m, probs in zip(r["members"], members):
        assert m["acc"] == np.mean(probs.argmax(1) == targets)
    assert r["ensemble_acc"] == np.mean(np.mean(members, axis=0).argmax(1) == targets)


def test_five_crop_averages_the_shifted_crops(checkpoints):
    images, targets = _test_images()
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    crops = [padded[..., i:i + 28, j:j + 28] for i, j in
             ((0, 0), (0, 4), (4, 0), (4, 4), (2, 2))]
    per_member = [np.mean([_member_probabilities(p, c) for c in crops], axis=0)
                  for p in checkpoints]
    r = ensemble_report(checkpoints, tta="five-crop")
    np.testing.assert_allclose(r["probabilities"], np.mean(per_member, axis=0), atol=1e-6)
    assert r["views"] == 5
    assert r["members"][0]["tta_acc"] == np.mean(per_member[0].argmax(1) == targets)
    plain = ensemble_report(checkpoints)  # the centre crop is the image: same plain figures
    assert r["ensemble_acc"] == plain["ensemble_acc"]


def test_command_reports_members_ensemble_and_gains(checkpoints, tmp_path, capsys):
    out = tmp_path / "ensemble.json"
    assert cli.main(["ensemble", *checkpoints, "--tta", "flip", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 checkpoint(s) on the mnist-mini test split (2000 images), TTA flip" in text
    assert checkpoints[1] in text and "ensemble (mean softmax)" in text
    assert "ensemble gain:" in text and "TTA gain:" in text
    figures = json.loads(out.read_text())
    assert figures["views"] == 2 and len(figures["members"]) == 2
    assert 0 <= figures["ensemble_tta_acc"] <= 1


def test_missing_checkpoint(checkpoints, tmp_path, capsys):
    assert cli.main(["ensemble", checkpoints[0], str(tmp_path / "none.safetensors")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_checkpoints_of_different_data_are_refused(checkpoints, tmp_path, capsys):
    out = tmp_path / "fashion"
    assert cli.main(["train", "lenet", "--epochs", "1", "--limit", "50", "--data",
                     "fashion-mnist-mini", "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["ensemble", checkpoints[0], str(out / "best.safetensors")]) == 1
    err = capsys.readouterr().err
    assert "must share one data set" in err and "fashion-mnist-mini" in err
