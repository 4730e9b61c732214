"""Explicit L2 and L1 penalties to add to a loss.

    l2_penalty = weight_decay / 2 * sum_w ||w||_2^2     (gradient: weight_decay * w)
    l1_penalty = strength * sum_w ||w||_1               (gradient: strength * sign(w))

``loss + l2_penalty(params, wd)`` under plain SGD gives the same steps as
``SGD(params, weight_decay=wd)``: torch's ``weight_decay`` adds ``wd * w`` to the gradient.
Under Adam the same L2 gradient is rescaled by the adaptive denominator, which is why AdamW
(Loshchilov & Hutter) decays the weights directly instead (``p <- p * (1 - lr * wd)``).
"""
import math
import numbers

from ..nn import Module
from ..tensor import Tensor

__all__ = ["l2_penalty", "l1_penalty"]


def _tensors(fn, parameters):
    if isinstance(parameters, Module):
        tensors = list(parameters.parameters())
    elif isinstance(parameters, Tensor):
        tensors = [parameters]
    else:
        try:
            tensors = list(parameters)
        except TypeError:
            raise TypeError(f"{fn}(): parameters must be a Module, a Tensor or an iterable of "
                            f"Tensors, got {type(parameters).__name__}") from None
    if not tensors:
        raise ValueError(f"{fn}(): got no parameters")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): parameters[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.is_floating_point():
            raise TypeError(f"{fn}(): parameters[{i}] has dtype {t.dtype}; a penalty needs "
                            f"floating-point tensors")
    return tensors


def _strength(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{fn}(): {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def l2_penalty(parameters, weight_decay):
    """weight_decay / 2 * the sum of the squared entries of ``parameters`` (a Module, a Tensor
    or an iterable of Tensors): a 0-d Tensor in the graph, to add to the loss."""
    wd = _strength("l2_penalty", "weight_decay", weight_decay)
    total = None
    for w in _tensors("l2_penalty", parameters):
        term = (w * w).sum()
        total = term if total is None else total + term
    return total * (wd / 2.0)


def l1_penalty(parameters, strength):
    """strength * the sum of the absolute entries of ``parameters`` (a Module, a Tensor or an
    iterable of Tensors): a 0-d Tensor in the graph, to add to the loss."""
    lam = _strength("l1_penalty", "strength", strength)
    total = None
    for w in _tensors("l1_penalty", parameters):
        term = w.abs().sum()
        total = term if total is None else total + term
    return total * lam
