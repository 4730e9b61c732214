"""Order statistics and NaN-aware means: ``kthvalue``, ``quantile`` / ``nanquantile``
(torch's five interpolation modes), ``nanmean``. Values come from ``sort`` and ``gather``
of the sorted tensor, so their gradients follow."""
import collections

import numpy as np

from .._out import takes_out, write_out
from ..autograd import no_grad
from ..tensor import Tensor
from ._operands import dtype_name
from ._shape_args import as_int
from ._util import check_tensor, normalize_dim
from .arithmetic import div, mul, sub
from .binary import lerp, where
from .compare import isnan, logical_not
from .gather import gather
from .permute import movedim
from .reduce import nansum, sum
from .sort import sort
from .view import reshape, squeeze, unsqueeze

__all__ = ["kthvalue", "quantile", "nanquantile", "nanmean"]

kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])
_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


@takes_out(dtypes="exact")
def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the ``k``-th smallest element (1-based) along ``dim``."""
    check_tensor(input, "kthvalue")
    k = as_int(k, "kthvalue", "k")
    d = normalize_dim(dim, input.ndim, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, indices = sort(input, d)
    if input.ndim == 0:
        return kthvalue_result(values, indices)
    at = Tensor(np.full(tuple(1 if i == d else s for i, s in enumerate(input.shape)), k - 1))
    values, indices = gather(values, d, at), Tensor(np.take_along_axis(indices._data,
                                                                       at._data, d))
    if not keepdim:
        values, indices = squeeze(values, d), squeeze(indices, d)
    return kthvalue_result(values, indices)


def _quantile(fn, input, q, dim, keepdim, interpolation, ignore_nan):
    check_tensor(input, fn)
    if input._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{fn}() input tensor must be either float or double dtype")
    if interpolation not in _MODES:
        raise ValueError(f"{fn}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    if isinstance(q, Tensor):
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{fn}() q tensor must be same dtype as the input tensor")
        if q.ndim > 1:
            raise RuntimeError(f"{fn}() q must be a scalar or 1D tensor")
        qs, scalar_q = q._data.astype(np.float64).reshape(-1), q.ndim == 0
    else:
        qs, scalar_q = np.array([float(q)]), True
    if qs.size and not ((qs >= 0) & (qs <= 1)).all():
        raise RuntimeError(f"{fn}() q values must be in the range [0, 1]")
    if input.numel() == 0:
        raise RuntimeError(f"{fn}() input tensor must be non-empty")
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, max(input.ndim, 1), fn)
    if x.ndim == 0:
        x = reshape(x, (1,))
    values = sort(x, d).values  # NaN sorts last
    a = np.moveaxis(x._data, d, -1)
    last = a.shape[-1] - 1
    nans = np.isnan(a).sum(-1, keepdims=True)
    count = a.shape[-1] - nans if ignore_nan else np.full_like(nans, a.shape[-1])
    dt = input._data.dtype  # torch computes ranks and weights in the input's dtype
    ranks = qs.astype(dt) * (count - 1).astype(dt)  # (..., len(q))
    pinned = (count == 0) | ((nans > 0) & (not ignore_nan))  # the result is the NaN at the end
    ranks = np.where(pinned, last, ranks)
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)
    below, above = np.floor(ranks).astype(np.int64), np.ceil(ranks).astype(np.int64)
    lo = gather(values, d, Tensor(np.moveaxis(below, -1, d)))
    hi = gather(values, d, Tensor(np.moveaxis(above, -1, d)))
    if interpolation == "midpoint":
        out = lerp(lo, hi, 0.5)
    elif interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
        out = lerp(lo, hi, _linear_weight(q, count, below, pinned, d))
    else:
        out = lerp(lo, hi, Tensor(np.moveaxis(ranks - below, -1, d).astype(dt)))
    out = unsqueeze(out, 0).transpose(0, d + 1).squeeze(d + 1)  # q's dim first
    if keepdim and input.ndim:  # a 0-d input has no dim to keep
        out = unsqueeze(out, d + 1) if dim is not None else reshape(
            out, (len(qs),) + (1,) * input.ndim)
    return squeeze(out, 0) if scalar_q else out


def _linear_weight(q, count, below, pinned, d):
    """The linear interpolation weight q (n - 1) - floor(q (n - 1)) (0 where the rank is
    pinned) computed from the tensor ``q``: torch's quantile is differentiable in q too."""
    dt = q._data.dtype
    rank = mul(reshape(q, (-1,)), Tensor((count - 1).astype(dt)))
    return movedim(where(Tensor(pinned), 0.0, sub(rank, Tensor(below.astype(dt)))), -1, d)


def _quantile_out(fn, out, *args):
    """torch's quantile is composite: with ``out=`` it runs without a graph, even for an
    input that requires grad; ``out`` must have the input's dtype."""
    if out is None:
        return _quantile(fn, *args)
    with no_grad():
        result = _quantile(fn, *args)
    return write_out(fn, result, out, dtypes="exact")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-quantiles (a number or 1-D tensor in [0, 1]) along ``dim`` (all elements
    by default): rank ``q (n - 1)`` in the sorted values, between neighbours by
    ``interpolation``; NaN where the slice has a NaN. A 1-D ``q`` adds a leading dim."""
    return _quantile_out("quantile", out, input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` over the non-NaN values (NaN where a slice has none)."""
    return _quantile_out("nanquantile", out, input, q, dim, keepdim, interpolation, True)


@takes_out
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN values: ``nansum / count(non-NaN)``."""
    check_tensor(input, "nanmean")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {dtype_name(input)}")
    counts = sum(logical_not(isnan(input)), dim, keepdim)
    return div(nansum(input, dim, keepdim, dtype=dtype), counts)
