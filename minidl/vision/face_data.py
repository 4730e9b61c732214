"""The data of ``minidl train siamese | triplet``: images of seen and unseen classes, and
the training batches (random same / different pairs; class-balanced batches to mine
triplets in).

``load_face_data`` reads a bundled set (``mnist-mini``, ``fashion-mnist-mini``: the seen
classes' TRAIN split images for training and validation, the unseen classes' TEST split
images for the test) or a folder in ``ImageFolder`` layout (``root/<identity>/<image>``;
the seen identities' images for training and validation, all images of the unseen ones for
the test), every image resized to a square ``image_size`` and scaled to [0, 1], then
normalised per channel with the mean and standard deviation of the training images.
"""
import os

import numpy as np
from PIL import Image

from .._creation import from_numpy
from .datasets.bundled import BUNDLED, Bundled
from .datasets.folder import ImageFolder
from .face_verification import balanced_pairs

__all__ = ["load_face_data", "parse_classes", "random_shift", "PairBatches",
           "ClassBalancedBatches", "FOLDER_IMAGE_SIZE"]

FOLDER_IMAGE_SIZE = 64
UNSEEN_SHARE = 0.3


def parse_classes(spec, classes):
    """The sorted class indices a ``--unseen`` text names: comma-separated indices,
    ``a-b`` ranges (inclusive) or class names; ``None``: the last 30 % of the classes
    (at least 2)."""
    n = len(classes)
    if spec is None:
        k = max(2, int(round(UNSEEN_SHARE * n)))
        return list(range(n - k, n))
    chosen = set()
    for token in (t.strip() for t in spec.split(",")):
        if token in classes:
            chosen.add(classes.index(token))
            continue
        lo, dash, hi = token.partition("-")
        try:
            first, last = (int(lo), int(hi)) if dash else (int(token), int(token))
        except ValueError:
            raise ValueError(f"--unseen: {token!r} is neither a class index, a range a-b nor "
                             f"a class name (classes: {', '.join(classes)})") from None
        if not 0 <= first <= last < n:
            raise ValueError(f"--unseen: {token!r} is not within the class indices 0-{n - 1}")
        chosen.update(range(first, last + 1))
    return sorted(chosen)


def _split_classes(spec, classes):
    unseen = parse_classes(spec, classes)
    seen = [c for c in range(len(classes)) if c not in unseen]
    if len(unseen) < 2 or len(seen) < 2:
        raise ValueError(f"verification needs at least two seen and two unseen classes; "
                         f"--unseen {spec or '(default)'} leaves {len(seen)} seen and "
                         f"{len(unseen)} unseen of the {len(classes)} classes")
    return seen, unseen


def _resize(images, size):
    """uint8 (N, H, W[, C]) -> (N, size, size[, C]) with Pillow's bilinear filter."""
    if images.shape[1:3] == (size, size):
        return images
    return np.stack([np.asarray(Image.fromarray(a).resize((size, size), Image.BILINEAR))
                     for a in images])


def _bundled(name, spec, size):
    train, test = Bundled(name, train=True), Bundled(name, train=False)
    classes = list(train.classes)
    seen, unseen = _split_classes(spec, classes)
    xs, ys = train.data.numpy(), train.targets.numpy()
    xt, yt = test.data.numpy(), test.targets.numpy()
    keep, held = np.isin(ys, seen), np.isin(yt, unseen)
    x_train, x_test = (_resize(a, size or a.shape[1])[:, None] for a in (xs[keep], xt[held]))
    return classes, seen, unseen, (x_train, ys[keep]), (x_test, yt[held]), "test split"


def _folder(root, spec, size, rgb):
    size = size or FOLDER_IMAGE_SIZE
    mode = "RGB" if rgb else "L"

    def load(path):
        with open(path, "rb") as f:
            return np.asarray(Image.open(f).convert(mode).resize((size, size), Image.BILINEAR))
    folder = ImageFolder(root, loader=load)
    classes = list(folder.classes)
    seen, unseen = _split_classes(spec, classes)
    images = np.stack([folder.loader(path) for path, _ in folder.samples])
    images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    labels = np.asarray(folder.targets, dtype=np.int64)
    keep, held = np.isin(labels, seen), np.isin(labels, unseen)
    return (classes, seen, unseen, (images[keep], labels[keep]), (images[held], labels[held]),
            "all their images")


def load_face_data(data, unseen=None, image_size=None, rgb=True):
    """``{'classes', 'seen', 'unseen', 'train': (x, y), 'test': (x, y), 'test_source',
    'mean', 'std'}``: float32 images (N, C, S, S) normalised with the per-channel ``mean``
    / ``std`` of the training images, int64 labels (class indices of ``classes``).
    ``data``: a bundled name or a folder; ``rgb`` applies to folders (bundled data is
    grey)."""
    if data in BUNDLED:
        parts = _bundled(data, unseen, image_size)
    elif os.path.isdir(os.path.expanduser(data)):
        parts = _folder(os.path.expanduser(data), unseen, image_size, rgb)
    else:
        raise ValueError(f"--data {data!r} is neither a bundled data set "
                         f"({', '.join(sorted(BUNDLED))}) nor a folder")
    classes, seen, held, (x, y), (xt, yt), source = parts
    x = x.astype(np.float32) / np.float32(255)
    xt = xt.astype(np.float32) / np.float32(255)
    mean = x.mean((0, 2, 3), keepdims=True)
    std = np.maximum(x.std((0, 2, 3), keepdims=True), 1e-6)
    return {"classes": classes, "seen": seen, "unseen": held,
            "train": ((x - mean) / std, y), "test": ((xt - mean) / std, yt),
            "test_source": source, "mean": mean.ravel().tolist(), "std": std.ravel().tolist()}


def random_shift(images, shift, rng):
    """Each image of ``(N, C, H, W)`` moved by a random whole number of pixels in
    [-shift, shift] along each axis, the border repeated into the uncovered part (training
    augmentation; ``shift`` 0 returns the images)."""
    if shift == 0:
        return images
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)), mode="edge")
    dy, dx = rng.integers(0, 2 * shift + 1, (2, n))
    return np.stack([padded[k, :, dy[k]:dy[k] + h, dx[k]:dx[k] + w] for k in range(n)])


class PairBatches:
    """Balanced random pairs of the images, new ones every epoch: ``len(images) // 2``
    pairs (so about one pass over the images), batches of ``batch_size`` pairs yielding
    ``(x1, x2, same)`` tensors (``same``: float 1 / 0), images moved by ``random_shift``
    of ``shift`` pixels."""

    def __init__(self, images, labels, batch_size, seed, shift=0):
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shift = shift
        self.n_pairs = max(len(images) // 2, 2)
        self.rng = np.random.default_rng(seed)
        balanced_pairs(labels, 2, np.random.default_rng(seed))  # refuse unusable labels now

    def __len__(self):
        return -(-self.n_pairs // self.batch_size)

    def __iter__(self):
        i, j, same = balanced_pairs(self.labels, self.n_pairs, self.rng)
        order = self.rng.permutation(self.n_pairs)
        for k in range(0, self.n_pairs, self.batch_size):
            b = order[k:k + self.batch_size]
            yield (from_numpy(random_shift(self.images[i[b]], self.shift, self.rng)),
                   from_numpy(random_shift(self.images[j[b]], self.shift, self.rng)),
                   from_numpy(same[b].astype(np.float32)))


class ClassBalancedBatches:
    """Batches of ``per_class`` images of each of ``classes_per_batch`` random classes
    (= min(number of classes, ``batch_size // per_class``), at least 2), about one pass
    over the images per epoch; yields ``(images tensor, labels array)``, the images moved by
    ``random_shift`` of ``shift`` pixels. A class with fewer than ``per_class`` images gives
    some of them twice."""

    def __init__(self, images, labels, batch_size, per_class, seed, shift=0):
        self.images, self.labels, self.per_class = images, labels, per_class
        self.shift = shift
        self.classes = np.unique(labels)
        self.classes_per_batch = min(len(self.classes), batch_size // per_class)
        if self.classes_per_batch < 2:
            raise ValueError(f"a batch of {batch_size} images with {per_class} per class holds "
                             f"{self.classes_per_batch} class(es); triplets need at least 2 "
                             f"(there are {len(self.classes)} seen classes)")
        self.members = {c: np.flatnonzero(labels == c) for c in self.classes}
        self.batch = self.classes_per_batch * per_class
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return max(len(self.images) // self.batch, 1)

    def __iter__(self):
        for _ in range(len(self)):
            picked = self.rng.choice(self.classes, self.classes_per_batch, replace=False)
            idx = np.concatenate([
                self.rng.choice(self.members[c], self.per_class,
                                replace=len(self.members[c]) < self.per_class)
                for c in picked])
            yield from_numpy(random_shift(self.images[idx], self.shift, self.rng)), \
                self.labels[idx]
