"""``torch.testing.assert_close``: equal attributes (shape, dtype, stride), then values
within ``|actual - expected| <= atol + rtol * |expected|``, with torch's per-dtype default
tolerances and torch's messages, through nested sequences and mappings."""
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ..backend import as_dtype
from ..tensor import Tensor

__all__ = ["assert_close"]

# torch's defaults: dtype -> (rtol, atol); integers and bool compare exactly.
_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


class _Mismatch(Exception):
    def __init__(self, kind, msg):
        super().__init__(msg)
        self.kind, self.msg = kind, msg


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise ``AssertionError`` (torch's message, or ``msg`` / ``msg(message)``) unless
    ``actual`` and ``expected`` are close. minidl has one device and one layout, so
    ``check_device`` / ``check_layout`` always hold."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                   equal_nan=equal_nan, check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, "", options)
    except _Mismatch as m:
        if m.kind is not AssertionError:
            raise m.kind(m.msg) from None
        text = m.msg if msg is None else (msg(m.msg) if callable(msg) else msg)
        raise AssertionError(text) from None


def _compare(actual, expected, where, opts):
    at = f"\n\nThe failure occurred for item {where}" if where else ""
    if isinstance(actual, (Tensor, np.ndarray)) and isinstance(expected, (Tensor, np.ndarray)):
        return _tensors(actual, expected, at, opts)
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}{at}")
        return None
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number):
        return _numbers(actual, expected, at, opts)
    if actual is None and expected is None:
        return None
    if _sequence(actual) and _sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                            f"{len(actual)} != {len(expected)}{at}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{where}[{i}]", opts)
        return None
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise _Mismatch(AssertionError, f"The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: "
                            f"{sorted(set(expected) - set(actual))}\n"
                            f"Additional keys in the actual mapping: "
                            f"{sorted(set(actual) - set(expected))}{at}")
        for k in expected:
            _compare(actual[k], expected[k], f"{where}[{k!r}]", opts)
        return None
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                    f"{type(actual)} and {type(expected)}.")


def _sequence(x):
    return isinstance(x, Sequence) and not isinstance(x, str)


def _tolerances(dtype, opts):
    if opts["rtol"] is not None:
        return opts["rtol"], opts["atol"]
    return _TOLERANCES.get(dtype, (0.0, 0.0))


def _numbers(actual, expected, at, opts):
    if opts["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                        f"{type(expected)}.{at}")
    floating = isinstance(actual, float) or isinstance(expected, float)
    rtol, atol = _tolerances(np.dtype(np.float64 if floating else np.int64), opts)
    if _isclose(np.float64(actual), np.float64(expected), rtol, atol, opts["equal_nan"]):
        return
    diff = abs(actual - expected)
    rel = float("inf") if expected == 0 else diff / abs(expected)
    raise _Mismatch(AssertionError, _message("Scalars", f"Expected {expected} but got {actual}.",
                                             diff, None, atol, rel, None, rtol) + at)


def _tensors(actual, expected, at, opts):
    if not opts["allow_subclasses"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                        f"{type(expected)}.{at}")
    a = actual._data if isinstance(actual, Tensor) else actual
    e = expected._data if isinstance(expected, Tensor) else expected
    if a.shape != e.shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                        f"minidl.Size({list(a.shape)}) != minidl.Size({list(e.shape)}).{at}")
    if a.dtype != e.dtype:
        if opts["check_dtype"]:
            raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                            f"{as_dtype(a.dtype)!r} != {as_dtype(e.dtype)!r}.{at}")
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if opts["check_stride"]:
        sa = tuple(s // a.itemsize for s in a.strides)
        se = tuple(s // e.itemsize for s in e.strides)
        if sa != se:
            raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not "
                            f"match: {sa} != {se}.{at}")
    rtol, atol = _tolerances(a.dtype, opts)
    if a.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    matches = _isclose(a, e, rtol, atol, opts["equal_nan"])
    if matches.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _message(
            "Scalars", f"Expected {e.item()} but got {a.item()}.", abs(a.item() - e.item()),
            None, atol, _rel(a.item(), e.item()), None, rtol) + at)
    n, bad = matches.size, int(matches.size - matches.sum())
    if a.dtype.kind in "iu":
        a, e = a.astype(np.int64), e.astype(np.int64)
    diff = np.abs(a - e).ravel()
    diff[matches.ravel()] = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        real = np.float32 if diff.dtype.kind == "i" else diff.dtype  # torch: int / int -> float32
        rel = diff.astype(real) / np.abs(e.ravel()).astype(real)
    rel[matches.ravel()] = 0
    i, j = _argmax(diff), _argmax(rel)
    raise _Mismatch(AssertionError, _message(
        "Tensor-likes", f"Mismatched elements: {bad} / {n} ({bad / n:.1%})", diff[i].item(),
        np.unravel_index(i, a.shape), atol, rel[j].item(), np.unravel_index(j, a.shape),
        rtol) + at)


def _argmax(v):
    """torch.max's index: the first NaN if there is one, else the first maximum."""
    nan = np.flatnonzero(np.isnan(v)) if v.dtype.kind == "f" else []
    return int(nan[0]) if len(nan) else int(np.argmax(v))


def _rel(a, e):
    return float("inf") if e == 0 else abs(a - e) / abs(e)


def _isclose(a, e, rtol, atol, equal_nan):
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.asarray(a == e)
        if np.asarray(a).dtype.kind == "f" or np.asarray(e).dtype.kind == "f":
            finite = np.isfinite(a) & np.isfinite(e)
            diff = np.abs(np.subtract(a, e))
            close = close | (finite & (diff <= atol + rtol * np.abs(e)))
            if equal_nan:
                close = close | (np.isnan(a) & np.isnan(e))
        else:
            close = close | (np.abs(np.subtract(a, e, dtype=np.float64))
                             <= atol + rtol * np.abs(np.asarray(e, np.float64)))
    return close


def _message(what, extra, diff, diff_at, atol, rel, rel_at, rtol):
    equality = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if equality else 'close'}!", "", extra]
    for kind, value, where, tol in (("absolute", diff, diff_at, atol),
                                    ("relative", rel, rel_at, rtol)):
        line = (f"{kind.title()} difference: {value}" if where is None else
                f"Greatest {kind} difference: {value} at index {tuple(map(int, where))}")
        lines.append(line + ("" if equality else f" (up to {tol} allowed)"))
    return "\n".join(lines)
