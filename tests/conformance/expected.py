"""Read expected_failures.toml: groups of ops that fail some check kinds, with the reason.

Each ``[[group]]`` has ``reason`` (why minidl differs), ``kinds`` (a subset of
runner.KINDS) and ``ops`` (op ids: ``name`` or ``name/variant``). An op may appear in
several groups with different kinds; one (op, kind) pair may appear only once.
"""
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tests.conformance.runner import KINDS

PATH = Path(__file__).with_name("expected_failures.toml")


def load(path=PATH):
    """{op id: {kind: reason}}; a malformed group raises ValueError naming it."""
    expected = {}
    with open(path, "rb") as f:
        groups = tomllib.load(f).get("group", [])
    for number, group in enumerate(groups, 1):
        if set(group) != {"reason", "kinds", "ops"} or not group["reason"].strip():
            raise ValueError(f"{path.name} group {number}: needs exactly reason, kinds and ops")
        unknown = set(group["kinds"]) - set(KINDS)
        if unknown or not group["kinds"]:
            raise ValueError(f"{path.name} group {number}: kinds {sorted(unknown)} not in {KINDS}")
        for op in group["ops"]:
            for kind in group["kinds"]:
                if kind in expected.setdefault(op, {}):
                    raise ValueError(f"{path.name}: {op} {kind} listed twice")
                expected[op][kind] = group["reason"]
    return expected


def check_against_list(entry_id, report, listed):
    """Fail (pytest) naming every failing kind not listed and every listed kind that passes."""
    unexpected = sorted(report.failing - set(listed))
    stale = sorted(set(listed) - report.failing)
    lines = [f"{entry_id} (called as {report.how}):"]
    for kind in unexpected:
        lines.append(f"  {kind} fails (not in expected_failures.toml):")
        lines += [f"    {message}" for message in report.messages[kind]]
    for kind in stale:
        lines.append(f"  {kind} now passes: remove it from expected_failures.toml "
                     f"({listed[kind]!r})")
    if unexpected or stale:
        pytest.fail("\n".join(lines), pytrace=False)
