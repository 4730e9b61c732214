"""Core activations: the ``PointwiseActivation`` kernel every pointwise activation is built
on, relu / sigmoid / tanh, and softmax / log_softmax / softmin.

A ``PointwiseActivation``'s ``f`` computes y = f(x) and ``grad`` the input gradient
g * f'(x) from whichever of x, y the formula needs (``saves``). The other activations live in
``rectifiers``, ``smooth_activations`` and ``shrink``; dropout in ``dropout``.
"""
import warnings

import numpy as np

from .. import backend
from ..autograd import Kernel
from ..backend.parallel import elementwise
from ._inplace import inplace_method
from ._operands import dtype_name, unary_function
from ._reduce_dims import reduction_axis
from ._util import check_tensor
from .cast import cast
from .unary import neg

__all__ = ["relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "softmax", "log_softmax"]


# ----------------------------------------------------------- relu, sigmoid, tanh
class Tanh(Kernel):
    """y = tanh x; dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = elementwise(np.tanh, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return elementwise(lambda g, y: g * (1.0 - y * y), g, y)


class Sigmoid(Kernel):
    """y = 1/(1 + e^-x); dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = elementwise(_sigmoid, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return elementwise(lambda g, y: g * (y * (1.0 - y)), g, y)


def _sigmoid(x):
    y = np.negative(x, out=np.empty_like(x))  # an array also when x is 0-d
    with np.errstate(over="ignore"):  # e^-x = inf for x << 0 gives y = 0 exactly
        np.exp(y, out=y)
    y += 1.0
    return np.reciprocal(y, out=y)


class Relu(Kernel):
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0 (0 at x = 0, as torch)."""

    @staticmethod
    def forward(ctx, x):
        y = elementwise(lambda x: np.maximum(x, 0), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return elementwise(lambda g, y: g * (y > 0), g, y)


tanh = unary_function(Tanh, "tanh")
sigmoid = unary_function(Sigmoid, "sigmoid")


def relu(input, inplace=False):
    """max(input, 0); ``inplace=True`` (F.relu) overwrites ``input``."""
    check_tensor(input, "relu")
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input._inplace(Relu.apply)
    return Relu.apply(input)


def relu_(input):
    return relu(input, inplace=True)


sigmoid_ = inplace_method(sigmoid)
tanh_ = inplace_method(tanh)


# ------------------------------------------------------------ pointwise kernel
class PointwiseActivation(Kernel):
    """y = f(x) elementwise; backward calls grad(g, *saved) with saved = save(x, y) (the
    input by default). In place, ``Tensor._inplace`` copies a saved input before the result
    overwrites it."""

    @staticmethod
    def forward(ctx, x, **attrs):
        fn = ctx._fn
        y = elementwise(lambda x: fn.f(x, **attrs), x)
        ctx.save_for_backward(*fn.save(x, y, **attrs))
        ctx.attrs = attrs
        return y

    @staticmethod
    def backward(ctx, g):
        fn, attrs = ctx._fn, ctx.attrs
        return elementwise(lambda g, *saved: fn.grad(g, *saved, **attrs), g, *ctx.saved_tensors)

    @staticmethod
    def save(x, y, **attrs):
        return (x,)


def sigmoid_array(x):
    """The logistic function 1 / (1 + exp(-x)) on an array (exp may overflow to inf: the
    result is then exactly 0, as it should be)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softplus_array(x):
    """log(1 + exp(x)) on an array without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def apply_activation(kernel, input, inplace, fn, **attrs):
    """``kernel`` on a floating ``input`` (``inplace``: written back into ``input``)."""
    check_tensor(input, fn)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point input, got {input.dtype}")
    if inplace:
        return input._inplace(lambda x: kernel.apply(x, **attrs))
    return kernel.apply(input, **attrs)


# ---------------------------------------------------------------------- softmax
class Softmax(Kernel):
    """y = e^(x - max) / sum e^(x - max); dL/dx = y (g - sum(g y))."""

    @staticmethod
    def forward(ctx, x, axis):
        y = np.asarray(x - np.max(x, axis=axis, keepdims=True)) if x.size else x.copy()
        np.exp(y, out=y)
        y /= np.sum(y, axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        gy = g * y
        gy -= y * np.sum(gy, axis=ctx.axis, keepdims=True)
        return gy


class LogSoftmax(Kernel):
    """y = x - max - ln sum e^(x - max); dL/dx = g - e^y sum(g)."""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = x - np.max(x, axis=axis, keepdims=True) if x.size else x.copy()
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - np.exp(y) * np.sum(g, axis=ctx.axis, keepdims=True)


def _softmax_args(input, dim, dtype, stacklevel, fn):
    """(input cast to dtype, numpy axis); F.softmax's implicit dim when ``dim`` is None."""
    check_tensor(input, fn)
    if isinstance(stacklevel, backend.dtype):  # torch.softmax(input, dim, dtype) positionally
        dtype, stacklevel = stacklevel, 3
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call "
                      f"to include dim=X as an argument.", stacklevel=stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{fn}\" not implemented for '{dtype_name(input)}' (cast "
                                  f"the input to a floating dtype or pass dtype=)")
    return input, reduction_axis(dim, input.ndim, fn)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "softmax")
    return Softmax.apply(x, axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed without forming softmax."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "log_softmax")
    return LogSoftmax.apply(x, axis)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    x, axis = _softmax_args(input, dim, dtype, _stacklevel, "softmin")
    return Softmax.apply(neg(x), axis)


def softmax_method(self, dim, dtype=None):
    return softmax(self, dim, dtype=dtype)


def log_softmax_method(self, dim, dtype=None):
    return log_softmax(self, dim, dtype=dtype)
