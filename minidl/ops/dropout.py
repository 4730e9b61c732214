"""Dropout: inverted dropout of elements or whole channels, and alpha dropout for SELU nets.

Masks come from minidl's seeded generator; backward multiplies by the same mask.
"""
import math

import numpy as np

from ..autograd import Kernel
from ..backend import rng
from ._util import check_tensor
from .rectifiers import SELU_ALPHA, SELU_SCALE

__all__ = ["dropout", "dropout_", "alpha_dropout", "feature_dropout"]


class Dropout(Kernel):
    """y = x * m with m = keep / (1 - p) (inverted dropout);  dx = g * m. The mask is drawn
    before the kernel runs, so it is a constant of the recorded backward too."""

    graph_constants = ("mask",)

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask, None


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(shape, p, dtype, generator=None):
    """Bernoulli(1 - p) keep-mask scaled by 1 / (1 - p), from minidl's seeded generator."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = rng(generator).random(shape, dtype=np.float32) >= p
    return np.multiply(keep, 1.0 / (1.0 - p), dtype=dtype)


def _apply_mask(input, mask, inplace):
    if inplace:
        return input._inplace(lambda x: Dropout.apply(x, mask))
    return Dropout.apply(input, mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training)."""
    check_tensor(input, "dropout")
    _check_p(p)
    if not training or p == 0:
        return input
    mask = _dropout_mask(input.shape, p, input._data.dtype)
    return _apply_mask(input, mask, inplace)


def dropout_(input, p=0.5, train=True):
    return dropout(input, p, train, inplace=True)


def _feature_dropout(input, p, training, inplace, fn, unbatched_ndim=None):
    """Zero whole channels: the mask has shape (N, C, 1, ...), or (C, 1, ...) for an
    unbatched input of ``unbatched_ndim`` dimensions."""
    check_tensor(input, fn)
    _check_p(p)
    if not training or p == 0:
        return input
    lead = 1 if input.ndim == unbatched_ndim else min(2, input.ndim)
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    mask = _dropout_mask(shape, p, input._data.dtype)
    return _apply_mask(input, mask, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, L) or (C, L) inputs."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input of shape {tuple(input.shape)}.")
    return _feature_dropout(input, p, training, inplace, "dropout1d", 2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, H, W) inputs (a 3-D input is read as (N, C, L), like torch)."""
    return _feature_dropout(input, p, training, inplace, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout for (N, C, D, H, W) or (C, D, H, W) inputs."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"dropout3d: Expected 4D or 5D input, but received a {input.ndim}D "
                           f"input of shape {tuple(input.shape)}.")
    return _feature_dropout(input, p, training, inplace, "dropout3d", 4)


def feature_dropout(input, p, train):
    return _feature_dropout(input, p, train, False, "feature_dropout")


class AlphaDropout(Kernel):
    """y = a * (x * keep + alpha' * (1 - keep)) + b keeping SELU's mean and variance;
    dx = g * a * keep."""

    @staticmethod
    def forward(ctx, x, keep, a, b, fill):
        ctx.save_for_backward(keep)
        ctx.a = a
        return (np.where(keep, x, fill) * a + b).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return np.where(keep, g * ctx.a, 0).astype(g.dtype, copy=False), None


def _alpha_dropout(input, p, training, feature, fn):
    check_tensor(input, fn)
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    fill = -SELU_ALPHA * SELU_SCALE
    a = 1.0 / math.sqrt((fill * fill * p + 1) * (1 - p))
    b = -a * fill * p
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = rng().random(shape, dtype=np.float32) >= p
    return AlphaDropout.apply(input, keep, a=a, b=b, fill=fill)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the self-normalising property of SELU networks."""
    out = _alpha_dropout(input, p, training, False, "alpha_dropout")
    return input._inplace(lambda x: out) if inplace and out is not input else out


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    out = _alpha_dropout(input, p, training, True, "feature_alpha_dropout")
    return input._inplace(lambda x: out) if inplace and out is not input else out
