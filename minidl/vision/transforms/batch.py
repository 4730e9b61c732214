"""Per-sample random augmentation of whole batches (a minidl addition; torchvision has no
counterpart).

torchvision's transforms, given a batch tensor (N, C, H, W), draw *one* set of random
parameters and apply it to every image; ``transforms.RandomCrop`` etc. keep that rule.
The classes here draw independent parameters for every sample of a batch and apply them
without a Python loop over the samples, so a trainer can augment each batch in one step
(e.g. after the ``DataLoader`` has stacked it):

* ``RandomCrop``: pad the whole batch once, view every (th x tw) window of it with
  ``sliding_window_view`` and pick each sample's window with one fancy index;
* ``RandomHorizontalFlip`` / ``RandomVerticalFlip``: flip the samples selected by a random
  mask.

Each image of the result is distributed exactly as ``transforms.RandomCrop`` (or the flip)
applied to that image alone. Input: a tensor or NumPy array (N, ..., H, W); the output is
the same kind, a new array (no gradient is recorded: augmentation happens on data). Draws come
from ``generator`` (a ``minidl.Generator``) or minidl's default generator.

    augment = transforms.Compose([batch.RandomCrop(28, padding=2),
                                  batch.RandomHorizontalFlip()])
    for x, y in loader:
        x = augment(x)
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...backend import rng
from ...tensor import Tensor
from . import _functional_core as F
from ._geometry import _setup_size

__all__ = ["RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "crop_batch"]


def _unwrap(batch, name):
    """The batch's array (N, ..., H, W) and a function turning a result back into its kind."""
    if isinstance(batch, Tensor):
        a, wrap = batch.detach().numpy(), Tensor
    elif isinstance(batch, np.ndarray):
        a, wrap = batch, (lambda x: x)
    else:
        raise TypeError(f"{name} expects a batch tensor or ndarray (N, C, H, W), got "
                        f"{type(batch).__name__}")
    if a.ndim < 3:
        raise ValueError(f"{name} expects a batch (N, C, H, W) or (N, H, W) with at least 3 "
                         f"dimensions, got shape {tuple(a.shape)}")
    return a, wrap


def crop_batch(batch, top, left, height, width):
    """Crop sample ``n`` of ``batch`` (N, ..., H, W) to rows ``top[n] : top[n] + height`` and
    columns ``left[n] : left[n] + width`` (all windows inside the images); one gather."""
    a, wrap = _unwrap(batch, "crop_batch")
    n, h, w = a.shape[0], a.shape[-2], a.shape[-1]
    top, left = np.asarray(top, np.int64), np.asarray(left, np.int64)
    if top.shape != (n,) or left.shape != (n,):
        raise ValueError(f"crop_batch: top and left need one entry per sample ({n}), got "
                         f"shapes {top.shape} and {left.shape}")
    if n and (top.min() < 0 or left.min() < 0 or top.max() + height > h
              or left.max() + width > w):
        raise ValueError(f"crop_batch: a {height} x {width} window at the given corners does "
                         f"not fit inside the {h} x {w} images")
    flat = a.reshape(n, -1, h, w)
    windows = sliding_window_view(flat, (height, width), axis=(2, 3))  # (N, M, h', w', th, tw)
    out = windows[np.arange(n), :, top, left]                          # (N, M, th, tw)
    return wrap(np.ascontiguousarray(out).reshape(a.shape[:-2] + (height, width)))


class RandomCrop:
    """``transforms.RandomCrop`` with an independent window for every sample of a batch.

    Same arguments and padding semantics (``fill`` must be one number); ``generator``
    (optional) is the ``minidl.Generator`` to draw from.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 generator=None):
        self.size = _setup_size(size)
        self.padding = None if padding is None else F._parse_padding(padding)
        F.check_padding_mode(padding_mode)
        if not isinstance(fill, (int, float)):
            raise TypeError(f"batch.RandomCrop: fill must be one number, got {fill!r}")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        self.generator = generator

    def _pads(self, h, w):
        """(left, top, right, bottom) applied before cropping an h x w image."""
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        th, tw = self.size
        if self.pad_if_needed:
            extra_w = max(tw - (w + left + right), 0)
            extra_h = max(th - (h + top + bottom), 0)
            left, right = left + extra_w, right + extra_w
            top, bottom = top + extra_h, bottom + extra_h
        return left, top, right, bottom

    @staticmethod
    def get_params(n, height, width, output_size, generator=None):
        """Random top-left corners ``(i, j)`` (int64 arrays of length ``n``) of ``output_size``
        windows in ``height x width`` images, plus the window size ``(th, tw)``."""
        th, tw = output_size
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(height, width)}")
        g = rng(generator)
        return g.integers(0, height - th + 1, n), g.integers(0, width - tw + 1, n), th, tw

    def __call__(self, batch):
        a, wrap = _unwrap(batch, "batch.RandomCrop")
        left, top, right, bottom = self._pads(a.shape[-2], a.shape[-1])
        if left or top or right or bottom:
            a = F.pad(Tensor(a), [left, top, right, bottom], self.fill,
                      self.padding_mode).numpy()
        i, j, th, tw = self.get_params(a.shape[0], a.shape[-2], a.shape[-1], self.size,
                                       self.generator)
        return wrap(crop_batch(a, i, j, th, tw))

    def __repr__(self):
        return (f"batch.{type(self).__name__}(size={self.size}, padding={self.padding}, "
                f"pad_if_needed={self.pad_if_needed}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class _RandomFlip:
    _axis = -1

    def __init__(self, p=0.5, generator=None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def get_params(self, n):
        """Which of the ``n`` samples to flip (a boolean array)."""
        return rng(self.generator).random(n) < self.p

    def __call__(self, batch):
        a, wrap = _unwrap(batch, f"batch.{type(self).__name__}")
        flip = self.get_params(a.shape[0])
        out = a.copy()
        out[flip] = np.flip(a[flip], self._axis)
        return wrap(out)

    def __repr__(self):
        return f"batch.{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each sample left-right, independently, with probability ``p``."""
    _axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror each sample top-bottom, independently, with probability ``p``."""
    _axis = -2
