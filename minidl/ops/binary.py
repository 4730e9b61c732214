"""Binary math and selection: atan2, hypot, logaddexp, xlogy, maximum / minimum (and the
NaN-ignoring fmax / fmin), clamp, where, lerp, and nan_to_num.

Each backward is the derivative of the forward, reduced back to each input's shape with
``unbroadcast`` where broadcasting stretched it."""
import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..backend import get_default_dtype, result_type
from ..tensor import Tensor
from ._inplace import inplace_method
from ._operands import apply_binary, check_broadcast, check_operands, dtype_name
from ._util import check_tensor, promote, unbroadcast

__all__ = ["atan2", "arctan2", "hypot", "logaddexp", "xlogy", "maximum", "minimum", "fmax",
           "fmin", "clamp", "clip", "clamp_min", "clamp_max", "where", "lerp", "nan_to_num",
           "clamp_", "clip_", "clamp_min_", "clamp_max_", "nan_to_num_"]


class Atan2(Kernel):
    """z = atan2(y, x); dz/dy = x/(x^2+y^2), dz/dx = -y/(x^2+y^2)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = x * x + y * y
            gy = unbroadcast(g * x / r2, y.shape) if ctx.needs_input_grad[0] else None
            gx = unbroadcast(-g * y / r2, x.shape) if ctx.needs_input_grad[1] else None
        return gy, gx


class Hypot(Kernel):
    """z = sqrt(x^2 + y^2); dz/dx = x/z, dz/dy = y/z."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.hypot(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = unbroadcast(g * x / z, x.shape) if ctx.needs_input_grad[0] else None
            gy = unbroadcast(g * y / z, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class LogAddExp(Kernel):
    """z = ln(e^x + e^y); dz/dx = e^(x-z), dz/dy = e^(y-z)."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.logaddexp(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        gx = unbroadcast(g * np.exp(x - z), x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(g * np.exp(y - z), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


class Xlogy(Kernel):
    """z = x ln y (0 where x = 0); dz/dx = ln y (0 where x = 0), dz/dy = x/y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(x == 0, 0.0, x * np.log(y))
        return np.where(np.isnan(y), np.nan, z).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = (unbroadcast(np.where(x == 0, 0.0, g * np.log(y)).astype(g.dtype, copy=False),
                              x.shape) if ctx.needs_input_grad[0] else None)
            gy = unbroadcast(g * x / y, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def _float_binary(kernel, fn):
    def op(input, other):
        check_operands(fn, input, other)
        d = result_type(input, other)
        x, y = promote(input, other, dtype=d if d.is_floating_point else get_default_dtype())
        return apply_binary(kernel, x, y)
    op.__name__ = op.__qualname__ = fn
    op.__doc__ = kernel.__doc__
    return takes_out(op)


atan2 = arctan2 = _float_binary(Atan2, "atan2")
hypot = _float_binary(Hypot, "hypot")
logaddexp = _float_binary(LogAddExp, "logaddexp")
xlogy = _float_binary(Xlogy, "xlogy")


class Extremum(Kernel):
    """z = max(x, y) (or min); the gradient goes to the larger (smaller), split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y, fn):
        ctx.save_for_backward(x, y)
        ctx.fn = fn
        return fn(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        wins = (x > y) if ctx.fn in (np.maximum, np.fmax) else (x < y)
        wx = np.where(x == y, 0.5, wins).astype(g.dtype, copy=False)
        gx = unbroadcast(g * wx, x.shape) if ctx.needs_input_grad[0] else None
        gy = unbroadcast(g * (1.0 - wx), y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def _extremum(fn, name):
    def op(input, other):
        check_tensor(input, name)
        check_tensor(other, name, "other")
        x, y = promote(input, other)
        return apply_binary(Extremum, x, y, fn=fn)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} of two tensors (broadcast); ties split the gradient."
    return takes_out(op)


maximum = _extremum(np.maximum, "maximum")
minimum = _extremum(np.minimum, "minimum")
fmax = _extremum(np.fmax, "fmax")
fmin = _extremum(np.fmin, "fmin")


class Clamp(Kernel):
    """y = min(max(x, lo), hi); the gradient goes to whichever of x, lo, hi y equals."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        if lo is not None and hi is not None:
            return np.minimum(np.maximum(x, lo), hi)
        return np.maximum(x, lo) if lo is not None else np.minimum(x, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        gx = glo = ghi = None
        if ctx.needs_input_grad[0]:  # x passes through where lo <= x <= hi
            inside = (x >= lo) if lo is not None else np.True_
            if hi is not None:
                inside = inside & (x <= hi)
            gx = unbroadcast(g * inside, x.shape)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            below = (x < lo) if lo is not None else np.False_          # lo wins over x
            above = ((np.maximum(x, lo) if lo is not None else x) > hi if hi is not None
                     else np.False_)                                  # hi wins over both
            if ctx.needs_input_grad[1]:
                glo = unbroadcast(g * (below & ~above), lo.shape)
            if ctx.needs_input_grad[2]:
                ghi = unbroadcast(g * above, hi.shape)
        return gx, glo, ghi


@takes_out(dtypes="exact")
def clamp(input, min=None, max=None):
    """Limit ``input`` to [min, max]; bounds are numbers or tensors (broadcast)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    check_operands("clamp", *(b for b in (min, max) if b is not None))
    bounds = [b for b in (min, max) if b is not None]
    d = result_type(input, *bounds)
    x, = promote(input, dtype=d)
    lo = promote(min, dtype=d)[0] if min is not None else None
    hi = promote(max, dtype=d)[0] if max is not None else None
    try:
        return Clamp.apply(x, lo, hi)
    except ValueError:
        for b in (lo, hi):
            if b is not None:
                check_broadcast(x.shape, b.shape)
        raise


@takes_out(dtypes="exact")
def clamp_min(input, min):
    return clamp(input, min=min)


@takes_out(dtypes="exact")
def clamp_max(input, max):
    return clamp(input, max=max)


clip = clamp


class Where(Kernel):
    """z = x where condition else y; dz/dx = condition, dz/dy = not condition."""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        ctx.shapes = (x.shape, y.shape)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        sx, sy = ctx.shapes
        zero = g.dtype.type(0)
        gx = unbroadcast(np.where(cond, g, zero), sx) if ctx.needs_input_grad[1] else None
        gy = unbroadcast(np.where(cond, zero, g), sy) if ctx.needs_input_grad[2] else None
        return None, gx, gy


@takes_out(dtypes="exact")
def where(condition, input=None, other=None):
    """Pick ``input`` where ``condition`` holds, else ``other`` (tensors or scalars).

    ``where(condition)`` alone returns the indices of the true elements, one tensor per dim.
    """
    check_tensor(condition, "where", "condition")
    c = condition._data
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(c))
    if c.dtype.kind not in "bu":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtype_name(condition)}")
    check_operands("where", input, other)
    x, y = promote(input, other)
    try:
        return Where.apply(c.astype(bool, copy=False), x, y)
    except ValueError:
        check_broadcast(x.shape, y.shape)
        check_broadcast(c.shape, np.broadcast_shapes(x.shape, y.shape))
        raise


class Lerp(Kernel):
    """z = a + w (b - a); dz/da = 1 - w, dz/db = w, dz/dw = b - a."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        d = b - a  # torch's two-sided form: exact at both ends
        return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        ga = unbroadcast(g * (1.0 - w), a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g * w, b.shape) if ctx.needs_input_grad[1] else None
        gw = unbroadcast(g * (b - a), np.shape(w)) if ctx.needs_input_grad[2] else None
        return ga, gb, gw


@takes_out(dtypes="exact")
def lerp(input, end, weight):
    """input + weight * (end - input); ``input`` and ``end`` must share a dtype."""
    check_tensor(input, "lerp")
    check_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {input.dtype.name} for `end` but got dtype "
                           f"{end.dtype.name}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for "
                                  f"'{dtype_name(input)}'")
    w = (promote(weight, dtype=input.dtype)[0] if isinstance(weight, Tensor)
         else input._data.dtype.type(weight))
    try:
        return Lerp.apply(input, end, w)
    except ValueError:
        check_broadcast(input.shape, end.shape)
        raise


class NanToNum(Kernel):
    """y = x with nan/inf replaced by finite values; dy/dx = 1 where x is finite, else 0."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * np.isfinite(x), None, None, None


@takes_out(dtypes="exact")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan`` and +/-inf by ``posinf``/``neginf`` (default: dtype max/min)."""
    check_tensor(input, "nan_to_num")
    if input._data.dtype.kind != "f":
        return Tensor(input._data.copy())
    return NanToNum.apply(input, nan, posinf, neginf)


def where_method(self, condition, other):
    """``Tensor.where(condition, other)``: ``where(condition, self, other)``."""
    return where(condition, self, other)


# torch's in-place functions (torch.clamp_ ...): the result written back into the input
clamp_ = clip_ = inplace_method(clamp)
clamp_min_ = inplace_method(clamp_min)
clamp_max_ = inplace_method(clamp_max)
nan_to_num_ = inplace_method(nan_to_num)
