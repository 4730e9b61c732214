"""MNIST and Fashion-MNIST read from their official IDX files (torchvision's layout).

``MNIST(root)`` looks for the files in ``root/MNIST/raw/`` (``FashionMNIST``: in
``root/FashionMNIST/raw/``), each either gzip-compressed (``train-images-idx3-ubyte.gz``, as
published) or not (``train-images-idx3-ubyte``, as torchvision leaves them after download)::

    root/MNIST/raw/train-images-idx3-ubyte[.gz]   60000 x 28 x 28 uint8
    root/MNIST/raw/train-labels-idx1-ubyte[.gz]   60000 labels
    root/MNIST/raw/t10k-images-idx3-ubyte[.gz]    10000 x 28 x 28 (train=False)
    root/MNIST/raw/t10k-labels-idx1-ubyte[.gz]    10000 labels

``download=True`` fetches the missing files from the official mirrors with ``urllib`` and
checks their md5 sums; without a network the error names the files to place and where.
"""
import hashlib
import os
import urllib.error
import urllib.request

import numpy as np

from ...tensor import Tensor
from .idx import read_idx
from .vision import VisionDataset

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is a dependency
    Image = None

__all__ = ["MNIST", "FashionMNIST"]


class _GrayscaleImages(VisionDataset):
    """Shared behaviour of MNIST-like data: uint8 ``data`` (N x H x W), int64 ``targets``."""

    classes = []

    def _set_arrays(self, images, labels):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(f"images must be a uint8 array N x H x W, got {images.dtype} "
                               f"{images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise RuntimeError(f"found {len(images)} images but labels of shape {labels.shape}")
        self.data = Tensor(np.ascontiguousarray(images))
        self.targets = Tensor(labels.astype(np.int64))

    def __getitem__(self, index):
        """``(image, target)``: a PIL image (mode 'L') and an int, each transformed if asked."""
        img = Image.fromarray(self.data.numpy()[index])
        target = int(self.targets.numpy()[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def to_tensors(self, mean=None, std=None):
        """The whole data set as two tensors, for fast training without per-item transforms.

        Returns ``(images, targets)``: float32 images N x 1 x H x W scaled to [0, 1] (as
        ``ToTensor``) and, when ``mean`` / ``std`` are given, normalized once as
        ``Normalize(mean, std)`` would; int64 targets N. Wrap them in a ``TensorDataset`` and
        the ``DataLoader`` batches by fancy indexing instead of calling ``__getitem__``.
        """
        x = self.data.numpy().astype(np.float32)[:, None] / np.float32(255)
        if mean is not None or std is not None:
            m = np.float32(0.0 if mean is None else _scalar(mean, "mean"))
            s = np.float32(1.0 if std is None else _scalar(std, "std"))
            if s == 0:
                raise ValueError("std evaluated to zero, leading to division by zero.")
            x -= m
            x /= s
        return Tensor(x), Tensor(self.targets.numpy().copy())


def _locate(folder, gz_name):
    """The path of ``gz_name`` or of its uncompressed form inside ``folder``, else None."""
    for name in (gz_name[:-3], gz_name):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _scalar(v, name):
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size != 1:
        raise ValueError(f"{name} must be one number for a 1-channel image, got {v!r}")
    return float(a[0])


class MNIST(_GrayscaleImages):
    """The MNIST handwritten digits (60,000 train / 10,000 test, 28 x 28, 10 classes)."""

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        self._folder = self.raw_folder
        if download:
            self.download()
        self._load()

    @classmethod
    def from_folder(cls, folder, train=True, transform=None, target_transform=None):
        """Read the IDX files directly from ``folder`` (no ``<ClassName>/raw`` sub-folders)."""
        self = cls.__new__(cls)
        VisionDataset.__init__(self, folder, transform=transform,
                               target_transform=target_transform)
        self.train = train
        self._folder = self.root
        self._load()
        return self

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _split_files(self):
        return self.resources[:2] if self.train else self.resources[2:]

    def _find(self, gz_name):
        return _locate(self._folder, gz_name)

    def _check_exists(self):
        return all(self._find(name) is not None for name, _ in self._split_files())

    def _load(self):
        missing = [name for name, _ in self._split_files() if self._find(name) is None]
        if missing:
            raise RuntimeError(
                f"{type(self).__name__} ({'train' if self.train else 'test'} split) not found: "
                f"place {' and '.join(missing)} (gzip-compressed, or uncompressed without "
                f"'.gz') in the folder {self._folder}, or pass download=True where a network "
                f"exists (sources: {', '.join(self.mirrors)}).")
        (img_name, _), (lbl_name, _) = self._split_files()
        images = read_idx(self._find(img_name), ndim=3)
        labels = read_idx(self._find(lbl_name), ndim=1)
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise RuntimeError(f"{self._folder}: expected uint8 IDX data, got images "
                               f"{images.dtype} and labels {labels.dtype}")
        if len(images) != len(labels):
            raise RuntimeError(f"{self._folder}: {img_name} holds {len(images)} images but "
                               f"{lbl_name} holds {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise RuntimeError(f"{self._find(lbl_name)}: label {labels.max()} out of range for "
                               f"{len(self.classes)} classes")
        self._set_arrays(images, labels)

    def download(self):
        """Fetch the missing files of both splits into ``raw_folder`` and check their md5."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if _locate(self.raw_folder, filename) is not None:
                continue
            errors = []
            for mirror in self.mirrors:
                url = mirror + filename
                try:
                    with urllib.request.urlopen(url, timeout=30) as response:
                        payload = response.read()
                except (urllib.error.URLError, OSError, ValueError) as e:
                    errors.append(f"{url}: {e}")
                    continue
                digest = hashlib.md5(payload).hexdigest()
                if digest != md5:
                    errors.append(f"{url}: md5 {digest} does not match the expected {md5}")
                    continue
                target = os.path.join(self.raw_folder, filename)
                with open(target + ".part", "wb") as f:
                    f.write(payload)
                os.replace(target + ".part", target)
                break
            else:
                raise RuntimeError(
                    f"could not download {filename} ({'; '.join(errors)}). Without a network, "
                    f"place the files {', '.join(name for name, _ in self.resources)} in the "
                    f"folder {self.raw_folder}.")

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (same format as MNIST: 28 x 28 grey images, 10 classes)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
