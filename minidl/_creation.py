"""Creation functions with torch's signatures (``tensor``, ``zeros``, ``randn``, ...)."""
import math

import numpy as np

from . import backend
from .backend import as_dtype, check_device, get_default_dtype, rng
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "arange", "linspace", "logspace", "eye", "rand", "randn", "randint", "randperm",
           "normal", "bernoulli", "multinomial", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "randint_like", "scalar_tensor"]


def _finish(array, dtype, requires_grad, device=None):
    check_device(device)
    if dtype is not None:
        array = array.astype(as_dtype(dtype).np, copy=False)
    t = Tensor(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_np_dtype(data):
    """torch's inference for nested Python data: bools, then ints (int64), else default float."""
    a = np.asarray(data)
    if a.dtype == object:
        raise TypeError(f"could not convert {type(data).__name__} to a tensor: ragged or "
                        f"non-numeric data")
    if a.dtype.kind == "b":
        return np.bool_
    if a.dtype.kind in "iu":
        return a.dtype if isinstance(data, np.ndarray) else np.int64
    if a.dtype.kind == "f":
        return a.dtype if isinstance(data, np.ndarray) else get_default_dtype().np
    raise TypeError(f"can't convert data of NumPy dtype {a.dtype} to a minidl tensor")


def _from_data(data, dtype, copy):
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = [_from_data(x, None, False) if isinstance(x, (list, tuple, Tensor)) else x
                for x in data]
    if isinstance(data, np.ndarray) and data.dtype.kind == "f" and data.dtype.itemsize == 2:
        np_dtype = np.float16
    else:
        np_dtype = as_dtype(dtype).np if dtype is not None else _infer_np_dtype(data)
    return np.array(data, dtype=np_dtype, copy=copy) if copy else np.asarray(data, dtype=np_dtype)


def _flat(seq):
    for x in seq:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors)."""
    return _finish(_from_data(data, dtype, True), None, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array / tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) == data.dtype):
        return data
    return _finish(_from_data(data, dtype, False), None, False, device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = _finish(_from_data(obj, dtype, bool(copy)), None, False, device)
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    as_dtype(ndarray.dtype)  # clear error for unsupported dtypes
    return Tensor(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    return size


def _float_dtype(dtype):
    d = as_dtype(dtype) if dtype is not None else get_default_dtype()
    return d.np


def zeros(*size, out=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def ones(*size, out=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def empty(*size, out=None, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(np.empty(_size(size), _float_dtype(dtype)), None, requires_grad, device)


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = backend.result_type(fill_value)
    return _finish(np.full(_size((size,)), fill_value, as_dtype(dtype).np), None,
                   requires_grad, device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.array(s, _float_dtype(dtype)), None, requires_grad, device)


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive); int64 unless any bound is a float."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(x, float) for x in (start, end, step))
        dtype = get_default_dtype() if is_float else backend.int64
    n = max(0, math.ceil((end - start) / step))
    np_dtype = as_dtype(dtype).np
    values = start + np.arange(n, dtype=np.float64 if np_dtype.kind == "f" else np.int64) * step
    return _finish(values.astype(np_dtype), None, requires_grad, device)


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.linspace(start, end, int(steps)).astype(_float_dtype(dtype)), None,
                   requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.logspace(start, end, int(steps), base=base).astype(_float_dtype(dtype)),
                   None, requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), None,
                   requires_grad, device)


def rand(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    d = _float_dtype(dtype)
    a = rng(generator).random(_size(size), dtype=np.float64 if d == np.float16 else d)
    return _finish(a.astype(d, copy=False), None, requires_grad, device)


def randn(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    d = _float_dtype(dtype)
    a = rng(generator).standard_normal(_size(size), dtype=np.float64 if d == np.float16 else d)
    return _finish(a.astype(d, copy=False), None, requires_grad, device)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing the required argument 'size' (a tuple)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    a = rng(generator).integers(low, high, size=_size((size,)), dtype=np.int64)
    return _finish(a, dtype if dtype is not None else backend.int64, requires_grad, device)


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    return _finish(rng(generator).permutation(int(n)).astype(np.int64),
                   dtype if dtype is not None else backend.int64, requires_grad, device)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Samples from N(mean, std^2); mean/std may be tensors (broadcast) or floats with size."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
    if isinstance(m, np.ndarray) or isinstance(s, np.ndarray):
        d = (m if isinstance(m, np.ndarray) else s).dtype
    else:
        d = _float_dtype(dtype)
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects std >= 0.0")
    a = m + s * rng(generator).standard_normal(_size((size,)))
    return _finish(np.asarray(a).astype(d), None, requires_grad, device)


def bernoulli(input, p=None, *, generator=None):
    """Samples 1 with probability ``input`` (or ``p``), else 0."""
    probs = input._data if p is None else np.full(input.shape, p)
    a = rng(generator).random(probs.shape) < probs
    return Tensor(a.astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw category indices from (rows of) non-negative weights ``input``."""
    w = input._data.astype(np.float64)
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > "
                           f"prob_dist.size(-1)={rows.shape[1]} samples without replacement")
    g = rng(generator)
    out = np.stack([g.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum())
                    for r in rows])
    return Tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def _like(fn):
    def like(input, *args, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
        d = dtype if dtype is not None else input.dtype
        return fn(input.shape, *args, dtype=d, device=device, requires_grad=requires_grad, **kw)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and by default dtype) of ``input``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return full(input.shape, fill_value, dtype=dtype if dtype is not None else input.dtype,
                device=device, requires_grad=requires_grad)


def randint_like(input, low, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, input.shape, dtype=dtype if dtype is not None else input.dtype,
                   device=device, requires_grad=requires_grad)
