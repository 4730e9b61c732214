"""Match torch's public names against minidl's and the left-out groups that explain the rest.

A left-out file (``left_out/<torch namespace>.toml``) is a list of ``[[group]]`` tables,
each with a ``reason`` and ``names`` (exact names) and / or a ``pattern`` (a regular
expression, ``re.search``, for a whole family such as quantization's ``^q_``). A torch name
minidl lacks is explained by the first group that lists it exactly, else by the first
group whose pattern matches it.

Problems (each fails the namespace's test):
- unexplained: a torch name minidl lacks that no group covers (add it, or a reason);
- stale: an exact name minidl now has, or a pattern that explains nothing any more;
- unknown: an exact name torch does not have, or a pattern that matches no torch name;
- duplicate: an exact name listed in two groups.
"""

import importlib
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI (a test dependency)
    import tomli as tomllib

LEFT_OUT_DIR = Path(__file__).resolve().parent / "left_out"
GROUP_KEYS = {"reason", "names", "pattern"}
# {torch namespace: Result}, filled by the tests, printed by conftest.py's terminal summary.
RESULTS = {}


@dataclass(frozen=True)
class Group:
    """Names left out of minidl for one reason."""

    reason: str
    names: tuple = ()
    pattern: str = ""

    def matches(self, name):
        return bool(self.pattern) and re.search(self.pattern, name) is not None


@dataclass
class Result:
    """How one torch namespace maps onto its minidl namespace."""

    namespace: str
    torch_names: list
    present: list = field(default_factory=list)
    left_out: dict = field(default_factory=dict)  # reason -> names it explains
    unexplained: list = field(default_factory=list)
    stale: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    duplicate: list = field(default_factory=list)

    def problems(self):
        """A message per problem kind that occurred, empty when the namespace is clean."""
        hints = {
            "unexplained": "torch names minidl lacks that no left-out group covers "
                           "(add them to minidl, or to a group with its reason)",
            "stale": "left-out entries minidl now has (remove them)",
            "unknown": "left-out entries torch does not have",
            "duplicate": "names listed in more than one group",
        }
        return [f"{self.namespace}: {len(getattr(self, kind))} {hint}: "
                + ", ".join(getattr(self, kind))
                for kind, hint in hints.items() if getattr(self, kind)]


def load_groups(path):
    """The ``[[group]]`` tables of one left-out file, checked for shape."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    if set(data) - {"group"}:
        raise ValueError(f"{path}: unexpected top-level keys {sorted(set(data) - {'group'})}")
    groups = []
    for i, table in enumerate(data.get("group", [])):
        where = f"{path.name} group {i + 1}"
        if set(table) - GROUP_KEYS or not table.get("reason"):
            raise ValueError(f"{where}: needs a reason and only {sorted(GROUP_KEYS)}")
        if not table.get("names") and not table.get("pattern"):
            raise ValueError(f"{where} ({table['reason']!r}): needs names or a pattern")
        if table.get("pattern"):
            re.compile(table["pattern"])
        groups.append(Group(table["reason"], tuple(table.get("names", ())),
                            table.get("pattern", "")))
    return groups


def minidl_namespace(dotted):
    """The minidl object for ``dotted`` ("minidl.nn", "minidl.Tensor"), or None if absent."""
    if dotted == "minidl.Tensor":
        return importlib.import_module("minidl").Tensor
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as err:
        if err.name != dotted:
            raise
        return None


def has_name(namespace, name):
    """Whether a script can reach ``namespace.name`` in minidl.

    A dunder of a class counts only where minidl defines it (``object`` gives every class
    a ``__format__`` that formats no tensor); a submodule counts before it is imported.
    """
    if namespace is None:
        return False
    if isinstance(namespace, type) and name.startswith("__"):
        return any(name in vars(cls) for cls in namespace.__mro__ if cls is not object)
    if hasattr(namespace, name):
        return True
    package = getattr(namespace, "__path__", None)
    return package is not None and importlib.util.find_spec(
        f"{namespace.__name__}.{name}") is not None


def match(namespace, torch_names, has, groups):
    """Classify ``torch_names`` with ``has(name)`` (minidl side) and the left-out groups."""
    result = Result(namespace, sorted(torch_names))
    known = set(torch_names)
    exact = {}
    for group in groups:
        for name in group.names:
            if name in exact:
                result.duplicate.append(name)
            exact.setdefault(name, group)
            if name not in known:
                result.unknown.append(name)
            elif has(name):
                result.stale.append(name)
    patterns_used = set()
    for name in result.torch_names:
        if has(name):
            result.present.append(name)
            continue
        group = exact.get(name)
        if group is None:
            group = next((g for g in groups if g.matches(name)), None)
            patterns_used.add(group)
        if group is None:
            result.unexplained.append(name)
            continue
        result.left_out.setdefault(group.reason, []).append(name)
    for group in groups:
        if group.pattern and group not in patterns_used:
            matched = any(group.matches(name) for name in known)
            (result.stale if matched else result.unknown).append(f"/{group.pattern}/")
    return result
