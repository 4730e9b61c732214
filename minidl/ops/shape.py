"""Shape, view and indexing kernels: reshape, permute, expand, cat, split, gather, pad, ...

Views (reshape when no copy is needed, permute, expand, basic indexing, narrow, diagonal,
split) return NumPy views of their input and set ``_view = True``, so that writes under
``no_grad`` reach the base and both share one version counter. Their backward undoes the
movement of the data. Copying kernels that *select* elements (advanced indexing, gather,
index_select, embedding) scatter the gradient back, accumulating repeated indices.
"""
import collections
import math
import operator
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Kernel
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Size, Tensor
from ._util import check_tensor, normalize_dim, normalize_dims, promote, unbroadcast

__all__ = ["reshape", "flatten", "unflatten", "permute", "transpose", "swapaxes", "swapdims",
           "t", "movedim", "moveaxis", "squeeze", "unsqueeze", "broadcast_to",
           "broadcast_tensors", "broadcast_shapes", "tile", "repeat_interleave", "cat", "concat",
           "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d", "split", "chunk", "unbind", "flip",
           "fliplr", "flipud", "roll", "rot90", "narrow", "select", "diagonal", "diag",
           "diag_embed", "gather", "take_along_dim", "take", "scatter", "scatter_add",
           "index_select", "index_add", "index_fill", "index_put", "masked_fill",
           "masked_select", "tril", "triu", "sort", "argsort", "topk", "nonzero", "argwhere",
           "meshgrid", "unique", "searchsorted"]

TENSOR_METHODS = {}
FUNCTIONAL = ["pad", "one_hot", "embedding"]

sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])

_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))


# ---------------------------------------------------------------------- helpers
def _int(x, fn, arg):
    """A Python int from an int, NumPy integer or one-element integer tensor."""
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "iu" or x.numel() != 1:
            raise TypeError(f"{fn}(): argument '{arg}' must be an int, not a {x.dtype} tensor "
                            f"of shape {list(x.shape)}")
        return int(x.item())
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{arg}' must be int, not {type(x).__name__}")
    return int(x)


def _int_tuple(args, fn, arg="size"):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` -> (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    if all(type(s) is int for s in args):  # the common case, kept cheap
        return tuple(args)
    elif len(args) == 1 and isinstance(args[0], Tensor) and args[0].ndim == 1:
        args = args[0].tolist()
    out = []
    for i, s in enumerate(args):
        if isinstance(s, Tensor) and s.numel() == 1 and s._data.dtype.kind in "iu":
            s = int(s.item())
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{fn}(): argument '{arg}' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} at pos {i}")
        out.append(int(s))
    return tuple(out)


def _along(dim, idx):
    """The index tuple that applies ``idx`` to axis ``dim``: ``(:, :, idx)``."""
    return (slice(None),) * dim + (idx,)


def _infer_shape(shape, numel):
    """Resolve one -1 in ``shape`` against ``numel``; torch's errors otherwise."""
    if min(shape, default=0) >= 0 and math.prod(shape) == numel:
        return tuple(shape)
    shape = list(shape)
    holes = [i for i, s in enumerate(shape) if s == -1]
    if len(holes) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = math.prod(s for s in shape if s != -1)
    if holes:
        if known == 0:
            if numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} "
                                   f"because the unspecified dimension size -1 can be any value "
                                   f"and is ambiguous")
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[holes[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


def _index_array(t, fn, arg="index"):
    """The int64/int32 NumPy array of an index tensor (clear error otherwise)."""
    check_tensor(t, fn, arg)
    a = t._data
    if a.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"{fn}(): Expected dtype int32 or int64 for {arg}, but got {t.dtype}")
    return a


def _check_bounds(idx, size, dim):
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if hi >= size or lo < -size:
            bad = hi if hi >= size else lo
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _sum_to(g, shape):
    """unbroadcast that also accepts ``shape`` with extra leading 1s (NumPy setitem rules)."""
    if len(shape) > g.ndim:
        g = g.reshape((1,) * (len(shape) - g.ndim) + g.shape)
    return unbroadcast(g, shape)


def _flat_index(shape, key):
    """The C-order flat positions that ``np.empty(shape)[key]`` reads, shaped like that result.

    Fast closed forms for the two patterns our kernels use -- one index array per dim
    (gather) and ``(:, .., :, idx)`` (index_select, embedding) -- else an arange lookup.
    """
    arrays = [k for k in key if isinstance(k, np.ndarray)]
    if len(arrays) == len(key) == len(shape) and all(a.dtype.kind in "iu" for a in arrays):
        lin, stride = 0, 1
        for k, n in zip(key[::-1], shape[::-1]):
            lin = lin + (k % n) * stride
            stride *= n
        return np.asarray(lin)
    d = len(key) - 1
    if len(arrays) == 1 and isinstance(key[-1], np.ndarray) and key[-1].dtype.kind in "iu" and \
            all(isinstance(k, slice) and k == slice(None) for k in key[:-1]):
        pre, n, post = math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:])
        idx = key[-1] % n
        lin = (np.arange(pre).reshape((pre,) + (1,) * (idx.ndim + 1)) * n
               + idx.reshape((1,) + idx.shape + (1,))) * post + np.arange(post)
        return lin.reshape(shape[:d] + idx.shape + shape[d + 1:])
    return np.arange(math.prod(shape)).reshape(shape)[key]


def _add_at(out, key, values):
    """``np.add.at(out, key, values)`` (repeated positions accumulate) through NumPy's fast
    1-D path when ``out`` is contiguous."""
    if not out.flags.c_contiguous:
        np.add.at(out, key, values)
        return
    lin = _flat_index(out.shape, key)
    np.add.at(out.reshape(-1), lin.reshape(-1), np.broadcast_to(values, lin.shape).reshape(-1))


def _writable(t):
    if not t._data.flags.writeable:
        raise RuntimeError(f"unsupported operation: more than one element of the written-to "
                           f"tensor (shape {list(t.shape)}, an expanded or overlapping view) "
                           f"refers to a single memory location. Please clone() the tensor "
                           f"before performing the operation.")


def _write(self, fn, *args):
    """Torch in-place semantics for an ``fn(self, *args)`` that writes into self's memory.

    Outside the graph the write is all there is; in the graph ``Tensor._inplace`` rebases
    the tensor's history onto the recorded node (our kernels return the same memory).
    """
    _writable(self)
    if is_grad_enabled() and (self.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in args)):
        return self._inplace(fn, *args)
    fn(self, *args)
    self._vc[0] += 1
    return self


# ------------------------------------------------------------------- reshape
class Reshape(Kernel):
    """y = x with a new shape (a copy); dy -> dx is the reverse reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


class View(Reshape):
    """y = x with a new shape, sharing memory; dy -> dx is the reverse reshape."""

    _view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return _strided_reshape(x, shape)
        except ValueError:
            raise RuntimeError(_VIEW_ERROR) from None


def _strided_reshape(a, shape):
    """``a`` reshaped without copying; ValueError when the strides do not allow it."""
    try:
        return a.reshape(shape, copy=False)
    except TypeError:  # NumPy < 2.1 has no copy= on reshape
        v = a.view()
        try:
            v.shape = shape
        except AttributeError as e:
            raise ValueError(str(e)) from None
        return v


def reshape(input, shape):
    """``input`` with ``shape`` (one -1 inferred): a view when strides allow, else a copy."""
    check_tensor(input, "reshape")
    shape = _infer_shape(_int_tuple((shape,), "reshape", "shape"), input._data.size)
    if input._data.flags.c_contiguous:
        return View.apply(input, shape=shape)
    try:
        return View.apply(input, shape=shape)
    except RuntimeError:
        return Reshape.apply(input, shape=shape)


def _reshape_method(self, *shape, **kwargs):
    return reshape(self, _int_tuple(shape or (kwargs.pop("shape"),), "reshape", "shape"))


def view(self, *shape, **kwargs):
    """A view of ``self`` with ``shape``; an error where that would need a copy."""
    shape = shape or (kwargs.pop("size"),)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer, Tensor)):
        raise NotImplementedError("Tensor.view(dtype) is not supported by minidl")
    return View.apply(self, shape=_infer_shape(_int_tuple(shape, "view"), self._data.size))


def view_as(self, other):
    return view(self, tuple(other.shape))


def reshape_as(self, other):
    return reshape(self, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a view when possible)."""
    check_tensor(input, "flatten")
    if input.ndim == 0:
        return reshape(input, (1,))
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one -1 inferred)."""
    check_tensor(input, "unflatten")
    d = normalize_dim(dim, input.ndim, "unflatten")
    sizes = _int_tuple((sizes,), "unflatten", "sizes")
    n = input.shape[d]
    try:
        sizes = _infer_shape(sizes, n)
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({n}) in the input tensor") from None
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def squeeze(input, dim=None):
    """Drop dims of size 1 (all, one, or a tuple of them); other dims are left alone."""
    check_tensor(input, "squeeze")
    shp = input.shape
    dims = normalize_dims(dim, input.ndim, "squeeze") if input.ndim else ()
    new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return View.apply(input, shape=new)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim`` (in [-ndim-1, ndim])."""
    check_tensor(input, "unsqueeze")
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shp = input.shape
    return View.apply(input, shape=shp[:d] + (1,) + shp[d:])


# ------------------------------------------------------------------- permute
class Permute(Kernel):
    """y = x with axes reordered (a view); dx = dy with the inverse order."""

    _view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims))


def permute(input, dims):
    check_tensor(input, "permute")
    dims = _int_tuple((dims,), "permute", "dims")
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.ndim} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if wrapped == tuple(range(input.ndim)):
        return View.apply(input, shape=input._data.shape)
    return Permute.apply(input, dims=wrapped)


def _permute_method(self, *dims, **kwargs):
    return permute(self, _int_tuple(dims or (kwargs.pop("dims"),), "permute", "dims"))


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    check_tensor(input, "transpose")
    n = input.ndim
    if n == 0:
        normalize_dim(dim0, 0, "transpose"), normalize_dim(dim1, 0, "transpose")
        return View.apply(input, shape=())
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    order = list(range(n))
    order[a], order[b] = b, a
    return permute(input, order)


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a matrix; 0-D and 1-D tensors are returned as they are."""
    check_tensor(input, "t")
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else View.apply(input, shape=input._data.shape)


def _T(self):
    return permute(self, tuple(range(self.ndim))[::-1])


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    check_tensor(input, "movedim")
    src = _int_tuple((source,) if not isinstance(source, (tuple, list)) else (source,), "movedim")
    dst = _int_tuple((destination,) if not isinstance(destination, (tuple, list))
                     else (destination,), "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    n = input.ndim
    src = [normalize_dim(d, n, "movedim") for d in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


# ----------------------------------------------------------- expand / repeat
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


def _expand(input, sizes):
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


def expand(self, *sizes, **kwargs):
    """``self`` broadcast to ``sizes`` without copying (-1 keeps a dim)."""
    return _expand(self, _int_tuple(sizes or (kwargs.pop("size"),), "expand"))


def expand_as(self, other):
    return _expand(self, tuple(other.shape))


def broadcast_to(input, size):
    check_tensor(input, "broadcast_to")
    return _expand(input, _int_tuple((size,), "broadcast_to"))


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
    return tuple(_expand(t, shape) for t in tensors)


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


def repeat(self, *sizes, **kwargs):
    """``self`` tiled ``sizes[i]`` times along dim i (extra leading sizes add dims)."""
    reps = _int_tuple(sizes or (kwargs.pop("repeats"),), "repeat", "repeats")
    if len(reps) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeats {list(reps)}")
    return Repeat.apply(self, reps=reps)


def tile(input, dims):
    """``repeat`` where ``dims`` shorter than ``input.ndim`` is padded with leading 1s."""
    check_tensor(input, "tile")
    dims = _int_tuple((dims,), "tile", "dims")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _tile_method(self, *dims, **kwargs):
    return tile(self, _int_tuple(dims or (kwargs.pop("dims"),), "tile", "dims"))


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
        nz = r > 0
        if nz.any():
            starts = np.cumsum(r) - r
            gx[_along(d, nz)] = np.add.reduceat(g, starts[nz], axis=d)
        return gx


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times, keeping order."""
    if repeats is None:  # torch.repeat_interleave(repeats): indices repeated
        counts = _index_array(input, "repeat_interleave", "repeats")
        return Tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts.reshape(-1)))
    check_tensor(input, "repeat_interleave")
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = normalize_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        r = _index_array(repeats, "repeat_interleave", "repeats").astype(np.int64).reshape(-1)
        if r.size == 1:
            r = int(r[0])
        elif r.size != n:
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim {d}, but got repeats.size(0) = {r.size} and "
                               f"input.size({d}) = {n}")
        elif (r < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative")
    else:
        r = _int(repeats, "repeat_interleave", "repeats")
    if np.ndim(r) == 0 and r < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    if input.ndim == 0:
        input = reshape(input, (1,))
    return RepeatInterleave.apply(input, repeats=r, dim=d)


# ---------------------------------------------------------- cat / stack / split
class Cat(Kernel):
    """y = [x0, x1, ...] joined along ``dim``; each dx_i is its slab of dy."""

    @staticmethod
    def forward(ctx, *xs, dim, skip):
        ctx.dim, ctx.skip = dim, skip
        ctx.sizes = [0 if s else x.shape[dim] for x, s in zip(xs, skip)]
        return np.concatenate([x for x, s in zip(xs, skip) if not s], axis=dim)

    @staticmethod
    def backward(ctx, g):
        bounds = np.cumsum(ctx.sizes)[:-1]
        pieces = np.split(g, bounds, axis=ctx.dim)
        return tuple(np.zeros((0,), g.dtype) if s else p
                     for p, s in zip(pieces, ctx.skip))


def _tensor_list(tensors, fn):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{fn}(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    return list(tensors)


def cat(tensors, dim=0):
    """Join tensors along an existing dim (dtypes promote; legacy empty 1-D ones skipped)."""
    tensors = _tensor_list(tensors, "cat")
    for i, x in enumerate(tensors):
        if x.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    skip = [x.shape == (0,) for x in tensors]
    if all(skip):
        skip = [False] * len(tensors)
    ref_i = skip.index(False)
    ref = tensors[ref_i]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(tensors):
        if skip[i]:
            continue
        if x.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {x.ndim}")
        for j, (a, b) in enumerate(zip(ref.shape, x.shape)):
            if j != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} "
                                   f"in the list.")
    tensors = promote(*tensors)
    return Cat.apply(*tensors, dim=d, skip=tuple(skip))


concat = concatenate = cat


class Stack(Kernel):
    """y = [x0, x1, ...] along a new dim; dx_i = dy[..., i, ...]."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(g[_along(ctx.dim, i)] for i in range(g.shape[ctx.dim]))


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    shp = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} "
                               f"at entry 0 and {list(x.shape)} at entry {i}")
    d = normalize_dim(dim, len(shp) + 1, "stack")
    return Stack.apply(*promote(*tensors), dim=d)


def _atleast(n, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for x in tensors:
        shp = x.shape
        if x.ndim >= n:
            out.append(x)
        elif n == 3 and x.ndim == 2:
            out.append(reshape(x, shp + (1,)))
        elif n == 3 and x.ndim == 1:
            out.append(reshape(x, (1,) + shp + (1,)))
        else:
            out.append(reshape(x, (1,) * (n - x.ndim) + shp))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    return _atleast(3, tensors)


def hstack(tensors):
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


def column_stack(tensors):
    ts = [reshape(x, (-1, 1)) if x.ndim <= 1 else x for x in _tensor_list(tensors, "column_stack")]
    return cat(ts, 1)


class Split(Kernel):
    """Views of consecutive slabs along ``dim``; dx joins the slabs' gradients."""

    _view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        ends = np.cumsum(sizes)
        return tuple(x[_along(dim, slice(int(e - s), int(e)))] for s, e in zip(sizes, ends))

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
        sizes = _int_tuple((s,), "split", "split_size")
        if sum(sizes) != n or any(x < 0 for x in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={list(sizes)}")
    else:
        s = _int(s, "split", "split_size")
        if s < 0 or (s == 0 and n != 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = (s,) * (n // s) + ((n % s,) if n % s else ()) if s else (0,)
    return Split.apply(tensor, sizes=sizes, dim=d)


def chunk(input, chunks, dim=0):
    """``ceil(n / chunks)``-sized pieces along ``dim`` (there may be fewer than ``chunks``)."""
    check_tensor(input, "chunk")
    chunks = _int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    return split(input, max(-(-n // chunks), 1) if n else 1, d) if n else \
        Split.apply(input, sizes=(0,) * chunks, dim=d)


class Unbind(Kernel):
    """Views of each slice along ``dim``; dx stacks their gradients."""

    _view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[_along(dim, i)] for i in range(x.shape[dim]))

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
        return windows[_along(dim, slice(None, None, step))]

    @staticmethod
    def backward(ctx, g):
        dim, size, step = ctx.args
        gx = np.zeros(ctx.in_shape, g.dtype)
        n = g.shape[dim]
        for k in range(size):  # one strided slab per position inside the window
            gx[_along(dim, slice(k, k + step * (n - 1) + 1, step))] += g[..., k]
        return gx


def unfold(self, dimension, size, step):
    """All windows of ``size`` elements taken every ``step`` along ``dimension`` (a view)."""
    x = self if self.ndim else reshape(self, (1,))
    d = normalize_dim(dimension, x.ndim, "unfold")
    size, step = _int(size, "unfold", "size"), _int(step, "unfold", "step")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0 or size > x.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {x.shape[d]} but size "
                           f"is {size}")
    out = Unfold.apply(x, dim=d, size=size, step=step)
    return out if self.ndim else reshape(out, (1,))


# ----------------------------------------------------------- flip / roll
class Flip(Kernel):
    """y = x reversed along ``dims``; dx = dy reversed the same way."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims)


def flip(input, dims):
    check_tensor(input, "flip")
    dims = _int_tuple((dims,) if not isinstance(dims, (int, np.integer)) else ((dims,),), "flip",
                      "dims")
    return Flip.apply(input, dims=normalize_dims(dims, input.ndim, "flip"))


def _flip_method(self, *dims, **kwargs):
    return flip(self, _int_tuple(dims or (kwargs.pop("dims"),), "flip", "dims"))


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Kernel):
    """y = x shifted cyclically along ``dims``; dx = dy shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return np.roll(g, tuple(-s for s in ctx.shifts), ctx.dims)


def roll(input, shifts, dims=None):
    check_tensor(input, "roll")
    shifts = _int_tuple((shifts,) if not isinstance(shifts, (int, np.integer)) else ((shifts,),),
                        "roll", "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(Roll.apply(reshape(input, (-1,)), shifts=shifts, dims=(0,)), input.shape)
    dims = _int_tuple((dims,) if not isinstance(dims, (int, np.integer)) else ((dims,),), "roll",
                      "dims")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    dims = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times from the first towards the second of ``dims``."""
    check_tensor(input, "rot90")
    dims = _int_tuple((dims,), "rot90", "dims")
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and "
                           f"dim1 = {b}")
    k = k % 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), (b,))
    return View.apply(input, shape=input._data.shape)


# ------------------------------------------------ slicing views (narrow, select)
class Slice(Kernel):
    """y = x[key] for basic keys (ints, slices, None, ...): a view; dx[key] = dy."""

    _view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.in_shape, g.dtype)
        gx[ctx.key] = g
        return gx


def narrow(input, dim, start, length):
    """The view ``input[..., start:start+length, ...]`` along ``dim``."""
    check_tensor(input, "narrow")
    d = normalize_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    start, length = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.apply(input, key=_along(d, slice(start, start + length)) + (Ellipsis,))


def select(input, dim, index):
    """The view ``input[..., index, ...]`` (dim ``dim`` removed)."""
    check_tensor(input, "select")
    d = normalize_dim(dim, input.ndim, "select")
    n = input.shape[d]
    i = _int(index, "select", "index")
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return Slice.apply(input, key=_along(d, i % n) + (Ellipsis,))


# ------------------------------------------------------------------ diagonal
def _diag_view(a, offset, d1, d2):
    """A writable view of the ``offset`` diagonal of ``a`` over dims d1, d2 (appended last)."""
    d1, d2 = d1 % a.ndim, d2 % a.ndim
    n1, n2 = a.shape[d1], a.shape[d2]
    if offset >= 0:
        length = max(min(n1, n2 - offset), 0)
        start = _along(d2, slice(min(offset, n2), None))
    else:
        length = max(min(n1 + offset, n2), 0)
        start = _along(d1, slice(min(-offset, n1), None))
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
        gx = np.zeros(ctx.in_shape, g.dtype)
        _diag_view(gx, *ctx.args)[...] = g
        return gx


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
        return _diag_view(g, offset, d1, d2).copy()


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    check_tensor(input, "diag_embed")
    n = input.ndim + 1
    a, b = normalize_dim(dim1, n, "diag_embed"), normalize_dim(dim2, n, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, offset=int(offset), dim1=a, dim2=b)


def diag(input, diagonal=0):
    """1-D -> a square matrix with ``input`` on a diagonal; 2-D -> that diagonal (a copy)."""
    check_tensor(input, "diag")
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    if input.ndim == 2:
        return contiguous(Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


class Contiguous(Kernel):
    """y = x copied into C order; dx = dy."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(self, memory_format=None):
    """``self`` when it is already C-contiguous, else a C-ordered copy."""
    if self._data.flags.c_contiguous:
        return self
    return Contiguous.apply(self)


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
    return Tri.apply(input, upper=upper, k=_int(diagonal, fn, "diagonal"))


def tril(input, diagonal=0):
    """Lower triangle (elements on and below diagonal ``diagonal``); the rest zero."""
    return _tri(input, diagonal, False)


def triu(input, diagonal=0):
    """Upper triangle (elements on and above diagonal ``diagonal``); the rest zero."""
    return _tri(input, diagonal, True)


# ---------------------------------------------------------------- indexing
def _as_key_item(k):
    """One torch index item as a NumPy one; returns (item, dims consumed, kind)."""
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype.kind == "b" or a.dtype == np.uint8:
            return a.astype(bool, copy=False), a.ndim, "mask"
        if a.dtype not in _INDEX_DTYPES:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if a.ndim == 0:
            return int(a), 1, "int"
        return a, 1, "array"
    if k is None:
        return None, 0, "none"
    if k is Ellipsis:
        return k, 0, "ellipsis"
    if isinstance(k, (bool, np.bool_)):
        return bool(k), 0, "mask"
    if isinstance(k, (int, np.integer)):
        return int(k), 1, "int"
    if isinstance(k, slice):
        start, stop, step = (None if v is None else operator.index(v)
                             for v in (k.start, k.stop, k.step))
        if step is not None and step <= 0:
            raise ValueError("step must be greater than zero")
        return slice(start, stop, step), 1, "slice"
    if isinstance(k, (list, tuple, np.ndarray)):
        a = np.asarray([x._data if isinstance(x, Tensor) else x for x in k]
                       if not isinstance(k, np.ndarray) else k)
        if a.dtype.kind == "b":
            return a, a.ndim, "mask"
        if a.size == 0:
            return a.astype(np.int64), 1, "array"
        if a.dtype.kind not in "iu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a.astype(np.int64, copy=False), 1, "array"
    raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     f"Variables are valid indices (got {type(k).__name__})")


def _is_legacy_tuple(key):
    """torch still reads a list holding slices / sequences / tensors as a tuple of indices."""
    return isinstance(key, list) and any(
        isinstance(k, (Tensor, list, tuple, np.ndarray, slice)) or k is None or k is Ellipsis
        for k in key)


def _parse_key(shape, key):
    """torch's reading of an index expression on ``shape``.

    Returns (basic key or None, advanced key or None, has integer arrays). When a key mixes
    integers with tensors, torch selects the integers first (a view) and applies the
    tensors to that view -- unlike NumPy, which would broadcast the integers with them.
    """
    if not isinstance(key, tuple):
        key = tuple(key) if _is_legacy_tuple(key) else (key,)
    ndim = len(shape)
    items = [_as_key_item(k) for k in key]
    used = sum(n for _, n, _ in items)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    dim, seen_ellipsis, kept = 0, False, []
    for item, n, kind in items:
        if kind == "ellipsis":
            if seen_ellipsis or ndim == used:
                # torch reads repeated ellipses as one, and expands one that spans no
                # dimension to nothing: tensors on either side of it stay adjacent
                continue
            dim += ndim - used
            seen_ellipsis = True
        elif kind == "int":
            size = shape[dim]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size "
                                 f"{size}")
        elif kind == "array":
            _check_bounds(item, shape[dim], dim)
        elif kind == "mask":
            for j, s in enumerate(item.shape if n else ()):
                if s != shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(item.shape)} at index {j} "
                                     f"does not match the shape of the indexed tensor "
                                     f"{list(shape)} at index {dim + j}")
        kept.append((item, n, kind))
        dim += n
    kinds = {kind for _, _, kind in kept}
    has_array = "array" in kinds
    tail = () if seen_ellipsis else (Ellipsis,)  # keeps a 0-d result a view, not a scalar
    if not kinds & {"array", "mask"}:
        return tuple(i for i, _, _ in kept) + tail, None, False
    if "int" not in kinds:
        return None, tuple(i for i, _, _ in kept), has_array
    basic, advanced = [], []
    for item, n, kind in kept:
        if kind == "int":
            basic.append(item)
        elif kind in ("array", "mask"):
            basic.extend([slice(None)] * n)
            advanced.append(item)
        elif kind == "ellipsis":
            basic.append(item)
            advanced.append(item)
        else:  # None / slice: applied by the view, spanned by the advanced step
            basic.append(item)
            advanced.append(slice(None))
    return tuple(basic) + tail, tuple(advanced), has_array


def _pick(a, key):
    """``a`` indexed by a parsed key (the basic part gives a view)."""
    basic, advanced = key
    if basic is not None:
        a = a[basic]
    return a if advanced is None else np.asarray(a[advanced])


def _put(a, key, v, accumulate):
    """Write (or add) ``v`` into ``a`` at a parsed key, in place."""
    basic, advanced = key
    if basic is not None:
        a = a[basic]  # a view: the writes below reach the full array
    if advanced is None:
        if accumulate:
            a += v
        else:
            a[...] = v
    elif accumulate:
        _add_at(a, advanced, v)
    else:
        a[advanced] = v


class Index(Kernel):
    """y = x[key] with integer arrays / masks (a copy); dx[key] += dy, repeats accumulating."""

    @staticmethod
    def forward(ctx, x, key, accumulate):
        ctx.in_shape, ctx.key, ctx.accumulate = x.shape, key, accumulate
        try:
            return np.asarray(x[key])
        except IndexError as e:
            raise IndexError(str(e).replace("arrays", "tensors")) from None

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.in_shape, g.dtype)
        if ctx.accumulate:
            _add_at(gx, ctx.key, g)
        else:
            gx[ctx.key] = g
        return gx


def _getitem(self, key):
    """torch indexing: basic keys give views, integer tensors / masks give copies."""
    basic, advanced, has_array = _parse_key(self._data.shape, key)
    out = self if basic is None else Slice.apply(self, key=basic)
    return out if advanced is None else Index.apply(out, key=advanced, accumulate=has_array)


class IndexPut(Kernel):
    """y = x with y[key] = v (or += v); dx = dy with the written places zeroed, dv = dy[key]."""

    @staticmethod
    def forward(ctx, x, v, key, accumulate, inplace):
        ctx.key, ctx.accumulate, ctx.v_shape = key, accumulate, np.shape(v)
        out = x if inplace else x.copy()
        try:
            _put(out, key, v, accumulate)
        except ValueError:
            target = _pick(np.broadcast_to(np.empty((), x.dtype), x.shape), key).shape
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot "
                               f"be broadcast to indexing result of shape {list(target)}") from None
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g
            if not ctx.accumulate:
                gx = g.copy()
                _put(gx, ctx.key, 0, False)
        if ctx.needs_input_grad[1]:
            gv = _sum_to(_pick(g, ctx.key), ctx.v_shape)
        return gx, gv


def _value_for(x, value):
    """``value`` as an operand of x's dtype: tensors cast differentiably, the rest as arrays."""
    if isinstance(value, Tensor):
        if value._data.dtype != x._data.dtype:
            from .elementwise import cast
            value = cast(value, x.dtype)
        return value
    return np.asarray(value).astype(x._data.dtype, copy=False)


def _setitem(self, key, value):
    """``self[key] = value`` in place (views see it); in the graph an index_put node."""
    basic, advanced, _ = _parse_key(self._data.shape, key)
    _write(self, _index_put_into, (basic, advanced), _value_for(self, value), False)


def _index_put_into(self, key, value, accumulate):
    return IndexPut.apply(self, value, key=key, accumulate=accumulate, inplace=True)


def _index_key(input, indices, fn):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{fn}(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    key = tuple(slice(None) if i is None else i for i in indices)
    return _parse_key(input._data.shape, key)[:2]


def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` when ``accumulate``)."""
    check_tensor(input, "index_put")
    key = _index_key(input, indices, "index_put")
    return IndexPut.apply(input, _value_for(input, values), key=key, accumulate=bool(accumulate),
                          inplace=False)


def index_put_(self, indices, values, accumulate=False):
    key = _index_key(self, indices, "index_put_")
    return _write(self, _index_put_into, key, _value_for(self, values), bool(accumulate))


# ------------------------------------------------------- masked fill / select
class MaskedFill(Kernel):
    """y = where(mask, v, x); dx = dy where not mask, dv = sum of dy where mask."""

    @staticmethod
    def forward(ctx, x, v, mask, inplace):
        ctx.x_shape, ctx.mask = x.shape, mask
        v = np.asarray(v).astype(x.dtype, copy=False)
        if inplace:
            np.copyto(x, v, where=mask)
            return x
        return np.where(mask, v, x)

    @staticmethod
    def backward(ctx, g):
        gx = unbroadcast(np.where(ctx.mask, 0, g), ctx.x_shape) if ctx.needs_input_grad[0] else None
        gv = np.where(ctx.mask, g, 0).sum() if ctx.needs_input_grad[1] else None
        return gx, gv


def _fill_value(value, fn):
    """A fill value: a 0-d tensor (differentiable) or a Python / NumPy number."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{fn} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s).")
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.asarray(value)
    raise TypeError(f"{fn}(): argument 'value' must be a Number or a 0-d Tensor, not "
                    f"{type(value).__name__}")


def _mask_and_value(input, mask, value, fn):
    check_tensor(mask, fn, "mask")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    return mask._data, _fill_value(value, fn)


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask and input broadcast)."""
    check_tensor(input, "masked_fill")
    m, v = _mask_and_value(input, mask, value, "masked_fill_")
    try:
        broadcast_shapes(input.shape, m.shape)
    except RuntimeError:
        raise RuntimeError(f"masked_fill: the mask of shape {list(m.shape)} must be broadcastable "
                           f"with the input of shape {list(input.shape)}") from None
    return MaskedFill.apply(input, v, mask=m, inplace=False)


def _masked_fill_into(self, v, mask):
    return MaskedFill.apply(self, v, mask=mask, inplace=True)


def masked_fill_(self, mask, value):
    m, v = _mask_and_value(self, mask, value, "masked_fill_")
    if tuple(broadcast_shapes(self.shape, m.shape)) != tuple(self.shape):
        raise RuntimeError(f"masked_fill_: the mask of shape {list(m.shape)} must be "
                           f"broadcastable to the tensor of shape {list(self.shape)}")
    return _write(self, _masked_fill_into, v, m)


class MaskedSelect(Kernel):
    """y = x[mask] as 1-D (x and mask broadcast); dx scatters dy back onto the mask."""

    @staticmethod
    def forward(ctx, x, mask):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        ctx.x_shape, ctx.mask = x.shape, np.broadcast_to(mask, shape)
        return np.broadcast_to(x, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.mask.shape, g.dtype)
        gx[ctx.mask] = g
        return unbroadcast(gx, ctx.x_shape)


def masked_select(input, mask):
    check_tensor(input, "masked_select")
    check_tensor(mask, "masked_select", "mask")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    broadcast_shapes(input.shape, mask.shape)
    return MaskedSelect.apply(input, mask=mask._data)


# -------------------------------------------------------- gather / scatter
def _grid_index(index, dim):
    """Fancy index addressing ``out[i0, .., index[i0, .., ik], .., ik]`` for every position."""
    grids = list(np.ix_(*[np.arange(s) for s in index.shape]))
    grids[dim] = index
    return tuple(grids)


def _check_gather_index(input, dim, index, fn, src=None):
    idx = _index_array(index, fn)
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
        for j, (a, b) in enumerate(zip(idx.shape, src.shape)):
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
        gx = np.zeros(ctx.in_shape, g.dtype)
        _add_at(gx, ctx.key, g)
        return gx


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at ``index`` (same ndim; smaller elsewhere is fine)."""
    check_tensor(input, "gather")
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
    return gather(_expand(input, tuple(bx)), d, Tensor(np.broadcast_to(indices._data, bi)))


def take(input, index):
    """``input`` read as 1-D at ``index`` (result has ``index``'s shape)."""
    check_tensor(input, "take")
    return _getitem(reshape(input, (-1,)), _index_array(index, "take"))


def _scatter_args(input, dim, index, src, value, fn, reduce):
    if reduce is not None:
        raise NotImplementedError(f"{fn}(reduce={reduce!r}) is not supported by minidl; use "
                                  f"scatter_add or scatter_reduce")
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
            src = _getitem(src, tuple(slice(0, s) for s in idx.shape))
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
    return _write(self, _index_put_into, key, src, False)


def scatter_add_(self, dim, index, src):
    key, src = _scatter_args(self, dim, index, src, None, "scatter_add_", None)
    return _write(self, _index_put_into, key, src, True)


class IndexSelect(Kernel):
    """y = x[.., index, ..] along ``dim``; dx index-adds dy back (repeats accumulate)."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape, ctx.index, ctx.dim = x.shape, index, dim
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.in_shape, g.dtype)
        _add_at(gx, _along(ctx.dim, ctx.index), g)
        return gx


def _vector_index(input, dim, index, fn):
    check_tensor(input, fn)
    idx = _index_array(index, fn)
    if idx.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    d = normalize_dim(dim, input.ndim, fn)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"{fn}(): index {bad} is out of bounds for dimension {d} with size {n}")
    return idx.reshape(-1), d


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
        _add_at(out, _along(dim, index), src if alpha == 1 else alpha * src)
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
    return _write(self, _index_add_into, source, idx, d, alpha)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` written into the slices at ``index`` along ``dim``."""
    idx, d = _vector_index(input, dim, index, "index_fill")
    v = _fill_value(value, "index_fill")
    return IndexPut.apply(input, _value_for(input, v), key=(None, _along(d, idx)),
                          accumulate=False, inplace=False)


def index_fill_(self, dim, index, value):
    idx, d = _vector_index(self, dim, index, "index_fill_")
    v = _fill_value(value, "index_fill_")
    return _write(self, _index_put_into, (None, _along(d, idx)), _value_for(self, v), False)


# ------------------------------------------------------- sort / topk / unique
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
        gx = np.zeros(ctx.in_shape, g.dtype)
        np.put_along_axis(gx, ctx.index, g, ctx.dim)
        return gx


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim`` (ties keep their order; NaN sorts as largest)."""
    check_tensor(input, "sort")
    if input.ndim == 0:
        return sort_result(gather(input, 0, Tensor(np.zeros((), np.int64))),
                           Tensor(np.zeros((), np.int64)))
    d = normalize_dim(dim, input.ndim, "sort")
    idx = _argsort(input._data, d, descending).astype(np.int64)
    return sort_result(TakeAlong.apply(input, index=idx, dim=d), Tensor(idx))


def _sort_method(self, dim=-1, descending=False, stable=False):
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


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``, best first."""
    check_tensor(input, "topk")
    a = input._data if input.ndim else input._data.reshape(1)
    d = normalize_dim(dim, a.ndim, "topk")
    n, k = a.shape[d], _int(k, "topk", "k")
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return topk_result(View.apply(input, shape=()), Tensor(np.zeros((), np.int64)))
    idx = _topk_by_passes(a, k, d, largest) if 0 < k <= 8 and a.dtype.kind == "f" else None
    if idx is None:
        if 0 < k < n:
            part = np.argpartition(a, n - k if largest else k - 1, axis=d)
            part = part[_along(d, slice(n - k, None) if largest else slice(0, k))]
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


def _unique_method(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(self, sorted, return_inverse, return_counts, dim)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: (N, ndim) int64, or one 1-D tensor per dim."""
    check_tensor(input, "nonzero")
    a = input._data
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor(np.argwhere(a).astype(np.int64))


def argwhere(input):
    return nonzero(input)


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
        out.append(_expand(reshape(x, view_shape), tuple(shape)))
    return tuple(out)


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
        s = np.take_along_axis(s, _index_array(sorter, "searchsorted", "sorter"), -1)
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


# ------------------------------------------------------------------ padding
class ConstantPad(Kernel):
    """y = x surrounded by ``value`` (negative pads crop); dx = the matching part of dy."""

    @staticmethod
    def forward(ctx, x, pads, value):
        lead = x.ndim - len(pads)
        src, dst, shape = [slice(None)] * lead, [slice(None)] * lead, list(x.shape[:lead])
        for n, (lo, hi) in zip(x.shape[lead:], pads):
            a, b = max(-lo, 0), n - max(-hi, 0)
            src.append(slice(a, b))
            dst.append(slice(max(lo, 0), max(lo, 0) + b - a))
            shape.append(n + lo + hi)
        ctx.in_shape, ctx.src, ctx.dst = x.shape, tuple(src), tuple(dst)
        out = np.full(shape, value, x.dtype)
        out[ctx.dst] = x[ctx.src]
        return out

    @staticmethod
    def backward(ctx, g):
        if g[ctx.dst].shape == ctx.in_shape:  # nothing was cropped
            return g[ctx.dst]
        gx = np.zeros(ctx.in_shape, g.dtype)
        gx[ctx.src] = g[ctx.dst]
        return gx


def _pad_index(n, lo, hi, mode):
    """Source position in [0, n) for every output position of one padded dim."""
    if mode == "circular":
        a, b = max(-lo, 0), n - max(-hi, 0)
        m = b - a
        return a + (np.arange(max(lo, 0) + m + max(hi, 0)) - max(lo, 0)) % m
    p = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    p = np.abs(p)  # reflect about 0 and about n - 1
    return np.where(p > n - 1, 2 * (n - 1) - p, p)


def _add_runs(gx, g, idx, axis):
    """``gx[.., idx[j], ..] += g[.., j, ..]`` along ``axis``, slab by slab over the runs of
    +-1 steps in ``idx`` (a pad / reflection map has only a few)."""
    j, m = 0, len(idx)
    while j < m:
        step = int(idx[j + 1] - idx[j]) if j + 1 < m else 1
        step = step if step in (1, -1) else 1
        k = j + 1
        while k < m and idx[k] - idx[k - 1] == step:
            k += 1
        piece = g[_along(axis, slice(j, k))]
        if step == 1:
            gx[_along(axis, slice(idx[j], idx[k - 1] + 1))] += piece
        else:
            gx[_along(axis, slice(idx[k - 1], idx[j] + 1))] += np.flip(piece, axis)
        j = k


_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class IndexPad(Kernel):
    """Reflect / replicate / circular padding: y = x read through a position map per dim
    (the middle of the map is the identity); dx adds dy back through the same maps."""

    @staticmethod
    def forward(ctx, x, maps, mode):
        ctx.in_shape, ctx.maps = x.shape, maps
        if all(lo >= 0 and len(idx) - lo - x.shape[axis] >= 0 for axis, idx, lo in maps):
            widths = [(0, 0)] * x.ndim
            for axis, idx, lo in maps:
                widths[axis] = (lo, len(idx) - lo - x.shape[axis])
            return np.pad(x, widths, mode=_NP_PAD_MODE[mode])
        for axis, idx, _ in maps:
            x = np.take(x, idx, axis=axis)
        return x

    @staticmethod
    def backward(ctx, g):
        for axis, idx, lo in reversed(ctx.maps):
            n = ctx.in_shape[axis]
            if lo >= 0 and lo + n <= len(idx):  # the middle maps onto x unchanged: copy it
                gx = g[_along(axis, slice(lo, lo + n))].copy()
                _add_runs(gx, g[_along(axis, slice(0, lo))], idx[:lo], axis)
                _add_runs(gx, g[_along(axis, slice(lo + n, None))], idx[lo + n:], axis)
            else:
                gx = np.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], g.dtype)
                _add_runs(gx, g, idx, axis)
            g = gx
        return g


_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (last_lo, last_hi, prev_lo, prev_hi, ...)``."""
    check_tensor(input, "pad")
    pad = _int_tuple((pad,), "pad", "pad")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]  # first padded dim first
    lead = input.ndim - k
    shape = input.shape
    if mode == "constant":
        for i, (lo, hi) in enumerate(pairs):
            n = shape[lead + i]
            if max(-lo, 0) > n or max(-hi, 0) > n or n + lo + hi < 0:
                raise RuntimeError(f"pad: negative padding ({lo}, {hi}) crops more than the "
                                   f"input size {n} of dimension {lead + i}")
        return ConstantPad.apply(input, pads=tuple(pairs), value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D "
                                  f"input tensor.\n{_PAD_HELP}")
    maps = []
    for i, (lo, hi) in enumerate(pairs):
        axis, n = lead + i, shape[lead + i]
        if n == 0:
            raise RuntimeError(f"pad: input dimension {axis} of shape {list(shape)} is empty, "
                               f"which {mode} padding cannot pad")
        if mode == "reflect" and (abs(lo) >= n or abs(hi) >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{axis} of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi <= 0 or (mode == "circular" and n - max(-lo, 0) - max(-hi, 0) <= 0):
            raise RuntimeError(f"input (size {n} at dimension {axis}) is too small for padding "
                               f"({lo}, {hi}). Calculated output size: {n + lo + hi}")
        if lo or hi:
            maps.append((axis, _pad_index(n, lo, hi, mode), lo))
    if not maps:
        return View.apply(input, shape=input._data.shape)
    return IndexPad.apply(input, maps=tuple(maps), mode=mode)


# ---------------------------------------------------------- one-hot, embedding
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (-1: max + 1)."""
    check_tensor(tensor, "one_hot", "tensor")
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor((a[..., None] == np.arange(num_classes)).astype(np.int64))


class Embedding(Kernel):
    """y = W[idx]; dW[i] = sum of the dy rows with idx == i (none for ``padding_idx``)."""

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.w_shape = idx, w.shape
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return np.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        idx = ctx.idx.reshape(-1)
        rows = g.reshape(idx.size, -1)
        gw = np.zeros(ctx.w_shape, g.dtype)
        if ctx.scale:
            counts = np.bincount(idx, minlength=ctx.w_shape[0])
            rows = rows / counts[idx, None].astype(g.dtype)
        _add_at(gw, (idx,), rows)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the indices ``input`` (gradients of repeats accumulate)."""
    check_tensor(input, "embedding")
    check_tensor(weight, "embedding", "weight")
    if input._data.dtype not in _INDEX_DTYPES:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a tensor of shape {list(weight.shape)}")
    v = weight.shape[0]
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        raise IndexError(f"index out of range in self (embedding: indices must be in [0, {v}), "
                         f"got {idx.min() if idx.min() < 0 else idx.max()})")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= v
    if max_norm is not None:
        rows = np.unique(idx)
        w = weight._data
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        with no_grad():
            w[rows] *= scale[:, None].astype(w.dtype)
            weight._vc[0] += 1
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))


# ------------------------------------------------------------- tensor methods
def _squeeze_method(self, dim=None):
    return squeeze(self, dim)


def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


def _repeat_interleave_method(self, repeats=None, dim=None, *, output_size=None):
    return repeat_interleave(self, repeats, dim, output_size=output_size)


TENSOR_METHODS.update({
    "reshape": _reshape_method, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "permute": _permute_method,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t,
    "T": property(_T), "mT": property(_mT), "movedim": movedim, "moveaxis": moveaxis,
    "squeeze": _squeeze_method, "unsqueeze": unsqueeze, "expand": expand,
    "expand_as": expand_as, "broadcast_to": broadcast_to, "repeat": repeat,
    "tile": _tile_method, "repeat_interleave": _repeat_interleave_method,
    "split": _split_method, "chunk": chunk, "unbind": unbind, "unfold": unfold,
    "flip": _flip_method,
    "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90, "narrow": narrow,
    "select": select, "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed,
    "contiguous": contiguous, "tril": tril, "triu": triu,
    "gather": gather, "take_along_dim": take_along_dim, "take": take,
    "scatter": scatter, "scatter_": scatter_, "scatter_add": scatter_add,
    "scatter_add_": scatter_add_, "index_select": index_select, "index_add": index_add,
    "index_add_": index_add_, "index_fill": index_fill, "index_fill_": index_fill_,
    "index_put": index_put, "index_put_": index_put_, "masked_fill": masked_fill,
    "masked_fill_": masked_fill_, "masked_select": masked_select, "sort": _sort_method,
    "argsort": argsort, "topk": topk, "nonzero": nonzero, "argwhere": argwhere,
    "unique": _unique_method, "__getitem__": _getitem, "__setitem__": _setitem,
})
