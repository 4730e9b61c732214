"""Mask-driven ops: masked_fill(_), masked_select, nonzero / argwhere."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._index_write import write_inplace
from ._util import check_tensor, unbroadcast
from .expand import broadcast_shapes
from .indexing import put_at

__all__ = ["masked_fill", "masked_select", "nonzero", "argwhere"]


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


def as_fill_value(value, fn):
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
    return mask._data, as_fill_value(value, fn)


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
    return write_inplace(self, _masked_fill_into, v, m)


class MaskedSelect(Kernel):
    """y = x[mask] as 1-D (x and mask broadcast); dx scatters dy back onto the mask."""

    @staticmethod
    def forward(ctx, x, mask):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        ctx.x_shape, ctx.mask = x.shape, np.broadcast_to(mask, shape)
        return np.broadcast_to(x, shape)[ctx.mask]

    @staticmethod
    def backward(ctx, g):
        gx = put_at(np.zeros(ctx.mask.shape, g.dtype), (None, (ctx.mask,)), g, False)
        return unbroadcast(gx, ctx.x_shape)


@takes_out(dtypes="exact")
def masked_select(input, mask):
    check_tensor(input, "masked_select")
    check_tensor(mask, "masked_select", "mask")
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    broadcast_shapes(input.shape, mask.shape)
    return MaskedSelect.apply(input, mask=mask._data)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: (N, ndim) int64, or one 1-D tensor per dim."""
    check_tensor(input, "nonzero")
    a = input._data
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor(np.argwhere(a).astype(np.int64))


def argwhere(input):
    return nonzero(input)
