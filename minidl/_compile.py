"""``torch.compile``: minidl has no compiler, so the model comes back as it is, runs eagerly,
and a one-line notice says so, naming the compiler options given (which then take no
effect); the result is what ``torch.compile(..., disable=True)`` gives. The arguments are
checked as torch checks them."""
import warnings

__all__ = ["compile"]

_DEFAULTS = {"fullgraph": False, "dynamic": None, "backend": "inductor", "mode": None,
             "options": None}
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Return ``model`` unchanged (or, called without one, a decorator that does)."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in _MODES if m)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if not (isinstance(backend, str) or callable(backend)):
        raise TypeError(f"compile(): backend must be a name or a callable, got {backend!r}")
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable or a nn.Module")
    if not disable:
        given = {"fullgraph": fullgraph, "dynamic": dynamic, "backend": backend, "mode": mode,
                 "options": options}
        unused = [f"{k}={v!r}" for k, v in given.items() if v != _DEFAULTS[k]]
        warnings.warn("minidl.compile: minidl has no compiler; the model runs eagerly, "
                      "unchanged" + (f" ({', '.join(unused)} take no effect)" if unused else ""),
                      stacklevel=2)
    return model
