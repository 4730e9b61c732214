"""In-place forms ``name_`` of out-of-place functions, as Tensor methods and as torch's
top-level functions (``torch.exp_`` ...): the result is written back with ``Tensor._inplace``."""


def inplace_method(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place form of ``{fn.__name__}``."
    return method
