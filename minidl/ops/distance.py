"""Similarity and distance between vectors, built from differentiable ops (so their
gradients are the chain rule through them):

- ``cosine_similarity``: x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``
  (the clamp does not enter the gradient, as in torch);
- ``pairwise_distance``: ||x1 - x2 + eps||_p along the last dimension;
- ``normalize``: x / max(||x||_p, eps) along ``dim``.
"""
from .._out import takes_out
from ._util import check_tensor
from .binary import clamp_min
from .expand import broadcast_tensors
from .reduce import sum as _sum
from .vector_norm import norm

__all__ = ["cosine_similarity", "pairwise_distance", "normalize"]


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    check_tensor(x1, "cosine_similarity", "x1")
    check_tensor(x2, "cosine_similarity", "x2")
    a, b = broadcast_tensors(x1, x2)
    return _sum((a / _clamped_norm(a, dim, eps)) * (b / _clamped_norm(b, dim, eps)), dim=dim)


def _clamped_norm(x, dim, eps):
    """max(||x||, eps) in value; the gradient is the norm's, unclamped (torch clamps the norm
    in place outside the graph)."""
    n = norm(x, 2, dim=dim, keepdim=True)
    return n + (clamp_min(n, eps) - n).detach()


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    check_tensor(x1, "pairwise_distance", "x1")
    check_tensor(x2, "pairwise_distance", "x2")
    dim = -1 if max(x1.ndim, x2.ndim) else None
    return norm(x1 - x2 + eps, p, dim=dim, keepdim=keepdim)


@takes_out
def normalize(input, p=2.0, dim=1, eps=1e-12):
    check_tensor(input, "normalize")
    return input / clamp_min(norm(input, p, dim=dim, keepdim=True), eps).expand_as(input)
