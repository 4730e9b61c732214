"""Metric-learning losses (``F.triplet_margin_loss``, ``F.triplet_margin_with_distance_loss``,
``F.cosine_embedding_loss``), composed of differentiable ops so that their gradients (and
higher-order ones) are the chain rule through them, as in torch:

- triplet margin (Schroff et al. 2015; Balntas et al. 2016 for ``swap``):
  max(d(a, p) - d(a, n) + margin, 0), d = ||x1 - x2 + eps||_p along the last dimension, or a
  given ``distance_function``; ``swap`` uses min(d(a, n), d(p, n)) as the negative distance;
- cosine embedding: 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1
  (0 for other targets), cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)).

Each is reduced by ``reduction`` ('none' | 'mean' | 'sum', with the deprecated
``size_average`` / ``reduce`` where torch has them).
"""
from .._creation import zeros_like
from ._loss_reduction import resolve_reduction
from ._util import check_tensor
from .binary import clamp_min, minimum, where
from .distance import pairwise_distance
from .reduce import mean
from .reduce import sum as _sum
from .unary import sqrt

__all__ = []  # torch's top-level forms take integer reduction codes: F only

_COSINE_EPS = 1e-12  # torch's EPSILON on the squared magnitudes


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return _sum(loss) if reduction == "sum" else mean(loss)


def _check_triplet(fn, anchor, positive, negative):
    for name, x in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor(x, fn, name)
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {a}D, positive "
                           f"{p}D, and negative {n}D inputs")


def _check_margin(margin):
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")


def _triplet(d_pos, d_neg, d_swap, margin):
    if d_swap is not None:
        d_neg = minimum(d_neg, d_swap)
    return clamp_min(margin + d_pos - d_neg, 0)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(||a - p + eps||_p - ||a - n + eps||_p + margin, 0) per triplet, reduced."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    _check_margin(margin)
    _check_triplet("triplet_margin_loss", anchor, positive, negative)
    d_swap = pairwise_distance(positive, negative, p, eps) if swap else None
    loss = _triplet(pairwise_distance(anchor, positive, p, eps),
                    pairwise_distance(anchor, negative, p, eps), d_swap, margin)
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) per triplet with d = ``distance_function``
    (default ``pairwise_distance``), reduced."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _check_margin(margin)
    _check_triplet("triplet_margin_with_distance_loss", anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    if not callable(dist):
        raise TypeError(f"triplet_margin_with_distance_loss(): distance_function must be a "
                        f"callable (x1, x2) -> distances, got {type(dist).__name__}")
    d_swap = dist(positive, negative) if swap else None
    loss = _triplet(dist(anchor, positive), dist(anchor, negative), d_swap, margin)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1, reduced.
    Inputs N x D (broadcast) with a target of N, or D with a 0-D target."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    for name, x in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor(x, "cosine_embedding_loss", name)
    dim = target.ndim
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dot = _sum(input1 * input2, dim)
    mag1 = _sum(input1 * input1, dim) + _COSINE_EPS
    mag2 = _sum(input2 * input2, dim) + _COSINE_EPS
    cos = dot / sqrt(mag1 * mag2)
    zero = zeros_like(cos)
    loss = (where(target == 1, 1 - cos, zero)
            + where(target == -1, clamp_min(cos - margin, 0), zero))
    return _reduce(loss, reduction)
