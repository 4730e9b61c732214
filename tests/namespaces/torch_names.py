"""The public names of torch's namespaces, as a fresh ``import torch`` shows them.

Run as a script (``python torch_names.py NAMESPACE ...``) it prints a JSON object
``{namespace: [names]}``; the tests run it in a subprocess so that what other tests
imported (which adds submodules to ``dir(torch)``) cannot change the answer.

The rule, per namespace:

- a module with ``__all__``: its ``__all__``; without one: ``dir()``. The top-level
  ``torch`` takes both: its ``__all__`` omits names every script uses (``nn``, ``linalg``,
  ``set_default_dtype``, ``unique``, ``strided``, ``channels_last``).
- dropped: names starting with ``_`` (dunders included), modules that are not submodules
  of the namespace (``torch.os``, ``torch.nn.functional.torch``: a module's own imports),
  and objects defined outside torch (``torch.nn.functional.Optional``: a typing alias).
- ``torch.Tensor``: ``dir(torch.Tensor)`` without ``_`` names, plus the dunders that
  ``torch.Tensor`` and its C base class define themselves (operators, ``__format__``,
  ``__array__``, ``__dlpack__``), less the class bookkeeping in ``CLASS_BOOKKEEPING``.
"""

import importlib
import json
import sys
import types

# Attributes every Python class has or gets from its construction, not API.
CLASS_BOOKKEEPING = frozenset(
    {"__annotations__", "__dict__", "__doc__", "__module__", "__weakref__", "__new__",
     "__init__", "__slots__"}
)


def _belongs_to(value, module):
    """False for what ``module`` merely imported: other modules, objects from elsewhere."""
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith(module.__name__ + ".")
    owner = getattr(value, "__module__", None)
    return not isinstance(owner, str) or owner.split(".")[0] == "torch"


def module_names(module):
    """Public names of a torch module (see the module docstring)."""
    declared = getattr(module, "__all__", None)
    if declared is None or module.__name__ == "torch":
        candidates = set(dir(module)) | set(declared or ())
    else:
        candidates = set(declared)
    names = set()
    for name in candidates:
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if not _belongs_to(value, module):
            continue
        names.add(name)
    return sorted(names)


def tensor_names(cls):
    """Public attributes and the dunders torch's tensor class defines itself."""
    names = {n for n in dir(cls) if not n.startswith("_")}
    for base in cls.__mro__:
        if base is object:
            continue
        names |= {n for n in vars(base)
                  if n.startswith("__") and n.endswith("__") and n not in CLASS_BOOKKEEPING}
    return sorted(names)


def namespace_names(namespace):
    """Public names of ``namespace`` ("torch.nn", "torch.Tensor", ...)."""
    if namespace == "torch.Tensor":
        import torch
        return tensor_names(torch.Tensor)
    return module_names(importlib.import_module(namespace))


if __name__ == "__main__":
    import torch  # noqa: F401  (the rule is defined on a fresh `import torch`)

    json.dump({ns: namespace_names(ns) for ns in sys.argv[1:]}, sys.stdout)
