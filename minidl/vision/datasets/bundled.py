"""Real data shipped inside minidl: stratified subsets of MNIST and Fashion-MNIST.

======================  =========================  ==========  ======================
name                    source                     train/test  licence
======================  =========================  ==========  ======================
``mnist-mini``          MNIST (LeCun et al.)       10k / 2k    CC BY-SA 3.0
``fashion-mnist-mini``  Fashion-MNIST (Zalando)    10k / 2k    MIT
======================  =========================  ==========  ======================

Each split holds the same number of images of every class (1,000 per class for train, 200
for test), drawn with a fixed seed from the official splits by
``scripts/build_bundled_data.py``; ``bundled/PROVENANCE.md`` lists the sources, checksums
and method, and the chosen indices are stored in the files themselves.
"""
import functools
import os

import numpy as np

from ...tensor import Tensor
from .mnist import MNIST, FashionMNIST, _GrayscaleImages

__all__ = ["Bundled", "load_bundled", "BUNDLED"]

_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundled")

# name -> (file inside bundled/, class names)
BUNDLED = {
    "mnist-mini": ("mnist-mini.npz", MNIST.classes),
    "fashion-mnist-mini": ("fashion-mnist-mini.npz", FashionMNIST.classes),
}


def _check_name(name):
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled data set {name!r}; available: "
                         f"{', '.join(sorted(BUNDLED))}")


@functools.lru_cache(maxsize=None)
def _arrays(name, split):
    path = os.path.join(_FOLDER, BUNDLED[name][0])
    if not os.path.isfile(path):
        raise RuntimeError(f"bundled data file {path} is missing; rebuild it with "
                           f"scripts/build_bundled_data.py")
    with np.load(path, allow_pickle=False) as z:
        images, labels = z[f"{split}_images"], z[f"{split}_labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_bundled(name, train=True):
    """``(images, targets)`` of a bundled split: uint8 tensor N x 28 x 28, int64 tensor N."""
    _check_name(name)
    images, labels = _arrays(name, "train" if train else "test")
    return Tensor(images.copy()), Tensor(labels.astype(np.int64))


class Bundled(_GrayscaleImages):
    """A bundled data set by name, returning ``(PIL image, int)`` pairs like ``MNIST``.

    ``Bundled('mnist-mini', train=True, transform=ToTensor())``; ``.data``, ``.targets``,
    ``.classes`` and ``.to_tensors(mean, std)`` as for ``MNIST``.
    """

    def __init__(self, name, train=True, transform=None, target_transform=None):
        _check_name(name)
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.name, self.train = name, train
        self.classes = list(BUNDLED[name][1])
        images, labels = _arrays(name, "train" if train else "test")
        self._set_arrays(images.copy(), labels)

    def extra_repr(self):
        return f"Name: {self.name}\nSplit: {'Train' if self.train else 'Test'}"
