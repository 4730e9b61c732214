"""How a tensor prints: torch's layout (``torch/_tensor_str.py``) and ``set_printoptions``.

One formatter per tensor chooses the mode from the non-zero finite values: integer mode
(``3.``) when every value is whole, scientific (``1.0000e-05``) when max / min > 1000,
max > 1e8 or min < 1e-4 (or ``sci_mode`` says so), fixed point (``0.1235``) otherwise;
every element is right-aligned to the widest. Past ``threshold`` elements only
``edgeitems`` rows and columns at each end are shown, with ``...`` between.
"""
import contextlib
import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_str"]


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """``torch.set_printoptions``: a ``profile`` first ('default', 'short', 'full'), then the
    given options; ``sci_mode`` is always set (None lets each tensor choose)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be one of "
                             f"{', '.join(map(repr, _PROFILES))}, got {profile!r}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise TypeError(f"set_printoptions(): {name} must be a non-negative number, "
                                f"got {value!r}")
            setattr(PRINT_OPTS, name, value)
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions(): sci_mode must be None or a bool, got {sci_mode!r}")
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict (``torch._tensor_str.get_printoptions``)."""
    return asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print options set for the ``with`` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses integer / scientific / fixed mode and the element width for one tensor."""

    def __init__(self, a):
        self.floating = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        p = PRINT_OPTS.precision
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in a.ravel().tolist()])
            return
        vals = a.ravel().astype(np.float64)
        vals = vals[np.isfinite(vals) & (vals != 0)]
        if vals.size:
            absv = np.abs(vals)
            lo, hi = absv.min(), absv.max()
            self.int_mode = bool(np.all(vals == np.ceil(vals)))
            self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                             if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
            if self.sci_mode:
                strs = [f"{v:.{p}e}" for v in vals.tolist()]
            elif self.int_mode:
                strs = [f"{v:.0f}." for v in vals.tolist()]
            else:
                strs = [f"{v:.{p}f}" for v in vals.tolist()]
            self.width = max(len(s) for s in strs)

    def format(self, v):
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{PRINT_OPTS.precision}f}"
        return s.rjust(self.width)


def _summarized(a):
    """The values that are shown when the tensor is summarised (they fix the width)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if not e:
        return a[:0]
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) \
        if a.shape[0] > 2 * e else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector(a, indent, summarize, fmt):
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2))))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        rows = ([_nested(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                + [_nested(a[i], indent + 1, summarize, fmt)
                   for i in range(a.shape[0] - e, a.shape[0])])
    else:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_str(a, indent, suffixes):
    """``tensor(<values>, <suffixes>)`` for the array ``a``, the suffixes (``dtype=...``,
    ``requires_grad=True``) moved to a new line where the last line would pass linewidth."""
    if a.size == 0:
        body = "[]"
    else:
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        summarize = a.size > PRINT_OPTS.threshold
        fmt = _Formatter(_summarized(a) if summarize else a)
        body = _nested(a, indent, summarize, fmt)
    parts = ["tensor(" + body]
    last = len(parts[0]) - parts[0].rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"
