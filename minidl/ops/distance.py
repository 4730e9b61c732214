"""Similarity and distance between vectors, built from differentiable ops (so their
gradients are the chain rule through them):

- ``cosine_similarity``: x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along ``dim``
  (the clamp does not enter the gradient, as in torch);
- ``pairwise_distance``: ||x1 - x2 + eps||_p along the last dimension;
- ``normalize``: x / max(||x||_p, eps) along ``dim``;
- ``cdist``: ||x1[i] - x2[j]||_p for every pair of rows (p = 0 counts the differing
  coordinates);
- ``pdist``: ||x[i] - x[j]||_p for the rows i < j of one matrix, in row-major order (the
  upper triangle of ``cdist(x, x)`` without its diagonal).
"""
import numpy as np

from .._creation import ones_like
from .._out import takes_out
from ._operands import dtype_name
from ._util import check_tensor
from .arithmetic import mul, sub
from .binary import clamp_min
from .expand import broadcast_tensors
from .join import cat
from .linalg import matmul
from .permute import transpose
from .reduce import sum as _sum
from .unary import sqrt
from .vector_norm import norm
from .view import unsqueeze

__all__ = ["cosine_similarity", "pairwise_distance", "normalize", "cdist", "pdist"]


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


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def _euclidean_by_mm(x1, x2):
    """torch's matmul form of the p = 2 distance: sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))."""
    n1, n2 = _sum(mul(x1, x1), -1, True), _sum(mul(x2, x2), -1, True)
    a = cat([mul(x1, -2), n1, ones_like(n1)], -1)
    b = cat([x2, ones_like(n2), n2], -1)
    return sqrt(clamp_min(matmul(a, transpose(b, -1, -2)), 0))


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M): a
    (..., P, R) tensor, batch dims broadcast. For p = 2 the matmul form is used when
    ``compute_mode`` asks for it, or by default when P or R exceeds 25 (as torch)."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{x.ndim}D")
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{dtype_name(x)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {dtype_name(x1)} but found {dtype_name(x2)}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    by_mm = p == 2 and (compute_mode == _CDIST_MODES[1] or compute_mode == _CDIST_MODES[0]
                        and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
    if by_mm:
        return _euclidean_by_mm(x1, x2)
    return norm(sub(unsqueeze(x1, -2), unsqueeze(x2, -3)), p, -1)  # p = 0: a zero gradient


def pdist(input, p=2):
    """The N (N - 1) / 2 p-norm distances between the rows i < j of ``input`` (N, M), in
    the order (0, 1), (0, 2), ..., (1, 2), ... (torch's)."""
    check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: "
                           f"{dtype_name(input)}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    rows, cols = np.triu_indices(input.shape[0], 1)
    return norm(sub(input[rows], input[cols]), p, -1)
