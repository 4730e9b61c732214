"""``minidl train siamese`` and ``minidl train triplet`` end to end on tiny models: one short
epoch each through ``minidl.cli.main`` (bundled data and an ImageFolder folder), the files
they write, the printed figures and the refusals."""
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli, optim
from minidl.vision.face_data import (
    ClassBalancedBatches,
    PairBatches,
    load_face_data,
    parse_classes,
    random_shift,
)
from minidl.vision.face_task import FaceTrainer, load_embedding_net, verify_images
from minidl.vision.face_verification import MINERS, EmbeddingNet, distance_matrix

TINY = ["--epochs", "1", "--limit", "96", "--width", "4", "--depth", "2", "--embedding-dim",
        "8", "--eval-pairs", "200", "--batch-size", "32", "--no-progress"]
FILES = ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv", "curves.png",
         "roc.png", "neighbours.png")


def _check_run(out, printed, method):
    for name in FILES:
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    epoch = metrics["history"][0]
    assert {"train_loss", "val_loss", "val_auc", "val_verif_acc", "val_threshold",
            "images_per_s"} <= set(epoch)
    assert metrics["selected"]["monitor"] == "val_auc"
    test = metrics["test"]
    assert 0 <= test["auc"] <= 1 and 0 <= test["verif_acc"] <= 1
    assert 0 <= test["one_shot_acc"] <= 1 and test["threshold"] == epoch["val_threshold"]
    assert metrics["config"]["task"] == method
    assert re.search(r"verification accuracy \d+\.\d+% at the val threshold, ROC AUC "
                     r"[01]\.\d+, one-shot accuracy \d+\.\d+%", printed)
    assert "images/s" in printed
    net, config = load_embedding_net(os.path.join(out, "best.safetensors"))
    assert net.fc.out_features == 8
    return metrics


def test_siamese_on_mnist_mini(tmp_path, capsys):
    out = str(tmp_path / "siamese")
    assert cli.main(["train", "siamese", "--out", out, "--shift", "1", *TINY]) == 0
    metrics = _check_run(out, capsys.readouterr().out, "siamese")
    config = metrics["config"]
    assert config["seen"] == list(range(7)) and config["unseen"] == [7, 8, 9]
    assert config["model"]["in_channels"] == 1 and config["image_size"] == 28
    assert config["shift"] == 1 and config["model"]["pool_size"] == 1


def test_triplet_on_fashion_mnist_mini(tmp_path, capsys):
    out = str(tmp_path / "triplet")
    assert cli.main(["train", "triplet", "--data", "fashion-mnist-mini", "--mining", "hard",
                     "--unseen", "0-1,Bag", "--per-class", "4", "--out", out, *TINY]) == 0
    printed = capsys.readouterr().out
    metrics = _check_run(out, printed, "triplet")
    assert metrics["config"]["unseen"] == [0, 1, 8] and metrics["config"]["mining"] == "hard"
    assert "hard mining, 7 classes x 4 images per batch" in printed


def _loss_of(mining, e, labels, margin=0.5):
    trainer = FaceTrainer(EmbeddingNet(1, 2, 2, 1), optim.SGD([e], lr=0.1), "triplet", margin,
                          mining)
    return trainer.triplet_loss(e, labels)


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all"])
def test_each_mining_gives_the_loss_of_its_triplets(mining):
    rng = np.random.default_rng(0)
    points = rng.standard_normal((12, 3))
    labels = np.repeat([0, 1, 2], 4)
    e = minidl.from_numpy(points).requires_grad_()
    loss = _loss_of(mining, e, labels)
    a, p, n = MINERS[mining](distance_matrix(points), labels, 0.5)
    per = np.maximum(np.linalg.norm(points[a] - points[p] + 1e-6, axis=1)
                     - np.linalg.norm(points[a] - points[n] + 1e-6, axis=1) + 0.5, 0)
    want = per.sum() / np.count_nonzero(per) if mining == "all" else per.mean()
    assert float(loss.item()) == pytest.approx(want, rel=1e-9) and want > 0
    loss.backward()
    assert np.abs(e.grad.numpy()).sum() > 0
    far = minidl.from_numpy(np.repeat(np.eye(3) * 10, 4, axis=0)).requires_grad_()
    assert float(_loss_of(mining, far, labels).item()) == 0.0  # no triplet: a zero loss


def _faces(root, people=5, per_person=4, size=(20, 18)):
    rng = np.random.default_rng(0)
    for k in range(people):
        for i in range(per_person):
            path = os.path.join(root, f"person_{k}", f"{i}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            base = np.full((size[1], size[0], 3), 40 * k, np.uint8)
            noise = rng.integers(0, 30, base.shape, dtype=np.uint8)
            Image.fromarray(base + noise).save(path)


def test_triplet_on_an_image_folder_and_its_grey_data(tmp_path, capsys):
    root = str(tmp_path / "faces")
    _faces(root)
    out = str(tmp_path / "rgb")
    args = ["--data", root, "--image-size", "12", "--val-fraction", "0.5", "--per-class", "2",
            "--eval-pairs", "40", "--epochs", "1", "--width", "4", "--depth", "2",
            "--embedding-dim", "8", "--no-progress"]
    assert cli.main(["train", "triplet", "--out", out, *args]) == 0
    metrics = _check_run(out, capsys.readouterr().out, "triplet")
    config = metrics["config"]
    assert config["classes"] == [f"person_{k}" for k in range(5)]
    assert config["unseen"] == [3, 4] and config["model"]["in_channels"] == 3
    assert config["image_size"] == 12
    grey = load_face_data(root, "person_0,1", 10, rgb=False)
    assert grey["seen"] == [2, 3, 4] and grey["unseen"] == [0, 1]
    x, y = grey["train"]
    assert x.shape == (12, 1, 10, 10) and x.dtype == np.float32 and y.tolist() == [2] * 4 + \
        [3] * 4 + [4] * 4
    np.testing.assert_allclose([x.mean(), x.std()], [0, 1], atol=1e-5)
    assert grey["test"][0].shape == (8, 1, 10, 10) and grey["test_source"] == "all their images"
    _check_verify(out, root, capsys)


def _check_verify(out, root, capsys):
    """``minidl verify``: the distance of the two embeddings the trained network gives the
    images read as in training, against the validation threshold or --threshold."""
    best = os.path.join(out, "best.safetensors")
    a, b = (os.path.join(root, "person_3", "0.png"), os.path.join(root, "person_4", "1.png"))
    distance, threshold, same = verify_images(best, a, b)
    net, config = load_embedding_net(best)
    images = np.stack([np.asarray(Image.open(f).convert("RGB").resize((12, 12),
                                                                      Image.BILINEAR))
                       for f in (a, b)]).transpose(0, 3, 1, 2).astype(np.float32) / 255
    images = (images - np.reshape(config["mean"], (1, 3, 1, 1))) / np.reshape(config["std"],
                                                                             (1, 3, 1, 1))
    net.eval()
    with minidl.no_grad():
        e = net(minidl.from_numpy(images.astype(np.float32))).numpy()
    assert distance == pytest.approx(float(np.linalg.norm(e[0] - e[1])), rel=1e-5)
    assert threshold == minidl.load(best)["metrics"]["val_threshold"]
    assert same == (distance < threshold)
    capsys.readouterr()
    assert cli.main(["verify", best, a, b, "--threshold", str(distance + 1)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": same")
    assert cli.main(["verify", best, a, b, "--threshold", str(distance / 2)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": different")
    assert cli.main(["verify", best, a, os.path.join(root, "nobody.png")]) == 1
    assert "nobody.png' does not exist" in capsys.readouterr().err


def test_refusals(tmp_path, capsys):
    assert cli.main(["train", "siamese", "--unseen", "1-9", *TINY]) == 1
    assert "at least two seen and two unseen" in capsys.readouterr().err
    assert cli.main(["train", "triplet", "--unseen", "12", *TINY]) == 1
    assert "not within the class indices 0-9" in capsys.readouterr().err
    assert cli.main(["train", "triplet", "--data", str(tmp_path / "none"), *TINY]) == 1
    assert "neither a bundled data set" in capsys.readouterr().err
    assert cli.main(["train", "triplet", "--per-class", "20", *TINY]) == 1
    assert "triplets need at least 2" in capsys.readouterr().err


def test_batches():
    labels = np.repeat(np.arange(4), [5, 5, 5, 1])
    images = np.arange(16, dtype=np.float32).reshape(16, 1, 1, 1)
    batches = ClassBalancedBatches(images, labels, 9, 3, seed=0)
    assert batches.classes_per_batch == 3 and len(batches) == 1
    (x, y), = list(batches)
    assert x.shape == (9, 1, 1, 1) and len(np.unique(y)) == 3
    assert all(np.count_nonzero(y == c) == 3 for c in np.unique(y))
    np.testing.assert_array_equal(labels[x.numpy().ravel().astype(int)], y)
    pairs = PairBatches(images, labels, 3, seed=0)
    assert pairs.n_pairs == 8 and len(pairs) == 3
    got = list(pairs)
    assert [len(s) for _, _, s in got] == [3, 3, 2]
    same = np.concatenate([s.numpy() for _, _, s in got])
    assert same.sum() == 4
    assert parse_classes(None, list("abcdefghij")) == [7, 8, 9]
    assert parse_classes("b, 4-5 ,0", list("abcdef")) == [0, 1, 4, 5]
    with pytest.raises(ValueError, match="neither a class index"):
        parse_classes("zz", list("abc"))


def test_random_shift_moves_each_image_by_at_most_shift_pixels():
    images = np.zeros((50, 2, 9, 9), np.float32)
    images[:, :, 4, 4] = 1.0
    moved = random_shift(images, 2, np.random.default_rng(0))
    assert moved.shape == images.shape and random_shift(images, 0, None) is images
    ys, xs = np.nonzero(moved[:, 0].max(0))
    assert set(ys) == set(xs) == {2, 3, 4, 5, 6}  # every offset in [-2, 2] occurs
    for k in range(50):
        y, x = np.argwhere(moved[k, 0] == 1.0)[0]
        assert moved[k].sum() == 2.0 and (moved[k, 1] == moved[k, 0]).all()
        assert abs(y - 4) <= 2 and abs(x - 4) <= 2
