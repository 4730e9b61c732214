"""Loss functions: fused softmax cross-entropy, NLL, regression and binary losses, KL.

Each kernel computes the per-element loss, reduces it ('none' | 'mean' | 'sum') and in
backward scales the upstream gradient by the reduction before applying the derivative.
"""
import warnings

import numpy as np

from ..autograd import Kernel
from ._util import check_tensor, promote, unbroadcast
from .activation import softplus_array

__all__ = []  # torch's top-level loss functions take integer reduction codes: F only

TENSOR_METHODS = {}
FUNCTIONAL = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
              "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
              "kl_div"]


# ------------------------------------------------------------------ reduction
def _reduction(size_average, reduce, reduction):
    """torch's reduction argument, honouring the deprecated size_average / reduce."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "mean" if size_average and reduce else ("sum" if reduce else "none")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction, denom=None):
    """Reduce an elementwise loss array; ``denom`` overrides the count used by 'mean'."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    n = loss.size if denom is None else denom
    return np.asarray(total / n if n else total * np.nan, dtype=loss.dtype)


def _grad_scale(g, reduction, shape, denom=None):
    """The upstream gradient per loss element: g itself, or g (/ count) broadcast to shape."""
    if reduction == "none":
        return g
    n = int(np.prod(shape)) if denom is None else denom
    return np.broadcast_to(g / n if reduction == "mean" else g, shape)


def _shape(t):
    return tuple(t.shape)


# ------------------------------------------------------------ cross entropy
class CrossEntropy(Kernel):
    """loss_i = -sum_c a_ic log softmax(x_i)_c, with a_i the target distribution: for class
    indices (1 - eps) w_y onehot(y) + eps w / C (zero where ignored), for probabilities
    w * ((1 - eps) t + eps / C). Fused: d loss_i / dx_ic = p_ic sum_c a_ic - a_ic;
    for probability targets d loss_i / dt_ic = -(1 - eps) w_c log p_ic.

    x arrives as rows (R, C) (the class axis moved last); ``denom`` is the 'mean' divisor.
    """

    @staticmethod
    def forward(ctx, x, target, weight, probs, ignore_index, smoothing, reduction, out_shape):
        C = x.shape[1]
        shifted = x - x.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        w = weight if weight is not None else None
        if probs:
            a = target * (1.0 - smoothing) + smoothing / C if smoothing else target
            if w is not None:
                a = a * w
            loss = -(a * logp).sum(axis=1)
            denom = x.shape[0]
        else:
            valid = (target != ignore_index).astype(x.dtype)
            safe = np.where(valid, target, 0)
            wy = w[safe] * valid if w is not None else valid
            rows = np.arange(x.shape[0])
            loss = -logp[rows, safe] * wy
            if smoothing:
                smooth = -(logp * w).sum(axis=1) if w is not None else -logp.sum(axis=1)
                loss = loss * (1.0 - smoothing) + smooth * valid * (smoothing / C)
            denom = wy.sum()
            ctx.safe, ctx.valid, ctx.wy = safe, valid, wy
            a = None
        ctx.save_for_backward(logp, a, w)
        ctx.probs, ctx.smoothing, ctx.reduction, ctx.denom = probs, smoothing, reduction, denom
        return _reduce(loss.astype(x.dtype, copy=False).reshape(out_shape), reduction, denom)

    @staticmethod
    def backward(ctx, g):
        logp, a, w = ctx.saved_tensors
        R, C = logp.shape
        scale = _grad_scale(g.reshape(-1), ctx.reduction, (R,), ctx.denom)[:, None]
        p = np.exp(logp)
        eps = ctx.smoothing
        dt = None
        if ctx.probs:
            dx = p * a.sum(axis=1, keepdims=True) - a
            if ctx.needs_input_grad[1]:
                dt = -(1.0 - eps) * logp * (w if w is not None else 1.0) * scale
        else:
            valid = ctx.valid[:, None]
            wsum = w.sum() if w is not None else C
            dx = p * ((1.0 - eps) * ctx.wy[:, None] + valid * (eps / C * wsum))
            if eps:
                dx -= valid * (eps / C) * (w if w is not None else 1.0)
            dx[np.arange(R), ctx.safe] -= (1.0 - eps) * ctx.wy
        return (dx * scale).astype(logp.dtype, copy=False), dt, None


def _out_shape(input):
    """The shape of an unreduced per-sample loss: (N, d1, ...) or () unbatched."""
    return (input.shape[0],) + tuple(input.shape[2:]) if input.ndim >= 2 else ()


def _check_weight(weight, C, input, fn):
    if weight is None:
        return
    check_tensor(weight, fn, "weight")
    if weight.ndim != 1 or weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"{fn}(): expected scalar type {input.dtype} for weight (the input's "
                           f"dtype) but found {weight.dtype}")


def _index_target(input, target, fn):
    """Validate class-index ``target`` for ``input`` (N, C, d1, ...) / (C,); returns C."""
    expected = _out_shape(input)
    if target._data.dtype not in (np.int64, np.uint8):
        kind = "class probabilities of the input's shape" if fn == "cross_entropy" else None
        extra = f" (a floating target is read as {kind})" if kind else ""
        raise RuntimeError(f"{fn}(): expected target dtype to be Long or Byte (class indices of "
                           f"shape {list(expected)} for input of shape {list(input.shape)}), but "
                           f"got target of dtype {target.dtype} and shape "
                           f"{list(target.shape)}{extra}")
    if input.ndim >= 2 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if _shape(target) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)} "
                           f"(input of shape {list(input.shape)})")
    return input.shape[0] if input.ndim == 1 else input.shape[1]


def _check_range(t, C, ignore_index):
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds (class indices must be "
                         f"in [0, {C - 1}] or equal ignore_index={ignore_index}).")


def _rows(x):
    """(R, C) rows for an input (N, C, d1, ...) or (C,): the class axis moved last."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


class _ClassRows(Kernel):
    """Reshape (N, C, d1, ...) -> (N * d1 * ..., C) rows and back; the gradient is undone
    the same way."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return _rows(x)

    @staticmethod
    def backward(ctx, g):
        shape = ctx.shape
        if len(shape) == 1:
            return g[0]
        if len(shape) == 2:
            return g
        moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
        return np.moveaxis(g.reshape(moved), -1, 1)


def _as_rows(t):
    return t if t.ndim == 2 else _ClassRows.apply(t)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax + negative log-likelihood in one numerically stable kernel.

    ``input``: logits (N, C), (N, C, d1, ...) or unbatched (C,). ``target``: class indices
    (int64) of shape (N,) / (N, d1, ...) / (), or class probabilities of the input's shape.
    'mean' divides by the summed weights of the non-ignored targets (by the number of rows
    for probability targets).
    """
    check_tensor(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy(): expected floating point logits, got input of "
                           f"dtype {input.dtype}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy(): input must have at least one dimension (classes)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    C = input.shape[1] if input.ndim >= 2 else input.shape[0]
    _check_weight(weight, C, input, "cross_entropy")
    probs = target._data.dtype.kind == "f" and _shape(target) == _shape(input)
    if _shape(target) == _shape(input) and not probs and target._data.dtype.kind in "iub":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {target.dtype} (a target of the input's shape "
                           f"{list(input.shape)} holds probabilities; class indices need shape "
                           f"{list((input.shape[0],) + tuple(input.shape[2:]))})")
    if probs:
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if target._data.dtype != input._data.dtype:
            target = promote(target, dtype=input.dtype)[0]
        out = CrossEntropy.apply(_as_rows(input), _as_rows(target), weight, probs=True,
                                 ignore_index=ignore_index, smoothing=float(label_smoothing),
                                 reduction=reduction, out_shape=_out_shape(input))
    else:
        _index_target(input, target, "cross_entropy")
        t = target._data.reshape(-1).astype(np.int64, copy=False)
        _check_range(t, C, ignore_index)
        out = CrossEntropy.apply(_as_rows(input), t, weight, probs=False,
                                 ignore_index=ignore_index, smoothing=float(label_smoothing),
                                 reduction=reduction, out_shape=_out_shape(input))
    return out


class NLLLoss(Kernel):
    """loss_i = -w_{y_i} x_{i, y_i} (0 where y_i is ignored);  dx_{i, y_i} = -w_{y_i} * g_i.
    x arrives as rows (R, C)."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, out_shape):
        valid = (target != ignore_index).astype(x.dtype)
        safe = np.where(valid, target, 0)
        wy = weight[safe] * valid if weight is not None else valid
        loss = -x[np.arange(x.shape[0]), safe] * wy
        ctx.safe, ctx.wy, ctx.shape, ctx.reduction = safe, wy, x.shape, reduction
        ctx.denom = wy.sum()
        return _reduce(loss.astype(x.dtype, copy=False).reshape(out_shape), reduction, ctx.denom)

    @staticmethod
    def backward(ctx, g):
        R = ctx.shape[0]
        dx = np.zeros(ctx.shape, g.dtype)
        scale = _grad_scale(g.reshape(-1), ctx.reduction, (R,), ctx.denom)
        dx[np.arange(R), ctx.safe] = -ctx.wy * scale
        return dx, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities ``input``."""
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if input._data.dtype.kind != "f" or input.ndim == 0:
        raise RuntimeError(f"nll_loss(): expected floating point log-probabilities with a class "
                           f"dimension, got input of dtype {input.dtype} and shape "
                           f"{list(input.shape)}")
    C = _index_target(input, target, "nll_loss")
    _check_weight(weight, C, input, "nll_loss")
    t = target._data.reshape(-1).astype(np.int64, copy=False)
    _check_range(t, C, ignore_index)
    return NLLLoss.apply(_as_rows(input), t, weight, ignore_index=ignore_index,
                         reduction=reduction, out_shape=_out_shape(input))


# ---------------------------------------------------------- pointwise losses
class _PointwiseLoss(Kernel):
    """loss = w * f(x - t) (broadcast) reduced; dx = w f'(d) * g, dt = -dx, dw = f(d) * g.
    'mean' divides by ``denom`` (the summed weights for weighted MSE / L1)."""

    @staticmethod
    def forward(ctx, x, t, w, reduction, weighted_mean, **attrs):
        fn = ctx._fn
        d = x - t
        loss = fn.f(d, **attrs)
        denom = None
        if w is not None:
            ctx.unweighted = loss if ctx.needs_input_grad[2] else None
            loss = loss * w
            denom = w.sum() if weighted_mean and reduction == "mean" else None
        ctx.save_for_backward(d, w)
        ctx.shapes, ctx.reduction, ctx.denom, ctx.attrs = (x.shape, t.shape), reduction, denom, attrs
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        d, w = ctx.saved_tensors
        scale = _grad_scale(g, ctx.reduction, d.shape, ctx.denom)
        dd = ctx._fn.df(d, **ctx.attrs) * scale
        dw = None
        if w is not None:
            if ctx.needs_input_grad[2]:
                dw = ctx.unweighted * scale
                if ctx.denom is not None:  # loss = sum(w f) / sum(w)
                    dw = dw - (ctx.unweighted * w).sum() / ctx.denom * scale
                dw = unbroadcast(dw, w.shape)
            dd = dd * w
        sx, st = ctx.shapes
        gx = unbroadcast(dd, sx) if ctx.needs_input_grad[0] else None
        gt = unbroadcast(-dd, st) if ctx.needs_input_grad[1] else None
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
    if _shape(target) != _shape(input):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
    try:
        np.broadcast_shapes(_shape(input), _shape(target))
    except ValueError:
        raise RuntimeError(f"{fn}(): the input of shape {list(input.shape)} and the target of "
                           f"shape {list(target.shape)} cannot be broadcast together") from None
    if weight is not None:
        check_tensor(weight, fn, "weight")
        if _shape(weight) != _shape(input):
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
                      _reduction(size_average, reduce, reduction), weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - t| (optionally weighted: 'mean' divides by sum(weight))."""
    return _pointwise(L1, "l1_loss", input, target,
                      _reduction(size_average, reduce, reduction), weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below ``beta``, linear above (``beta=0`` is the L1 loss)."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got "
                           f"beta={beta}).")
    return _pointwise(SmoothL1, "smooth_l1_loss", input, target,
                      _reduction(size_average, reduce, reduction), beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below ``delta``, delta-scaled linear above (weighted 'mean' is a plain mean)."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got "
                           f"delta={delta}).")
    return _pointwise(Huber, "huber_loss", input, target, _reduction(None, None, reduction),
                      weight, weighted_mean=False, delta=float(delta))


# ------------------------------------------------------------- binary losses
def _check_binary(input, target, weight, fn, same_size_error):
    check_tensor(input, fn)
    check_tensor(target, fn, "target")
    if _shape(target) != _shape(input):
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
            if np.broadcast_shapes(_shape(weight), _shape(input)) != _shape(input):
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
        with np.errstate(divide="ignore"):
            logx = np.maximum(np.log(x), -100.0)
            log1mx = np.maximum(np.log1p(-x), -100.0)
        loss = -(t * logx + (1.0 - t) * log1mx)
        if w is not None:
            ctx.unweighted = loss
            loss = loss * w
        ctx.save_for_backward(x, t, w, logx, log1mx)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, logx, log1mx = ctx.saved_tensors
        scale = _grad_scale(g, ctx.reduction, x.shape)
        ws = scale * w if w is not None else scale
        dx = ws * (x - t) / np.maximum(x * (1.0 - x), _BCE_EPS) if ctx.needs_input_grad[0] else None
        dt = ws * (log1mx - logx) if ctx.needs_input_grad[1] else None
        dw = unbroadcast(ctx.unweighted * scale, w.shape) if ctx.needs_input_grad[2] else None
        return dx, dt, dw


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
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
        sp_neg = softplus_array(-x)  # log(1 + exp(-x)), stable
        coef = 1.0 + (pw - 1.0) * t if pw is not None else 1.0
        loss = (1.0 - t) * x + coef * sp_neg
        if w is not None:
            ctx.unweighted = loss
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw, sp_neg)
        ctx.reduction = reduction
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw, sp_neg = ctx.saved_tensors
        scale = _grad_scale(g, ctx.reduction, x.shape)
        ws = scale * w if w is not None else scale
        s = np.exp(-sp_neg)  # sigmoid(x)
        p = pw if pw is not None else 1.0
        dx = dt = dw = dpw = None
        if ctx.needs_input_grad[0]:
            dx = ws * (p * t * (s - 1.0) + (1.0 - t) * s)
        if ctx.needs_input_grad[1]:
            dt = ws * (p * sp_neg - (sp_neg + x))
        if ctx.needs_input_grad[2]:
            dw = unbroadcast(ctx.unweighted * scale, w.shape)
        if ctx.needs_input_grad[3]:
            dpw = unbroadcast(ws * t * sp_neg, pw.shape)
        return dx, dt, dw, dpw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable kernel; ``pos_weight`` (broadcast along the
    last dim, one per class) weights the positive term."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_binary(input, target, weight, "binary_cross_entropy_with_logits",
                  "Target size ({t}) must be the same as input size ({i})")
    if pos_weight is not None:
        check_tensor(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
        try:
            ok = np.broadcast_shapes(_shape(pos_weight), _shape(input)) == _shape(input)
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
    """loss = t (log t - x) (0 where t = 0), or with log targets exp(t) (t - x);
    dx = -t (-exp(t)),  dt = log t + 1 - x  (exp(t) (t - x + 1))."""

    @staticmethod
    def forward(ctx, x, t, reduction, log_target):
        if log_target:
            et = np.exp(t)
            loss = et * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                logt = np.where(t > 0, np.log(np.where(t > 0, t, 1)), 0)
            loss = np.where(t > 0, t * logt, 0) - t * x
            et = None
        ctx.save_for_backward(x, t, et)
        ctx.reduction, ctx.log_target = reduction, log_target
        ctx.shapes = (x.shape, t.shape)
        shape = np.broadcast_shapes(x.shape, t.shape)
        if reduction == "batchmean":
            n = shape[0] if len(shape) else 1
            ctx.red, ctx.denom = "mean", n
            return _reduce(loss, "mean", n)
        ctx.red, ctx.denom = reduction, None
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, et = ctx.saved_tensors
        shape = np.broadcast_shapes(x.shape, t.shape)
        scale = _grad_scale(g, ctx.red, shape, ctx.denom)
        dx = dt = None
        if ctx.needs_input_grad[0]:
            dx = unbroadcast(-(et if ctx.log_target else t) * scale, x.shape)
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                d = et * (t - x + 1.0)
            else:
                with np.errstate(divide="ignore"):
                    d = np.where(t > 0, np.log(np.where(t > 0, t, 1)) + 1.0 - x, 0)
            dt = unbroadcast(d * scale, t.shape)
        return dx, dt


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: ``input`` holds log-probabilities; 'batchmean'
    divides the sum by the batch size (the mathematically correct KL)."""
    check_tensor(input, "kl_div")
    check_tensor(target, "kl_div", "target")
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    x, t = promote(input, target)
    return KLDiv.apply(x, t, reduction=reduction, log_target=bool(log_target))
