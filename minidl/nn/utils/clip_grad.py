"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` and friends), in place on ``.grad``."""
import math
import warnings

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _norm(a, norm_type):
    a = np.abs(a.ravel())
    if norm_type == math.inf:
        return a.max() if a.size else np.zeros((), a.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(a), a.dtype)
    return (a ** norm_type).sum() ** (1.0 / norm_type) if norm_type != 2 else np.sqrt(a @ a)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (the norm of their norms)."""
    arrays = [t._data for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(np.zeros((), np.float32))
    norms = np.array([_norm(a, norm_type) for a in arrays], dtype=arrays[0].dtype)
    total = _norm(norms, norm_type).astype(arrays[0].dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return Tensor(np.asarray(total))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    t = float(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (t + 1e-6), 1.0)
    for g in grads:
        g._set_data_(g._data * np.asarray(coef, g._data.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients of ``parameters`` so that their total norm is at most
    ``max_norm``; returns the total norm before clipping."""
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`minidl.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`minidl.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    v = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad._set_data_(np.clip(p.grad._data, -v, v))
