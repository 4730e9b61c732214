"""Splitting into views: split, chunk, tensor_split, unbind, unfold (sliding windows along a
dim)."""
import numpy as np

from ..autograd import Kernel
from ..tensor import Tensor
from ._operands import dtype_name
from ._shape_args import along, as_int, int_tuple
from ._util import check_tensor, normalize_dim
from .indexing import put_at
from .view import reshape

__all__ = ["split", "chunk", "tensor_split", "unbind"]


class Split(Kernel):
    """Views of consecutive slabs along ``dim``; dx joins the slabs' gradients."""

    _view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        ends = np.cumsum(sizes)
        return tuple(x[along(dim, slice(int(e - s), int(e)))] for s, e in zip(sizes, ends))

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.dim)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` (the last may be smaller) or of the listed sizes, as views."""
    check_tensor(tensor, "split")
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    s = split_size_or_sections
    if isinstance(s, (list, tuple)):
        sizes = int_tuple((s,), "split", "split_size")
        if sum(sizes) != n or any(x < 0 for x in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={list(sizes)}")
    else:
        s = as_int(s, "split", "split_size")
        if s < 0 or (s == 0 and n != 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = (s,) * (n // s) + ((n % s,) if n % s else ()) if s else (0,)
    return Split.apply(tensor, sizes=sizes, dim=d)


def chunk(input, chunks, dim=0):
    """``ceil(n / chunks)``-sized pieces along ``dim`` (there may be fewer than ``chunks``)."""
    check_tensor(input, "chunk")
    chunks = as_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    return split(input, max(-(-n // chunks), 1) if n else 1, d) if n else \
        Split.apply(input, sizes=(0,) * chunks, dim=d)


def _split_points(indices_or_sections):
    """A section count (int) or a tuple of split indices, from ints or an int64 tensor."""
    s = indices_or_sections
    if isinstance(s, Tensor):
        if s._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {dtype_name(s)}")
        if s.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {s.ndim} dims")
        return int(s._data) if s.ndim == 0 else tuple(int(i) for i in s._data)
    if isinstance(s, (list, tuple)):
        return int_tuple((s,), "tensor_split", "indices")
    return as_int(s, "tensor_split", "sections")


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` along ``dim``: ``n`` sections (the first ``size % n`` one longer),
    or the slices between the given indices (Python slice bounds: negative ones count from
    the end, out-of-range ones clamp)."""
    check_tensor(input, "tensor_split")
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = normalize_dim(dim, input.ndim, "tensor_split")
    points = _split_points(indices_or_sections)
    if isinstance(points, int):
        if points <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {points}")
        size, extra = divmod(input.shape[d], points)
        return Split.apply(input, sizes=(size + 1,) * extra + (size,) * (points - extra), dim=d)
    bounds = (0, *points, None)
    return tuple(input[along(d, slice(a, b))] for a, b in zip(bounds, bounds[1:]))


class Unbind(Kernel):
    """Views of each slice along ``dim``; dx stacks their gradients."""

    _view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[along(dim, i)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.dim)


def unbind(input, dim=0):
    check_tensor(input, "unbind")
    d = normalize_dim(dim, input.ndim, "unbind")
    if input.shape[d] == 0:
        return ()
    out = Unbind.apply(input, dim=d)
    return out if isinstance(out, tuple) else (out,)


class Unfold(Kernel):
    """y[.., i, .., k] = x[.., i * step + k, ..]: windows of ``size`` along ``dim`` as a new
    last dim (a view); dx adds each window position's gradient back (windows may overlap)."""

    _view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.args = x.shape, (dim, size, step)
        windows = np.lib.stride_tricks.sliding_window_view(  # overlapping windows: read-only
            x, size, axis=dim, writeable=x.flags.writeable and step >= size)
        return windows[along(dim, slice(None, None, step))]

    @staticmethod
    def backward(ctx, g):
        dim, size, step = ctx.args
        gx = np.zeros(ctx.in_shape, g.dtype)
        n = g.shape[dim]
        for k in range(size):  # one strided slab per position inside the window
            gx = put_at(gx, (along(dim, slice(k, k + step * (n - 1) + 1, step)), None),
                        g[..., k], True)
        return gx


def unfold(self, dimension, size, step):
    """All windows of ``size`` elements taken every ``step`` along ``dimension`` (a view)."""
    x = self if self.ndim else reshape(self, (1,))
    d = normalize_dim(dimension, x.ndim, "unfold")
    size, step = as_int(size, "unfold", "size"), as_int(step, "unfold", "step")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0 or size > x.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {x.shape[d]} but size "
                           f"is {size}")
    out = Unfold.apply(x, dim=d, size=size, step=step)
    return out if self.ndim else reshape(out, (1,))


def split_method(self, split_size, dim=0):
    return split(self, split_size, dim)
