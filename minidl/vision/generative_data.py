"""The data of the generative tasks (``minidl train vae | gan | ...``): the bundled images
split into train / validation / test, scaled to the range the model reads, and batches of
arrays held whole."""
import numpy as np

from .._creation import from_numpy
from ..train.splits import stratified_split
from ..utils.data.index_batches import IndexBatches
from .datasets.bundled import load_bundled

__all__ = ["VAL_FRACTION", "PIXEL_RANGES", "load_splits", "ImageBatches"]

VAL_FRACTION = 0.1
PIXEL_RANGES = ("0-1", "-1-1")


def load_splits(data, seed=0, limit=None, pixel_range="0-1"):
    """``{'train' | 'val' | 'test': (float32 N x 1 x 28 x 28, int64 labels)}``: the bundled
    training split less a stratified ``VAL_FRACTION`` (seeded) and the test split, pixels in
    [0, 1] (``pixel_range='0-1'``: VAE likelihoods) or [-1, 1] (``'-1-1'``: tanh
    generators); ``limit`` keeps the first ``limit`` images of each."""
    if pixel_range not in PIXEL_RANGES:
        raise ValueError(f"pixel_range must be one of {PIXEL_RANGES}, got {pixel_range!r}")
    images, labels = (t.numpy() for t in load_bundled(data, train=True))
    train, val = stratified_split(labels, VAL_FRACTION, seed)
    test_images, test_labels = (t.numpy() for t in load_bundled(data, train=False))
    parts = {"train": (images[train], labels[train]), "val": (images[val], labels[val]),
             "test": (test_images, test_labels)}
    scale, shift = (255.0, 0.0) if pixel_range == "0-1" else (127.5, 1.0)
    return {k: ((x[:limit, None] / np.float32(scale) - np.float32(shift)).astype(np.float32),
                y[:limit]) for k, (x, y) in parts.items()}


class ImageBatches(IndexBatches):
    """``(images, labels)`` tensor batches of arrays held whole (``IndexBatches``)."""

    def __init__(self, images, labels, batch_size, shuffle=False, seed=0):
        super().__init__(len(images), batch_size, shuffle, seed)
        self.images, self.labels = images, labels

    def __iter__(self):
        for idx in self.batch_indices():
            yield from_numpy(self.images[idx]), from_numpy(self.labels[idx])
