"""Creation functions with torch's signatures (``tensor``, ``zeros``, ``randn``, ...)."""
import math

import numpy as np

from . import backend
from ._out import takes_out, write_out
from .backend import (
    as_dtype,
    check_device,
    contiguous_format,
    get_default_dtype,
    layout_order,
    preserve_format,
    rng,
)
from .tensor import _SCALAR_NAMES, Tensor

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


def _check_pin_memory(fn, pin_memory):
    """``pin_memory=True`` is refused as by a torch without an accelerator."""
    if pin_memory:
        raise RuntimeError(f"{fn}(): pin_memory=True requires an accelerator; minidl runs on "
                           f"the CPU only and has no pinned memory")


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors)."""
    _check_pin_memory("tensor", pin_memory)
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


def _not_bool(fn, np_dtype):
    """``np_dtype``, unless it is bool, which torch's ``fn`` does not implement."""
    if np_dtype.kind == "b":
        raise NotImplementedError(f"\"{fn}_cpu\" not implemented for 'Bool'")
    return np_dtype


def _sample_dtype(fn, dtype):
    """The floating NumPy dtype ``fn`` samples in; integer and bool dtypes are refused."""
    d = _float_dtype(dtype)
    if d.kind != "f":
        raise RuntimeError(f"{fn}(): dtype {_SCALAR_NAMES[as_dtype(d).name]} is not supported: "
                           f"it samples floating point values")
    return d


@takes_out(dtypes="factory")
def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_size(size), _float_dtype(dtype)), None, requires_grad, device)


@takes_out(dtypes="factory")
def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_size(size), _float_dtype(dtype)), None, requires_grad, device)


@takes_out(dtypes="factory")
def empty(*size, dtype=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=contiguous_format):
    """Uninitialised memory; ``memory_format`` must be ``contiguous_format`` (as in torch,
    there is no input whose layout ``preserve_format`` could keep)."""
    _check_pin_memory("empty", pin_memory)
    if memory_format is backend.preserve_format:
        raise RuntimeError("empty(): unsupported memory format preserve_format (memory_format "
                           "must be contiguous_format)")
    layout_order("empty", memory_format)
    return _finish(np.empty(_size(size), _float_dtype(dtype)), None, requires_grad, device)


@takes_out(dtypes="factory")
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = backend.result_type(fill_value)
    return _finish(np.full(_size((size,)), fill_value, as_dtype(dtype).np), None,
                   requires_grad, device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.array(s, _float_dtype(dtype)), None, requires_grad, device)


@takes_out(dtypes="factory", warn_resize=True)
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive); int64 unless any bound is a float. An
    integer ``dtype`` truncates the bounds and the step to integers first, as torch does."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if dtype is None:
        is_float = any(isinstance(x, float) for x in (start, end, step))
        dtype = get_default_dtype() if is_float else backend.int64
    np_dtype = _not_bool("arange", as_dtype(dtype).np)
    if np_dtype.kind in "iu":
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    n = max(0, math.ceil((end - start) / step))
    values = start + np.arange(n, dtype=np.float64 if np_dtype.kind == "f" else np.int64) * step
    return _finish(values.astype(np_dtype), None, requires_grad, device)


@takes_out(dtypes="factory")
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` points from ``start`` to ``end``, computed as torch does: with
    ``step = (end - start) / (steps - 1)`` in the output dtype (double for integers), the
    first half as ``start + step * i`` and the second as ``end - step * (steps - 1 - i)``,
    so both ends are exact."""
    d = np.dtype(_not_bool("linspace", _float_dtype(dtype)))
    n = int(steps)
    if n < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    work = np.dtype(np.float64) if d.kind in "iu" else d
    lo, hi = (np.array(v).astype(d).astype(work) for v in (start, end))
    step = (hi - lo) / work.type(max(n - 1, 1))
    # torch's kernel fuses ``start + step * i`` into one multiply-add (one rounding); a wider
    # type's product and sum round the same way: float64 for float16 / float32 (bit-exact),
    # the platform's long double for float64 (bit-exact while step * i fits its mantissa,
    # within an ulp beyond)
    wide = np.float64 if work.itemsize < 8 else np.longdouble
    lo, hi, step = wide(lo), wide(hi), wide(step)
    i = np.arange(n)
    half = n // 2
    out = np.concatenate([lo + step * i[:half], hi - step * (n - 1 - i[half:])])
    return _finish((out if n > 1 else np.full(n, lo)).astype(d), None, requires_grad, device)


@takes_out(dtypes="factory")
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.logspace(start, end, int(steps), base=base).astype(
        _not_bool("logspace", _float_dtype(dtype))), None, requires_grad, device)


@takes_out(dtypes="factory")
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), None,
                   requires_grad, device)


@takes_out(dtypes="factory")
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Uniform samples on [0, 1)."""
    _check_pin_memory("rand", pin_memory)
    d = _sample_dtype("rand", dtype)
    a = rng(generator).random(_size(size), dtype=np.float64 if d == np.float16 else d)
    return _finish(a.astype(d, copy=False), None, requires_grad, device)


@takes_out(dtypes="factory")
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    _check_pin_memory("randn", pin_memory)
    d = _sample_dtype("randn", dtype)
    a = rng(generator).standard_normal(_size(size), dtype=np.float64 if d == np.float16 else d)
    return _finish(a.astype(d, copy=False), None, requires_grad, device)


@takes_out(dtypes="factory")
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing the required argument 'size' (a tuple)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    a = rng(generator).integers(low, high, size=_size((size,)), dtype=np.int64)
    return _finish(a, dtype if dtype is not None else backend.int64, requires_grad, device)


@takes_out(dtypes="factory")
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of 0..n-1."""
    _check_pin_memory("randperm", pin_memory)
    return _finish(rng(generator).permutation(int(n)).astype(np.int64),
                   dtype if dtype is not None else backend.int64, requires_grad, device)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    """Samples from N(mean, std^2): of the broadcast shape of tensor ``mean`` / ``std``, or of
    ``size`` when both are floats (only then may ``dtype``, ``device``, ``requires_grad``
    be given, as in torch)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        for name, value in (("size", size), ("dtype", dtype), ("device", device),
                            ("requires_grad", requires_grad)):
            if value not in (None, False):
                raise TypeError(f"normal(): argument '{name}' is only accepted when mean and "
                                f"std are floats")
        return _normal_broadcast(mean, std, generator=generator, out=out)
    if size is None:
        raise TypeError("normal(): argument 'size' is required when mean and std are floats")
    return _normal_sized(mean, std, size, generator=generator, out=out, dtype=dtype,
                         device=device, requires_grad=requires_grad)


def _check_std(s):
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects std >= 0.0")


@takes_out
def _normal_broadcast(mean, std, *, generator=None):
    m, s = (x._data if isinstance(x, Tensor) else x for x in (mean, std))
    _check_std(s)
    d = (m if isinstance(m, np.ndarray) else s).dtype
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    return Tensor(np.asarray(m + s * rng(generator).standard_normal(shape)).astype(d))


@takes_out(dtypes="factory")
def _normal_sized(mean, std, size, *, generator=None, dtype=None, device=None,
                  requires_grad=False):
    _check_std(std)
    d = _sample_dtype("normal", dtype)
    a = mean + std * rng(generator).standard_normal(_size((size,)))
    return _finish(np.asarray(a).astype(d), None, requires_grad, device)


_normal_broadcast.__name__ = _normal_sized.__name__ = "normal"


def bernoulli(input, p=None, *, generator=None, out=None):
    """Samples 1 with probability ``input`` (or ``p``), else 0, in ``input``'s dtype or
    ``out``'s (any dtype holds 0 and 1)."""
    probs = input._data if p is None else np.full(input.shape, p)
    a = np.asarray(rng(generator).random(probs.shape) < probs)  # an array also when 0-d
    if out is None:
        return Tensor(a.astype(input._data.dtype))
    if p is not None:
        raise TypeError("bernoulli(): argument 'out' cannot be combined with p (as in torch)")
    return write_out("bernoulli", Tensor(a.astype(out._data.dtype)), out, warn_resize=False)


@takes_out(dtypes="exact", warn_resize=False)
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw category indices from (rows of) non-negative weights ``input``."""
    w = input._data.astype(np.float64)
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > "
                           f"prob_dist.size(-1)={rows.shape[1]} samples without replacement")
    g = rng(generator)
    out = np.stack([g.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum())
                    for r in rows])
    return Tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def _laid_out(fn, input, t, memory_format):
    """``t`` (new, of ``input``'s shape) laid out as ``memory_format`` asks: by default
    (``preserve_format``) in ``input``'s order of dimensions, as in torch."""
    if layout_order(fn, memory_format) == "K" and not input._data.flags.c_contiguous:
        a = np.empty_like(input._data, t._data.dtype, order="K")
        a[...] = t._data
        t._data = a
    return t


def _dtype_of(input, dtype):
    return dtype if dtype is not None else input.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    t = zeros(input.shape, dtype=_dtype_of(input, dtype), device=device,
              requires_grad=requires_grad)
    return _laid_out("zeros_like", input, t, memory_format)


def ones_like(input, *, dtype=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    t = ones(input.shape, dtype=_dtype_of(input, dtype), device=device,
             requires_grad=requires_grad)
    return _laid_out("ones_like", input, t, memory_format)


def empty_like(input, *, dtype=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    t = empty(input.shape, dtype=_dtype_of(input, dtype), device=device,
              requires_grad=requires_grad)
    return _laid_out("empty_like", input, t, memory_format)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    t = full(input.shape, fill_value, dtype=_dtype_of(input, dtype), device=device,
             requires_grad=requires_grad)
    return _laid_out("full_like", input, t, memory_format)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
              memory_format=preserve_format):
    t = rand(input.shape, generator=generator, dtype=_dtype_of(input, dtype), device=device,
             requires_grad=requires_grad)
    return _laid_out("rand_like", input, t, memory_format)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False,
               memory_format=preserve_format):
    t = randn(input.shape, generator=generator, dtype=_dtype_of(input, dtype), device=device,
              requires_grad=requires_grad)
    return _laid_out("randn_like", input, t, memory_format)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False, memory_format=preserve_format):
    """``randint(low, high)`` of ``input``'s shape; ``randint_like(x, high)`` draws [0, high)."""
    t = randint(low, high, input.shape, generator=generator, dtype=_dtype_of(input, dtype),
                device=device, requires_grad=requires_grad)
    return _laid_out("randint_like", input, t, memory_format)
