"""Resampling: ``interpolate`` (nearest, linear, cubic, area) and the deprecated ``upsample*``.

Interpolation is separable: every mode resamples one spatial axis at a time. Along an axis
of S input samples, output o reads T *taps* ``idx[o, t]`` with weights ``w[o, t]``:

    nearest     T = 1   idx = floor(o * scale)  (nearest-exact: floor((o + 0.5) * scale)), w = 1
    linear      T = 2   src = scale * (o + 0.5) - 0.5 (clamped at 0), taps floor(src) and the
                        next one, weights 1 - l and l with l = src - floor(src)
    cubic       T = 4   taps floor(src) - 1 ... floor(src) + 2 clamped to [0, S), weights from
                        Keys' cubic convolution kernel with A = -0.75

(with ``align_corners`` src = o * (S - 1) / (O - 1) instead). The taps are the non-zeros of
an (O x S) interpolation matrix A, so along each axis

    y = A x            dx = A^T dy

Small axes (the feature maps networks upsample) apply A as a dense GEMM, forward and
backward; long axes gather the T taps (``np.take``) instead of an S-wide product. Inputs
holding inf / NaN also take the gather route, so that a NaN only reaches the outputs that
read it (0 * NaN in a GEMM would smear it over a whole line). Nearest upsampling by an
integer factor r is ``np.repeat`` forward and a sum of r strided slices backward.

The index formulas, the float32 arithmetic torch does them in, its shortcuts (an axis that
keeps its size is copied in the linear modes) and its use of ``scale_factor`` (used as given
unless ``recompute_scale_factor``) follow torch's CPU kernels; the backward passes are
always the exact adjoint of the forward.
"""
import math
import numbers
import warnings
from collections import namedtuple

import numpy as np

from ..autograd import Kernel
from . import adaptive_pool
from ._adjoint import linear_backward
from ._util import check_tensor
from .window import fmt_size, is_int

__all__ = []

# Along an axis with more input samples than this, gathering the T taps beats a dense GEMM
# (whose cost per output grows with S).
_DENSE_MAX = 96

# One axis's resampling: index (O, T) int64, weight (O, T) or None (nearest: weight 1),
# size S (input length), repeat r > 0 when index is just o // r (nearest, integer factor).
Taps = namedtuple("Taps", ["index", "weight", "size", "repeat"])

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _scale(n_in, n_out, align_corners, scale_factor, dt):
    """Source step per output step, in dtype ``dt`` (torch's area_pixel_compute_scale)."""
    if align_corners:
        return dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
    if scale_factor is not None and scale_factor > 0:
        return dt(1.0 / scale_factor)
    return dt(n_in) / dt(n_out)


def _source(n_out, scale, align_corners, dt, clamp):
    """Real source coordinate of every output: o * scale, or (o + 0.5) * scale - 0.5."""
    o = np.arange(n_out, dtype=dt)
    if align_corners:
        return o * scale
    src = scale * (o + dt(0.5)) - dt(0.5)
    return np.maximum(src, dt(0)) if clamp else src


def _repeat_factor(index, n_in):
    """r when ``index`` is o // r over O = r * S outputs (nearest upsampling by r), else 0."""
    n_out = len(index)
    r = n_out // n_in
    if r >= 1 and n_out == r * n_in and np.array_equal(index, np.arange(n_out) // r):
        return r
    return 0


def _nearest_taps(n_in, n_out, scale_factor, exact, shortcut, dt):
    """floor(o * scale) or floor((o + 0.5) * scale), rounded to float32 like torch, clamped.

    ``shortcut`` (torch's 2-D kernel): an axis that keeps its size is copied and one that
    doubles reads o // 2, whatever the scale factor. Where o * scale is an integer in exact
    arithmetic, torch's kernels round differently from one another; in a few such ties
    (well under 1% of random size pairs) the source index can differ from torch's by one."""
    if shortcut and not exact and n_out in (n_in, 2 * n_in):
        index = np.arange(n_out) // (n_out // n_in)
    else:
        scale = _scale(n_in, n_out, False, scale_factor, dt)
        if exact:
            pos = (np.arange(n_out) + 0.5) * np.float64(scale)
        else:
            pos = np.arange(n_out, dtype=dt) * scale
        index = np.minimum(np.floor(pos.astype(np.float32)).astype(np.int64), n_in - 1)
    if n_out == n_in and np.array_equal(index, np.arange(n_in)):
        return None
    return Taps(index[:, None], None, n_in, _repeat_factor(index, n_in))


def _linear_taps(n_in, n_out, align_corners, scale_factor, dt):
    """Taps floor(src) and the next sample (clamped), weights 1 - l and l."""
    if n_out == n_in:    # torch copies an axis that keeps its size
        return None
    src = _source(n_out, _scale(n_in, n_out, align_corners, scale_factor, dt), align_corners,
                  dt, clamp=True)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(dt), dt(0), dt(1))
    i1 = i0 + (i0 < n_in - 1)
    return Taps(np.stack([i0, i1], 1), np.stack([dt(1) - lam, lam], 1), n_in, 0)


def _cubic_taps(n_in, n_out, align_corners, scale_factor, dt, A=-0.75):
    """Taps floor(src) - 1 ... + 2 (clamped to the border), Keys' cubic weights of t = src -
    floor(src): W(1 + t), W(t), W(1 - t), W(2 - t) with W(x) = (A+2)|x|^3 - (A+3)|x|^2 + 1 on
    [0, 1] and A|x|^3 - 5A|x|^2 + 8A|x| - 4A on [1, 2]."""
    src = _source(n_out, _scale(n_in, n_out, align_corners, scale_factor, dt), align_corners,
                  dt, clamp=False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0.astype(dt), dt(0), dt(1))
    a = dt(A)

    def near(x):    # |x| <= 1
        return ((a + dt(2)) * x - (a + dt(3))) * x * x + dt(1)

    def far(x):     # 1 < |x| < 2
        return ((a * x - dt(5) * a) * x + dt(8) * a) * x - dt(4) * a

    one = dt(1)
    weight = np.stack([far(t + one), near(t), near(one - t), far(dt(2) - t)], 1)
    index = np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return Taps(index, weight, n_in, 0)


def _matrix(taps, dtype):
    """The dense (O x S) interpolation matrix: row o holds output o's tap weights."""
    n_out, n_taps = taps.index.shape
    rows = np.repeat(np.arange(n_out) * taps.size, n_taps)
    w = np.ones(rows.size) if taps.weight is None else taps.weight.ravel()
    m = np.bincount(rows + taps.index.ravel(), w, minlength=n_out * taps.size)
    return m.reshape(n_out, taps.size).astype(dtype)


def _along(x, a, axis):
    """Contract ``axis`` of C-contiguous ``x`` with ``a`` (O x S): one GEMM per leading index
    (a single GEMM for the last axis)."""
    shape = x.shape
    if axis == x.ndim - 1:
        return (x.reshape(-1, shape[-1]) @ a.T).reshape(shape[:-1] + (a.shape[0],))
    lead, rest = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    y = np.matmul(a, x.reshape(lead, shape[axis], rest))
    return y.reshape(shape[:axis] + (a.shape[0],) + shape[axis + 1:])


def _gather(x, taps, axis):
    """sum_t w[:, t] * x[..., idx[:, t], ...] along ``axis`` (T takes, no GEMM)."""
    if taps.weight is None:
        if taps.repeat:
            return np.repeat(x, taps.repeat, axis=axis)
        return np.take(x, taps.index[:, 0], axis=axis)
    bshape = (-1,) + (1,) * (x.ndim - axis - 1)
    w = taps.weight.astype(x.dtype)
    with np.errstate(invalid="ignore"):         # inf * 0 and inf - inf give NaN, as in torch
        out = np.take(x, taps.index[:, 0], axis=axis)
        out *= w[:, 0].reshape(bshape)
        for t in range(1, taps.index.shape[1]):     # over the 2 or 4 taps
            term = np.take(x, taps.index[:, t], axis=axis)
            term *= w[:, t].reshape(bshape)
            out += term
    return out


class Resample(Kernel):
    """y = A_1 ... A_n x: spatial axis i resampled by its interpolation matrix A_i."""

    @staticmethod
    def forward(ctx, x, *, axes):
        ctx.axes, ctx.dtype = axes, x.dtype
        work = _work_dtype(x.dtype, axes)
        y = np.ascontiguousarray(x, dtype=work)
        n = len(axes)
        weighted = [t for t in axes if t is not None and t.weight is not None]
        dense = weighted and max(t.size for t in weighted) <= _DENSE_MAX \
            and bool(np.isfinite(y).all())
        for i in reversed(range(n)):
            taps = axes[i]
            if taps is None:
                continue
            if dense and taps.weight is not None:
                y = _along(y, _matrix(taps, work), y.ndim - n + i)
            else:
                y = _gather(y, taps, y.ndim - n + i)
        if y is x:
            y = y.copy()
        return np.ascontiguousarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        """dx = A_1^T ... A_n^T dy (nearest by r: the sum over each r-block); its own
        gradient is the resampling again."""
        axes, dtype = ctx.axes, ctx.dtype
        return linear_backward(g, lambda g: _resample_transpose(g, axes, dtype),
                               lambda t: Resample.apply(t, axes=axes))


def _resample_transpose(g, axes, dtype):
    """A_1^T ... A_n^T g, in the working dtype, returned in ``dtype``."""
    work = _work_dtype(dtype, axes, grad=True)
    dx = np.ascontiguousarray(g, dtype=work)
    n = len(axes)
    for i, taps in enumerate(axes):
        if taps is None:
            continue
        axis = dx.ndim - n + i
        if taps.repeat:
            dx = _block_sum(dx, axis, taps.repeat)
        else:
            dx = _along(dx, _matrix(taps, work).T, axis)
    return np.asarray(dx, dtype=dtype)


def _block_sum(g, axis, r):
    """Sum of every run of r consecutive samples along ``axis``: r strided slices added (a
    reshape-sum over a short inner axis is ten times slower in NumPy)."""
    def part(j):
        return g[(slice(None),) * axis + (slice(j, None, r),)]
    out = part(0).copy()
    for j in range(1, r):
        out += part(j)
    return out


def _work_dtype(dtype, axes, grad=False):
    """Arithmetic dtype: float32 for half inputs of weighted modes (and of any gradient)."""
    if dtype == np.float16 and (grad or any(t is not None and t.weight is not None for t in axes)):
        return np.dtype(np.float32)
    return dtype



def _is_real(v):
    return isinstance(v, (numbers.Real, np.number)) and not isinstance(v, bool)


def _output_sizes(x, n, size, scale_factor, recompute_scale_factor):
    """(output sizes, scale factors handed to the index formulas) as torch computes them."""
    spatial = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != n:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                    "in (o1, o2, ...,oK) format.")
            if not all(is_int(s) for s in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            return [int(s) for s in size], [None] * n
        if not is_int(size):
            raise TypeError(f"interpolate(): size must be an int or a tuple of {n} ints, "
                            f"not {type(size).__name__}")
        return [int(size)] * n, [None] * n
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != n:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {spatial} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                "and scale_factor in (s1, s2, ...,sK) format.")
        factors = list(scale_factor)
    else:
        factors = [scale_factor] * n
    if not all(_is_real(f) for f in factors):
        raise TypeError(f"interpolate(): scale_factor must be a float or a tuple of {n} floats, "
                        f"but got {scale_factor!r}")
    factors = [float(f) for f in factors]
    out = [math.floor(s * f) for s, f in zip(spatial, factors)]
    return out, ([None] * n if recompute_scale_factor else factors)


def _check_sizes(x, n, out):
    spatial = x.shape[2:]
    if min(spatial) <= 0 or min(out) <= 0:
        names = ("D", "H", "W")[3 - n:]
        fmt = lambda sizes: ", ".join(f"{a}: {s}" for a, s in zip(names, sizes))  # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({fmt(spatial)}) output ({fmt(out)})")
    if x.shape[1] == 0:
        raise RuntimeError(f"Non-empty {x.ndim}D data tensor expected but got a tensor with "
                           f"sizes {fmt_size(x.shape)}")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, *S) ``input`` to ``size`` or ``S * scale_factor``.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' / 'bicubic' (4-D),
    'trilinear' (5-D), 'area' (adaptive average pooling). ``align_corners`` (linear and cubic
    modes) maps the corner samples onto each other; ``scale_factor`` is used as given in the
    source-index formula unless ``recompute_scale_factor`` asks for in/out sizes."""
    check_tensor(input, "interpolate")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    n = input.ndim - 2
    out, factors = _output_sizes(input, max(n, 0), size, scale_factor, recompute_scale_factor)
    if mode == "area" and size is None:
        factors = [None] * n
    if antialias:
        if mode in ("bilinear", "bicubic") and input.ndim == 4:
            raise NotImplementedError("interpolate(): antialias=True is not supported by minidl; "
                                      "use antialias=False")
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if mode not in _MODES or not 1 <= n <= 3 or (mode == "bicubic" and n != 2):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != n:
        want = _LINEAR_MODES[mode] + 2
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {want}D input")
    _check_sizes(input, n, out)
    if mode == "area":
        return getattr(adaptive_pool, f"adaptive_avg_pool{n}d")(input, tuple(out))
    dtype = input._data.dtype
    nearest = mode in ("nearest", "nearest-exact")
    if dtype.kind != "f" and not (nearest and dtype == np.uint8):
        raise NotImplementedError(f"interpolate(): mode '{mode}' is not implemented for dtype "
                                  f"{input.dtype} (floating point inputs only"
                                  f"{', or uint8' if nearest else ''})")
    # torch's index arithmetic: float64 for float64 inputs, float32 otherwise (and always
    # float32 in its 2-D nearest kernels)
    dt = np.float64 if dtype == np.float64 and not (nearest and n == 2) else np.float32
    if nearest:
        axes = [_nearest_taps(s, o, f, mode == "nearest-exact", n == 2 and mode == "nearest", dt)
                for s, o, f in zip(input.shape[2:], out, factors)]
    else:
        make = _cubic_taps if mode == "bicubic" else _linear_taps
        axes = [make(s, o, align_corners, f, dt) for s, o, f in zip(input.shape[2:], out, factors)]
    return Resample.apply(input, axes=tuple(axes))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
