"""Pixel shuffle: trading channels for resolution, (*, C r^2, H, W) <-> (*, C, H r, W r).

The sub-pixel convolution upsampler (Shi et al., 2016): a convolution computes r^2 channels
per output channel at low resolution and ``pixel_shuffle`` interleaves them into an r-times
larger image. Both directions are a reshape and a permutation, so each one's gradient is
the other.
"""
from ._util import check_tensor
from .window import is_int

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factor(fn, name, value, x):
    check_tensor(x, fn)
    if not is_int(value):
        raise TypeError(f"{fn}(): argument '{name}' (position 2) must be int, not "
                        f"{type(value).__name__}")
    if x.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input "
                           f"with {x.ndim} dimension(s)")
    if value <= 0:
        raise RuntimeError(f"{fn} expects a positive {name}, but got {value}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w].

    A reshape and a permutation, so the gradient is the inverse rearrangement."""
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor, input)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    k = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))    # (*, C, H, r, W, r)
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of :func:`pixel_shuffle`."""
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor, input)
    *lead, c, h, w = input.shape
    for what, s, i in (("height", h, -2), ("width", w, -1)):
        if s % r:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by "
                               f"downscale_factor, but input.size({i})={s} is not divisible by {r}")
    k = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))    # (*, C, r, r, H, W)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))
