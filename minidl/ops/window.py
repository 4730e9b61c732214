"""Sliding windows, the tool convolution and pooling share.

For a (padded) input ``xp`` of shape (*lead, *P), the *window view* is a strided view of
shape (*lead, *O, *K), made by ``as_strided`` without copying, with

    windows[..., o, j] = xp[..., o * stride + j * dilation]      (o, j multi-indices),

and there are out = floor((P - d (k - 1) - 1) / s) + 1 windows along an axis of P padded
samples. Convolution copies the view into im2col columns (``conv_gemm``); pooling reduces
it over the offsets j (``pool``). Both backward passes need the adjoint of reading the
view -- every window's part added back where it was read from -- which is
``scatter_windows``. The argument helpers (int tuples, sizes in messages) serve every
windowed op's torch-style checks.
"""
import itertools
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["window_view", "offsets", "pad_spatial", "crop_index", "padded_sizes", "out_size",
           "scatter_windows", "is_int", "ntuple", "fmt_size"]


# ------------------------------------------------------------------ the window view
def window_view(xp, kernel, stride, dilation, out, writeable=False):
    """View of shape (*lead, *out, *kernel) over the last len(kernel) axes of ``xp``."""
    n = len(kernel)
    lead, spatial = xp.strides[:-n], xp.strides[-n:]
    return as_strided(
        xp, xp.shape[:-n] + tuple(out) + tuple(kernel),
        lead + tuple(a * s for a, s in zip(spatial, stride))
        + tuple(a * d for a, d in zip(spatial, dilation)),
        writeable=writeable)


def offsets(kernel):
    """Every kernel offset j as an index tuple, in row-major order."""
    return list(itertools.product(*[range(k) for k in kernel]))


def pad_spatial(x, pads, value=0):
    """``x`` with its last len(pads) axes padded by ``pads`` = ((lo, hi), ...) of ``value``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    shape = x.shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[-n:], pads))
    out = np.zeros(shape, x.dtype) if value == 0 else np.full(shape, value, x.dtype)
    out[crop_index(x.shape[-n:], pads)] = x
    return out


def crop_index(sizes, pads):
    """Index selecting the original region of an array padded with ``pads``."""
    return (Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sizes, pads))


def out_size(size, k, s, d, lo, hi, ceil_mode=False):
    """Number of windows of ``k`` taps (dilation d, stride s) in a padded axis."""
    span = size + lo + hi - d * (k - 1) - 1
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1  # floor division, as torch's div_rtn
    if ceil_mode and (o - 1) * s >= size + lo:  # the last window must start inside the input
        o -= 1
    return max(o, 0)


def padded_sizes(shape, pads):
    """The last len(pads) sizes of ``shape`` after padding by ``pads``."""
    return tuple(s + lo + hi for s, (lo, hi) in zip(shape[-len(pads):], pads))


# ------------------------------------------------------------------ its adjoint
def scatter_windows(dxp, kernel, stride, dilation, out, part):
    """The adjoint of reading the window view: add ``part(t, j, buf)`` at offset j (the
    t-th) of every window of the zero array ``dxp`` (..., *P). ``part`` may compute into
    ``buf`` and return it.

    Where windows cannot overlap each part is written straight in. Where they overlap
    with stride > 1, adding each part through the strided view is slow (a read-modify-
    write of scattered memory per offset), so the parts are first summed on compact
    per-phase grids -- input position o*s + j = (o + j//s)*s + j%s lands in phase j%s at
    o + j//s -- and each phase is then written once into its strided slice."""
    n = len(kernel)
    lead, dtype = dxp.shape[:-n], dxp.dtype
    overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    if overlap and any(s > 1 for s in stride) and all(d == 1 for d in dilation):
        grid = tuple(o + (k - 1) // s for o, k, s in zip(out, kernel, stride))
        phases, buf = {}, np.empty(lead + tuple(out), dtype)
        for t, j in enumerate(offsets(kernel)):
            r = tuple(a % s for a, s in zip(j, stride))
            if r not in phases:
                phases[r] = np.zeros(lead + grid, dtype)
            at = tuple(slice(a // s, a // s + o) for a, s, o in zip(j, stride, out))
            phases[r][(Ellipsis,) + at] += part(t, j, buf)
        for r, acc in phases.items():
            dst = dxp[(Ellipsis,) + tuple(slice(a, None, s) for a, s in zip(r, stride))]
            m = tuple(slice(0, min(a, b)) for a, b in zip(dst.shape[-n:], grid))
            dst[(Ellipsis,) + m] = acc[(Ellipsis,) + m]
        return dxp
    view = window_view(dxp, kernel, stride, dilation, out, writeable=True)
    buf = np.empty(view.shape[:-n], dtype) if overlap else None
    for t, j in enumerate(offsets(kernel)):
        dst = view[(Ellipsis,) + j]
        if overlap:
            dst += part(t, j, buf)
        else:
            res = part(t, j, dst)
            if res is not dst:
                np.copyto(dst, res)
    return dxp


# ------------------------------------------------------------------ arguments
def is_int(v):
    """A Python or NumPy integer (not a bool)."""
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def ntuple(value, n, name, fn, low=None):
    """An int or a sequence of 1 or n ints, as an n-tuple of Python ints (each >= ``low``)."""
    if is_int(value):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and all(is_int(v) for v in value):
        if len(value) not in (1, n):
            raise RuntimeError(f"{fn}(): expected {name} to be a single integer value or a list "
                               f"of {n} values to match the {n}-d operation, but got "
                               f"{name}={list(value)}")
        out = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of {n} ints, "
                        f"not {type(value).__name__}")
    if low is not None and min(out) < low:
        what = "non-positive" if low == 1 else "negative"
        raise RuntimeError(f"{fn}(): {what} {name} is not supported: {name} must be "
                           f"{'greater than zero' if low == 1 else 'non-negative'}, but got "
                           f"{name}={list(out)}")
    return out


def fmt_size(shape, sep=", "):
    """A shape as torch's messages print it: [2, 3, 4]."""
    return "[" + sep.join(str(s) for s in shape) + "]"

