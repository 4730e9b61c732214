"""Order statistics: sort, argsort, topk, unique, searchsorted."""
import collections

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._shape_args import along, as_int, index_array
from ._traced import Traced
from ._util import check_tensor, normalize_dim
from .gather import gather
from .view import View

__all__ = ["sort", "argsort", "topk", "unique", "searchsorted"]

sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])


def _argsort(a, axis, descending):
    """Stable argsort; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    return np.flip(n - 1 - np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)


class TakeAlong(Kernel):
    """y = x taken along ``dim`` at indices without repeats (sort, topk); dx puts dy back."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape, ctx.index, ctx.dim = x.shape, index, dim
        return np.take_along_axis(x, index, dim)

    @staticmethod
    def backward(ctx, g):
        return put_along(g, ctx.index, ctx.dim, ctx.in_shape)


class PutAlong(Kernel):
    """y = zeros of ``shape`` holding x at ``index`` along ``dim`` (no repeats): the adjoint
    of TakeAlong, i.e. its recorded gradient; dx takes dy back at ``index``."""

    @staticmethod
    def forward(ctx, x, index, dim, shape):
        ctx.index, ctx.dim = index, dim
        y = np.zeros(shape, x.dtype)
        np.put_along_axis(y, index, x, dim)
        return y

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, np.ndarray):
            return np.take_along_axis(g, ctx.index, ctx.dim)
        return Traced(TakeAlong.apply(g.t, index=ctx.index, dim=ctx.dim))


def put_along(g, index, dim, shape):
    """Zeros of ``shape`` with ``g`` put at ``index`` along ``dim``: an array, or the
    recorded PutAlong of a traced ``g`` (a backward run with create_graph)."""
    if isinstance(g, np.ndarray):
        out = np.zeros(shape, g.dtype)
        np.put_along_axis(out, index, g, dim)
        return out
    return Traced(PutAlong.apply(g.t, index=index, dim=dim, shape=shape))


@takes_out(dtypes="exact")
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim`` (ties keep their order; NaN sorts as largest)."""
    check_tensor(input, "sort")
    if input.ndim == 0:
        return sort_result(gather(input, 0, Tensor(np.zeros((), np.int64))),
                           Tensor(np.zeros((), np.int64)))
    d = normalize_dim(dim, input.ndim, "sort")
    idx = _argsort(input._data, d, descending).astype(np.int64)
    return sort_result(TakeAlong.apply(input, index=idx, dim=d), Tensor(idx))


def sort_method(self, dim=-1, descending=False, stable=False):
    return sort(self, dim, descending, stable)


def argsort(input, dim=-1, descending=False, stable=False):
    check_tensor(input, "argsort")
    if input.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    d = normalize_dim(dim, input.ndim, "argsort")
    return Tensor(_argsort(input._data, d, descending).astype(np.int64))


def _topk_by_passes(a, k, d, largest):
    """Indices of the k best along ``d`` by k arg-max passes (fast for small k on floats);
    None where an infinite value (like the fill that marks taken entries) or a NaN
    (smallest-first) makes the passes unsafe."""
    work = a.copy()
    fill = -np.inf if largest else np.inf
    pick = np.argmax if largest else np.argmin
    out = []
    for _ in range(k):
        j = np.expand_dims(pick(work, axis=d), d)
        v = np.take_along_axis(work, j, d)
        if np.isinf(v).any() or (not largest and np.isnan(v).any()):
            return None
        out.append(j)
        np.put_along_axis(work, j, fill, d)
    return np.concatenate(out, axis=d)


@takes_out(dtypes="exact")
def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``, best first."""
    check_tensor(input, "topk")
    a = input._data if input.ndim else input._data.reshape(1)
    d = normalize_dim(dim, a.ndim, "topk")
    n, k = a.shape[d], as_int(k, "topk", "k")
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return topk_result(View.apply(input, shape=()), Tensor(np.zeros((), np.int64)))
    idx = _topk_by_passes(a, k, d, largest) if 0 < k <= 8 and a.dtype.kind == "f" else None
    if idx is None:
        if 0 < k < n:
            part = np.argpartition(a, n - k if largest else k - 1, axis=d)
            part = part[along(d, slice(n - k, None) if largest else slice(0, k))]
        else:
            part = np.broadcast_to(np.arange(k).reshape(_shape_at(a.ndim, d, k)),
                                   a.shape[:d] + (k,) + a.shape[d + 1:])
        order = _argsort(np.take_along_axis(a, part, d), d, largest)
        idx = np.take_along_axis(part, order, d)
    idx = idx.astype(np.int64, copy=False)
    return topk_result(TakeAlong.apply(input, index=idx, dim=d), Tensor(idx))


def _shape_at(ndim, d, n):
    return tuple(n if i == d else 1 for i in range(ndim))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (always sorted here), optional inverse indices and counts."""
    check_tensor(input, "unique")
    a = input._data
    if dim is not None:
        d = normalize_dim(dim, a.ndim, "unique")
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    else:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    out = [Tensor(vals)]
    if return_inverse:
        out.append(Tensor(inv.astype(np.int64)))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_method(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(self, sorted, return_inverse, return_counts, dim)


@takes_out(dtypes="exact")
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Insertion indices of ``input`` into ``sorted_sequence`` along its last dim."""
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    s = sorted_sequence._data
    if sorter is not None:
        s = np.take_along_axis(s, index_array(sorter, "searchsorted", "sorter"), -1)
    scalar = not isinstance(input, Tensor)
    v = np.asarray(input) if scalar else input._data
    how = "right" if right else "left"
    if s.ndim <= 1:
        out = np.searchsorted(s, v, side=how)
    else:
        if v.shape[:-1] != s.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               f"the first N-1 dimensions of boundaries tensor and input value "
                               f"tensor must match, but we got boundaries tensor "
                               f"{list(s.shape)} and input value tensor {list(v.shape)}")
        rows_s, rows_v = s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1])
        out = np.stack([np.searchsorted(a, b, side=how) for a, b in zip(rows_s, rows_v)])
        out = out.reshape(v.shape)
    return Tensor(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))
