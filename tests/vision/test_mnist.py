"""MNIST / FashionMNIST: torchvision's folder layout, real files, small files, download."""
import gzip
import hashlib
import io
import os
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.datasets import MNIST, FashionMNIST

from .idx_helpers import SHARED_DATA, idx_bytes, make_mnist_folder, write_idx

TRAIN_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]



def _official(folder, name):
    """An official file parsed directly (independent of minidl's reader)."""
    with gzip.open(os.path.join(SHARED_DATA, folder, name)) as f:
        raw = f.read()
    offset = 16 if "images" in name else 8
    a = np.frombuffer(raw, np.uint8, offset=offset)
    return a.reshape(-1, 28, 28) if "images" in name else a


def _link_raw(root, cls_name, folder, names):
    raw = root / cls_name / "raw"
    raw.mkdir(parents=True)
    for n in names:
        os.symlink(os.path.join(SHARED_DATA, folder, n), raw / n)
    return raw


def test_mnist_real_test_split(tmp_path):
    _link_raw(tmp_path, "MNIST", "mnist", TEST_FILES)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 10000
    assert ds.data.shape == (10000, 28, 28) and ds.data.dtype == minidl.uint8
    assert ds.targets.shape == (10000,) and ds.targets.dtype == minidl.int64
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    np.testing.assert_array_equal(ds.data.numpy(), _official("mnist", TEST_FILES[0]))
    np.testing.assert_array_equal(ds.targets.numpy(), _official("mnist", TEST_FILES[1]))
    assert np.bincount(ds.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                        1028, 974, 1009]
    img, target = ds[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert target == 7 and type(target) is int
    np.testing.assert_array_equal(np.asarray(img), ds.data.numpy()[0])
    assert "Split: Test" in repr(ds) and "Number of datapoints: 10000" in repr(ds)


def test_mnist_real_train_split_with_transforms(tmp_path):
    _link_raw(tmp_path, "MNIST", "mnist", TRAIN_FILES)
    ds = MNIST(str(tmp_path), train=True, transform=T.ToTensor(),
               target_transform=lambda t: t + 100)
    assert len(ds) == 60000
    x, y = ds[59999]
    assert x.shape == (1, 28, 28) and x.dtype == minidl.float32
    assert 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 1.0
    np.testing.assert_allclose(x.numpy()[0] * 255, ds.data.numpy()[59999], atol=1e-4)
    assert y == int(ds.targets.numpy()[59999]) + 100


def test_fashion_mnist_real(tmp_path):
    _link_raw(tmp_path, "FashionMNIST", "fashion-mnist", TEST_FILES)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 10000 and ds.classes[9] == "Ankle boot" and ds.classes[0] == "T-shirt/top"
    assert np.bincount(ds.targets.numpy()).tolist() == [1000] * 10
    np.testing.assert_array_equal(ds.data.numpy()[:50],
                                  _official("fashion-mnist", TEST_FILES[0])[:50])


@pytest.mark.parametrize("compress", [False, True])
def test_small_files_torchvision_layout(tmp_path, compress):
    arrays = make_mnist_folder(tmp_path / "MNIST" / "raw", 40, 20, compress=compress)
    for train, key in ((True, "train"), (False, "t10k")):
        ds = MNIST(tmp_path, train=train)
        np.testing.assert_array_equal(ds.data.numpy(), arrays[key][0])
        np.testing.assert_array_equal(ds.targets.numpy(), arrays[key][1])


def test_from_folder_and_to_tensors(tmp_path):
    arrays = make_mnist_folder(tmp_path, 30, 10)
    ds = MNIST.from_folder(tmp_path, train=True)
    assert len(ds) == 30
    x, y = ds.to_tensors(0.5, 0.25)
    assert x.shape == (30, 1, 28, 28) and x.dtype == minidl.float32 and y.dtype == minidl.int64
    expected = (arrays["train"][0].astype(np.float32) / 255 - 0.5) / 0.25
    np.testing.assert_allclose(x.numpy()[:, 0], expected, rtol=1e-6, atol=1e-6)
    # the same values the per-item transform pipeline gives
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))])
    np.testing.assert_allclose(pipeline(ds[3][0]).numpy(), x.numpy()[3], rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="one number"):
        ds.to_tensors((0.1, 0.2), 0.3)


def test_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError) as info:
        FashionMNIST(tmp_path, train=False)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz" in msg
    assert os.path.join(str(tmp_path), "FashionMNIST", "raw") in msg
    assert "download=True" in msg


def test_inconsistent_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(RuntimeError, match="holds 5 images but .* holds 4 labels"):
        MNIST(tmp_path, train=False)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.full(5, 10, np.uint8))
    with pytest.raises(RuntimeError, match="label 10 out of range"):
        MNIST(tmp_path, train=False)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros((5, 1), np.uint8))
    with pytest.raises(RuntimeError, match="2 dimensions, expected 1"):
        MNIST(tmp_path, train=False)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05")
    with pytest.raises(RuntimeError, match="truncated IDX header"):
        MNIST(tmp_path, train=False)


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_without_network(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError) as info:
        MNIST(tmp_path, train=True, download=True)
    msg = str(info.value)
    assert "could not download train-images-idx3-ubyte.gz" in msg and "no network" in msg
    assert os.path.join(str(tmp_path), "MNIST", "raw") in msg
    assert "t10k-labels-idx1-ubyte.gz" in msg


def test_download_checks_md5(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    payloads = {}
    shapes = [(6, 28, 28), (6,), (3, 28, 28), (3,)]
    for name, shape in zip(TRAIN_FILES + TEST_FILES, shapes):
        hi = 10 if len(shape) == 1 else 256
        payloads[name] = gzip.compress(idx_bytes(rng.integers(0, hi, shape, dtype=np.uint8)))
    resources = [(n, hashlib.md5(p).hexdigest()) for n, p in payloads.items()]
    monkeypatch.setattr(MNIST, "resources", resources)
    monkeypatch.setattr(MNIST, "mirrors", ["https://mirror.invalid/a/",
                                           "https://mirror.invalid/b/"])
    calls = []

    def fake(url, timeout=None):
        calls.append(url)
        if "/a/" in url:  # the first mirror serves corrupted files
            return _Response(b"garbage")
        return _Response(payloads[url.rsplit("/", 1)[1]])
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = MNIST(tmp_path, train=False, download=True)
    assert len(ds) == 3 and len(calls) == 8
    assert sorted(os.listdir(tmp_path / "MNIST" / "raw")) == sorted(payloads)
    calls.clear()
    MNIST(tmp_path, train=True, download=True)  # present: nothing fetched
    assert calls == []

    def only_garbage(url, timeout=None):
        return _Response(b"garbage")
    monkeypatch.setattr(urllib.request, "urlopen", only_garbage)
    with pytest.raises(RuntimeError, match="md5 .* does not match"):
        MNIST(tmp_path / "other", download=True)
