"""Gather / scatter along a dim: gather, take_along_dim, take, scatter / scatter_add and
index_select / index_add / index_fill."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._index_write import add_at, write_inplace
from ._shape_args import along, index_array
from ._util import check_tensor, normalize_dim
from .expand import broadcast_shapes, expand_to
from .indexing import IndexPut, getitem, index_put_into, put_at, value_for
from .masked import as_fill_value
from .view import reshape

__all__ = ["gather", "take_along_dim", "take", "scatter", "scatter_add", "index_select",
           "index_add", "index_fill"]


def _grid_index(index, dim):
    """Fancy index addressing ``out[i0, .., index[i0, .., ik], .., ik]`` for every position."""
    grids = list(np.ix_(*[np.arange(s) for s in index.shape]))
    grids[dim] = index
    return tuple(grids)


def _check_gather_index(input, dim, index, fn, src=None):
    idx = index_array(index, fn)
    if idx.ndim != input.ndim and not (idx.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(f"{fn}(): Index tensor must have the same number of dimensions as "
                           f"input tensor")
    d = normalize_dim(dim, input.ndim, fn)
    for j, (a, b) in enumerate(zip(idx.shape, input.shape)):
        if j != d and a > b:
            raise RuntimeError(f"{fn}(): Size does not match at dimension {j} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(input.shape)} "
                               f"apart from dimension {d}")
    if src is not None:
        for a, b in zip(idx.shape, src.shape):
            if a > b:
                raise RuntimeError(f"{fn}(): Expected index {list(idx.shape)} to be no larger "
                                   f"than self {list(input.shape)} apart from dimension {d} and "
                                   f"to be no larger size than src {list(src.shape)}")
    if input.ndim:
        n = input.shape[d]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx.max() if idx.max() >= n else idx.min()
            raise RuntimeError(f"{fn}(): index {bad} is out of bounds for dimension {d} with "
                               f"size {n}")
    return idx.reshape(idx.shape if input.ndim else ()), d


class Gather(Kernel):
    """y[i][j] = x[i][index[i][j]] (along ``dim``); dx scatter-adds dy back to those places."""

    @staticmethod
    def forward(ctx, x, index, dim):
        key = _grid_index(index, dim) if x.ndim else ()
        ctx.in_shape, ctx.key = x.shape, key
        return np.asarray(x[key])

    @staticmethod
    def backward(ctx, g):
        return put_at(np.zeros(ctx.in_shape, g.dtype), (None, ctx.key), g, True)


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at ``index`` (same ndim; smaller elsewhere is fine).
    ``sparse_grad=True`` is refused: minidl has no sparse tensors."""
    check_tensor(input, "gather")
    if sparse_grad:
        raise NotImplementedError("gather(sparse_grad=True) is not supported: minidl has no "
                                  "sparse tensors, so the gradient is dense")
    idx, d = _check_gather_index(input, dim, index, "gather")
    return Gather.apply(input, index=idx, dim=d)


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting of ``input`` and ``indices`` outside ``dim``."""
    check_tensor(input, "take_along_dim")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    shp_i, shp_x = list(indices.shape), list(input.shape)
    shp_i[d] = shp_x[d] = 1
    b = list(broadcast_shapes(shp_i, shp_x))
    bx, bi = list(b), list(b)
    bx[d], bi[d] = input.shape[d], indices.shape[d]
    return gather(expand_to(input, tuple(bx)), d, Tensor(np.broadcast_to(indices._data, bi)))


@takes_out(dtypes="exact")
def take(input, index):
    """``input`` read as 1-D at ``index`` (result has ``index``'s shape)."""
    check_tensor(input, "take")
    return getitem(reshape(input, (-1,)), index_array(index, "take"))


def _scatter_args(input, dim, index, src, value, fn, reduce):
    if reduce is not None:
        raise NotImplementedError(f"{fn}(reduce={reduce!r}) is not supported by minidl; use "
                                  f"scatter_add or scatter_reduce")
    if src is not None and value is not None:
        raise TypeError(f"{fn}(): pass either src or value, not both")
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{fn}() missing 1 required argument: 'src' or 'value'")
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{fn}(): Expected self.dtype to be equal to src.dtype")
        if src.ndim != input.ndim and src.ndim != 0:
            raise RuntimeError(f"{fn}(): Index tensor must have the same number of dimensions "
                               f"as src tensor")
        idx, d = _check_gather_index(input, dim, index, fn, src if src.ndim else None)
        if src.ndim and src.shape != idx.shape:  # only the part that index covers is read
            src = getitem(src, tuple(slice(0, s) for s in idx.shape))
    else:
        idx, d = _check_gather_index(input, dim, index, fn)
        src = np.asarray(src, dtype=input._data.dtype)
    if input.ndim == 0:
        raise RuntimeError(f"{fn}(): scatter into a 0-d tensor is not supported; reshape it to "
                           f"1-D first")
    return (None, _grid_index(idx, d)), src


# scatter is index_put at the positions (i, .., index[i, .., k], .., k) of every index entry
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (tensor or number) written at ``index`` along ``dim``."""
    check_tensor(input, "scatter")
    key, src = _scatter_args(input, dim, index, src, value, "scatter", reduce)
    return IndexPut.apply(input, src, key=key, accumulate=False, inplace=False)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    check_tensor(input, "scatter_add")
    key, src = _scatter_args(input, dim, index, src, None, "scatter_add", None)
    return IndexPut.apply(input, src, key=key, accumulate=True, inplace=False)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    key, src = _scatter_args(self, dim, index, src, value, "scatter_", reduce)
    return write_inplace(self, index_put_into, key, src, False)


def scatter_add_(self, dim, index, src):
    key, src = _scatter_args(self, dim, index, src, None, "scatter_add_", None)
    return write_inplace(self, index_put_into, key, src, True)


class IndexSelect(Kernel):
    """y = x[.., index, ..] along ``dim``; dx index-adds dy back (repeats accumulate)."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape, ctx.index, ctx.dim = x.shape, index, dim
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return put_at(np.zeros(ctx.in_shape, g.dtype), (None, along(ctx.dim, ctx.index)), g, True)


def _vector_index(input, dim, index, fn):
    check_tensor(input, fn)
    idx = index_array(index, fn)
    if idx.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    d = normalize_dim(dim, input.ndim, fn)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"{fn}(): index {bad} is out of bounds for dimension {d} with size {n}")
    return idx.reshape(-1), d


@takes_out(dtypes="exact")
def index_select(input, dim, index):
    """Slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    idx, d = _vector_index(input, dim, index, "index_select")
    if input.ndim == 0:
        return reshape(input, (1,))[idx]
    return IndexSelect.apply(input, index=idx, dim=d)


class IndexAdd(Kernel):
    """y = x; y[.., index[i], ..] += alpha * src[.., i, ..].
    dx = dy, dsrc = alpha * dy[.., index, ..]."""

    @staticmethod
    def forward(ctx, x, src, index, dim, alpha, inplace):
        ctx.index, ctx.dim, ctx.alpha = index, dim, alpha
        out = x if inplace else x.copy()
        add_at(out, along(dim, index), src if alpha == 1 else alpha * src)
        return out

    @staticmethod
    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = np.take(g, ctx.index, axis=ctx.dim)
            if ctx.alpha != 1:
                gsrc = gsrc * ctx.alpha
        return g, gsrc


def _index_add_args(input, dim, index, source, fn):
    idx, d = _vector_index(input, dim, index, fn)
    check_tensor(source, fn, "source")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"{fn}(): self ({input.dtype}) and source ({source.dtype}) must have "
                           f"the same scalar type")
    want = list(input.shape)
    if want:
        want[d] = idx.size
    if list(source.shape) != want and not (source.ndim == 0 and idx.size == 1):
        if source.ndim == input.ndim and source.shape[d] != idx.size:
            raise RuntimeError(f"{fn}(): Number of indices ({idx.size}) should be equal to "
                               f"source.size(dim): ({source.shape[d]}), for dim: {d}")
        raise RuntimeError(f"{fn}(): source of shape {list(source.shape)} must have the shape of "
                           f"self {list(input.shape)} except along dim {d} (expected {want})")
    return idx, d


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` slices added at ``index`` along ``dim``."""
    idx, d = _index_add_args(input, dim, index, source, "index_add")
    return IndexAdd.apply(input, source, index=idx, dim=d, alpha=alpha, inplace=False)


def _index_add_into(self, source, idx, d, alpha):
    return IndexAdd.apply(self, source, index=idx, dim=d, alpha=alpha, inplace=True)


def index_add_(self, dim, index, source, *, alpha=1):
    idx, d = _index_add_args(self, dim, index, source, "index_add_")
    return write_inplace(self, _index_add_into, source, idx, d, alpha)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` written into the slices at ``index`` along ``dim``
    (each slice once: a repeated index does not count twice in the value's gradient)."""
    idx, d = _vector_index(input, dim, index, "index_fill")
    idx = np.unique(idx)
    v = as_fill_value(value, "index_fill")
    return IndexPut.apply(input, value_for(input, v), key=(None, along(d, idx)),
                          accumulate=False, inplace=False)


def index_fill_(self, dim, index, value):
    idx, d = _vector_index(self, dim, index, "index_fill_")
    idx = np.unique(idx)
    v = as_fill_value(value, "index_fill_")
    return write_inplace(self, index_put_into, (None, along(d, idx)), value_for(self, v), False)
