"""Erasing and Gaussian blur (``torchvision.transforms``): ``erase`` / ``RandomErasing``
(Zhong et al. 2017, "Random Erasing Data Augmentation") and ``gaussian_blur`` /
``GaussianBlur``.

The blur kernel is separable: ``k(x) = exp(-x^2 / (2 sigma^2))`` sampled at the integer
offsets ``-(n-1)/2 .. (n-1)/2`` and normalized to sum 1, ``K = k_y k_x^T``; the image is
reflect-padded by half the kernel and convolved channel by channel (minidl's ``conv2d``, so
float images keep their gradient).
"""
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from ...backend import rng as _rng
from ...nn import Module
from ...nn import functional as NF
from ...tensor import Tensor
from . import _functional_core as F

__all__ = ["erase", "gaussian_blur", "RandomErasing", "GaussianBlur"]


def erase(img, i, j, h, w, v, inplace=False):
    """Set the box ``[i, i + h) x [j, j + w)`` of a tensor image (..., C, H, W) to ``v`` (a
    tensor broadcastable to (C, h, w), or a number); a copy unless ``inplace``."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    _ = F.get_dimensions(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


def _gaussian_kernel1d(size, sigma, dtype):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size, dtype=dtype)
    pdf = np.exp(dtype(-0.5) * (x / dtype(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_kernel2d(kernel_size, sigma, dtype=np.float32):
    """The (ky, kx) kernel ``k_y k_x^T`` for ``kernel_size = (kx, ky)``, ``sigma = (sx, sy)``."""
    dtype = np.dtype(dtype).type
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    return ky[:, None] * kx[None, :]


def _pair_of(value, name, kind):
    if isinstance(value, kind) and not isinstance(value, bool):
        return [value, value]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return [value[0], value[0]]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"If {name} is a sequence its length should be 2. Got {value!r}")
    return list(value)


def _blur_tensor(img, kernel_size, sigma):
    c, h, w = F.get_dimensions(img)
    out_dtype = img.dtype
    x = img if img.is_floating_point() else img.float()
    kernel = gaussian_kernel2d(kernel_size, sigma, x.dtype.np)
    weight = Tensor(np.ascontiguousarray(np.broadcast_to(kernel, (c, 1) + kernel.shape)))
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    if px >= w or py >= h:
        raise ValueError(f"gaussian_blur: reflect padding of {(py, px)} needs an image larger "
                         f"than the padding, got {h} x {w}")
    batch = x.reshape(-1, c, h, w)
    y = NF.conv2d(NF.pad(batch, (px, px, py, py), mode="reflect"), weight, groups=c)
    y = y.reshape(img.shape)
    if y.dtype != out_dtype:
        y = y.round().to(out_dtype) if out_dtype.np.kind in "iu" else y.to(out_dtype)
    return y


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian of ``kernel_size`` (kx, ky; odd, positive; an int: square) and
    ``sigma`` (sx, sy; a number: both; None: ``0.3 ((k - 1) / 2 - 1) + 0.8`` =
    ``0.15 k + 0.35`` per axis), with reflect padding so that the size is kept. PIL images
    are blurred through their integer tensor and converted back."""
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got "
                        f"{type(kernel_size)}")
    kernel_size = _pair_of(kernel_size, "kernel_size", int)
    for k in kernel_size:
        if not isinstance(k, numbers.Integral) or k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got "
                             f"{kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    sigma = [float(s) for s in _pair_of(sigma, "sigma", (int, float))]
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if F._is_pil(img):
        out = _blur_tensor(F.pil_to_tensor(img), kernel_size, sigma)
        return F.to_pil_image(out, mode=img.mode)
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    return _blur_tensor(img, kernel_size, sigma)


class RandomErasing(Module):
    """With probability ``p``, erase a random box of a tensor image: area fraction ~
    U(scale), aspect ratio h / w log-uniform in ``ratio`` (up to 10 tries for a box that
    fits strictly inside, else nothing is erased), filled with ``value`` (a number, one per
    channel, or 'random' for standard-normal noise)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        if isinstance(value, bool) or not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"If value is str, it should be 'random', got {value!r}")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"Scale should be between 0 and 1, got {scale}")
        if p < 0 or p > 1:
            raise ValueError(f"Random erasing probability should be between 0 and 1, got {p}")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """``(i, j, h, w, v)``: the box and its values (``value`` None: noise (C, h, w));
        ``(0, 0, H, W, img)`` when no try fits."""
        c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        g = _rng()
        log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            erase_area = area * g.uniform(scale[0], scale[1])
            aspect = math.exp(g.uniform(log_lo, log_hi))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = Tensor(g.standard_normal((c, h, w)).astype(np.float32))
            else:
                v = Tensor(np.asarray(value, np.float32)[:, None, None])
            i = int(g.integers(0, img_h - h + 1))
            j = int(g.integers(0, img_w - w + 1))
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img

    def forward(self, img):
        if not isinstance(img, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(img)}")
        if _rng().random() < self.p:
            if isinstance(self.value, str):
                value = None
            elif isinstance(self.value, numbers.Number):
                value = [float(self.value)]
            else:
                value = [float(v) for v in self.value]
            channels = F.get_dimensions(img)[0]
            if value is not None and len(value) not in (1, channels):
                raise ValueError(f"If value is a sequence, it should have either a single value "
                                 f"or {channels} (number of input channels)")
            i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
            return erase(img, i, j, h, w, v, self.inplace)
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")


class GaussianBlur(Module):
    """``gaussian_blur`` with sigma ~ U(sigma) (a number: fixed), the same for x and y."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        if isinstance(kernel_size, numbers.Number):
            kernel_size = (int(kernel_size), int(kernel_size))
        elif isinstance(kernel_size, Sequence) and len(kernel_size) == 1:
            kernel_size = (kernel_size[0], kernel_size[0])
        elif not isinstance(kernel_size, Sequence) or len(kernel_size) != 2:
            raise ValueError("Kernel size should be a tuple/list of two integers")
        for k in kernel_size:
            if k <= 0 or k % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.kernel_size, self.sigma = tuple(kernel_size), sigma

    @staticmethod
    def get_params(sigma_min, sigma_max):
        """A random sigma ~ U(sigma_min, sigma_max)."""
        return float(_rng().uniform(sigma_min, sigma_max))

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"
