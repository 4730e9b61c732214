"""The search space of ``minidl tune``: parameters, their random sampling and coarse-to-fine
narrowing.

A parameter is written ``NAME=KIND:SPEC``:

* ``lr=log:1e-4:1e-1`` -- log-uniform: log10 v uniform in [log10 lo, log10 hi], so that every
  decade gets the same share of trials (the course's scale for rates; a uniform draw would
  put 90 % of them in the top decade);
* ``momentum=uniform:0.8:0.99`` -- uniform in [lo, hi];
* ``epochs=int:2:6`` -- a uniform integer in lo..hi;
* ``batch-size=choice:32,64,128`` -- one of the listed values, equally likely.

Coarse to fine (``narrow``): after a round, the next samples from the interval spanned by the
best trials' values, widened on each side by a quarter of the current interval's width (in
log10 for ``log``) and clipped to it; a ``choice`` keeps the values the best trials used.
Samples come from a ``numpy.random.Generator``, so a seed fixes the whole search.
"""
import math
from dataclasses import dataclass

__all__ = ["Param", "parse_param", "sample", "narrow", "KINDS"]

KINDS = ("log", "uniform", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One searched option: ``name`` (a ``minidl train`` option without its dashes),
    ``kind`` (one of ``KINDS``), ``low`` / ``high`` (numeric kinds) or ``choices``."""

    name: str
    kind: str
    low: float = None
    high: float = None
    choices: tuple = ()

    @property
    def log_scale(self):
        return self.kind == "log"

    def describe(self):
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(self.choices)}"
        return f"{self.name}={self.kind}:{self.low:.4g}:{self.high:.4g}"


def parse_param(text):
    """The ``Param`` of ``NAME=KIND:SPEC`` (see the module); a ValueError names what is wrong."""
    name, eq, spec = text.partition("=")
    name = name.strip().lstrip("-")
    kind, colon, rest = spec.partition(":")
    if not eq or not name or not colon:
        raise ValueError(f"--param {text!r}: write NAME=KIND:SPEC, e.g. lr=log:1e-4:1e-1 or "
                         f"batch-size=choice:32,64,128")
    if kind not in KINDS:
        raise ValueError(f"--param {text!r}: unknown kind {kind!r}; choose one of "
                         f"{', '.join(KINDS)}")
    if kind == "choice":
        choices = tuple(c.strip() for c in rest.split(",") if c.strip())
        if not choices:
            raise ValueError(f"--param {text!r}: choice needs at least one value")
        return Param(name, kind, choices=choices)
    bounds = rest.split(":")
    try:
        low, high = (float(b) for b in bounds)
    except ValueError:
        raise ValueError(f"--param {text!r}: {kind} needs two numbers LO:HI") from None
    if not low < high:
        raise ValueError(f"--param {text!r}: LO must be below HI")
    if kind == "log" and low <= 0:
        raise ValueError(f"--param {text!r}: log-scale bounds must be positive")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise ValueError(f"--param {text!r}: int bounds must be integers")
    return Param(name, kind, low, high)


def sample(param, rng):
    """One value of ``param`` drawn with ``rng``: a float rounded to 4 significant digits
    (the value shown is the value used), an int, or a choice (a string)."""
    if param.kind == "choice":
        return param.choices[int(rng.integers(len(param.choices)))]
    if param.kind == "int":
        return int(rng.integers(int(param.low), int(param.high) + 1))
    if param.kind == "log":
        v = 10 ** rng.uniform(math.log10(param.low), math.log10(param.high))
    else:
        v = rng.uniform(param.low, param.high)
    return float(f"{v:.4g}")


def narrow(param, best_values):
    """``param`` narrowed around ``best_values`` (the best trials' values; see the module)."""
    if param.kind == "choice":
        kept = tuple(c for c in param.choices if c in set(best_values))
        return Param(param.name, "choice", choices=kept or param.choices)
    scale = (math.log10 if param.log_scale else float)
    lo, hi = scale(param.low), scale(param.high)
    values = [scale(v) for v in best_values]
    margin = (hi - lo) / 4
    new_lo, new_hi = max(lo, min(values) - margin), min(hi, max(values) + margin)
    if param.log_scale:
        new_lo, new_hi = 10 ** new_lo, 10 ** new_hi
    if param.kind == "int":
        new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
    return Param(param.name, param.kind, new_lo, new_hi)
