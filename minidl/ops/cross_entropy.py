"""Classification losses over a class dimension: the fused softmax cross-entropy and the
negative log-likelihood of log-probabilities.

Inputs (N, C, d1, ...) or (C,) are laid out as rows (R, C), the class axis last, before
the kernel runs; the loss comes back in the shape (N, d1, ...) (or () unbatched).
"""
import numpy as np

from ..autograd import Kernel
from ..backend.parallel import run_parts, shares
from ..tensor import Tensor
from ._loss_reduction import grad_scale, reduce_loss, resolve_reduction
from ._util import check_tensor, promote
from .indexing import put_at

__all__ = []  # torch's top-level loss functions take integer reduction codes: F only


class CrossEntropy(Kernel):
    """Fused log-softmax + cross-entropy on rows x (R, C) (the class axis moved last).

    With C classes, label smoothing eps, class weights w (1 when absent) and y_i the one-hot
    class of row i (class indices) or its given probabilities, the smoothed target is
    y'_i = (1 - eps) y_i + eps / C and the weighted one a_i = w * y'_i (0 for an ignored
    row). With p = softmax(x) along the classes:

        loss_i = -sum_c a_ic log p_ic
        dL/dx_i = s_i (p_i sum_c a_ic - a_i)         (s_i (p_i - y_i) for w = 1, eps = 0)
        dL/dt_i = -s_i (1 - eps) w log p_i           (probability targets t = y)

    s_i scales by the reduction: the upstream g_i ('none'), g ('sum') or g / denom ('mean'),
    denom = sum of w_{y_i} over the non-ignored rows (class indices) or R (probabilities).
    For class indices a is never formed: sum_c a_ic = (1 - eps) w_{y_i} + eps / C sum_c w_c
    (0 if ignored) multiplies p, and eps / C w and (1 - eps) w_{y_i} at class y_i are
    subtracted.
    """

    @staticmethod
    def forward(ctx, x, target, weight, probs, ignore_index, smoothing, reduction, out_shape):
        C = x.shape[1]
        w = weight if weight is not None else None
        if probs:
            shifted = x - x.max(axis=1, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            a = target * (1.0 - smoothing) + smoothing / C if smoothing else target
            if w is not None:
                a = a * w
            loss = -(a * logp).sum(axis=1)
            ctx.save_for_backward(logp, a, w)
            denom = x.shape[0]
        else:  # log p_iy = (x_iy - m_i) - lse_i: only p and two numbers per row are formed
            valid = (target != ignore_index).astype(x.dtype)
            safe = np.where(valid, target, 0)
            wy = w[safe] * valid if w is not None else valid
            ws = (w if w is not None else np.ones(C, x.dtype)) if smoothing else None
            p, picked, lse, logp_sum = softmax_rows(x, safe, ws)
            loss = (lse - picked) * wy
            if smoothing:  # -sum_c w_c log p_ic = -(sum_c w_c (x_ic - m_i) - lse_i sum_c w_c)
                total = w.sum() if w is not None else C
                smooth = lse * total - logp_sum
                loss = loss * (1.0 - smoothing) + smooth * valid * (smoothing / C)
            denom = wy.sum()
            ctx.safe, ctx.valid, ctx.wy = safe, valid, wy
            ctx.save_for_backward(p, None, w)
        ctx.probs, ctx.smoothing, ctx.reduction, ctx.denom = probs, smoothing, reduction, denom
        return reduce_loss(loss.astype(x.dtype, copy=False).reshape(out_shape), reduction, denom)

    @staticmethod
    def backward(ctx, g):
        saved, a, w = ctx.saved_tensors
        R, C = saved.shape
        scale = grad_scale(g.reshape(-1), ctx.reduction, (R,), ctx.denom)[:, None]
        eps = ctx.smoothing
        dt = None
        if ctx.probs:
            logp = saved
            dx = np.exp(logp) * a.sum(axis=1, keepdims=True) - a
            if ctx.needs_input_grad[1]:
                dt = -(1.0 - eps) * logp * (w if w is not None else 1.0) * scale
            return (dx * scale).astype(logp.dtype, copy=False), dt, None
        p, valid = saved, ctx.valid[:, None]
        wsum = w.sum() if w is not None else C
        coef = ((1.0 - eps) * ctx.wy[:, None] + valid * (eps / C * wsum)) * scale
        dx = np.empty_like(p)
        run_parts(lambda sl: np.multiply(p[sl], coef[sl], out=dx[sl], casting="same_kind"),
                  row_shares(p))
        if eps:
            dx -= (valid * scale * (eps / C) * (w if w is not None else 1.0)).astype(p.dtype)
        dx[np.arange(R), ctx.safe] -= ((1.0 - eps) * ctx.wy * scale[:, 0]).astype(p.dtype)
        return dx, dt, None

    @staticmethod
    def reference(x, target, weight, probs, ignore_index, smoothing, reduction, out_shape):
        """The textbook composition: log_softmax, then the weighted, smoothed NLL (weight
        is a constant, as in torch)."""
        R, C = x.shape
        logp = x.log_softmax(1)
        w = weight.detach() if weight is not None else None
        if probs:
            a = target * (1.0 - smoothing) + smoothing / C if smoothing else target
            loss = -((a * w if w is not None else a) * logp).sum(dim=1)
            denom = R
        else:
            valid = (target != ignore_index).astype(x._data.dtype)
            safe = np.where(valid, target, 0)
            wy = w._data[safe] * valid if w is not None else valid
            loss = -logp[np.arange(R), safe] * Tensor(wy)
            if smoothing:
                smooth = -(logp * w if w is not None else logp).sum(dim=1)
                loss = loss * (1.0 - smoothing) + smooth * Tensor(valid * (smoothing / C))
            denom = wy.sum()
        loss = loss.reshape(out_shape)
        if reduction == "none":
            return loss
        return loss.sum() if reduction == "sum" else loss.sum() / float(denom)


def row_shares(x):
    """Slices of the rows of (R, C) ``x``, one per thread that will work on them."""
    return shares(x.shape[0], x.size)


def softmax_rows(x, cls, w=None):
    """p = softmax(x) along the rows of (R, C) ``x``, and per row picked = x_i,cls_i - m_i,
    lse = log sum_c exp(x_ic - m_i) (m_i the row's max, so that exp never overflows) and,
    with ``w`` (C,), sum_c w_c (x_ic - m_i) -- computed in place in p, rows shared out."""
    p = np.empty_like(x)
    picked, lse = np.empty(x.shape[0], x.dtype), np.empty(x.shape[0], x.dtype)
    wsum = np.empty(x.shape[0], x.dtype) if w is not None else None

    def rows(sl):
        ps = p[sl]
        np.subtract(x[sl], x[sl].max(axis=1, keepdims=True), out=ps)
        picked[sl] = ps[np.arange(ps.shape[0]), cls[sl]]
        if w is not None:
            wsum[sl] = ps @ w
        np.exp(ps, out=ps)
        total = ps.sum(axis=1, keepdims=True)
        ps /= total
        lse[sl] = np.log(total[:, 0])
    run_parts(rows, row_shares(x))
    return p, picked, lse, wsum


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
    if target.shape != expected:
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
    reduction = resolve_reduction(size_average, reduce, reduction)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy(): expected floating point logits, got input of "
                           f"dtype {input.dtype}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy(): input must have at least one dimension (classes)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    C = input.shape[1] if input.ndim >= 2 else input.shape[0]
    _check_weight(weight, C, input, "cross_entropy")
    probs = target._data.dtype.kind == "f" and target.shape == input.shape
    if target.shape == input.shape and not probs and target._data.dtype.kind in "iub":
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
    x arrives as rows (R, C). The weights w_{y_i} are constants (torch has no gradient for
    ``weight``)."""

    graph_constants = ("wy",)

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, out_shape):
        valid = (target != ignore_index).astype(x.dtype)
        safe = np.where(valid, target, 0)
        wy = weight[safe] * valid if weight is not None else valid
        loss = -x[np.arange(x.shape[0]), safe] * wy
        ctx.safe, ctx.wy, ctx.shape, ctx.reduction = safe, wy, x.shape, reduction
        ctx.denom = wy.sum()
        loss = loss.astype(x.dtype, copy=False).reshape(out_shape)
        return reduce_loss(loss, reduction, ctx.denom)

    @staticmethod
    def backward(ctx, g):
        R = ctx.shape[0]
        scale = grad_scale(g.reshape(-1), ctx.reduction, (R,), ctx.denom)
        dx = put_at(np.zeros(ctx.shape, g.dtype), (None, (np.arange(R), ctx.safe)),
                    -ctx.wy * scale, False)
        return dx, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities ``input``."""
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    reduction = resolve_reduction(size_average, reduce, reduction)
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

