"""In-place forms ``name_`` of out-of-place functions, as Tensor methods and as torch's
top-level functions (``torch.exp_`` ...): the result is written back with ``Tensor._inplace``."""
import inspect

_MEANINGLESS = ("out", "inplace")  # the result goes into the tensor itself


def inplace_method(fn):
    """``fn_``, with ``fn``'s signature less ``out`` and ``inplace``; its first parameter is
    the tensor written (``self``), which may also be passed by name."""
    name = fn.__name__ + "_"
    sig = inspect.signature(fn)
    first = next(iter(sig.parameters))

    def method(*args, **kwargs):
        refused = [k for k in _MEANINGLESS if k in kwargs]
        if refused:
            raise TypeError(f"{name}() got an unexpected keyword argument {refused[0]!r}")
        if first in kwargs:
            args = (kwargs.pop(first),) + args
        if not args:
            raise TypeError(f"{name}() missing 1 required positional argument: {first!r}")
        return args[0]._inplace(fn, *args[1:], **kwargs)
    method.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values()
                                                   if p.name not in _MEANINGLESS])
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place form of ``{fn.__name__}``."
    return method
