"""The torch twin of a minidl zoo model, built from minidl's own source.

    from benchmarks.transplant import torch_twin
    t_model = torch_twin(m_model, "resnet18", num_classes=10, in_channels=1, small_input=True)

The model files of ``minidl.vision.models`` are written against the torch API and reach
minidl only through their import lines. ``transplant`` reads a model file's source, rewrites
each import of minidl to the torch object of the same name, and runs the result in a fresh
module namespace, so its classes are real ``torch.nn.Module`` subclasses built by minidl's
code: same architecture, same ``small_input`` stem, same ``state_dict`` keys. The mapping:

* ``from ... import nn`` -> ``torch.nn``; ``from ...nn import functional as F`` ->
  ``torch.nn.functional``; any name of ``minidl.ops.*``, ``minidl._creation`` or
  ``minidl.tensor`` (``flatten``, ``cat``, ``zeros``, ``Tensor``, ...) -> ``torch.<name>``;
* ``from ._api import register_model`` -> a decorator that leaves the builder as it is (the
  twin registers nothing);
* any other module of ``minidl.vision`` (``_utils`` with ``_check_weights``, ``ops.misc``
  with ``Conv2dNormActivation``, ``vgg`` for SRGAN, ...) -> that module, transplanted the
  same way;
* imports of anything else (``collections``, ``math``) are left as they are.

An import of minidl that none of these rules maps raises ``TransplantError`` naming the file,
the line and the import. Only the import statements change: the rest of the file is run as
it is, under its own file name (tracebacks point into minidl's source).
"""
import ast
import importlib.util
import types

import numpy as np
import torch

from minidl.vision import models

_TORCH_NAMESPACES = {  # minidl module -> the torch object holding the same names
    "minidl": torch,
    "minidl.nn": torch.nn,
    "minidl.nn.functional": torch.nn.functional,
    "minidl.nn.init": torch.nn.init,
    "minidl._creation": torch,
    "minidl.tensor": torch,
}


class TransplantError(ImportError):
    """A minidl import line of a transplanted file has no torch equivalent."""


def _register_model(name=None):
    """The twin of ``minidl.vision.models.register_model``: registers nothing."""
    return lambda fn: fn


_SHIMS = {"minidl.vision.models._api": {"register_model": _register_model}}


def _namespace(module, cache):
    """Where the names imported from minidl module ``module`` are looked up for torch: a
    torch object, a dict of stand-ins, or a transplanted module; None if unmapped."""
    if module in _TORCH_NAMESPACES:
        return _TORCH_NAMESPACES[module]
    if module.startswith("minidl.ops."):
        return torch
    if module in _SHIMS:
        return _SHIMS[module]
    if module.startswith("minidl.vision.") and importlib.util.find_spec(module) is not None:
        return transplant(module, cache)
    return None


class _ImportRewriter(ast.NodeTransformer):
    """Replace every minidl import by assignments from ``__transplanted__``."""

    def __init__(self, source, filename, package, cache):
        self.lines, self.filename, self.package, self.cache = \
            source.splitlines(), filename, package, cache
        self.values = {}

    def _fail(self, node, why):
        line = " ".join(s.strip() for s in self.lines[node.lineno - 1:node.end_lineno])
        raise TransplantError(f"{self.filename}:{node.lineno}: cannot map `{line}` to torch: "
                              f"{why}")

    def _bind(self, node, pairs):
        """Statements ``target = __transplanted__[key]`` for (target, value) ``pairs``."""
        stmts = []
        for target, value in pairs:
            key = f"{node.lineno}:{target}"
            self.values[key] = value
            stmt = ast.parse(f"{target} = __transplanted__[{key!r}]").body[0]
            for sub in ast.walk(stmt):
                ast.copy_location(sub, node)
            stmts.append(stmt)
        return stmts

    def visit_Import(self, node):
        if not any(a.name.split(".")[0] == "minidl" for a in node.names):
            return node
        return self._fail(node, "import the names the code uses with `from ... import`")

    def visit_ImportFrom(self, node):
        if node.level:
            module = importlib.util.resolve_name("." * node.level + (node.module or ""),
                                                 self.package)
        else:
            module = node.module
        if module.split(".")[0] != "minidl":
            return node
        space = _namespace(module, self.cache)
        if space is None:
            return self._fail(node, f"no torch equivalent for module {module!r}")
        pairs = []
        for alias in node.names:
            if alias.name == "*":
                return self._fail(node, "star imports are not transplanted")
            value = (space.get(alias.name) if isinstance(space, dict)
                     else getattr(space, alias.name, None))
            if value is None:
                return self._fail(node, f"{module}.{alias.name} has no torch equivalent "
                                        f"(looked up in {getattr(space, '__name__', module)})")
            pairs.append((alias.asname or alias.name, value))
        return self._bind(node, pairs)


def transplant_source(source, name, filename="<transplant>", cache=None):
    """Run ``source`` -- the text of minidl module ``name`` -- with its minidl imports
    mapped to torch; return the new module (named ``minidl_torch_twin.<name>``)."""
    cache = {} if cache is None else cache
    rewriter = _ImportRewriter(source, filename, name.rpartition(".")[0], cache)
    tree = rewriter.visit(ast.parse(source, filename))
    module = types.ModuleType(f"minidl_torch_twin.{name}")
    module.__file__ = filename
    module.__transplanted__ = rewriter.values
    exec(compile(tree, filename, "exec"), module.__dict__)
    return module


def transplant(name, cache=None):
    """The minidl module ``name`` (e.g. ``minidl.vision.models.resnet``) transplanted onto
    torch; modules it imports from ``minidl.vision`` are transplanted once per ``cache``."""
    cache = {} if cache is None else cache
    if name not in cache:
        path = importlib.util.find_spec(name).origin
        with open(path, encoding="utf-8") as f:
            cache[name] = transplant_source(f.read(), name, path, cache)
    return cache[name]


def torch_builder(arch):
    """The torch twin of the builder registered in ``minidl.vision.models`` as ``arch``."""
    builder = models.get_model_builder(arch)
    return getattr(transplant(builder.__module__), builder.__name__)


def copy_weights(m_model, t_model):
    """Load minidl ``m_model``'s parameters and buffers into its torch twin ``t_model``
    (strict: the key names and shapes must agree)."""
    t_model.load_state_dict({k: torch.from_numpy(np.asarray(v))
                             for k, v in m_model.state_dict().items()})
    return t_model


def torch_twin(m_model, arch, **kwargs):
    """The torch twin of minidl ``m_model`` (built as ``get_model(arch, **kwargs)``), with
    its weights."""
    t_model = torch_builder(arch)(**kwargs)
    return copy_weights(m_model, t_model.train(m_model.training))
