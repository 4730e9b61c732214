"""Loss functions: regression (MSE, L1, smooth L1, Huber), binary cross-entropy (on
probabilities and fused with the sigmoid) and KL divergence. Cross-entropy and NLL live in
``cross_entropy``.

Each kernel computes the per-element loss, reduces it ('none' | 'mean' | 'sum') and in
backward scales the upstream gradient by the reduction before applying the derivative.
"""
import warnings

import numpy as np

from ..autograd import Kernel
from ._loss_reduction import grad_scale, reduce_loss, resolve_reduction
from ._util import check_tensor, promote, unbroadcast
from .activation import softplus_array

__all__ = []  # torch's top-level loss functions take integer reduction codes: F only


def _computed(ctx, name, x, recompute):
    """A value the forward computed from the inputs: kept as ``ctx.<name>`` for the array
    backward; recomputed from the traced inputs in a recorded one (create_graph), where the
    kept array would be a constant."""
    return getattr(ctx, name) if isinstance(x, np.ndarray) else recompute()


# ---------------------------------------------------------- pointwise losses
class _PointwiseLoss(Kernel):
    """loss = w * f(x - t) (broadcast) reduced; dx = w f'(d) * g, dt = -dx, dw = f(d) * g.
    'mean' divides by the summed weights (weighted MSE / L1: ``weighted_mean``), then
    dw = (f(d) - sum(w f) / sum(w)) * g / sum(w)."""

    @staticmethod
    def forward(ctx, x, t, w, reduction, weighted_mean, **attrs):
        ctx.d = x - t
        loss = ctx._fn.f(ctx.d, **attrs)
        denom = None
        if w is not None:
            loss = loss * w
            denom = w.sum() if weighted_mean and reduction == "mean" else None
        ctx.save_for_backward(x, t, w)
        ctx.reduction, ctx.weighted_mean, ctx.attrs = reduction, denom is not None, attrs
        return reduce_loss(loss, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        d = _computed(ctx, "d", x, lambda: x - t)
        denom = w.sum() if ctx.weighted_mean else None
        scale = grad_scale(g, ctx.reduction, d.shape, denom)
        dd = ctx._fn.df(d, **ctx.attrs) * scale
        dw = None
        if w is not None:
            if ctx.needs_input_grad[2]:
                unweighted = ctx._fn.f(d, **ctx.attrs)
                dw = unweighted * scale
                if denom is not None:  # loss = sum(w f) / sum(w)
                    dw = dw - (unweighted * w).sum() / denom * scale
                dw = unbroadcast(dw, w.shape)
            dd = dd * w
        gx = unbroadcast(dd, x.shape) if ctx.needs_input_grad[0] else None
        gt = unbroadcast(-dd, t.shape) if ctx.needs_input_grad[1] else None
        return gx, gt, dw


class MSE(_PointwiseLoss):
    """f(d) = d^2, f'(d) = 2d."""

    @staticmethod
    def f(d):
        return d * d

    @staticmethod
    def df(d):
        return 2.0 * d


class L1(_PointwiseLoss):
    """f(d) = |d|, f'(d) = sign(d)."""

    @staticmethod
    def f(d):
        return np.abs(d)

    @staticmethod
    def df(d):
        return np.sign(d)


class SmoothL1(_PointwiseLoss):
    """f(d) = d^2 / (2 beta) for |d| < beta, |d| - beta / 2 beyond; f'(d) = d / beta, sign(d)."""

    @staticmethod
    def f(d, beta):
        a = np.abs(d)
        return np.where(a < beta, (0.5 / beta) * d * d if beta else a, a - 0.5 * beta)

    @staticmethod
    def df(d, beta):
        return np.where(np.abs(d) < beta, d * (1.0 / beta) if beta else d, np.sign(d))


class Huber(_PointwiseLoss):
    """f(d) = d^2 / 2 for |d| < delta, delta (|d| - delta / 2) beyond; f'(d) = clamp(d, +-delta)."""

    @staticmethod
    def f(d, delta):
        a = np.abs(d)
        return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def df(d, delta):
        return np.clip(d, -delta, delta)


def _pointwise(kernel, fn, input, target, reduction, weight=None, weighted_mean=True, **attrs):
    check_tensor(input, fn)
    check_tensor(target, fn, "target")
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise RuntimeError(f"{fn}(): the input of shape {list(input.shape)} and the target of "
                           f"shape {list(target.shape)} cannot be broadcast together") from None
    if weight is not None:
        check_tensor(weight, fn, "weight")
        if weight.shape != input.shape:
            raise ValueError(f"Weights and input must have the same size (weight "
                             f"{list(weight.shape)}, input {list(input.shape)}).")
        x, t, w = promote(input, target, weight)
    else:
        x, t = promote(input, target)
        w = None
    if x._data.dtype.kind != "f":
        x, t = promote(x, t, dtype="float32")
    return kernel.apply(x, t, w, reduction=reduction, weighted_mean=weighted_mean, **attrs)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - t)^2 (optionally weighted: 'mean' divides by sum(weight))."""
    return _pointwise(MSE, "mse_loss", input, target,
                      resolve_reduction(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - t| (optionally weighted: 'mean' divides by sum(weight))."""
    return _pointwise(L1, "l1_loss", input, target,
                      resolve_reduction(size_average, reduce, reduction), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below ``beta``, linear above (``beta=0`` is the L1 loss)."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got "
                           f"beta={beta}).")
    return _pointwise(SmoothL1, "smooth_l1_loss", input, target,
                      resolve_reduction(size_average, reduce, reduction), beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below ``delta``, delta-scaled linear above (weighted 'mean' is a plain mean)."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got "
                           f"delta={delta}).")
    return _pointwise(Huber, "huber_loss", input, target, resolve_reduction(None, None, reduction),
                      weight, weighted_mean=False, delta=float(delta))


# ------------------------------------------------------------- binary losses
def _check_binary(input, target, weight, fn, same_size_error):
    check_tensor(input, fn)
    check_tensor(target, fn, "target")
    if target.shape != input.shape:
        raise ValueError(same_size_error.format(t=target.shape, i=input.shape))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}(): expected a floating point input, got {input.dtype}")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"{fn}(): Found dtype {target.dtype} for target but expected "
                           f"{input.dtype} (the input's dtype); convert the target with "
                           f".to({input.dtype}) or .float()")
    if weight is not None:
        check_tensor(weight, fn, "weight")
        try:
            if np.broadcast_shapes(weight.shape, input.shape) != input.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"{fn}(): weight of shape {list(weight.shape)} cannot be "
                               f"broadcast to the input's shape {list(input.shape)}") from None


_BCE_EPS = float(np.float32(1e-12))  # torch's guard, a float32 constant even for float64


class BinaryCrossEntropy(Kernel):
    """loss = -w (t log x + (1 - t) log(1 - x)), each log clamped at -100;
    dx = w (x - t) / max(x (1 - x), 1e-12),  dt = w (log(1 - x) - log x)."""

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        loss = _bce(x, t, *_clamped_logs(x))
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        ctx.reduction = reduction
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        scale = grad_scale(g, ctx.reduction, x.shape)
        ws = scale * w if w is not None else scale
        dx = dt = dw = None
        if ctx.needs_input_grad[0]:
            dx = ws * (x - t) / np.maximum(x * (1.0 - x), _BCE_EPS)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            logx, log1mx = _clamped_logs(x)
            if ctx.needs_input_grad[1]:
                dt = ws * (log1mx - logx)
            if ctx.needs_input_grad[2]:
                dw = unbroadcast(_bce(x, t, logx, log1mx) * scale, w.shape)
        return dx, dt, dw


def _clamped_logs(x):
    """log x and log(1 - x), each clamped at -100 (torch's guard against log 0)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100.0), np.maximum(np.log1p(-x), -100.0)


def _bce(x, t, logx, log1mx):
    return -(t * logx + (1.0 - t) * log1mx)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    _check_binary(input, target, weight, "binary_cross_entropy",
                  "Using a target size ({t}) that is different to the input size ({i}) is "
                  "deprecated. Please ensure they have the same size.")
    x = input._data
    if x.size and (np.min(x) < 0 or np.max(x) > 1 or np.isnan(x).any()):
        raise RuntimeError("all elements of input should be between 0 and 1 (binary_cross_entropy "
                           "takes probabilities; for logits use binary_cross_entropy_with_logits)")
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


class BCEWithLogits(Kernel):
    """loss = w ((1 - t) x + (1 + (pw - 1) t) softplus(-x))  = -w (pw t log s + (1 - t)
    log(1 - s)), s = sigmoid(x);  dx = w (pw t (s - 1) + (1 - t) s),
    dt = w (pw softplus(-x) - softplus(x)),  dpw = w t softplus(-x)."""

    @staticmethod
    def forward(ctx, x, t, w, pw, reduction):
        ctx.sp_neg = softplus_array(-x)  # softplus(-x) = log(1 + exp(-x))
        loss = _bce_logits(x, t, pw, ctx.sp_neg)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw)
        ctx.reduction = reduction
        return reduce_loss(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        scale = grad_scale(g, ctx.reduction, x.shape)
        ws = scale * w if w is not None else scale
        sp_neg = _computed(ctx, "sp_neg", x, lambda: softplus_array(-x))
        s = np.exp(-sp_neg)  # sigmoid(x)
        p = pw if pw is not None else 1.0
        dx = dt = dw = dpw = None
        if ctx.needs_input_grad[0]:
            dx = ws * (p * t * (s - 1.0) + (1.0 - t) * s)
        if ctx.needs_input_grad[1]:
            dt = ws * (p * sp_neg - (sp_neg + x))
        if ctx.needs_input_grad[2]:
            dw = unbroadcast(_bce_logits(x, t, pw, sp_neg) * scale, w.shape)
        if ctx.needs_input_grad[3]:
            dpw = unbroadcast(ws * t * sp_neg, pw.shape)
        return dx, dt, dw, dpw


def _bce_logits(x, t, pw, sp_neg):
    coef = 1.0 + (pw - 1.0) * t if pw is not None else 1.0
    return (1.0 - t) * x + coef * sp_neg


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable kernel; ``pos_weight`` (broadcast along the
    last dim, one per class) weights the positive term."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    _check_binary(input, target, weight, "binary_cross_entropy_with_logits",
                  "Target size ({t}) must be the same as input size ({i})")
    if pos_weight is not None:
        check_tensor(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
        try:
            ok = np.broadcast_shapes(pos_weight.shape, input.shape) == input.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"binary_cross_entropy_with_logits(): pos_weight of shape "
                               f"{list(pos_weight.shape)} cannot be broadcast to the input's "
                               f"shape {list(input.shape)} (it holds one weight per class, "
                               f"along the last dimension)")
    return BCEWithLogits.apply(input, target, weight, pos_weight, reduction=reduction)


# ------------------------------------------------------------------------- KL
class KLDiv(Kernel):
    """loss = xlogy(t, t) - t x (torch's composite: 0 where t = 0, nan where t < 0), or with
    log targets exp(t) (t - x);  dx = -t (-exp(t)),  dt = log t + 1 - x, nan where t <= 0
    as torch's derivative of xlogy(t, t) (exp(t) (t - x + 1))."""

    @staticmethod
    def forward(ctx, x, t, reduction, log_target):
        if log_target:
            loss = np.exp(t) * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(t == 0, 0, t * np.log(t)) - t * x
        ctx.save_for_backward(x, t)
        ctx.log_target = log_target
        shape = np.broadcast_shapes(x.shape, t.shape)
        if reduction == "batchmean":
            n = shape[0] if len(shape) else 1
            ctx.red, ctx.denom = "mean", n
            return reduce_loss(loss, "mean", n)
        ctx.red, ctx.denom = reduction, None
        return reduce_loss(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        et = np.exp(t) if ctx.log_target else None
        shape = np.broadcast_shapes(x.shape, t.shape)
        scale = grad_scale(g, ctx.red, shape, ctx.denom)
        dx = dt = None
        if ctx.needs_input_grad[0]:
            dx = unbroadcast(-(et if ctx.log_target else t) * scale, x.shape)
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                d = et * (t - x + 1.0)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    d = np.where(t == 0, np.nan, np.log(t) + 1.0 - x)
            dt = unbroadcast(d * scale, t.shape)
        return dx, dt


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: ``input`` holds log-probabilities; 'batchmean'
    divides the sum by the batch size (the mathematically correct KL)."""
    check_tensor(input, "kl_div")
    check_tensor(target, "kl_div", "target")
    if size_average is not None or reduce is not None:
        reduction = resolve_reduction(size_average, reduce, reduction)
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    x, t = promote(input, target)
    return KLDiv.apply(x, t, reduction=reduction, log_target=bool(log_target))
