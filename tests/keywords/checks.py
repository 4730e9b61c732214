"""What "the keyword had an effect" means, one class per kind of evidence.

Each check runs the base call of a Target with and without ``kw=value`` (value: Python
source evaluated among the fixtures) and asserts: ``Differs`` -- the results differ;
``ByName`` -- a required argument passed by name gives the positional call's result;
``Refused`` -- a clear error that names the argument; ``OutWritten`` -- the result lands in
the ``out`` tensor, which is returned; ``InPlace`` -- the input tensor is overwritten;
``Seeded`` -- the same seeded generator repeats the result and another one changes it;
``Equals`` -- the same as another call; ``Holds`` -- a property of the result; ``Warns`` --
torch's warning; ``NoOp`` -- no effect, and none in torch either (checked there too);
``Custom`` -- a function of the library.
"""
import re

import torch

import minidl

from .harness import LIBS, SAME, Raised, fingerprint, make_ns, resolve, run


def each(names, kw, *checks):
    """The same checks for ``kw`` of several callables (space-separated names)."""
    return {(name, kw): list(checks) for name in names.split()}


class Check:
    """``value``: the keyword's value (source); ``base``: replaces the target's base call;
    ``grad``: fixtures require grad and the gradients are part of the result; ``track``:
    fixtures whose values after the call are part of the result (running statistics)."""

    def __init__(self, value=None, base=None, grad=False, track=()):
        self.value, self.base, self.grad, self.track = value, base, grad, track

    def __repr__(self):
        return f"{type(self).__name__}({self.value!r})"

    def call(self, target, base, kw=None, value=None, lib=minidl):
        result, ns = run(target, lib, self.base or base, kw, value, self.grad)
        if self.track and not isinstance(result, Raised):
            result = (result, [ns[name] for name in self.track])
        return result, ns

    def default(self, target, base, lib=minidl):
        result, ns = self.call(target, base, lib=lib)
        assert not isinstance(result, Raised), f"the base call of {target} fails: {result}"
        return result, ns


class Differs(Check):
    """``from_error``: the default call raises (e.g. allow_unused) and ``kw=value`` does not."""

    def __init__(self, value=None, from_error=False, **kw):
        super().__init__(value, **kw)
        self.from_error = from_error

    def verify(self, target, kw, base):
        if self.from_error:
            default, _ = self.call(target, base)
            assert isinstance(default, Raised), f"the base call of {target} works: {default}"
        else:
            default, _ = self.default(target, base)
        got, _ = self.call(target, base, kw, self.value)
        assert not isinstance(got, Raised), f"{target}({kw}={self.value}) raised {got}"
        assert fingerprint(got) != fingerprint(default), \
            f"{target}({kw}={self.value}) gives the same result as the default: ignored?"


class ByName(Check):
    def verify(self, target, kw, base):
        default, _ = self.default(target, base)
        got, _ = self.call(target, base, kw, SAME)
        assert fingerprint(got) == fingerprint(default), \
            f"{target}: passing {kw} by name gives {got}, positionally {default}"


class Refused(Check):
    """``error``: the exception type(s); ``names``: what the message must contain (the
    keyword itself by default)."""

    def __init__(self, value, error=(TypeError, ValueError, RuntimeError, NotImplementedError),
                 names=None, **kw):
        super().__init__(value, **kw)
        self.error, self.names = error, names

    def verify(self, target, kw, base):
        got, _ = self.call(target, base, kw, self.value)
        assert isinstance(got, Raised), f"{target}({kw}={self.value}) was accepted: {got}"
        assert isinstance(got.exc, self.error), f"{target}({kw}={self.value}) raised {got}"
        assert (self.names or kw) in str(got.exc), \
            f"{target}({kw}={self.value}): the error does not name {self.names or kw}: {got}"


class Equals(Check):
    """``kw=value`` gives what the call ``same_as`` gives (a sizes keyword of a method that
    also takes them positionally: ``x.view(size=(12,))`` is ``x.view(12)``)."""

    def __init__(self, value, same_as, **kw):
        super().__init__(value, **kw)
        self.same_as = same_as

    def verify(self, target, kw, base):
        expected, _ = run(target, minidl, self.same_as)
        assert not isinstance(expected, Raised), f"{target}({self.same_as}) fails: {expected}"
        got, _ = self.call(target, base, kw, self.value)
        assert fingerprint(got) == fingerprint(expected), \
            f"{target}({kw}={self.value}) gives {got}, not {expected}"


class RefusesUnknown(Check):
    """A ``**kwargs`` catch-all: an unknown keyword is refused by name."""

    def verify(self, target, kw, base):
        Refused("1", TypeError, "bogus", base=self.base).verify(target, "bogus", base)


class OutWritten(Check):
    def verify(self, target, kw, base):
        default, _ = self.default(target, base)
        several = isinstance(default, tuple)
        made = []

        def make(ns):
            made.extend(minidl.empty(0, dtype=r.dtype) for r in
                        (default if several else (default,)))
            return tuple(made) if several else made[0]
        got, _ = self.call(target, base, kw, make)
        assert not isinstance(got, Raised), f"{target}(out=...) raised {got}"
        returned = tuple(got) if several else (got,)
        assert all(r is m for r, m in zip(returned, made)), f"{target} did not return out"
        assert fingerprint(tuple(made)) == fingerprint(tuple(default) if several else
                                                       (default,)), \
            f"{target}(out=...) wrote {made}, not the result {default}"


def _input_name(base):
    """The fixture a call works on: the first name of its forward (layers) or arguments."""
    ctor, _, forward = base.partition(" | ")
    return re.match(r"\s*(\w+)", forward or ctor).group(1)


class InPlace(Check):
    def verify(self, target, kw, base):
        name = _input_name(self.base or base)
        fresh = fingerprint(make_ns(minidl)[name])
        _, ns = self.default(target, base)
        assert fingerprint(ns[name]) == fresh, f"{target} changed {name} without {kw}"
        got, ns = self.call(target, base, kw, self.value or "True")
        assert not isinstance(got, Raised), f"{target}({kw}=True) raised {got}"
        assert fingerprint(ns[name]) != fresh, f"{target}({kw}=True) left {name} unchanged"


class Seeded(Check):
    def verify(self, target, kw, base):
        def seeded(s):
            got, _ = self.call(target, base, kw, f"torch.Generator().manual_seed({s})")
            return fingerprint(got)
        assert seeded(1) == seeded(1), f"{target}: the same generator gives other results"
        assert seeded(1) != seeded(2), f"{target}: the generator's seed has no effect"


class Holds(Check):
    """``predicate(result)`` holds for ``kw=value`` (and, with ``not_default``, fails for
    the default call)."""

    def __init__(self, value, predicate, not_default=True, **kw):
        super().__init__(value, **kw)
        self.predicate, self.not_default = predicate, not_default

    def verify(self, target, kw, base):
        if self.not_default:
            default, _ = self.default(target, base)
            assert not self.predicate(default), f"{target}: the default already satisfies it"
        got, _ = self.call(target, base, kw, self.value)
        assert not isinstance(got, Raised), f"{target}({kw}={self.value}) raised {got}"
        assert self.predicate(got), f"{target}({kw}={self.value}) gave {got}"


class Warns(Check):
    def __init__(self, value, match, **kw):
        super().__init__(value, **kw)
        self.match = match

    def verify(self, target, kw, base):
        def warned(ns):
            return any(re.search(self.match, str(w.message)) for w in ns["warnings_caught"])
        assert not warned(self.default(target, base)[1]), f"{target} warns by default"
        got, ns = self.call(target, base, kw, self.value)
        assert warned(ns), f"{target}({kw}={self.value}) did not warn {self.match!r}"


def close(a, b):
    """Results equal up to float rounding (torch's fused / foreach kernels round apart)."""
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(close, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.allclose(a.double(), b.double(), atol=1e-6)
    return fingerprint(a) == fingerprint(b)


class NoOp(Check):
    """No observable effect, in minidl and (unless ``in_torch=False``) in torch, up to
    float rounding there; ``why`` says why that is right."""

    def __init__(self, value, why, in_torch=True, **kw):
        super().__init__(value, **kw)
        self.why, self.in_torch = why, in_torch

    def verify(self, target, kw, base):
        for name, lib in LIBS.items():
            try:
                resolve(target.qualname, lib)
            except AttributeError:
                assert lib is torch, f"{target} missing"
                continue
            if lib is torch and not self.in_torch:
                continue
            default, _ = self.default(target, base, lib)
            got, _ = self.call(target, base, kw, self.value, lib)
            same = close(got, default) if lib is torch else fingerprint(got) == fingerprint(default)
            assert same, f"{name}: {target}({kw}={self.value}) changed the result ({self.why})"


class Custom(Check):
    """``fn(minidl)`` asserts what the keyword does; ``why`` describes it."""

    def __init__(self, fn, why):
        super().__init__()
        self.fn, self.why = fn, why

    def __repr__(self):
        return f"Custom({self.why!r})"

    def verify(self, target, kw, base):
        self.fn(minidl)
