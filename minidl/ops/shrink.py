"""Shrinkage activations: hardshrink, softshrink (soft thresholding) and tanhshrink."""
import numpy as np

from .activation import PointwiseActivation, apply_activation

__all__ = ["hardshrink"]


class Tanhshrink(PointwiseActivation):
    """y = x - tanh(x);  dy/dx = tanh(x)^2."""

    @staticmethod
    def f(x):
        return x - np.tanh(x)

    @staticmethod
    def grad(g, x):
        t = np.tanh(x)
        return g * t * t


class Shrink(PointwiseActivation):
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


def tanhshrink(input):
    return apply_activation(Tanhshrink, input, False, "tanhshrink")


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return apply_activation(Shrink, input, False, "hardshrink", lambd=float(lambd), soft=False)


def softshrink(input, lambd=0.5):
    """x - sign(x) * lambd where |x| > lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply_activation(Shrink, input, False, "softshrink", lambd=float(lambd), soft=True)
