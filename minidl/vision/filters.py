"""Convolution as image filtering: classic filters as depthwise ``F.conv2d``, and the FFT.

Every linear filter here is a small kernel (a minidl tensor, built by ``*_kernel``) plus
a function that applies it to each channel of an image separately: ``F.conv2d`` with
``groups=C`` (a depthwise convolution) after padding the image with ``F.pad``, so the
output has the input's size and everything is differentiable. Images may be laid out
(N, C, H, W), (C, H, W) or (H, W) and must be floating point.

Conventions:

* ``F.conv2d`` -- and so every ``*_blur``, ``sobel``, ``laplacian``, ``filter2d`` here --
  computes a **cross-correlation**, out[i, j] = sum_{u,v} in[i + u, j + v] k[u, v], with no
  kernel flip (as torch, torchvision, OpenCV's filter2D). ``fft_conv2d`` does either.
* ``padding_mode`` is how the border is filled: ``'reflect'`` (default, as image libraries
  and torchvision's ``gaussian_blur``; mirror without repeating the edge pixel), ``'zeros'``,
  ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around).
* Kernel sizes must be odd and positive, so each kernel has a centre pixel. A size or sigma
  given as a pair is ``(x, y)`` = (width, height), as in torchvision's ``gaussian_blur``;
  a 2-D kernel tensor is laid out (height, width).

The frequency-domain half (``fft_conv2d``, ``lowpass`` / ``highpass``) runs on
``numpy.fft`` inside the kernels of ``minidl.ops.fft_conv``, whose backward passes are
written out there.
"""
import math
import numbers

import numpy as np

from ..backend import as_dtype, get_default_dtype
from ..nn import functional as F
from ..ops._util import as_operand
from ..ops.fft_conv import fft_convolve2d, frequency_filter
from ..tensor import Tensor
from ._filter_args import check_image, check_kernel, check_kernel_size, check_sigma, gaussian_args

__all__ = [
    "filter2d", "separable_filter2d",
    "box_kernel", "box_blur",
    "gaussian_kernel1d", "gaussian_kernel2d", "gaussian_blur",
    "median_blur",
    "sobel_kernel1d", "sobel_kernel", "sobel",
    "laplacian_kernel", "laplacian",
    "sharpen_kernel", "sharpen",
    "fft_conv2d",
    "gaussian_frequency_response", "lowpass", "highpass", "frequency_split",
    "magnitude_spectrum",
]

_PADDING_MODES = {"reflect": "reflect", "zeros": "constant", "replicate": "replicate",
                  "circular": "circular"}


# ------------------------------------------------------------------ helpers
def _dtype(dtype):
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def _tensor(array, dtype):
    return Tensor(np.asarray(array, dtype=_dtype(dtype).np))


def _pad(x, ph, pw, padding_mode, fn):
    """x (N, C, H, W) padded by ph rows above and below and pw columns left and right."""
    mode = _PADDING_MODES.get(padding_mode) if isinstance(padding_mode, str) else None
    if mode is None:
        raise ValueError(f"{fn}(): padding_mode must be one of {list(_PADDING_MODES)}, got "
                         f"{padding_mode!r}")
    if ph == 0 and pw == 0:
        return x
    H, W = x.shape[-2:]
    if (mode == "reflect" and (ph >= H or pw >= W)) or (mode == "circular" and (ph > H or pw > W)):
        raise ValueError(f"{fn}(): the kernel needs {padding_mode} padding of {ph} rows and {pw} "
                         f"columns, too much for an image of {H} x {W}; use a smaller kernel or "
                         f"padding_mode='replicate' or 'zeros'")
    return F.pad(x, (pw, pw, ph, ph), mode=mode)


def _depthwise(x, kernel, padding_mode, fn):
    """F.conv2d(pad(x), kernel on every channel, groups=C) for a kernel (kh, kw) or (C, kh, kw)."""
    C = x.shape[1]
    kh, kw = kernel.shape[-2:]
    if kernel.ndim == 3 and kernel.shape[0] != C:
        raise ValueError(f"{fn}(): a 3-d kernel holds one kernel per channel: shape "
                         f"{tuple(kernel.shape)} does not match {C} channels")
    w = kernel.reshape(-1, 1, kh, kw)
    if w.shape[0] != C:
        w = w.expand(C, 1, kh, kw)
    return F.conv2d(_pad(x, kh // 2, kw // 2, padding_mode, fn), w, groups=C)


# ------------------------------------------------------------------ applying kernels
def filter2d(img, kernel, padding_mode="reflect"):
    """out[n, c, i, j] = sum_{u,v} img_pad[n, c, i + u, j + v] k[u, v] (cross-correlation,
    output the input's size): ``kernel`` (kh, kw) on every channel or (C, kh, kw) one per
    channel, through ``F.conv2d(..., groups=C)``."""
    x, back = check_image(img, "filter2d")
    k = check_kernel(kernel, x, (2, 3), "filter2d")
    return back(_depthwise(x, k, padding_mode, "filter2d"))


def _separable(x, kernel_x, kernel_y, padding_mode, fn):
    """Two 1-D passes: along rows with kernel_x (1, kw), then along columns with kernel_y
    (kh, 1). Padding one axis commutes with filtering along the other, so this is exactly
    filter2d with outer(kernel_y, kernel_x) at (kh + kw) instead of kh * kw products a pixel."""
    y = _depthwise(x, kernel_x.reshape(1, -1), padding_mode, fn)
    return _depthwise(y, kernel_y.reshape(-1, 1), padding_mode, fn)


def separable_filter2d(img, kernel_x, kernel_y, padding_mode="reflect"):
    """filter2d(img, outer(kernel_y, kernel_x)) as two 1-D passes: kernel_x (kw,) along the
    width, then kernel_y (kh,) along the height."""
    x, back = check_image(img, "separable_filter2d")
    kx = check_kernel(kernel_x, x, (1,), "separable_filter2d", "kernel_x")
    ky = check_kernel(kernel_y, x, (1,), "separable_filter2d", "kernel_y")
    return back(_separable(x, kx, ky, padding_mode, "separable_filter2d"))


# ------------------------------------------------------------------ mean (box)
def box_kernel(kernel_size=3, *, dtype=None):
    """k[u, v] = 1 / (kh kw): the mean of the window. Shape (ky, kx)."""
    kx, ky = check_kernel_size(kernel_size, "box_kernel")
    return _tensor(np.full((ky, kx), 1.0 / (kx * ky)), dtype)


def box_blur(img, kernel_size=3, padding_mode="reflect"):
    """Mean filter: each pixel becomes the mean of its kernel_size window (separable: a
    1-D mean along rows, then along columns)."""
    x, back = check_image(img, "box_blur")
    kx, ky = check_kernel_size(kernel_size, "box_blur")
    ones = lambda k: _tensor(np.full(k, 1.0 / k), x.dtype)  # noqa: E731
    return back(_separable(x, ones(kx), ones(ky), padding_mode, "box_blur"))


# ------------------------------------------------------------------ Gaussian
def _gaussian1d(k, sigma):
    """g[i] = exp(-t_i^2 / (2 sigma^2)) / sum_j exp(-t_j^2 / (2 sigma^2)), t_i = i - (k - 1) / 2
    (torchvision's sampled, normalised Gaussian) as float64."""
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def gaussian_kernel1d(kernel_size=None, sigma=None, *, dtype=None):
    """g[i] = exp(-t_i^2 / (2 sigma^2)) / sum_j exp(-t_j^2 / (2 sigma^2)), t_i = i - (k - 1) / 2.
    Without kernel_size it is 2 ceil(3 sigma) + 1; without sigma, 0.3 ((k - 1) / 2 - 1) + 0.8
    (torchvision's and OpenCV's default). Sums to 1."""
    for name, value in (("kernel_size", kernel_size), ("sigma", sigma)):
        if value is not None and not isinstance(value, numbers.Real):
            raise TypeError(f"gaussian_kernel1d(): {name} should be a single number, got "
                            f"{value!r}")
    (k, _), (s, _) = gaussian_args(kernel_size, sigma, "gaussian_kernel1d")
    return _tensor(_gaussian1d(k, s), dtype)


def gaussian_kernel2d(kernel_size=None, sigma=None, *, dtype=None):
    """G[u, v] = g_y[u] g_x[v] (outer product of two 1-D Gaussians, so it is separable and
    sums to 1). kernel_size and sigma are numbers or (x, y) pairs; shape (ky, kx)."""
    (kx, ky), (sx, sy) = gaussian_args(kernel_size, sigma, "gaussian_kernel2d")
    return _tensor(np.outer(_gaussian1d(ky, sy), _gaussian1d(kx, sx)), dtype)


def gaussian_blur(img, kernel_size=None, sigma=None, padding_mode="reflect"):
    """Gaussian blur as torchvision's ``gaussian_blur`` (reflect padding; kernel_size and sigma
    numbers or (x, y) pairs; either may be left out, see ``gaussian_kernel1d``), done as two
    1-D passes: G = g_y g_x^T, so img * G = (img * g_x) * g_y."""
    x, back = check_image(img, "gaussian_blur")
    (kx, ky), (sx, sy) = gaussian_args(kernel_size, sigma, "gaussian_blur")
    gx, gy = _tensor(_gaussian1d(kx, sx), x.dtype), _tensor(_gaussian1d(ky, sy), x.dtype)
    return back(_separable(x, gx, gy, padding_mode, "gaussian_blur"))


# ------------------------------------------------------------------ median
def median_blur(img, kernel_size=3, padding_mode="reflect"):
    """out[i, j] = median of the kernel_size window around (i, j): the padded image's windows
    as a view (``Tensor.unfold`` twice), flattened, then ``median`` over the last dim. Not a
    convolution (the median is not linear); it removes salt-and-pepper noise and keeps edges.
    The gradient flows to the median pixel of each window."""
    x, back = check_image(img, "median_blur")
    kx, ky = check_kernel_size(kernel_size, "median_blur")
    p = _pad(x, ky // 2, kx // 2, padding_mode, "median_blur")
    windows = p.unfold(2, ky, 1).unfold(3, kx, 1)  # N, C, H, W, ky, kx
    return back(windows.reshape(tuple(x.shape) + (ky * kx,)).median(dim=-1).values)


# ------------------------------------------------------------------ Sobel
def sobel_kernel1d(normalized=True, *, dtype=None):
    """(smoothing, derivative) = ([1, 2, 1], [-1, 0, 1]), divided by 4 and 2 when normalized
    so the derivative of a ramp of slope a is a."""
    s, d = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])
    if normalized:
        s, d = s / 4, d / 2
    return _tensor(s, dtype), _tensor(d, dtype)


def _direction(direction, allowed, fn):
    if direction not in allowed:
        raise ValueError(f"{fn}(): direction must be one of {list(allowed)}, got {direction!r}")
    return direction


def sobel_kernel(direction="x", normalized=True, *, dtype=None):
    """S_x = [1, 2, 1]^T [-1, 0, 1] (smooth down the columns, differentiate along the rows),
    S_y = S_x^T; divided by 8 when normalized. Each sums to 0."""
    _direction(direction, ("x", "y"), "sobel_kernel")
    s, d = (t._data for t in sobel_kernel1d(normalized, dtype=dtype))
    return Tensor(np.outer(s, d) if direction == "x" else np.outer(d, s))


def sobel(img, direction="magnitude", normalized=True, padding_mode="reflect", eps=1e-12):
    """Image gradient by Sobel filtering, separable: d/dx = [-1, 0, 1] along rows after
    [1, 2, 1] along columns. direction 'x' (positive where intensity grows to the right),
    'y' (grows downwards) or 'magnitude' = sqrt(gx^2 + gy^2 + eps) (eps keeps the gradient
    finite where the image is flat)."""
    _direction(direction, ("x", "y", "magnitude"), "sobel")
    x, back = check_image(img, "sobel")
    s, d = (as_operand(t, x.dtype) for t in sobel_kernel1d(normalized))
    if direction == "x":
        return back(_separable(x, d, s, padding_mode, "sobel"))
    if direction == "y":
        return back(_separable(x, s, d, padding_mode, "sobel"))
    gx = _separable(x, d, s, padding_mode, "sobel")
    gy = _separable(x, s, d, padding_mode, "sobel")
    return back((gx * gx + gy * gy + eps).sqrt())


# ------------------------------------------------------------------ Laplacian, sharpen
def laplacian_kernel(neighbours=4, *, dtype=None):
    """Discrete Laplacian: 4 neighbours [[0, 1, 0], [1, -4, 1], [0, 1, 0]] (= f_xx + f_yy by
    central differences), 8 neighbours [[1, 1, 1], [1, -8, 1], [1, 1, 1]] (~ 3 (f_xx + f_yy),
    isotropic to higher order). Sums to 0."""
    if neighbours == 4:
        k = [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]
    elif neighbours == 8:
        k = [[1.0, 1.0, 1.0], [1.0, -8.0, 1.0], [1.0, 1.0, 1.0]]
    else:
        raise ValueError(f"laplacian_kernel(): neighbours must be 4 or 8, got {neighbours!r}")
    return _tensor(k, dtype)


def laplacian(img, neighbours=4, padding_mode="reflect"):
    """f_xx + f_yy of each channel by filtering with ``laplacian_kernel(neighbours)``; zero
    where the image is linear, large at edges and fine detail."""
    x, back = check_image(img, "laplacian")
    return back(_depthwise(x, laplacian_kernel(neighbours, dtype=x.dtype), padding_mode,
                           "laplacian"))


def sharpen_kernel(amount=1.0, *, dtype=None):
    """delta - amount * Laplacian_4 = [[0, -a, 0], [-a, 1 + 4a, -a], [0, -a, 0]]: add back
    ``amount`` times the detail the Laplacian finds (a = 1 is the classic sharpen kernel).
    Sums to 1, so flat regions are unchanged."""
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool) or \
            not math.isfinite(amount):
        raise TypeError(f"sharpen_kernel(): amount must be a finite real number, got {amount!r}")
    a = float(amount)
    return _tensor([[0.0, -a, 0.0], [-a, 1.0 + 4.0 * a, -a], [0.0, -a, 0.0]], dtype)


def sharpen(img, amount=1.0, padding_mode="reflect"):
    """img - amount * laplacian(img) by filtering with ``sharpen_kernel(amount)``. The result
    can leave the input's range (clamp it for display)."""
    x, back = check_image(img, "sharpen")
    k = sharpen_kernel(amount, dtype=x.dtype)
    return back(_depthwise(x, k, padding_mode, "sharpen"))


# ------------------------------------------------------------------ FFT convolution
def fft_conv2d(img, kernel, mode="full", *, correlate=True):
    """2-D convolution through the FFT, equal to the direct sum up to rounding.

    ``correlate=True`` (default) computes what ``F.conv2d`` computes, the cross-correlation
    out[i, j] = sum_{u,v} img[i + u, j + v] k[u, v]; ``correlate=False`` the true convolution
    out[i, j] = sum_{u,v} img[i - u, j - v] k[u, v] (the kernel flipped, as
    ``scipy.signal.fftconvolve``). Correlating with k is convolving with k flipped.

    mode: 'full' (every overlap, H + kh - 1 -- ``F.conv2d`` with padding kh - 1), 'same'
    (the input's size -- padding 'same', zeros outside) or 'valid' (only full overlaps,
    H - kh + 1 -- padding 0). kernel: (kh, kw) for every channel, (C, kh, kw) one per channel
    (``F.conv2d(groups=C)``), or a conv weight (O, C, kh, kw) (``groups=1``; img then
    (N, C, H, W) or (C, H, W)). Kernel sizes may be even here. Differentiable in img and kernel.
    """
    fn = "fft_conv2d"
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"{fn}(): mode must be 'full', 'same' or 'valid', got {mode!r}")
    x, back = check_image(img, fn)
    if not isinstance(kernel, Tensor):
        raise TypeError(f"{fn}(): kernel must be a Tensor, got {type(kernel).__name__}")
    if kernel.ndim not in (2, 3, 4) or (kernel.ndim == 4 and img.ndim == 2):
        raise ValueError(f"{fn}(): kernel must be (kh, kw), (C, kh, kw) or, for an image with "
                         f"channels, (O, C, kh, kw); got kernel {tuple(kernel.shape)} for img "
                         f"{tuple(img.shape)}")
    C = x.shape[1]
    k = as_operand(kernel, x.dtype)
    if k.ndim == 2:
        k = k.expand(C, *k.shape)
    if k.shape[-3] != C:
        raise ValueError(f"{fn}(): kernel {tuple(kernel.shape)} does not match the {C} channels "
                         f"of img {tuple(img.shape)}")
    if min(k.shape[-2:]) == 0:
        raise ValueError(f"{fn}(): kernel must not be empty, got shape {tuple(kernel.shape)}")
    (H, W), (kh, kw) = x.shape[-2:], k.shape[-2:]
    if mode == "valid" and (kh > H or kw > W):
        raise ValueError(f"{fn}(): mode 'valid' needs the kernel ({kh} x {kw}) no larger than "
                         f"the image ({H} x {W})")
    y = fft_convolve2d(x, k, mode, correlate)
    if kernel.ndim == 4:
        return y if img.ndim == 4 else y[0]
    return back(y)


# ------------------------------------------------------------------ frequency domain
def gaussian_frequency_response(size, sigma, *, onesided=True, dtype=None):
    """H(u, v) = exp(-2 pi^2 (sx^2 u^2 + sy^2 v^2)), u, v in cycles per pixel
    (``numpy.fft.fftfreq``): the Fourier transform of a unit-mass Gaussian of std sigma
    pixels is a Gaussian of std 1 / (2 pi sigma). ``size`` is (H, W); the layout is
    ``rfft2``'s (H, W // 2 + 1) when onesided, else ``fft2``'s (H, W) (zero frequency at
    [0, 0])."""
    fn = "gaussian_frequency_response"
    if (not isinstance(size, (tuple, list)) or len(size) != 2 or
            not all(isinstance(n, numbers.Integral) and n > 0 for n in size)):
        raise ValueError(f"{fn}(): size must be (H, W) of positive ints, got {size!r}")
    sx, sy = check_sigma(sigma, fn)
    H, W = int(size[0]), int(size[1])
    v = np.fft.fftfreq(H)[:, None]
    u = (np.fft.rfftfreq(W) if onesided else np.fft.fftfreq(W))[None, :]
    return _tensor(np.exp(-2.0 * math.pi ** 2 * ((sx * u) ** 2 + (sy * v) ** 2)), dtype)


def lowpass(img, sigma):
    """Gaussian low-pass in the frequency domain: img's spectrum times
    exp(-2 pi^2 sigma^2 |f|^2), i.e. a Gaussian blur of std sigma pixels with circular
    (wrap-around) borders."""
    check_image(img, "lowpass")
    H, W = img.shape[-2:]
    response = gaussian_frequency_response((H, W), sigma, dtype=img.dtype)._data
    return frequency_filter(img, response)


def highpass(img, sigma):
    """img - lowpass(img, sigma): the detail a Gaussian of std sigma removes."""
    return img - lowpass(img, sigma)


def frequency_split(img, sigma):
    """(low, high) = (lowpass(img, sigma), img - low): low + high == img exactly."""
    low = lowpass(img, sigma)
    return low, img - low


def magnitude_spectrum(img, log=True):
    """|DFT(img)| over the last two dims with zero frequency moved to the centre
    (``fftshift``); log(1 + |.|) when ``log``. For display: not differentiable."""
    check_image(img, "magnitude_spectrum")
    a = img.detach().numpy()
    m = np.abs(np.fft.fftshift(np.fft.fft2(a), axes=(-2, -1)))
    return Tensor((np.log1p(m) if log else m).astype(a.dtype, copy=False))
