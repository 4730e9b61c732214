"""Smooth activations -- GELU, SiLU, Mish, softplus, logsigmoid, softsign -- and the
piecewise-linear 'hard' approximations of sigmoid and swish (hardsigmoid, hardswish)."""
import math

import numpy as np

from ._erf import normal_cdf_and_density
from .activation import PointwiseActivation, apply_activation, sigmoid_array, softplus_array

__all__ = []

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GELU(PointwiseActivation):
    """y = x * Phi(x);  dy/dx = Phi(x) + x * phi(x)  (Phi, phi: standard normal cdf, pdf)."""

    @staticmethod
    def f(x, approximate):
        if approximate == "tanh":
            return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))))
        return x * normal_cdf_and_density(x)[0]

    @staticmethod
    def grad(g, x, approximate):
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
            dt = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dt)
        cdf, pdf = normal_cdf_and_density(x)
        return g * (cdf + x * pdf)


class SiLU(PointwiseActivation):
    """y = x * s, s = sigmoid(x);  dy/dx = s * (1 + x * (1 - s))."""

    @staticmethod
    def f(x):
        return x * sigmoid_array(x)

    @staticmethod
    def grad(g, x):
        s = sigmoid_array(x)
        return g * s * (1.0 + x * (1.0 - s))


class Mish(PointwiseActivation):
    """y = x * tanh(softplus(x));  dy/dx = t + x * sigmoid(x) * (1 - t^2)."""

    @staticmethod
    def f(x):
        return x * np.tanh(softplus_array(x))

    @staticmethod
    def grad(g, x):
        t = np.tanh(softplus_array(x))
        return g * (t + x * sigmoid_array(x) * (1.0 - t * t))


class Softplus(PointwiseActivation):
    """y = log(1 + exp(beta x)) / beta (x where beta x > threshold);
    dy/dx = sigmoid(beta x) (1 past the threshold)."""

    @staticmethod
    def f(x, beta, threshold):
        bx = x * beta
        return np.where(bx > threshold, x, softplus_array(bx) / beta)

    @staticmethod
    def grad(g, x, beta, threshold):
        bx = x * beta
        return g * np.where(bx > threshold, 1.0, sigmoid_array(bx))


class Hardsigmoid(PointwiseActivation):
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


class Hardswish(PointwiseActivation):
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


class LogSigmoid(PointwiseActivation):
    """y = -softplus(-x);  dy/dx = 1 - sigmoid(x) = sigmoid(-x)."""

    @staticmethod
    def f(x):
        return -softplus_array(-x)

    @staticmethod
    def grad(g, x):
        return g * sigmoid_array(-x)


class Softsign(PointwiseActivation):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2."""

    @staticmethod
    def f(x):
        return x / (1.0 + np.abs(x))

    @staticmethod
    def grad(g, x):
        d = 1.0 + np.abs(x)
        return g / (d * d)


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh (got "
                           f"{approximate!r}).")
    return apply_activation(GELU, input, False, "gelu", approximate=approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    return apply_activation(SiLU, input, inplace, "silu")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return apply_activation(Mish, input, inplace, "mish")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""
    return apply_activation(Softplus, input, False, "softplus", beta=float(beta),
                            threshold=float(threshold))


def hardsigmoid(input, inplace=False):
    return apply_activation(Hardsigmoid, input, inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    return apply_activation(Hardswish, input, inplace, "hardswish")


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return apply_activation(LogSigmoid, input, False, "logsigmoid")


def softsign(input):
    return apply_activation(Softsign, input, False, "softsign")
