"""Every public name torch and torchvision have that minidl lacks is listed with its reason.

For each namespace pair (torch side -> minidl side, ``NAMESPACES``), every public torch
name is either present in minidl or covered by a group of ``left_out/<torch side>.toml``
with the reason it is left out or the issue that adds it; ``matcher.py`` says what fails.

Where the torch names come from:
- torch's namespaces are read from the installed torch at test time, in a fresh
  interpreter (the rule: ``torch_names.py``'s docstring);
- torchvision's are read from ``torchvision_0_28_names.json``, a snapshot that
  ``scripts/torchvision_names.py`` writes from the torchvision 0.28.0 wheel with ``ast``:
  torchvision cannot be imported here (its wheel links CUDA libraries, the installed torch
  is the CPU build), so its ``__all__`` lists and re-exports are read from the source.

A minidl namespace that does not exist yet (``minidl.vision.ops``) has none of the names.
The summary at the end of the run (``conftest.py``) gives, per namespace, the torch
names, how many minidl has, and the left-out names by reason.
"""

import functools
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.namespaces.matcher import (
    LEFT_OUT_DIR,
    RESULTS,
    Group,
    has_name,
    load_groups,
    match,
    minidl_namespace,
)

HERE = Path(__file__).resolve().parent
TORCHVISION_SNAPSHOT = HERE / "torchvision_0_28_names.json"
NAMESPACES = {
    "torch": "minidl",
    "torch.Tensor": "minidl.Tensor",
    "torch.nn": "minidl.nn",
    "torch.nn.functional": "minidl.nn.functional",
    "torch.nn.init": "minidl.nn.init",
    "torch.nn.utils": "minidl.nn.utils",
    "torch.optim": "minidl.optim",
    "torch.optim.lr_scheduler": "minidl.optim.lr_scheduler",
    "torch.utils.data": "minidl.utils.data",
    "torch.autograd": "minidl.autograd",
    "torchvision.datasets": "minidl.vision.datasets",
    "torchvision.transforms": "minidl.vision.transforms",
    "torchvision.transforms.functional": "minidl.vision.transforms.functional",
    "torchvision.utils": "minidl.vision.utils",
    "torchvision.models": "minidl.vision.models",
    "torchvision.ops": "minidl.vision.ops",
}


@functools.cache
def torch_side_names():
    """{torch namespace: public names}, torch's read in one fresh interpreter."""
    torch_namespaces = [ns for ns in NAMESPACES if ns.startswith("torch.") or ns == "torch"]
    run = subprocess.run([sys.executable, str(HERE / "torch_names.py"), *torch_namespaces],
                         capture_output=True, text=True, check=True)
    names = json.loads(run.stdout)
    snapshot = json.loads(TORCHVISION_SNAPSHOT.read_text())
    for ns, listed in snapshot["namespaces"].items():
        names[f"torchvision.{ns}"] = listed
    return names


@pytest.mark.parametrize("torch_ns", list(NAMESPACES))
def test_every_missing_torch_name_has_a_reason(torch_ns):
    names = torch_side_names()[torch_ns]
    assert len(names) > 0, f"no public names read for {torch_ns}"
    ours = minidl_namespace(NAMESPACES[torch_ns])
    groups = load_groups(LEFT_OUT_DIR / f"{torch_ns}.toml")
    result = match(torch_ns, names, functools.partial(has_name, ours), groups)
    RESULTS[torch_ns] = result
    if result.problems():
        pytest.fail("\n".join(result.problems()), pytrace=False)


def test_every_left_out_file_belongs_to_a_namespace():
    files = {path.stem for path in LEFT_OUT_DIR.glob("*.toml")}
    assert files == set(NAMESPACES)


def test_snapshot_is_torchvision_0_28():
    snapshot = json.loads(TORCHVISION_SNAPSHOT.read_text())
    assert snapshot["version"] == "0.28.0"
    assert {f"torchvision.{ns}" for ns in snapshot["namespaces"]} == {
        ns for ns in NAMESPACES if ns.startswith("torchvision.")}


def _fake_match(groups):
    """torch side a..f; minidl has a and b (and the dunder __add__ only through object)."""
    class Ours:
        a = b = None

    torch_names = ["a", "b", "c", "d", "e_x", "__repr__"]
    return match("fake", torch_names, functools.partial(has_name, Ours), groups)


def test_matcher_explains_by_exact_name_then_pattern():
    result = _fake_match([Group("why c", ("c",)), Group("why e", (), r"^e_"),
                          Group("why d and repr", ("d", "__repr__"))])
    assert result.present == ["a", "b"]
    assert result.left_out == {"why c": ["c"], "why e": ["e_x"],
                               "why d and repr": ["__repr__", "d"]}
    assert result.problems() == []


def test_matcher_reports_each_problem_kind():
    result = _fake_match([Group("why", ("a", "c", "zz")), Group("again", ("c", "d")),
                          Group("family gone", (), "^b"), Group("no such", (), "^q_")])
    assert result.unexplained == ["__repr__", "e_x"]  # object's __repr__ is not minidl's
    assert result.stale == ["a", "/^b/"]
    assert result.unknown == ["zz", "/^q_/"]
    assert result.duplicate == ["c"]
    assert len(result.problems()) == 4 and "e_x" in result.problems()[0]


def test_has_name_finds_submodules_not_yet_imported():
    package = minidl_namespace("minidl.vision")
    assert has_name(package, "filters") and not has_name(package, "no_such_module")
    assert not has_name(None, "anything")
    assert not has_name(types.SimpleNamespace(), "x")


def test_load_groups_refuses_malformed_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[group]]\nreason = "r"\n')
    with pytest.raises(ValueError, match="needs names or a pattern"):
        load_groups(bad)
    bad.write_text('[[group]]\nreason = "r"\nnames = ["x"]\nnote = "?"\n')
    with pytest.raises(ValueError, match="needs a reason"):
        load_groups(bad)
