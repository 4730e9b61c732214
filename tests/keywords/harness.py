"""Running one public callable with and without one keyword, in minidl or in torch.

A *call* is a base argument list (Python source, evaluated in a fresh namespace of
fixtures for the library at hand: ``torch`` is minidl or torch, ``F`` its functional, ``x``
a (3, 4) float tensor, ...) plus at most one keyword override. Every call starts from
``manual_seed(0)`` and fresh fixtures, so two calls differ only by the keyword. What a
call returns is reduced to a *fingerprint* (shapes, dtypes, values, requires_grad, raised
errors) so that results can be compared; classes are first turned into results by the
finisher of their kind (a layer is run forward and backward, an optimizer steps, a
scheduler traces its learning rates, a loader is iterated).
"""
import inspect
import re
import warnings

import numpy as np
import torch

import minidl

LIBS = {"minidl": minidl, "torch": torch}
_R = np.random.default_rng(0)
_ARRAYS = {
    "x": _R.standard_normal((3, 4)), "y": _R.standard_normal((3, 4)),
    "p": _R.uniform(0.1, 0.9, (3, 4)), "v": _R.standard_normal(4), "u": _R.standard_normal(3),
    "m": _R.standard_normal((4, 5)), "sq": _R.standard_normal((3, 3)),
    "b": _R.standard_normal((2, 3, 4)), "b2": _R.standard_normal((2, 4, 5)),
    "sig": _R.standard_normal((2, 3, 8)), "img": _R.standard_normal((2, 3, 6, 6)),
    "vol": _R.standard_normal((1, 2, 4, 4, 4)),
    "w1": _R.standard_normal((4, 3, 3)), "w2": _R.standard_normal((4, 3, 3, 3)),
    "w3": _R.standard_normal((4, 2, 2, 2, 2)),
    "t": np.array([0, 3, 1]), "i": _R.integers(0, 10, (3, 4)), "idx": _R.integers(0, 3, (3, 4)),
    "mask": _R.random((3, 4)) < 0.5, "xd": _R.standard_normal(3),
}
_FLOAT64 = {"xd"}


def make_ns(lib, grad=False):
    """Fresh fixtures for ``lib``; with ``grad`` the float tensors require grad."""
    ns = {"torch": lib, "F": lib.nn.functional, "nn": lib.nn, "np": np, "warnings": warnings}
    for name, a in _ARRAYS.items():
        if a.dtype.kind == "f":
            a = a.astype(np.float64 if name in _FLOAT64 else np.float32)
        t = lib.tensor(a.copy())
        ns[name] = t.requires_grad_(True) if grad and a.dtype.kind == "f" else t
    ns["w"] = lib.tensor(_ARRAYS["v"].astype(np.float32)).requires_grad_(True)
    ns["params"] = [lib.nn.Parameter(lib.tensor(_ARRAYS["m"][:2].astype(np.float32))),
                    lib.nn.Parameter(lib.tensor(_ARRAYS["u"].astype(np.float32)))]
    ns["opt"] = lib.optim.SGD(ns["params"], lr=0.1, momentum=0.9)
    ns["lrs"] = lib.optim.lr_scheduler
    data = lib.utils.data
    ns["data"] = data
    ns["ds"] = data.TensorDataset(lib.arange(10.0).reshape(10, 1), lib.arange(10))
    ns["stream"] = type("Stream", (data.IterableDataset,), {"__iter__": lambda s: iter(range(5))})()
    return ns


class Raised:
    """An exception a call raised, as a comparable result."""

    def __init__(self, exc):
        self.exc = exc

    def __repr__(self):
        return f"Raised({type(self.exc).__name__}: {self.exc})"


def fingerprint(r, depth=0):
    """A hashable summary of a result: equal fingerprints mean indistinguishable results."""
    if isinstance(r, Raised):
        return ("raised", type(r.exc).__name__)
    if isinstance(r, (minidl.Tensor, torch.Tensor)):
        a = np.array(r.detach().numpy() if isinstance(r, torch.Tensor) else r._data)
        return ("tensor", a.shape, str(r.dtype).split(".")[-1], bool(r.requires_grad),
                a.tobytes())
    if isinstance(r, np.ndarray):
        return ("array", r.shape, str(r.dtype), r.tobytes())
    if isinstance(r, dict):
        return ("dict", tuple((k, fingerprint(v, depth)) for k, v in r.items()))
    if isinstance(r, (tuple, list)):
        return (type(r).__name__, tuple(fingerprint(v, depth) for v in r))
    if isinstance(r, float) and r != r:
        return ("nan",)
    if r is None or isinstance(r, (bool, int, float, str)):
        return r
    if callable(getattr(r, "get_state", None)):  # a generator: its state
        return ("generator", fingerprint(r.get_state()))
    if hasattr(r, "__dict__") and depth < 3 and not inspect.isroutine(r):
        return ("object", type(r).__name__,
                tuple((k, fingerprint(v, depth + 1)) for k, v in sorted(vars(r).items())))
    return ("object", type(r).__name__, re.sub(r" at 0x[0-9a-f]+", "", repr(r)))


def resolve(qualname, lib):
    """The object ``qualname`` ('torch.add', 'F.relu', 'Tensor.add', 'nn.Linear', ...) names
    in ``lib``."""
    space, _, name = qualname.partition(".")
    root = {"torch": lib, "F": lib.nn.functional, "Tensor": lib.Tensor, "nn": lib.nn,
            "optim": lib.optim, "lr_scheduler": lib.optim.lr_scheduler,
            "autograd": lib.autograd, "data": lib.utils.data}[space]
    return getattr(root, name)


SAME = object()  # an override that passes the base call's own value, by name


def split_args(*args, **kwargs):
    return list(args), dict(kwargs)


def override(sig, args, kwargs, kw, value):
    """``args``/``kwargs`` with ``kw=value`` (``SAME``: the value the base call gives it);
    where ``kw`` was passed positionally, it and the arguments after it go by name instead."""
    names = [p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if kw in names and names.index(kw) < len(args) and len(args) > len(names):
        # more positional arguments follow, for a *args: the value can only go in place
        assert value is not SAME, f"{kw} cannot be passed by name before *args"
        return args[:names.index(kw)] + [value] + args[names.index(kw) + 1:], kwargs
    if kw in names and names.index(kw) < len(args):
        at = names.index(kw)
        kwargs = {**dict(zip(names[at:], args[at:])), **kwargs}
        args = args[:at]
    if value is SAME:
        assert kw in kwargs, f"the base call does not pass {kw!r}"
        return args, kwargs
    return args, {**kwargs, kw: value}


def _first_float(result):
    if isinstance(result, (tuple, list)):
        return next((r for r in map(_first_float, result) if r is not None), None)
    if isinstance(result, (minidl.Tensor, torch.Tensor)) and result.requires_grad:
        return result
    return None


def _grads(result, ns):
    """The gradients of the sum of the first output that requires grad, w.r.t. the fixtures."""
    out = _first_float(result)
    if out is not None:
        out.sum().backward()
    return [ns[k].grad for k in _ARRAYS if getattr(ns[k], "requires_grad", False)]


def run(target, lib, base, kw=None, value=None, grad=False):
    """``(result, namespace)`` of one call of ``target`` (a Target) in ``lib``: base
    arguments ``base`` ('ctor args | forward args' for a layer) and, if ``kw`` is given,
    ``kw=<value>`` (Python source, a function of the namespace, or ``SAME``); a raised error
    is the result ``Raised(error)``; the warnings it gave are ``namespace['warnings_caught']``;
    with ``grad`` the fixtures require grad and the result carries their gradients."""
    ns = make_ns(lib, grad)
    ctor, _, forward = base.partition(" | ")
    args, kwargs = eval(f"_split({ctor})", {**ns, "_split": split_args})
    if kw is not None:
        value = value if value is SAME else value(ns) if callable(value) else eval(value, ns)
        args, kwargs = override(target.signature, args, kwargs, kw, value)
    lib.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = resolve(target.qualname, lib)(*args, **kwargs)
            result = target.finish(obj, ns, forward, lib)
            if grad:
                result = (result, _grads(result, ns))
        except Exception as e:  # noqa: BLE001 -- an error is one of the outcomes compared
            result = Raised(e)
    ns["warnings_caught"] = caught
    return result, ns


class Target:
    """A public callable: its qualified name, kind and how its results are finished."""

    def __init__(self, qualname, obj, kind, finish):
        self.qualname, self.kind, self.finish = qualname, kind, finish
        self.signature = inspect.signature(obj)

    def keywords(self):
        """The parameters the keyword test covers (not positional-only, *args or self)."""
        params = [p for p in self.signature.parameters.values()
                  if p.kind not in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)]
        if self.kind == "method" and params and params[0].kind != params[0].VAR_KEYWORD:
            params = params[1:]  # self, whatever the function calls it
        return params

    def __repr__(self):
        return self.qualname
