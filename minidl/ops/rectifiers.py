"""Rectifiers: piecewise-linear (and exponential-linear) units around ReLU -- leaky ReLU,
ELU / SELU / CELU, hardtanh / ReLU6, threshold and PReLU (learned slope)."""
import numpy as np

from ..autograd import Kernel
from ._util import check_tensor, promote
from .activation import PointwiseActivation, apply_activation

__all__ = ["selu", "celu", "selu_", "celu_", "prelu", "threshold", "threshold_"]

SELU_ALPHA = 1.6732632423543772848170429916717  # SELU's self-normalising constants
SELU_SCALE = 1.0507009873554804934193349852946


class LeakyReLU(PointwiseActivation):
    """y = x (x > 0) else slope * x;  dy/dx = 1 or slope."""

    @staticmethod
    def f(x, slope):
        if 0.0 <= slope <= 1.0:
            return np.maximum(x, x * slope)
        return x * _select(x > 0, 1.0, slope, x.dtype)

    @staticmethod
    def save(x, y, slope):
        return (x > 0,)

    @staticmethod
    def grad(g, pos, slope):
        return g * _select(pos, 1.0, slope, g.dtype)


class ELU(PointwiseActivation):
    """y = scale * (x (x > 0) else alpha * (exp(x / in_scale) - 1)) -- ELU, SELU and CELU;
    dy/dx = scale (x > 0) else scale * alpha / in_scale * exp(x / in_scale)."""

    @staticmethod
    def f(x, alpha, scale, in_scale):
        out = np.expm1(np.minimum(x, 0) * (1.0 / in_scale))
        out *= alpha
        out += np.maximum(x, 0)  # each term is zero where the other applies
        return out * scale if scale != 1.0 else out

    @staticmethod
    def grad(g, x, alpha, scale, in_scale):
        d = np.exp(np.minimum(x, 0) * (1.0 / in_scale))
        d *= scale * alpha / in_scale
        d += (x > 0) * (scale - d)
        return g * d


class Hardtanh(PointwiseActivation):
    """y = clamp(x, lo, hi);  dy/dx = 1 strictly inside (lo, hi), else 0."""

    @staticmethod
    def f(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def save(x, y, lo, hi):
        return ((x > lo) & (x < hi),)

    @staticmethod
    def grad(g, inside, lo, hi):
        return g * inside


class Threshold(PointwiseActivation):
    """y = x (x > threshold) else value;  dy/dx = 1 where x > threshold, else 0."""

    @staticmethod
    def f(x, threshold, value):
        return np.where(x > threshold, x, np.asarray(value, x.dtype))

    @staticmethod
    def save(x, y, threshold, value):
        return (x > threshold,)

    @staticmethod
    def grad(g, above, threshold, value):
        return g * above


def _select(mask, a, b, dtype):
    """a where mask else b (scalars), as an array of ``dtype``; arithmetic, not np.where,
    which is slow on unpredictable masks."""
    out = np.multiply(mask, a - b, dtype=dtype)
    out += b
    return out


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return apply_activation(LeakyReLU, input, inplace, "leaky_relu", slope=float(negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return apply_activation(ELU, input, inplace, "elu", alpha=float(alpha), scale=1.0, in_scale=1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return apply_activation(ELU, input, inplace, "selu", alpha=SELU_ALPHA, scale=SELU_SCALE,
                            in_scale=1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu(): alpha must not be 0")
    return apply_activation(ELU, input, inplace, "celu", alpha=float(alpha), scale=1.0,
                            in_scale=float(alpha))


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"min_val cannot be greater than max_val (got min_val={min_val}, "
                         f"max_val={max_val})")
    return apply_activation(Hardtanh, input, inplace, "hardtanh", lo=float(min_val),
                            hi=float(max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    return apply_activation(Hardtanh, input, inplace, "relu6", lo=0.0, hi=6.0)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    return apply_activation(Threshold, input, inplace, "threshold", threshold=float(threshold),
                            value=float(value))


def threshold_(input, threshold, value):
    return apply_activation(Threshold, input, True, "threshold_", threshold=float(threshold),
                            value=float(value))


class PReLU(Kernel):
    """y = x (x > 0) else a * x with ``a`` per channel (dim 1) or shared;
    dx = g (x > 0) else g * a,  da = sum of g * x over x <= 0."""

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return np.where(x > 0, x, x * _channel_slope(a, x.ndim))

    @staticmethod
    def backward(ctx, g):
        x, a = ctx.saved_tensors
        aa = _channel_slope(a, x.ndim)
        pos = x > 0
        gx = np.where(pos, g, g * aa) if ctx.needs_input_grad[0] else None
        ga = None
        if ctx.needs_input_grad[1]:
            prod = np.where(pos, 0, g * x)
            axes = tuple(i for i in range(x.ndim) if aa.ndim == 0 or aa.shape[i] == 1)
            ga = prod.sum(axis=axes).reshape(a.shape)
        return gx, ga


def _channel_slope(a, ndim):
    """PReLU's slope shaped to broadcast along the channel dim (dim 1)."""
    if a.size == 1:
        return a.reshape((1,) * ndim)
    return a.reshape((1, a.size) + (1,) * (ndim - 2))


def prelu(input, weight):
    """Leaky ReLU with a learned slope ``weight`` (one value, or one per channel)."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight")
    n = weight.numel()
    if input.ndim == 0 and n != 1:
        raise RuntimeError(f"prelu(): Not allow zero-dim input tensor with {n} weights (a 0-d "
                           f"input takes one shared weight).")
    channels = input.shape[1] if input.ndim >= 2 else 1  # torch: a 1-D input has one channel
    if n != 1 and n != channels:
        raise RuntimeError(f"prelu(): mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels} (input of "
                           f"shape {tuple(input.shape)}).")
    x, w = promote(input, weight)
    return PReLU.apply(x, w)
