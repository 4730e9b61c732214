"""Reshaping views: reshape / view, flatten / unflatten, squeeze / unsqueeze, contiguous.

A view returns a NumPy view of its input and sets ``_view = True``, so that writes under
``no_grad`` reach the base and both share one version counter; its backward undoes the
movement of the data.
"""
import math

import numpy as np

from .. import backend
from ..autograd import Kernel
from ..backend import layout_order
from ..tensor import Tensor
from ._shape_args import int_tuple, sizes_or_named
from ._util import check_tensor, normalize_dim, normalize_dims

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "ravel", "numel"]


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
    shape = _infer_shape(int_tuple((shape,), "reshape", "shape"), input._data.size)
    if input._data.flags.c_contiguous:
        return View.apply(input, shape=shape)
    try:
        return View.apply(input, shape=shape)
    except RuntimeError:
        return Reshape.apply(input, shape=shape)


def reshape_method(self, *shape_, shape=None):
    return reshape(self, int_tuple(sizes_or_named(shape_, shape, "reshape", "shape"), "reshape",
                                   "shape"))


def view(self, *shape, size=None):
    """A view of ``self`` with ``shape``; an error where that would need a copy."""
    shape = sizes_or_named(shape, size, "view", "size")
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer, Tensor)):
        raise NotImplementedError("Tensor.view(dtype) is not supported by minidl")
    return View.apply(self, shape=_infer_shape(int_tuple(shape, "view"), self._data.size))


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
    sizes = int_tuple((sizes,), "unflatten", "sizes")
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


class Contiguous(Kernel):
    """y = x copied into C order; dx = dy."""

    @staticmethod
    def forward(ctx, x):
        return np.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(self, memory_format=backend.contiguous_format):
    """``self`` when it is already C-contiguous, else a C-ordered copy; as in torch,
    ``preserve_format`` is refused, and minidl refuses the channels-last formats."""
    if memory_format is backend.preserve_format:
        raise RuntimeError("contiguous(): memory_format=preserve_format is unsupported by the "
                           "contiguous operator")
    layout_order("contiguous", memory_format)
    if self._data.flags.c_contiguous:
        return self
    return Contiguous.apply(self)


def squeeze_method(self, dim=None):
    return squeeze(self, dim)


def ravel(input):
    """The elements in row-major order as a 1-D tensor: a view when ``input`` is contiguous,
    else a copy (``reshape(-1)``)."""
    check_tensor(input, "ravel")
    return reshape(input, (-1,))


def numel(input):
    """The number of elements of ``input``."""
    check_tensor(input, "numel")
    return input.numel()
