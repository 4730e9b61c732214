"""Run an unchanged torch / torchvision script on minidl.

``install_as_torch()`` registers an import hook for this process: ``import torch`` gives
``minidl``, ``torch.X.Y`` gives ``minidl.X.Y``, ``torchvision`` gives ``minidl.vision`` and
``torchvision.X`` gives ``minidl.vision.X``. A torch module minidl has no counterpart for
fails to import with an error that names it. ``minidl run script.py`` does this, then runs
the script as ``__main__``.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

__all__ = ["install_as_torch", "run_script"]

_ROOTS = {"torch": "minidl", "torchvision": "minidl.vision"}


def _counterpart(fullname):
    root, _, rest = fullname.partition(".")
    return _ROOTS[root] + ("." + rest if rest else "")


class _TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch*`` / ``torchvision*`` imports and hands back the minidl module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] not in _ROOTS:
            return None
        name = _counterpart(fullname)
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name and not name.startswith(f"{e.name}."):
                raise  # something the minidl module itself imports is missing
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: minidl (installed as torch by "
                f"minidl.install_as_torch) has no {name!r}", name=fullname) from None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return sys.modules[_counterpart(spec.name)]

    def exec_module(self, module):
        """The minidl module is already imported and initialised."""


_HOOK = _TorchAlias()


def install_as_torch():
    """Make ``import torch`` / ``import torchvision`` (and their submodules) import minidl
    for the rest of this process. Refused if the real torch is already imported."""
    if _HOOK in sys.meta_path:
        return
    for root in _ROOTS:
        mod = sys.modules.get(root)
        if mod is not None and not mod.__name__.startswith("minidl"):
            raise RuntimeError(f"install_as_torch(): the real {root!r} is already imported in "
                               f"this process; call it before anything imports {root}")
    sys.meta_path.insert(0, _HOOK)


def run_script(path, args=()):
    """Run the file ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` and the
    script's folder first on ``sys.path``, torch and torchvision being minidl."""
    install_as_torch()
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(path), *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
