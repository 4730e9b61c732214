"""Broadcasting and repetition: expand, broadcast_to / _tensors / _shapes, meshgrid, repeat,
tile, repeat_interleave."""
import warnings

import numpy as np

from ..autograd import Kernel
from ..tensor import Size, Tensor
from ._shape_args import along, as_int, index_array, int_tuple, sizes_or_named
from ._util import check_tensor, normalize_dim, unbroadcast
from .indexing import put_at
from .view import reshape

__all__ = ["broadcast_to", "broadcast_tensors", "broadcast_shapes", "meshgrid", "tile",
           "repeat_interleave"]


class Expand(Kernel):
    """y = x broadcast to a larger shape (a view); dx sums dy over the stretched dims."""

    _view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.view() if shape == x.shape else np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape)


def expand_to(input, sizes):
    """``input`` broadcast to ``sizes`` without copying (-1 keeps a dim); torch's errors."""
    shp = input.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand({input.dtype}{{{list(shp)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            out.append(s)
            continue
        have = shp[i - lead]
        if s == -1:
            s = have
        elif have != 1 and s != have:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shp)}")
        out.append(s)
    return Expand.apply(input, shape=tuple(out))


def expand(self, *sizes, size=None):
    """``self`` broadcast to ``sizes`` without copying (-1 keeps a dim)."""
    return expand_to(self, int_tuple(sizes_or_named(sizes, size, "expand", "size"), "expand"))


def expand_as(self, other):
    return expand_to(self, tuple(other.shape))


def broadcast_to(input, size):
    check_tensor(input, "broadcast_to")
    return expand_to(input, int_tuple((size,), "broadcast_to"))


def broadcast_shapes(*shapes):
    """The shape that broadcasting ``shapes`` together gives (torch's errors)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    n = max((len(s) for s in shapes), default=0)
    out = [1] * n
    for s in shapes:
        for i, d in enumerate(s):
            j = n - len(s) + i
            if d != 1 and out[j] != 1 and out[j] != d:
                raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single "
                                   f"shape.  Mismatch is between {out[j]} and {d} at dimension "
                                   f"{j}")
            if d != 1:
                out[j] = d
            elif out[j] == 1:
                out[j] = d
    return Size(out)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = tuple(broadcast_shapes(*[t.shape for t in tensors]))
    return tuple(expand_to(t, shape) for t in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (``indexing='ij'`` or ``'xy'``), as expanded views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for i, x in enumerate(tensors):
        check_tensor(x, "meshgrid", f"tensors[{i}]")
        if x.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {x.ndim}D tensor at position {i}")
    n = len(tensors)
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * n
    for p, x in zip(pos, tensors):
        shape[p] = x.numel()
    out = []
    for p, x in zip(pos, tensors):
        view_shape = tuple(-1 if i == p else 1 for i in range(n))
        out.append(expand_to(reshape(x, view_shape), tuple(shape)))
    return tuple(out)


class Repeat(Kernel):
    """y = x tiled ``reps`` times per dim; dx sums dy over the copies."""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x.shape, reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        reps = ctx.reps
        shp = (1,) * (len(reps) - len(ctx.in_shape)) + ctx.in_shape
        split = [d for r, s in zip(reps, shp) for d in (r, s)]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(ctx.in_shape)


def repeat(self, *sizes, repeats=None):
    """``self`` tiled ``sizes[i]`` times along dim i (extra leading sizes add dims)."""
    reps = int_tuple(sizes_or_named(sizes, repeats, "repeat", "repeats"), "repeat", "repeats")
    if len(reps) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeats {list(reps)}")
    return Repeat.apply(self, reps=reps)


def tile(input, dims):
    """``repeat`` where ``dims`` shorter than ``input.ndim`` is padded with leading 1s."""
    check_tensor(input, "tile")
    dims = int_tuple((dims,), "tile", "dims")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def tile_method(self, *dims_, dims=None):
    return tile(self, int_tuple(sizes_or_named(dims_, dims, "tile", "dims"), "tile", "dims"))


class RepeatInterleave(Kernel):
    """y repeats each slice of x along ``dim`` ``repeats[i]`` times; dx sums each run of dy."""

    @staticmethod
    def forward(ctx, x, repeats, dim):
        ctx.repeats, ctx.dim, ctx.n = repeats, dim, x.shape[dim]
        return np.repeat(x, repeats, axis=dim)

    @staticmethod
    def backward(ctx, g):
        r, d, n = ctx.repeats, ctx.dim, ctx.n
        if np.ndim(r) == 0:
            return g.reshape(g.shape[:d] + (n, int(r)) + g.shape[d + 1:]).sum(axis=d + 1)
        gx = np.zeros(g.shape[:d] + (n,) + g.shape[d + 1:], g.dtype)
        if not isinstance(g, np.ndarray):  # recorded: the run sums are an index_add
            return put_at(gx, (None, along(d, np.repeat(np.arange(n), r))), g, True)
        nz = r > 0
        if nz.any():
            starts = np.cumsum(r) - r
            gx[along(d, nz)] = np.add.reduceat(g, starts[nz], axis=d)
        return gx


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times, keeping order."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated
        counts = index_array(input, "repeat_interleave", "repeats")
        _check_output_size(output_size, int(counts.sum()))
        return Tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts.reshape(-1)))
    check_tensor(input, "repeat_interleave")
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = normalize_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        r = index_array(repeats, "repeat_interleave", "repeats").astype(np.int64).reshape(-1)
        if r.size == 1:
            r = int(r[0])
        elif r.size != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim {d}, but got repeats.size(0) = {r.size} and "
                               f"input.size({d}) = {n}")
        elif (r < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative")
    else:
        r = as_int(repeats, "repeat_interleave", "repeats")
    if np.ndim(r) == 0 and r < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    _check_output_size(output_size, int(np.sum(r) if np.ndim(r) else r * n))
    if input.ndim == 0:
        input = reshape(input, (1,))
    return RepeatInterleave.apply(input, repeats=r, dim=d)


def _check_output_size(output_size, total):
    """``output_size`` is torch's hint of the result's length: it must be right."""
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {total} but got "
                           f"{output_size}")


def repeat_interleave_method(self, repeats=None, dim=None, *, output_size=None):
    return repeat_interleave(self, repeats, dim, output_size=output_size)
