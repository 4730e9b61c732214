"""The ``out=`` keyword, as torch honours it: the result is written into a given tensor.

``@takes_out`` gives a function a keyword-only ``out=None``. With ``out`` given, the
function runs without recording a graph and its result is copied into ``out`` (a tuple of
tensors for functions with several results, e.g. ``max(x, 1, out=(values, indices))``),
which is returned. torch's rules:

* autograd does not go through ``out=``: an error if grad mode is on and ``out`` requires
  grad or the result would (an input that requires grad reaches it -- not so for a bool
  result, an argmax, a floor_divide: those are fine, as in torch);
* ``out`` keeps its dtype. How the result's dtype may differ from it depends on the op
  (``dtypes=``): ``"cast"`` (elementwise ops) -- the result casts to ``out``'s dtype unless
  that loses its kind (float into an integer tensor, or anything but bool into a bool
  tensor, is an error); ``"exact"`` (matmul, clamp, floor, ... and every op with several
  results: sort, max along a dim, ...) -- the dtypes must be equal; ``"dtype"`` (sum,
  cumsum, ...) -- ``out``'s dtype is the ``dtype`` argument; ``"factory"`` (zeros, arange,
  rand, ...) -- likewise, and ``requires_grad=True`` passes on to ``out``;
* an ``out`` of the wrong shape is resized: silently when empty, else with torch's warning
  unless the op resizes silently in torch (``warn_resize=False``: the factories but arange,
  addbmm, bernoulli, multinomial).
"""
import functools
import inspect
import warnings

import numpy as np

from .autograd import is_grad_enabled
from .backend import as_dtype
from .tensor import _SCALAR_NAMES, Tensor

__all__ = ["takes_out", "write_out"]

_POLICIES = ("cast", "exact", "dtype", "factory")


def _name(d):
    return _SCALAR_NAMES[as_dtype(d).name]


def _can_cast(src, dst):
    """torch's ``can_cast`` between NumPy dtypes: no float -> integer, no non-bool -> bool."""
    if src.kind == "f" and dst.kind in "biu":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def _tensors(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (tuple, list)):
            yield from _tensors(v)


def _check_out(fn, out):
    """The tensors of ``out`` (one tensor, or a tuple / list of them)."""
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{fn}(): argument 'out' must be Tensor, not {type(o).__name__}")
    return outs


def _check_grad(fn, tensors):
    """``tensors``: the outs, and the results where their requires_grad tells (not for a
    factory's ``requires_grad=True``)."""
    if is_grad_enabled() and any(t.requires_grad for t in _tensors(tensors)):
        raise RuntimeError(f"{fn}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")


def _out_dtype(fn, dtype, out):
    """The ``dtype`` a ``"dtype"`` / ``"factory"`` op computes in: ``out``'s, which an
    explicit ``dtype`` must equal."""
    if dtype is not None and as_dtype(dtype) != out.dtype:
        raise RuntimeError(f"{fn}(): dtype {_name(dtype)} does not match dtype of out "
                           f"parameter ({_name(out.dtype)})")
    return out.dtype


def _copy_into(fn, result, out, policy, warn_resize):
    src = result._data if isinstance(result, Tensor) else np.asarray(result)
    dst = out._data.dtype
    if policy == "exact" and src.dtype != dst:
        raise RuntimeError(f"{fn}(): expected out tensor to have dtype {_name(src.dtype)}, "
                           f"but got {_name(dst)} instead")
    if not _can_cast(src.dtype, dst):
        raise RuntimeError(f"{fn}(): result type {_name(src.dtype)} can't be cast to the "
                           f"desired output type {_name(dst)}")
    if out._data.shape != src.shape:
        if out._data.size and warn_resize:
            warnings.warn(f"{fn}(): an output with one or more elements was resized since it "
                          f"had shape {list(out.shape)}, which does not match the required "
                          f"output shape {list(src.shape)}.", UserWarning, stacklevel=4)
        out._data = np.empty(src.shape, dst)
        out._base = None
    elif not out._data.flags.writeable:
        raise RuntimeError(f"{fn}(): unsupported operation: more than one element of the "
                           f"written-to tensor (out) refers to a single memory location")
    out._data[...] = src
    out._vc[0] += 1


def write_out(fn, result, out, dtypes="cast", warn_resize=True):
    """Copy ``result`` (a tensor or a tuple of tensors) into ``out`` by torch's rules (see
    the module docstring) and return ``out``."""
    outs = _check_out(fn, out)
    _check_grad(fn, outs if dtypes == "factory" else (*outs, result))
    several = isinstance(result, tuple)
    if several:  # (values, indices) of sort, topk, max along a dim...: dtypes must match
        dtypes = "exact"
    if several != isinstance(out, (tuple, list)) or several and len(outs) != len(result):
        want = f"a tuple of {len(result)} Tensors" if several else "Tensor"
        raise TypeError(f"{fn}(): argument 'out' must be {want}, not {type(out).__name__}"
                        + (f" of {len(outs)}" if isinstance(out, (tuple, list)) else ""))
    for r, o in zip(result if several else (result,), outs):
        _copy_into(fn, r, o, dtypes, warn_resize)
    if not several:
        return outs[0]
    return type(result)(*outs) if hasattr(result, "_fields") else outs


def takes_out(f=None, *, dtypes="cast", warn_resize=None):
    """Decorate ``f`` so that it honours a keyword-only ``out=`` (see the module docstring);
    ``@takes_out`` or ``@takes_out(dtypes=..., warn_resize=...)`` (by default a factory
    resizes silently, any other op with torch's warning)."""
    if dtypes not in _POLICIES:
        raise ValueError(f"takes_out: dtypes must be one of {_POLICIES}, got {dtypes!r}")
    if f is None:
        return functools.partial(takes_out, dtypes=dtypes, warn_resize=warn_resize)
    warn = dtypes != "factory" if warn_resize is None else warn_resize

    @functools.wraps(f)
    def with_out(*args, out=None, **kwargs):
        if out is None:
            return f(*args, **kwargs)
        name = with_out.__name__
        _check_grad(name, _check_out(name, out))
        if dtypes in ("dtype", "factory"):
            kwargs["dtype"] = _out_dtype(name, kwargs.get("dtype"), _check_out(name, out)[0])
        written = write_out(name, f(*args, **kwargs), out, dtypes, warn)
        if dtypes == "factory" and kwargs.get("requires_grad"):
            written.requires_grad_(True)
        return written

    with_out.without_out = f  # for callers that never pass out= (the Python operators)
    sig = inspect.signature(f)
    params = list(sig.parameters.values())
    if "out" in sig.parameters:
        raise TypeError(f"takes_out: {f.__name__} already has an 'out' parameter")
    at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    params.insert(at, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
    with_out.__signature__ = sig.replace(parameters=params)
    return with_out
