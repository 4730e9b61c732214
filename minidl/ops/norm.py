"""Normalisation: fused batch / layer / group / instance norm, RMS norm, local response norm.

The four mean/variance norms share one kernel, ``Normalize``: statistics over some axes of
x, then an affine map whose weight broadcasts along other axes. They differ only in the
axes (batch norm: all but the channel axis; layer norm: the trailing ones; instance norm:
the spatial ones; group norm: channels-in-group and spatial, after a free reshape).
RMS norm and AlexNet's local response norm (each channel over its neighbours' energy)
have kernels of their own. ``Normalize`` is in ``normalize.py``.
"""
import math

import numpy as np

from ..autograd import Kernel
from ._util import check_tensor
from .normalize import Normalize
from .pad import pad
from .window import is_int

# torch.batch_norm / torch.instance_norm take their arguments in another order than the
# functional forms, so only the names whose top-level signatures agree are exported there.
__all__ = ["layer_norm", "group_norm", "rms_norm"]


class RMSNorm(Kernel):
    """y = xhat * w with xhat = x / sqrt(mean(x^2) + eps) over the trailing ``axes``;
    dx = r * (gw - xhat * mean(gw * xhat)) with r = 1 / sqrt(mean(x^2) + eps), gw = g * w;
    dw = sum(g * xhat) over the leading axes."""

    @staticmethod
    def forward(ctx, x, weight, axes, eps):
        r = 1.0 / np.sqrt(np.mean(np.square(x), axis=axes, keepdims=True) + eps)
        xhat = x * r
        ctx.save_for_backward(xhat, r, weight)
        ctx.axes = axes
        return xhat * weight if weight is not None else xhat.copy()

    @staticmethod
    def backward(ctx, g):
        xhat, r, weight = ctx.saved_tensors
        gw = g * weight if weight is not None else g
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dx = (gw - xhat * np.mean(gw * xhat, axis=ctx.axes, keepdims=True)) * r
        if ctx.needs_input_grad[1]:
            lead = tuple(range(xhat.ndim - len(ctx.axes)))
            dw = (g * xhat).sum(axis=lead)
        return dx, dw

    @staticmethod
    def reference(x, weight, axes, eps):
        y = x * ((x * x).mean(dim=axes, keepdim=True) + eps).rsqrt()
        return y * weight if weight is not None else y


# ------------------------------------------------------------------ helpers
def _check_float(input, fn, *others):
    """All of input and the given (name, tensor-or-None) pairs share one floating dtype."""
    check_tensor(input, fn)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point input, got {input.dtype}")
    for name, t in others:
        if t is None:
            continue
        check_tensor(t, fn, name)
        if t._data.dtype != input._data.dtype:
            raise RuntimeError(f"{fn}(): mixed dtypes: input is {input.dtype} but {name} is "
                               f"{t.dtype}; all inputs must share the same dtype")


def _check_numel(fn, channels, *pairs):
    for name, t in pairs:
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{fn}(): {name} should contain {channels} elements not "
                               f"{t.numel()} (got {name} of shape {tuple(t.shape)})")


def _update_running(running, value, momentum):
    """running = (1 - momentum) * running + momentum * value, written outside the graph."""
    if running is not None:
        new = running._data * (1.0 - momentum) + value.reshape(running.shape) * momentum
        running._set_data_(new)


def _fixed_stats(running_mean, running_var, wshape, dtype):
    return (running_mean._data.reshape(wshape).astype(dtype, copy=False),
            running_var._data.reshape(wshape).astype(dtype, copy=False))


# ---------------------------------------------------------------- functions
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims, then scale and shift.

    In training the batch statistics are used and the running ones (if given) updated with
    ``momentum`` (the variance unbiased); otherwise the running statistics are used.
    """
    _check_float(input, "batch_norm", ("running_mean", running_mean),
                 ("running_var", running_var), ("weight", weight), ("bias", bias))
    if input.ndim < 2:
        raise IndexError(f"batch_norm(): expected an input with a channel dimension, (N, C) or "
                         f"(N, C, ...), but got input of shape {tuple(input.shape)}")
    C = input.shape[1]
    _check_numel("batch_norm", C, ("running_mean", running_mean), ("running_var", running_var),
                 ("weight", weight), ("bias", bias))
    view = (input.shape[0], C, input.numel() // max(input.shape[0] * C, 1))
    axes, wshape = (0, 2), (C, 1)
    if training:
        per_channel = view[0] * view[2]
        if per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape!r}")
        y, mean, var = Normalize.apply(input, weight, bias, axes=axes, wshape=wshape, eps=eps,
                                       view=view)
        if per_channel:  # an empty batch leaves the running statistics as they are (torch)
            _update_running(running_mean, mean._data, momentum)
            _update_running(running_var, var._data * (per_channel / (per_channel - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean must be defined in evaluation mode" if running_mean
                           is None else "running_var must be defined in evaluation mode")
    stats = _fixed_stats(running_mean, running_var, wshape, input._data.dtype)
    return Normalize.apply(input, weight, bias, axes=axes, wshape=wshape, eps=eps, view=view,
                           stats=stats)[0]


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized_shape(input, normalized_shape, *params):
    """The trailing dims of ``input`` and the shapes of the (name, tensor) ``params`` equal
    ``normalized_shape``; returns it as a tuple."""
    shape = _as_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in params:
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims of each sample, then affine."""
    _check_float(input, "layer_norm", ("weight", weight), ("bias", bias))
    shape = _check_normalized_shape(input, normalized_shape, ("weight", weight), ("bias", bias))
    D = int(np.prod(shape))
    return Normalize.apply(input, weight, bias, axes=(1,), wshape=(D,), eps=eps,
                           view=(input.numel() // max(D, 1), D))[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels into ``num_groups`` groups; normalise each group of each sample."""
    _check_float(input, "group_norm", ("weight", weight), ("bias", bias))
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(input.shape)}")
    G = num_groups
    view = (N, G, C // G, input.numel() // max(N * C, 1))
    axes, wshape = (2, 3), (G, C // G, 1)
    return Normalize.apply(input, weight, bias, axes=axes, wshape=wshape, eps=eps, view=view)[0]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims, then scale and shift."""
    _check_float(input, "instance_norm", ("running_mean", running_mean),
                 ("running_var", running_var), ("weight", weight), ("bias", bias))
    if input.ndim < 3:
        raise RuntimeError(f"instance_norm(): expected an input of shape (N, C, L, ...), got "
                           f"shape {tuple(input.shape)}")
    C = input.shape[1]
    _check_numel("instance_norm", C, ("running_mean", running_mean),
                 ("running_var", running_var), ("weight", weight), ("bias", bias))
    view = (input.shape[0], C, input.numel() // max(input.shape[0] * C, 1))
    axes, wshape = (2,), (C, 1)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        stats = _fixed_stats(running_mean, running_var, wshape, input._data.dtype)
        return Normalize.apply(input, weight, bias, axes=axes, wshape=wshape, eps=eps,
                               view=view, stats=stats)[0]
    n = view[2]
    if n <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape!r}")
    y, mean, var = Normalize.apply(input, weight, bias, axes=axes, wshape=wshape, eps=eps,
                                   view=view)
    _update_running(running_mean, mean._data.mean(axis=0), momentum)
    _update_running(running_var, (var._data * (n / (n - 1))).mean(axis=0), momentum)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` dims, times weight;
    ``eps`` defaults to the machine epsilon of the input's dtype."""
    _check_float(input, "rms_norm", ("weight", weight))
    shape = _check_normalized_shape(input, normalized_shape, ("weight", weight))
    k = len(shape)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    return RMSNorm.apply(input, weight, axes=axes, eps=float(eps))


# ------------------------------------------------------------------------ local response norm
def _channel_window_sum(a, before, after):
    """s[:, c] = sum of a[:, c - before .. c + after] along axis 1 (out-of-range taps are 0);
    one shifted add per window offset."""
    n, c, m = a.shape
    padded = np.zeros((n, c + before + after, m), a.dtype)
    padded[:, before:before + c] = a
    s = padded[:, :c].copy()
    for t in range(1, before + after + 1):
        s += padded[:, t:t + c]
    return s


class LocalResponseNorm(Kernel):
    """y = x d^-beta with d = k + alpha / size * sum_{c' in window(c)} x_{c'}^2, the window
    running over channels [c - size // 2, c + (size - 1) // 2] (AlexNet's LRN)."""

    @staticmethod
    def forward(ctx, x, *, size, alpha, beta, k):
        x3 = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        d = _channel_window_sum(x3 * x3, size // 2, (size - 1) // 2)
        d *= alpha / size
        d += k
        scale = d ** -beta
        ctx.save_for_backward(x3, d, scale)
        ctx.attrs = (size, alpha, beta, x.shape)
        return (x3 * scale).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        """dx_c = g_c d_c^-beta - 2 alpha beta / size * x_c * sum_{j: c in window(j)}
        g_j x_j d_j^(-beta-1): the second sum runs over the mirrored window."""
        x3, d, scale = ctx.saved_tensors
        size, alpha, beta, shape = ctx.attrs
        g3 = g.reshape(x3.shape)
        back = _channel_window_sum(g3 * x3 * scale / d, (size - 1) // 2, size // 2)
        dx = g3 * scale
        dx -= (2.0 * alpha * beta / size) * x3 * back
        return dx.reshape(shape)

    @staticmethod
    def reference(x, *, size, alpha, beta, k):
        C = x.shape[1]
        x3 = x.reshape(x.shape[0], C, math.prod(x.shape[2:]))
        padded = pad(x3 * x3, (0, 0, size // 2, (size - 1) // 2))
        window = padded.narrow(1, 0, C)
        for t in range(1, size):
            window = window + padded.narrow(1, t, C)
        return (x3 * (window * (alpha / size) + k) ** -beta).reshape(x.shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalise each channel by its neighbours' energy: x / (k + alpha/size * sum x^2)^beta
    over ``size`` neighbouring channels (dim 1) of a (N, C, *) input."""
    check_tensor(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if not is_int(size) or size <= 0:
        raise RuntimeError(f"local_response_norm(): size (the number of neighbouring channels) "
                           f"must be a positive int, but got {size!r}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"local_response_norm(): expected a floating point input, "
                                  f"got {input.dtype}")
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta),
                                   k=float(k))
