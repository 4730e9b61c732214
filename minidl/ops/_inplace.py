"""In-place forms ``name_`` of out-of-place functions, as Tensor methods and as torch's
top-level functions (``torch.exp_`` ...): the result is written back with ``Tensor._inplace``."""


def inplace_method(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place form of ``{fn.__name__}``."
    return method


def methods_with_inplace(fns, aliases=None):
    """Tensor methods ``name`` and ``name_`` for each function (under its ``__name__``) and
    each alias name -> function."""
    named = [(fn.__name__, fn) for fn in fns] + list((aliases or {}).items())
    methods = {}
    for name, fn in named:
        methods[name] = fn
        methods[name + "_"] = inplace_method(fn)
    return methods


def add_inplace_functions(namespace, fns):
    """Define ``name_`` for each function in a module's ``namespace`` and its ``__all__``."""
    for fn in fns:
        namespace[fn.__name__ + "_"] = inplace_method(fn)
        namespace["__all__"].append(fn.__name__ + "_")
