"""Diagonals and triangles: diagonal (a view), diag_embed, diag, tril / triu and the
coordinates of a triangle (tril_indices / triu_indices)."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import backend
from .._out import takes_out
from ..autograd import Kernel
from ..backend import check_device
from ..tensor import _SCALAR_NAMES, Tensor
from ._shape_args import along, as_int
from ._traced import Traced
from ._util import check_tensor, normalize_dim
from .indexing import put_at
from .view import contiguous

__all__ = ["diagonal", "diag", "diag_embed", "tril", "triu", "tril_indices", "triu_indices"]


def _diag_view(a, offset, d1, d2):
    """A writable view of the ``offset`` diagonal of ``a`` over dims d1, d2 (appended last)."""
    d1, d2 = d1 % a.ndim, d2 % a.ndim
    n1, n2 = a.shape[d1], a.shape[d2]
    if offset >= 0:
        length = max(min(n1, n2 - offset), 0)
        start = along(d2, slice(min(offset, n2), None))
    else:
        length = max(min(n1 + offset, n2), 0)
        start = along(d1, slice(min(-offset, n1), None))
    b = a[start]
    keep = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(a.shape[i] for i in keep) + (length,)
    strides = tuple(a.strides[i] for i in keep) + (a.strides[d1] + a.strides[d2],)
    return as_strided(b, shape, strides, writeable=a.flags.writeable)


class Diagonal(Kernel):
    """y = the diagonal of x over (dim1, dim2) as a view; dx is dy written on that diagonal."""

    _view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.in_shape, ctx.args = x.shape, (offset, dim1, dim2)
        return _diag_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, np.ndarray):
            gx = np.zeros(ctx.in_shape, g.dtype)
            _diag_view(gx, *ctx.args)[...] = g
            return gx
        # recorded: write g at (.., rows, cols) of x's shape with dim1, dim2 moved last
        offset, d1, d2 = ctx.args
        keep = [i for i in range(len(ctx.in_shape)) if i not in (d1, d2)]
        order = keep + [d1, d2]
        n = g.shape[-1]
        rows, cols = np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)
        gx = put_at(np.zeros([ctx.in_shape[i] for i in order], g.dtype),
                    (None, (Ellipsis, rows, cols)), g, False)
        return np.transpose(gx, np.argsort(order))


def diagonal(input, offset=0, dim1=0, dim2=1):
    check_tensor(input, "diagonal")
    a = normalize_dim(dim1, input.ndim, "diagonal")
    b = normalize_dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=a, dim2=b)


class DiagEmbed(Kernel):
    """y has x's last dim on the ``offset`` diagonal of two new dims; dx reads it back."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        m = x.shape[-1] + abs(offset)
        out = np.zeros(x.shape[:-1] + (m, m), x.dtype)
        _diag_view(out, offset, -2, -1)[...] = x
        return np.moveaxis(out, (-2, -1), (dim1, dim2))

    @staticmethod
    def backward(ctx, g):
        offset, d1, d2 = ctx.args
        if isinstance(g, Traced):
            return Traced(Diagonal.apply(g.t, offset=offset, dim1=d1, dim2=d2))
        return _diag_view(g, offset, d1, d2).copy()


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    check_tensor(input, "diag_embed")
    n = input.ndim + 1
    a, b = normalize_dim(dim1, n, "diag_embed"), normalize_dim(dim2, n, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, offset=int(offset), dim1=a, dim2=b)


@takes_out(dtypes="exact")
def diag(input, diagonal=0):
    """1-D -> a square matrix with ``input`` on a diagonal; 2-D -> that diagonal (a copy)."""
    check_tensor(input, "diag")
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    if input.ndim == 2:
        return contiguous(Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


class Tri(Kernel):
    """y = tril/triu(x, k) on the last two dims; dx = the same mask applied to dy."""

    @staticmethod
    def forward(ctx, x, upper, k):
        ctx.upper, ctx.k = upper, k
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return np.triu(g, ctx.k) if ctx.upper else np.tril(g, ctx.k)


def _tri(input, diagonal, upper):
    fn = "triu" if upper else "tril"
    check_tensor(input, fn)
    if input.ndim < 2:
        raise RuntimeError(f"{fn}: input tensor must have at least 2 dimensions")
    return Tri.apply(input, upper=upper, k=as_int(diagonal, fn, "diagonal"))


@takes_out(dtypes="exact")
def tril(input, diagonal=0):
    """Lower triangle (elements on and below diagonal ``diagonal``); the rest zero."""
    return _tri(input, diagonal, False)


@takes_out(dtypes="exact")
def triu(input, diagonal=0):
    """Upper triangle (elements on and above diagonal ``diagonal``); the rest zero."""
    return _tri(input, diagonal, True)


def _triangle_indices(fn, row, col, offset, dtype, device, lower):
    row, col = as_int(row, fn, "row"), as_int(col, fn, "col")
    offset = as_int(offset, fn, "offset")
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{name} must be non-negative, got{n}")
    d = backend.as_dtype(dtype)
    if d.np not in (np.int32, np.int64):
        raise NotImplementedError(f'"{fn}" not implemented for \'{_SCALAR_NAMES[d.name]}\'')
    check_device(device)
    make = np.tril_indices if lower else np.triu_indices
    return Tensor(np.stack(make(row, offset, col)).astype(d.np).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=backend.int64, device=None):
    """The (row, column) coordinates of the lower triangle of a ``row`` x ``col`` matrix
    (entries with ``j - i <= offset``), in row-major order, as a 2 x N tensor."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, lower=True)


def triu_indices(row, col, offset=0, *, dtype=backend.int64, device=None):
    """The coordinates of the upper triangle (``j - i >= offset``), as ``tril_indices``."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, lower=False)
