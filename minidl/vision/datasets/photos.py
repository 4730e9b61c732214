"""Real photos for single-image super-resolution: the split photos and their training pairs.

``Photos(split)`` holds the grey photos of one split; ``PhotoPatches`` draws random
high-resolution patches of them with their low-resolution versions, ``ImagePairs`` gives
whole images for validation and test.

The bundled photos (``bundled/photos.zip``, 1.2 MB, built by
``scripts/build_bundled_photos.py``) are nine CC0 / public-domain photos from the data
files of the scikit-image wheel; ``bundled/LICENSE-photos.md`` lists each photo, its
licence and checksum. The split is by photo, so no photo is in two splits:

=====  ==========================================================  ==============
split  photos                                                      pixels
=====  ==========================================================  ==============
train  astronaut, camera, brick, grass, gravel, cell (6)           1.67 M
val    coffee                                                      0.24 M
test   chelsea, rocket                                             0.41 M
=====  ==========================================================  ==============

``root=FOLDER`` reads a user's own photos instead: ``FOLDER/train``, ``FOLDER/val`` and
``FOLDER/test``, each holding image files (png, jpg, jpeg, bmp, tif, tiff, webp).

Every photo is used as its grey Y channel, 8 bits: Pillow's ``convert('L')``, ITU-R 601-2
luma Y = 0.299 R + 0.587 G + 0.114 B (as SRCNN, VDSR and ESPCN train on Y). A training
pair is an HR patch and its LR version made by Pillow's ``BICUBIC`` resize down by
``scale`` (Pillow's filter is widened by the factor, i.e. antialiased as MATLAB's
``imresize``), rounded to 8 bits like a real low-resolution image. Models that read the
image at full size (SRCNN, VDSR) get the LR image resized back up by Pillow's ``BICUBIC``
in floating point (mode ``'F'``): that is also the bicubic baseline of the metrics.
"""
import io
import math
import os
import zipfile

import numpy as np
from PIL import Image

from ..._creation import from_numpy
from .vision import VisionDataset

__all__ = ["Photos", "PhotoPatches", "ImagePairs", "load_photos", "bicubic_downscale",
           "bicubic_upscale", "PHOTO_SPLITS", "PHOTO_EXTENSIONS"]

PHOTO_SPLITS = ("train", "val", "test")
PHOTO_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundled", "photos.zip")


def _check_split(split):
    if split not in PHOTO_SPLITS:
        raise ValueError(f"split must be one of {', '.join(PHOTO_SPLITS)}, got {split!r}")


def _grey(image):
    return np.asarray(image.convert("L"), dtype=np.uint8)


def load_photos(split, root=None):
    """``[(name, uint8 array H x W), ...]`` of one split: the bundled photos, or those in
    ``root/<split>/`` (sorted by file name), each as its grey Y channel."""
    _check_split(split)
    if root is None:
        if not os.path.isfile(_BUNDLE):
            raise RuntimeError(f"bundled photos {_BUNDLE} are missing; rebuild them with "
                               f"scripts/build_bundled_photos.py")
        with zipfile.ZipFile(_BUNDLE) as z:
            names = sorted(n for n in z.namelist() if n.startswith(split + "/"))
            return [(os.path.splitext(os.path.basename(n))[0],
                     _grey(Image.open(io.BytesIO(z.read(n))))) for n in names]
    folder = os.path.join(os.path.expanduser(os.fspath(root)), split)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"photo folder {folder} does not exist: a photos root needs "
                                f"the sub-folders {', '.join(PHOTO_SPLITS)} holding image "
                                f"files (one split per photo)")
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(PHOTO_EXTENSIONS))
    if not files:
        raise FileNotFoundError(f"photo folder {folder} holds no image files "
                                f"({', '.join(PHOTO_EXTENSIONS)})")
    photos = []
    for f in files:
        with Image.open(os.path.join(folder, f)) as image:
            photos.append((os.path.splitext(f)[0], _grey(image)))
    return photos


def bicubic_downscale(hr, scale):
    """``(lr, hr)``: ``hr`` (uint8 H x W) cropped to multiples of ``scale`` at its bottom and
    right, and its Pillow-``BICUBIC`` downscaled version (uint8 H/scale x W/scale)."""
    h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    if h == 0 or w == 0:
        raise ValueError(f"an image of {hr.shape[0]} x {hr.shape[1]} pixels is smaller than "
                         f"the scale {scale}")
    hr = np.ascontiguousarray(hr[:h, :w])
    lr = Image.fromarray(hr).resize((w // scale, h // scale), Image.BICUBIC)
    return np.asarray(lr, dtype=np.uint8), hr


def bicubic_upscale(lr, scale):
    """``lr`` (H x W floats in [0, 1], or uint8) resized up by ``scale`` with Pillow's
    ``BICUBIC`` in floating point: float32 (H scale) x (W scale), clipped to [0, 1]."""
    lr = np.asarray(lr)
    values = lr.astype(np.float32) / 255 if lr.dtype == np.uint8 else lr.astype(np.float32)
    h, w = values.shape
    up = Image.fromarray(values).resize((w * scale, h * scale), Image.BICUBIC)
    return np.clip(np.asarray(up, dtype=np.float32), 0.0, 1.0)


class Photos(VisionDataset):
    """The photos of one split (see the module docstring): item ``i`` is a grey PIL image
    (``transform`` applied); ``names`` and ``arrays`` (uint8 H x W each) hold them all."""

    def __init__(self, split="train", root=None, transform=None):
        super().__init__(root, transform=transform)
        self.split = split
        photos = load_photos(split, root)
        self.names = [n for n, _ in photos]
        self.arrays = [a for _, a in photos]

    def __len__(self):
        return len(self.arrays)

    def __getitem__(self, index):
        image = Image.fromarray(self.arrays[index])
        return self.transform(image) if self.transform is not None else image

    def extra_repr(self):
        return f"Split: {self.split}\nPhotos: {', '.join(self.names)}"


def _as_batch(arrays):
    """A float32 tensor N x 1 x H x W of a list of H x W arrays (uint8 ones scaled to
    [0, 1])."""
    x = np.stack(arrays).astype(np.float32)
    if np.asarray(arrays[0]).dtype == np.uint8:
        x /= 255
    return from_numpy(np.ascontiguousarray(x[:, None]))


class PhotoPatches:
    """Batches ``(input, target)`` of random training patches of ``images`` (uint8 H x W
    arrays), drawn anew every epoch (pass ``k`` of the iterator draws with the seed
    ``(seed, k)``).

    A patch is a ``patch_size`` x ``patch_size`` HR crop (a multiple of ``scale``) at a
    uniformly random position over all the photos' pixels, with ``augment`` a random flip
    and 90-degree rotation; ``target`` its [0, 1] values N x 1 x P x P. ``input`` is its
    Pillow-bicubic LR version N x 1 x P/s x P/s, or with ``upsampled`` that LR resized back
    up bicubically (N x 1 x P x P). ``num_patches`` patches per epoch.
    """

    def __init__(self, images, scale, patch_size, num_patches, batch_size, upsampled=False,
                 seed=0, augment=True):
        if patch_size % scale:
            raise ValueError(f"patch_size {patch_size} must be a multiple of the scale {scale}")
        small = [i for i, a in enumerate(images) if min(a.shape) < patch_size]
        if small:
            shapes = ", ".join(f"{images[i].shape[0]} x {images[i].shape[1]}" for i in small)
            raise ValueError(f"patch_size {patch_size} is larger than {len(small)} of the "
                             f"training images ({shapes})")
        self.images, self.scale, self.patch_size = list(images), scale, patch_size
        self.num_patches, self.batch_size = num_patches, batch_size
        self.upsampled, self.seed, self.augment = upsampled, seed, augment
        self.epoch = 0
        positions = [(a.shape[0] - patch_size + 1) * (a.shape[1] - patch_size + 1)
                     for a in self.images]
        self._weights = np.asarray(positions, dtype=np.float64) / sum(positions)

    def __len__(self):
        return math.ceil(self.num_patches / self.batch_size)

    def _patch(self, rng):
        image = self.images[rng.choice(len(self.images), p=self._weights)]
        p = self.patch_size
        y = rng.integers(0, image.shape[0] - p + 1)
        x = rng.integers(0, image.shape[1] - p + 1)
        hr = image[y:y + p, x:x + p]
        if self.augment:
            hr = np.rot90(hr, int(rng.integers(4)))
            if rng.integers(2):
                hr = hr[:, ::-1]
        lr, hr = bicubic_downscale(np.ascontiguousarray(hr), self.scale)
        return (bicubic_upscale(lr, self.scale) if self.upsampled else lr), hr

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        self.epoch += 1
        for start in range(0, self.num_patches, self.batch_size):
            pairs = [self._patch(rng)
                     for _ in range(min(self.batch_size, self.num_patches - start))]
            yield _as_batch([p[0] for p in pairs]), _as_batch([p[1] for p in pairs])


class ImagePairs:
    """Whole images one at a time for evaluation: ``(input, target, bicubic)`` tensors
    1 x 1 x h x w. ``target`` is the image cropped to multiples of ``scale``, ``bicubic``
    its LR version resized back up (the baseline), ``input`` the LR image or, with
    ``upsampled``, ``bicubic``. ``names`` name the images."""

    def __init__(self, images, scale, upsampled=False, names=None):
        self.scale, self.upsampled = scale, upsampled
        self.names = list(names) if names is not None else [str(i) for i in range(len(images))]
        self.pairs = [bicubic_downscale(a, scale) for a in images]

    def __len__(self):
        return len(self.pairs)

    def __iter__(self):
        for lr, hr in self.pairs:
            up = bicubic_upscale(lr, self.scale)
            yield (_as_batch([up if self.upsampled else lr]), _as_batch([hr]),
                   _as_batch([up]))
