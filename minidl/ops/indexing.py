"""torch indexing: ``x[key]``, ``x[key] = v``, index_put and the slicing views narrow / select.

Basic keys (ints, slices, None, ...) give views. Integer tensors and masks give copies
whose backward scatters the gradient back, accumulating repeated indices.
"""
import operator

import numpy as np

from ..autograd import Kernel
from ..tensor import Tensor
from ._index_write import add_at, write_inplace
from ._shape_args import INDEX_DTYPES, along, as_int
from ._traced import Traced
from ._util import check_tensor, normalize_dim, unbroadcast
from .cast import cast

__all__ = ["narrow", "select", "index_put"]


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


class Slice(Kernel):
    """y = x[key] for basic keys (ints, slices, None, ...): a view; dx[key] = dy."""

    _view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        return put_at(np.zeros(ctx.in_shape, g.dtype), (ctx.key, None), g, False)


def narrow(input, dim, start, length):
    """The view ``input[..., start:start+length, ...]`` along ``dim``."""
    check_tensor(input, "narrow")
    d = normalize_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    start, length = as_int(start, "narrow", "start"), as_int(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.apply(input, key=along(d, slice(start, start + length)) + (Ellipsis,))


def select(input, dim, index):
    """The view ``input[..., index, ...]`` (dim ``dim`` removed)."""
    check_tensor(input, "select")
    d = normalize_dim(dim, input.ndim, "select")
    n = input.shape[d]
    i = as_int(index, "select", "index")
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return Slice.apply(input, key=along(d, i % n) + (Ellipsis,))


def _as_key_item(k):
    """One torch index item as a NumPy one; returns (item, dims consumed, kind)."""
    if isinstance(k, Tensor):
        a = k._data
        if a.dtype.kind == "b" or a.dtype == np.uint8:
            return a.astype(bool, copy=False), a.ndim, "mask"
        if a.dtype not in INDEX_DTYPES:
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
    """``a`` indexed by a parsed key (the basic part gives a view); traced, the recorded
    Slice / Index kernels."""
    basic, advanced = key
    if isinstance(a, Traced):
        t = a.t if basic is None else Slice.apply(a.t, key=basic)
        return Traced(t if advanced is None else Index.apply(t, key=advanced, accumulate=True))
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
        add_at(a, advanced, v)
    else:
        a[advanced] = v


def put_at(out, key, values, accumulate):
    """``out`` with ``values`` written (or added, repeats accumulating) at the parsed ``key``.

    The dual form of the gradient pattern ``dx = zeros(..); add_at(dx, idx, g)``: arrays are
    written in place and ``out`` returned (the fast path); a traced operand (a recorded
    backward, ``create_graph``) gives a differentiable index_put instead.
    """
    if isinstance(out, Traced) or isinstance(values, Traced):
        out = out.t if isinstance(out, Traced) else Tensor(out)
        values = values.t if isinstance(values, Traced) else values
        return Traced(IndexPut.apply(out, values, key=key, accumulate=accumulate, inplace=False))
    _put(out, key, values, accumulate)
    return out


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
        return put_at(np.zeros(ctx.in_shape, g.dtype), (None, ctx.key), g, ctx.accumulate)


def getitem(self, key):
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
            gx = g if ctx.accumulate else put_at(g.copy(), ctx.key, 0, False)
        if ctx.needs_input_grad[1]:
            gv = _sum_to(_pick(g, ctx.key), ctx.v_shape)
        return gx, gv


def value_for(x, value):
    """``value`` as an operand of x's dtype: tensors cast differentiably, the rest as arrays."""
    if isinstance(value, Tensor):
        if value._data.dtype != x._data.dtype:
            value = cast(value, x.dtype)
        return value
    return np.asarray(value).astype(x._data.dtype, copy=False)


def setitem(self, key, value):
    """``self[key] = value`` in place (views see it); in the graph an index_put node."""
    basic, advanced, _ = _parse_key(self._data.shape, key)
    write_inplace(self, index_put_into, (basic, advanced), value_for(self, value), False)


def index_put_into(self, key, value, accumulate):
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
    return IndexPut.apply(input, value_for(input, values), key=key, accumulate=bool(accumulate),
                          inplace=False)


def index_put_(self, indices, values, accumulate=False):
    key = _index_key(self, indices, "index_put_")
    return write_inplace(self, index_put_into, key, value_for(self, values), bool(accumulate))
