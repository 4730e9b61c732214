"""Full-reference image quality: PSNR and SSIM, as the super-resolution papers measure them.

``psnr(output, target)`` and ``ssim(output, target)`` take NumPy arrays or tensors of one
image ``H x W`` / ``C x H x W`` (a float back) or a batch ``N x C x H x W`` (one figure per
image, a float64 array). Values are on ``[0, data_range]`` (default 1).

- ``y_channel=True`` measures RGB images (C = 3, values in [0, 1]) on their luma as the SR
  papers do (MATLAB's ``rgb2ycbcr``, ITU-R BT.601 studio range):
  Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255.
- ``border=b`` leaves out ``b`` pixels on every side (the SR papers crop ``scale`` pixels).

PSNR = 10 log10(data_range^2 / MSE), the mean over all channels and pixels (inf when equal).
SSIM (Wang, Bovik, Sheikh & Simoncelli 2004): local means, variances and covariance under
an 11 x 11 Gaussian window of sigma 1.5 (normalised, taken only where it fits the image),
SSIM = ((2 mu_x mu_y + C1)(2 s_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2)) with
C1 = (K1 L)^2, C2 = (K2 L)^2, K1 = 0.01, K2 = 0.03, L = data_range; the image's figure is
the mean of the map over its pixels and channels (scikit-image's ``structural_similarity``
with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``).
"""
import numpy as np

from ..tensor import Tensor

__all__ = ["psnr", "ssim", "rgb_to_y", "gaussian_window"]

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255


def rgb_to_y(images):
    """Luma of RGB images ``... x 3 x H x W`` in [0, 1] (BT.601 studio range, as MATLAB's
    ``rgb2ycbcr``): ``... x 1 x H x W`` in [16/255, 235/255]."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"rgb_to_y expects RGB images with 3 channels at dimension -3, got "
                         f"shape {tuple(x.shape)}")
    return (16 / 255 + np.tensordot(x, _Y_WEIGHTS, axes=([-3], [0])))[..., None, :, :]


def _prepare(name, output, target, data_range, border, y_channel):
    arrays = []
    for what, v in (("output", output), ("target", target)):
        if isinstance(v, Tensor):
            v = v.detach().numpy()
        v = np.asarray(v)
        if v.dtype.kind not in "fiub":
            raise TypeError(f"{name}: {what} must hold numbers, got dtype {v.dtype}")
        arrays.append(v.astype(np.float64))
    x, y = arrays
    if x.shape != y.shape:
        raise ValueError(f"{name}: output and target shapes differ: {tuple(x.shape)} vs "
                         f"{tuple(y.shape)}")
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{name}: expected images H x W, C x H x W or N x C x H x W, got "
                         f"shape {tuple(x.shape)}")
    if not data_range > 0:
        raise ValueError(f"{name}: data_range must be positive, got {data_range}")
    if int(border) != border or border < 0:
        raise ValueError(f"{name}: border must be a number of pixels >= 0, got {border}")
    single = x.ndim < 4
    x, y = (a.reshape((1,) * (4 - a.ndim) + a.shape) for a in (x, y))
    if y_channel:
        if data_range != 1:
            raise ValueError(f"{name}: y_channel=True needs RGB values in [0, 1] "
                             f"(data_range=1), got data_range={data_range}")
        x, y = rgb_to_y(x), rgb_to_y(y)
    b = int(border)
    if b:
        if min(x.shape[-2:]) <= 2 * b:
            raise ValueError(f"{name}: border {b} leaves nothing of {x.shape[-2]} x "
                             f"{x.shape[-1]} images")
        x, y = x[..., b:-b, b:-b], y[..., b:-b, b:-b]
    return x, y, single


def psnr(output, target, data_range=1.0, border=0, y_channel=False):
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE) per image."""
    x, y, single = _prepare("psnr", output, target, data_range, border, y_channel)
    mse = ((x - y) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        value = 10 * np.log10(data_range ** 2 / mse)
    return float(value[0]) if single else value


def _gaussian(size, sigma):
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-r ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def gaussian_window(size=11, sigma=1.5):
    """The normalised ``size`` x ``size`` Gaussian window (float64) of SSIM."""
    g = _gaussian(size, sigma)
    return np.outer(g, g)


def _filter_valid(images, g):
    """Separable 'valid' filtering of ``... x H x W`` with the 1-D kernel ``g`` (rows, then
    columns)."""
    k = len(g)
    rows = np.lib.stride_tricks.sliding_window_view(images, k, axis=-1) @ g
    return np.lib.stride_tricks.sliding_window_view(rows, k, axis=-2) @ g


def ssim(output, target, data_range=1.0, border=0, y_channel=False, win_size=11, sigma=1.5,
         k1=0.01, k2=0.03):
    """Structural similarity (Wang et al. 2004) with a Gaussian window, per image."""
    x, y, single = _prepare("ssim", output, target, data_range, border, y_channel)
    if min(x.shape[-2:]) < win_size:
        raise ValueError(f"ssim: images of {x.shape[-2]} x {x.shape[-1]} pixels are smaller "
                         f"than the {win_size} x {win_size} window")
    g = _gaussian(win_size, sigma)
    mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)
    var_x = _filter_valid(x * x, g) - mu_x ** 2
    var_y = _filter_valid(y * y, g) - mu_y ** 2
    cov = _filter_valid(x * y, g) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1)
                                                   * (var_x + var_y + c2))
    value = s.mean(axis=(1, 2, 3))
    return float(value[0]) if single else value
