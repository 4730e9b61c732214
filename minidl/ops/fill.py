"""In-place writes and fills: copy_, fill_, zero_ and the random fills (uniform_,
normal_, bernoulli_, ...). A write is a ``CopyFrom`` node, so gradients flow to the source
and not to the overwritten values."""
import numpy as np

from ..autograd import Kernel
from ..backend import rng
from ..tensor import Tensor
from ._operands import check_broadcast
from ._util import check_tensor, unbroadcast

__all__ = ["fill_", "zero_"]


class CopyFrom(Kernel):
    """y = src broadcast to x's shape and dtype (x's values are discarded); dy/dsrc = 1."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.shapes = (x.shape, np.shape(src))
        out = np.empty_like(x)
        np.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        sx, ss = ctx.shapes
        gx = np.zeros(sx, g.dtype) if ctx.needs_input_grad[0] else None
        return gx, unbroadcast(g, ss) if ctx.needs_input_grad[1] else None


def _copy_from(self, src):
    if isinstance(src, Tensor):
        try:
            np.broadcast_to(src._data, self.shape)
        except ValueError:
            check_broadcast(self.shape, src.shape)
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(self.shape, src.shape))}"
                               ) from None
    return CopyFrom.apply(self, src)


def copy_(self, src, non_blocking=False):
    """Write ``src`` (broadcast, converted to this dtype) into this tensor."""
    check_tensor(src, "copy_", "src")
    return self._inplace(_copy_from, src)


def fill_(input, value):
    """Set every element to ``value`` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return input._inplace(_copy_from, value)
    return input._inplace(_copy_from, np.asarray(value))


def zero_(input):
    return fill_(input, 0)


def _random_fill(self, draw, generator):
    """Overwrite ``self`` with ``draw(numpy_generator, shape)`` (float64 or int samples)."""
    sample = draw(rng(generator), self.shape)
    return self._inplace(_copy_from, sample)


def _float_dtype_np(self):
    d = self._data.dtype
    return d if d in (np.float32, np.float64) else np.float64


def _from_to(fn, kw):
    """torch's keywords ``from`` and ``to`` (Python cannot name a parameter ``from``)."""
    unknown = sorted(set(kw) - {"from", "to"})
    if unknown:
        raise TypeError(f"{fn}() got an unexpected keyword argument {unknown[0]!r}")
    return kw.get("from"), kw.get("to")


def uniform_(self, a=0.0, b=1.0, *, generator=None, **kw):
    """Fill with samples from U[from, to) (``a``, ``b`` positionally, or ``from=``, ``to=``)."""
    lo, hi = _from_to("uniform_", kw)
    lo, hi = float(a if lo is None else lo), float(b if hi is None else hi)
    return _random_fill(self, lambda g, s: lo + (hi - lo) * g.random(s, _float_dtype_np(self)),
                        generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2)."""
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    m, s = float(mean), float(std)
    return _random_fill(self, lambda g, sh: m + s * g.standard_normal(sh, _float_dtype_np(self)),
                        generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p`` (a number or a broadcastable tensor), else 0."""
    prob = p._data if isinstance(p, Tensor) else float(p)
    if np.any((np.asarray(prob) < 0) | (np.asarray(prob) > 1)):
        raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
    return _random_fill(self, lambda g, s: g.random(s) < prob, generator)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from the exponential distribution with rate ``lambd``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambd > 0.0, but found lambd={lambd}")
    return _random_fill(self, lambda g, s: g.standard_exponential(s) / lambd, generator)


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    return _random_fill(self, lambda g, s: g.geometric(p, s), generator)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _random_fill(self, lambda g, s: g.lognormal(mean, std, s), generator)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _random_fill(self, lambda g, s: median + sigma * g.standard_cauchy(s), generator)


def random_(self, *args, generator=None, **kw):
    """Fill with integers from [from, to - 1]; ``random_(to)`` means [0, to - 1]."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    if kw:
        lo, hi = _from_to("random_", kw)
        lo = args[0] if lo is None and args else lo if lo is not None else 0
        if hi is None:
            raise TypeError("random_(): 'from' needs 'to' (random_(from, to))")
    else:
        lo, hi = (0, args[0]) if len(args) == 1 else (tuple(args) + (0, None))[:2]
    if hi is None:  # every value the dtype holds exactly
        d = self._data.dtype
        hi = (2 ** (np.finfo(d).nmant + 1) + 1 if d.kind == "f" else
              2 if d.kind == "b" else int(np.iinfo(d).max) + 1)
        hi = min(hi, 2 ** 63)
    if hi <= lo:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    return _random_fill(self, lambda g, s: g.integers(lo, hi - 1, s, dtype=np.int64,
                                                      endpoint=True), generator)
