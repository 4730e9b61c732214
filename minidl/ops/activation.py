"""Activation functions and dropout (``F.leaky_relu``, ``F.gelu``, ``F.dropout``, ...).

Every pointwise activation is a ``_Pointwise`` kernel: ``f`` computes y = f(x) and ``grad``
the input gradient g * f'(x) from whichever of x, y the formula needs (``saves``).
relu / sigmoid / tanh / softmax / log_softmax live in ``elementwise`` / ``reduce``.
"""
import math

import numpy as np

from ..autograd import Kernel
from ..backend import rng
from ._util import check_tensor, promote
from .elementwise import _erf

__all__ = ["selu", "celu", "selu_", "celu_", "prelu", "threshold", "threshold_", "hardshrink",
           "dropout", "dropout_", "alpha_dropout", "feature_dropout"]

TENSOR_METHODS = {}
FUNCTIONAL = ["leaky_relu", "leaky_relu_", "gelu", "elu", "elu_", "selu", "selu_", "celu",
              "celu_", "silu", "mish", "softplus", "hardtanh", "hardtanh_", "relu6",
              "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "threshold",
              "threshold_", "hardshrink", "softshrink", "prelu", "dropout", "dropout1d",
              "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _Pointwise(Kernel):
    """y = f(x) elementwise; backward calls grad(g, *saved) with saved = save(x, y) (the
    input by default). In place (``inplace=True``) a saved input is copied first, since the
    caller's tensor takes the result's place."""

    @staticmethod
    def forward(ctx, x, inplace=False, **attrs):
        fn = ctx._fn
        y = fn.f(x, **attrs)
        saved = fn.save(x, y, **attrs)
        if inplace:
            saved = tuple(a.copy() if a is x else a for a in saved)
        ctx.save_for_backward(*saved)
        ctx.attrs = attrs
        return y

    @staticmethod
    def backward(ctx, g):
        return ctx._fn.grad(g, *ctx.saved_tensors, **ctx.attrs)

    @staticmethod
    def save(x, y, **attrs):
        return (x,)


class LeakyReLU(_Pointwise):
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


class ELU(_Pointwise):
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


class GELU(_Pointwise):
    """y = x * Phi(x);  dy/dx = Phi(x) + x * phi(x)  (Phi, phi: standard normal cdf, pdf)."""

    @staticmethod
    def f(x, approximate):
        if approximate == "tanh":
            return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1.0 + _erf(x * _INV_SQRT_2))

    @staticmethod
    def grad(g, x, approximate):
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
            dt = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dt)
        cdf = 0.5 * (1.0 + _erf(x * _INV_SQRT_2))
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


class SiLU(_Pointwise):
    """y = x * s, s = sigmoid(x);  dy/dx = s * (1 + x * (1 - s))."""

    @staticmethod
    def f(x):
        return x * _sigmoid(x)

    @staticmethod
    def grad(g, x):
        s = _sigmoid(x)
        return g * s * (1.0 + x * (1.0 - s))


class Mish(_Pointwise):
    """y = x * tanh(softplus(x));  dy/dx = t + x * sigmoid(x) * (1 - t^2)."""

    @staticmethod
    def f(x):
        return x * np.tanh(softplus_array(x))

    @staticmethod
    def grad(g, x):
        t = np.tanh(softplus_array(x))
        return g * (t + x * _sigmoid(x) * (1.0 - t * t))


class Softplus(_Pointwise):
    """y = log(1 + exp(beta x)) / beta (x where beta x > threshold);
    dy/dx = sigmoid(beta x) (1 past the threshold)."""

    @staticmethod
    def f(x, beta, threshold):
        bx = x * beta
        y = softplus_array(bx) / beta
        above = bx > threshold
        if above.any():
            np.copyto(y, x, where=above)
        return y

    @staticmethod
    def grad(g, x, beta, threshold):
        bx = x * beta
        s = _sigmoid(bx)
        above = bx > threshold
        if above.any():
            s[above] = 1.0
        return g * s


class Hardtanh(_Pointwise):
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


class Hardsigmoid(_Pointwise):
    """y = clamp(x / 6 + 1/2, 0, 1);  dy/dx = 1/6 on (-3, 3), else 0."""

    @staticmethod
    def f(x):
        return np.clip(x + 3.0, 0, 6) / 6.0

    @staticmethod
    def save(x, y):
        return ((x > -3) & (x < 3),)

    @staticmethod
    def grad(g, inside):
        return g * inside / 6.0


class Hardswish(_Pointwise):
    """y = x * clamp(x + 3, 0, 6) / 6;  dy/dx = 0 (x <= -3), x / 3 + 1/2 (x < 3), 1."""

    @staticmethod
    def f(x):
        return x * np.clip(x + 3.0, 0, 6) / 6.0

    @staticmethod
    def grad(g, x):
        d = x / 3.0 + 0.5
        d *= (x > -3) & (x < 3)
        d += x >= 3
        return g * d


class LogSigmoid(_Pointwise):
    """y = -softplus(-x);  dy/dx = 1 - sigmoid(x) = sigmoid(-x)."""

    @staticmethod
    def f(x):
        return -softplus_array(-x)

    @staticmethod
    def grad(g, x):
        return g * _sigmoid(-x)


class Softsign(_Pointwise):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""

    @staticmethod
    def f(x):
        return x / (1.0 + np.abs(x))

    @staticmethod
    def grad(g, x):
        d = 1.0 + np.abs(x)
        return g / (d * d)


class Tanhshrink(_Pointwise):
    """y = x - tanh(x);  dy/dx = tanh(x)^2."""

    @staticmethod
    def f(x):
        return x - np.tanh(x)

    @staticmethod
    def grad(g, x):
        t = np.tanh(x)
        return g * t * t


class Threshold(_Pointwise):
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


class Shrink(_Pointwise):
    """hardshrink: y = x where |x| > lambd, else 0; softshrink: y = x - sign(x) lambd there.
    dy/dx = 1 where |x| > lambd, else 0."""

    @staticmethod
    def f(x, lambd, soft):
        keep = np.abs(x) > lambd
        out = x - np.sign(x) * lambd if soft else x
        return np.where(keep, out, 0).astype(x.dtype, copy=False)

    @staticmethod
    def save(x, y, lambd, soft):
        return (np.abs(x) > lambd,)

    @staticmethod
    def grad(g, keep, lambd, soft):
        return g * keep


def _sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)) on an array (exp may overflow to inf: the
    result is then exactly 0, as it should be)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softplus_array(x):
    """log(1 + exp(x)) on an array without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))



def _select(mask, a, b, dtype):
    """a where mask else b (scalars), as an array of ``dtype``; arithmetic, not np.where,
    which is slow on unpredictable masks."""
    out = np.multiply(mask, a - b, dtype=dtype)
    out += b
    return out


# ------------------------------------------------------------------ functions
def _activation(kernel, input, inplace, fn, **attrs):
    check_tensor(input, fn)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point input, got {input.dtype}")
    if inplace:
        return input._inplace(lambda x: kernel.apply(x, inplace=True, **attrs))
    return kernel.apply(input, **attrs)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return _activation(LeakyReLU, input, inplace, "leaky_relu", slope=float(negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh (got "
                           f"{approximate!r}).")
    return _activation(GELU, input, False, "gelu", approximate=approximate)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _activation(ELU, input, inplace, "elu", alpha=float(alpha), scale=1.0, in_scale=1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _activation(ELU, input, inplace, "selu", alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                       in_scale=1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu(): alpha must not be 0")
    return _activation(ELU, input, inplace, "celu", alpha=float(alpha), scale=1.0,
                       in_scale=float(alpha))


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    return _activation(SiLU, input, inplace, "silu")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _activation(Mish, input, inplace, "mish")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""
    return _activation(Softplus, input, False, "softplus", beta=float(beta),
                       threshold=float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"min_val cannot be greater than max_val (got min_val={min_val}, "
                         f"max_val={max_val})")
    return _activation(Hardtanh, input, inplace, "hardtanh", lo=float(min_val), hi=float(max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    return _activation(Hardtanh, input, inplace, "relu6", lo=0.0, hi=6.0)


def hardsigmoid(input, inplace=False):
    return _activation(Hardsigmoid, input, inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    return _activation(Hardswish, input, inplace, "hardswish")


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return _activation(LogSigmoid, input, False, "logsigmoid")


def softsign(input):
    return _activation(Softsign, input, False, "softsign")


def tanhshrink(input):
    return _activation(Tanhshrink, input, False, "tanhshrink")


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    return _activation(Threshold, input, inplace, "threshold", threshold=float(threshold),
                       value=float(value))


def threshold_(input, threshold, value):
    return _activation(Threshold, input, True, "threshold_", threshold=float(threshold),
                       value=float(value))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return _activation(Shrink, input, False, "hardshrink", lambd=float(lambd), soft=False)


def softshrink(input, lambd=0.5):
    """x - sign(x) * lambd where |x| > lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _activation(Shrink, input, False, "softshrink", lambd=float(lambd), soft=True)


class PReLU(Kernel):
    """y = x (x > 0) else a * x with ``a`` per channel (dim 1) or shared;
    dx = g (x > 0) else g * a,  da = sum of g * x over x <= 0."""

    @staticmethod
    def forward(ctx, x, a):
        shape = [1] * x.ndim
        if a.size > 1:
            shape[1 if x.ndim >= 2 else 0] = a.size
        aa = a.reshape(shape) if x.ndim else a.reshape(())
        ctx.save_for_backward(x, aa)
        ctx.a_shape = a.shape
        return np.where(x > 0, x, x * aa)

    @staticmethod
    def backward(ctx, g):
        x, aa = ctx.saved_tensors
        pos = x > 0
        gx = np.where(pos, g, g * aa) if ctx.needs_input_grad[0] else None
        ga = None
        if ctx.needs_input_grad[1]:
            prod = np.where(pos, 0, g * x)
            axes = tuple(i for i in range(x.ndim) if aa.ndim == 0 or aa.shape[i] == 1)
            ga = prod.sum(axis=axes).reshape(ctx.a_shape)
        return gx, ga


def prelu(input, weight):
    """Leaky ReLU with a learned slope ``weight`` (one value, or one per channel)."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight")
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
    if n != 1 and n != channels:
        raise RuntimeError(f"prelu(): mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels} (input of "
                           f"shape {tuple(input.shape)}).")
    x, w = promote(input, weight)
    return PReLU.apply(x, w)


# -------------------------------------------------------------------- dropout
class Dropout(Kernel):
    """y = x * m with m = keep / (1 - p) (inverted dropout);  dx = g * m."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None


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
    fill = -_SELU_ALPHA * _SELU_SCALE
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
