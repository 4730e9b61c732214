"""The modules of ``minidl`` import one another without a cycle.

Every ``import`` statement of every module counts -- at module level, inside functions
(lazy imports) and under ``try`` -- so a cycle hidden behind a function-level import is
reported too. The edges are those Python follows when it runs a statement:

* ``import a.b.c`` and ``from a.b.c import name`` need module ``a.b.c`` and every package on
  the way (``a``, ``a.b``), except the packages the importer itself lives in: those are
  already being imported when its body runs, so a child does not depend on its parent
  just by living in it (but ``import a`` in a child of ``a`` names it, and is an edge);
* ``from pkg import x`` needs submodule ``pkg.x`` where it exists, else the name ``x`` of
  ``pkg``'s ``__init__`` -- an edge to ``pkg`` itself, even from a child of ``pkg``
  (``from .. import name`` in a child reads its parent's ``__init__``, which is a cycle
  when that ``__init__`` imports the child).

A failure lists one cycle per import that closes one (the back edges of a depth-first
walk): breaking each of those imports leaves the graph without cycles.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "minidl"


def module_names(root):
    """{dotted module name: path} for every module of the package in folder ``root`` (a
    package by its name)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _prefixes(name):
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _package_of(module, path):
    """The package a module's relative imports start from."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(module, path, node):
    """The absolute name a ``from ... import`` imports from."""
    if node.level == 0:
        return node.module
    base = _package_of(module, path).split(".")
    if node.level > 1:
        base = base[:-(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module, path, modules):
    """[(target module, line)] of every import of the package's own modules in ``module``."""
    top = module.split(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    ancestors = set(_prefixes(module)) | {module}
    found = []

    def need(target, line):
        """``target`` and the packages on its way that are not the importer's own."""
        for pkg in _prefixes(target):
            if pkg not in ancestors:
                found.append((pkg, line))
        if target != module:
            found.append((target, line))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == top:
                    need(_known(alias.name, modules), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            if base is None or base.split(".")[0] != top:
                continue
            base = _known(base, modules)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                need(sub if sub in modules else base, node.lineno)
    return found


def _known(name, modules):
    """``name``, or its longest prefix that is a module (``import minidl.x.attr``)."""
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name


def import_graph(root=ROOT):
    """({module: {imported module: first line}}, {module: path}) over the package in ``root``."""
    modules = module_names(root)
    graph = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in imports(name, path, modules):
            if target in modules:
                edges.setdefault(target, line)
    return graph, modules


def cycles(graph):
    """One cycle per back edge of a depth-first walk (roots and children in name order): an
    edge to a module still on the walk's path. A graph has a cycle exactly when such a walk
    finds a back edge, and without its back edges it has none, so these cycles name a set
    of imports whose removal leaves the graph acyclic."""
    state, found = {}, []                       # 1: on the current path, 2: finished
    for root in sorted(graph):
        if root in state:
            continue
        state[root], path, children = 1, [root], [iter(sorted(graph[root]))]
        while path:
            for w in children[-1]:
                if state.get(w) == 1:
                    found.append(path[path.index(w):] + [w])
                elif w not in state:
                    state[w] = 1
                    path.append(w)
                    children.append(iter(sorted(graph[w])))
                    break
            else:
                state[path.pop()] = 2
                children.pop()
    return found


def describe(cycle, graph, modules, root=ROOT):
    return "\n".join(f"  {a} -> {b}   ({modules[a].relative_to(root.parent)}:{graph[a][b]})"
                     for a, b in zip(cycle, cycle[1:]))


def test_the_rules_on_a_small_package(tmp_path):
    files = {
        "pkg/__init__.py": "from . import a\nVALUE = 1\n",
        "pkg/a.py": "from .b import x\n\ndef late():\n    from . import VALUE\n",
        "pkg/b.py": "import os\nimport pkg.sub.c\nx = 1\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from .. import d\nfrom ..d import y\n",
        "pkg/d.py": "y = 2\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph, modules = import_graph(tmp_path / "pkg")
    assert {k: set(v) for k, v in graph.items()} == {
        "pkg": {"pkg.a"},                       # a package importing its child
        "pkg.a": {"pkg.b", "pkg"},              # a sibling; the parent's names, lazily
        "pkg.b": {"pkg.sub.c", "pkg.sub"},      # the package on the way, not its own
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.d"},                 # from .. import d: the submodule
        "pkg.d": set(),
    }
    assert cycles(graph) == [["pkg", "pkg.a", "pkg"]]
    assert "pkg/a.py:4" in describe(cycles(graph)[0], graph, modules, tmp_path / "pkg")


def test_no_import_cycles():
    graph, modules = import_graph()
    found = cycles(graph)
    report = "\n\n".join(describe(c, graph, modules) for c in found)
    assert not found, f"{len(found)} import cycle(s) among minidl's modules:\n{report}"
