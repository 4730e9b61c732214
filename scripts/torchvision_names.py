"""Write the public names of torchvision's namespaces, read statically from its wheel.

torchvision cannot be imported here (its PyPI wheel links CUDA libraries; the installed
torch is the +cpu build), so its names are read from the wheel's source with ``ast`` and
kept as a snapshot, ``tests/namespaces/torchvision_0_28_names.json``, that
``tests/namespaces`` compares minidl.vision against. Re-run this script to refresh the
snapshot for another torchvision version.

The rule, per namespace file (a package's ``__init__.py`` or a plain module):

- with ``__all__`` (a list / tuple of strings, or a sum of ``__all__`` lists imported with
  ``from .m import __all__ as x``): those names;
- without: the file's own top-level ``def`` / ``class`` / assignments, and in a package's
  ``__init__.py`` also the names of its relative imports (``from .x import a``;
  ``from .x import *`` adds the ``__all__`` of ``x``);
- in both cases the public submodules bound by ``from . import x``; names starting with
  ``_`` are dropped. Statements inside top-level ``if`` / ``try`` blocks count, except
  handlers do not.
"""

import argparse
import ast
import json
import posixpath
import zipfile
from pathlib import Path

WHEEL = "/opt/pypi-more/files/torchvision-0.28.0-cp311-cp311-manylinux_2_28_x86_64.whl"
OUT = Path(__file__).resolve().parent.parent / "tests/namespaces/torchvision_0_28_names.json"
NAMESPACES = {
    "datasets": "torchvision/datasets/__init__.py",
    "transforms": "torchvision/transforms/__init__.py",
    "transforms.functional": "torchvision/transforms/functional.py",
    "utils": "torchvision/utils.py",
    "models": "torchvision/models/__init__.py",
    "ops": "torchvision/ops/__init__.py",
}


class WheelSource:
    """Parsed Python files of a wheel, looked up by path inside the archive."""

    def __init__(self, wheel):
        self.zip = zipfile.ZipFile(wheel)
        self.files = set(self.zip.namelist())

    def tree(self, path):
        return ast.parse(self.zip.read(path).decode("utf-8"), filename=path)

    def resolve(self, path, module, level):
        """The file a relative ``from <level dots><module> import`` in ``path`` names."""
        package = posixpath.dirname(path)
        for _ in range(level - 1):
            package = posixpath.dirname(package)
        base = posixpath.join(package, *module.split(".")) if module else package
        for candidate in (base + ".py", base + "/__init__.py"):
            if candidate in self.files:
                return candidate
        raise FileNotFoundError(f"{path}: relative import {'.' * level}{module} not in wheel")


def _top_statements(body):
    """Module-level statements, looking inside top-level if / try blocks (not into except
    handlers: their fallbacks, like ``accimage = None``, are no API)."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _top_statements(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_statements(node.body + node.orelse + node.finalbody)
        else:
            yield node


def _strings(node, imported_alls, path):
    """The names an ``__all__`` expression lists."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [elt.value for elt in node.elts if isinstance(elt, ast.Constant)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _strings(node.left, imported_alls, path) + _strings(node.right, imported_alls, path)
    if isinstance(node, ast.Name) and node.id in imported_alls:
        return imported_alls[node.id]
    raise ValueError(f"{path}: cannot read __all__ from {ast.dump(node)}")


def declared_all(source, path):
    """The file's ``__all__`` as a list, or None when it defines none."""
    imported_alls, found = {}, None
    for node in _top_statements(source.tree(path).body):
        if isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                if alias.name == "__all__":
                    target = source.resolve(path, node.module, node.level)
                    imported_alls[alias.asname or "__all__"] = declared_all(source, target)
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AugAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            listed = _strings(node.value, imported_alls, path)
            found = (found or []) + listed if isinstance(node, ast.AugAssign) else listed
    return found


def _own_definitions(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def public_names(source, path):
    """Public names of one namespace file (the rule in the module docstring)."""
    listed = declared_all(source, path)
    is_package = path.endswith("/__init__.py")
    names = set(listed or ())
    for node in _top_statements(source.tree(path).body):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            names |= {alias.asname or alias.name for alias in node.names
                      if not alias.name.startswith("_")}
            continue
        if listed is not None:
            continue
        names |= set(_own_definitions(node))
        if is_package and isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name)
                    continue
                target = source.resolve(path, node.module, node.level)
                star = declared_all(source, target)
                if star is None:
                    raise ValueError(f"{path}: `from .{node.module} import *` of a file "
                                     "without __all__; extend the rule before trusting it")
                names |= set(star)
    return sorted(n for n in names if not n.startswith("_"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", default=WHEEL, help="torchvision wheel (.whl) to read")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON snapshot to write")
    args = parser.parse_args()
    source = WheelSource(args.wheel)
    version = next(n for n in source.files if n.endswith(".dist-info/METADATA"))
    snapshot = {
        "wheel": Path(args.wheel).name,
        "version": version.split("/")[0].removesuffix(".dist-info").split("-")[1],
        "rule": "scripts/torchvision_names.py (see its docstring)",
        "namespaces": {ns: public_names(source, path) for ns, path in NAMESPACES.items()},
    }
    args.out.write_text(json.dumps(snapshot, indent=1) + "\n")
    counts = ", ".join(f"{ns} {len(v)}" for ns, v in snapshot["namespaces"].items())
    print(f"wrote {args.out} ({counts})")


if __name__ == "__main__":
    main()
