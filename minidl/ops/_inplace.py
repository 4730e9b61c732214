"""In-place forms ``name_`` of out-of-place functions, as Tensor methods and as torch's
top-level functions (``torch.exp_`` ...): the result is written back with ``Tensor._inplace``."""
import inspect

from ..autograd import is_grad_enabled

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


def inplace_view(fn, name):
    """``fn_`` for a view op ``fn`` (squeeze, t, ...): this tensor becomes the view -- same
    memory, the view's shape and strides, and inside the graph the view's history; its
    version goes up, as in torch. A leaf that requires grad is refused, as in torch."""

    def method(self, *args, **kwargs):
        recording = is_grad_enabled() and self.requires_grad
        if recording and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        view = fn(self, *args, **kwargs)
        self._data = view._data
        self._vc[0] += 1
        if recording:
            self.grad_fn, self._output_nr = view.grad_fn, view._output_nr
        return self
    method.__signature__ = inspect.signature(fn)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place form of the view ``{name[:-1]}``."
    return method
