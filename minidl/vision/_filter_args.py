"""The argument checks of ``minidl.vision.filters``: images, kernel sizes, sigmas, kernels."""
import math
import numbers

from ..ops._util import as_operand
from ..tensor import Tensor

__all__ = ["check_image", "as_pair", "check_kernel_size", "check_sigma", "gaussian_args",
           "check_kernel"]


def check_image(img, fn):
    """(img as N x C x H x W, function that gives a result the input's rank back)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"{fn}(): img must be a Tensor, got {type(img).__name__}")
    if not img.dtype.is_floating_point:
        raise TypeError(f"{fn}(): img must be a floating point tensor, got {img.dtype} (convert "
                        f"with img.float(), dividing 8-bit images by 255)")
    if img.ndim == 4:
        return img, lambda y: y
    if img.ndim == 3:
        return img.unsqueeze(0), lambda y: y[0]
    if img.ndim == 2:
        return img.reshape((1, 1) + tuple(img.shape)), lambda y: y[0, 0]
    raise ValueError(f"{fn}(): img must be laid out (N, C, H, W), (C, H, W) or (H, W), got "
                     f"shape {tuple(img.shape)}")


def as_pair(value, name, fn, kind):
    """(x, y) from a number or a sequence of one or two numbers of ``kind``."""
    ok = (lambda v: isinstance(v, numbers.Integral)) if kind is int else \
         (lambda v: isinstance(v, numbers.Real))
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(values) not in (1, 2) or not all(ok(v) and not isinstance(v, bool) for v in values):
        kind_name = "int" if kind is int else "float"
        raise TypeError(f"{fn}(): {name} should be a {kind_name} or a sequence of two of them "
                        f"(x, y), got {value!r}")
    return (kind(values[0]), kind(values[-1]))


def check_kernel_size(kernel_size, fn):
    ks = as_pair(kernel_size, "kernel_size", fn, int)
    if any(k <= 0 or k % 2 == 0 for k in ks):
        raise ValueError(f"{fn}(): kernel_size should have odd and positive integers, got "
                         f"{kernel_size!r}")
    return ks


def check_sigma(sigma, fn):
    s = as_pair(sigma, "sigma", fn, float)
    if not all(v > 0 and math.isfinite(v) for v in s):
        raise ValueError(f"{fn}(): sigma should have positive finite values, got {sigma!r}")
    return s


def gaussian_args(kernel_size, sigma, fn):
    """((kx, ky), (sx, sy)): a missing size is 2 ceil(3 sigma) + 1 (+-3 sigma, the mass
    outside is 0.3%); a missing sigma is torchvision's 0.3 ((k - 1) / 2 - 1) + 0.8."""
    if kernel_size is None and sigma is None:
        raise ValueError(f"{fn}(): give kernel_size, sigma or both")
    if sigma is not None:
        sigma = check_sigma(sigma, fn)
    if kernel_size is None:
        kernel_size = tuple(2 * math.ceil(3.0 * s) + 1 for s in sigma)
    ks = check_kernel_size(kernel_size, fn)
    if sigma is None:
        sigma = tuple(0.15 * k + 0.35 for k in ks)
    return ks, sigma


def check_kernel(kernel, x, ndims, fn, arg="kernel"):
    """``kernel`` as x's dtype; ``ndims`` are the allowed ranks; every size odd."""
    if not isinstance(kernel, Tensor):
        raise TypeError(f"{fn}(): {arg} must be a Tensor, got {type(kernel).__name__}")
    if kernel.ndim not in ndims:
        raise ValueError(f"{fn}(): {arg} must have {' or '.join(map(str, ndims))} dims, got shape "
                         f"{tuple(kernel.shape)}")
    if any(k % 2 == 0 for k in kernel.shape[-2:]):
        raise ValueError(f"{fn}(): {arg} sizes must be odd (the kernel needs a centre pixel), "
                         f"got shape {tuple(kernel.shape)}")
    return as_operand(kernel, x.dtype)
