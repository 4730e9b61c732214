"""Torch scripts written the way people write them run unchanged on minidl.

Each ``*.py`` file here is a complete torch script (it imports ``torch`` and nothing of
minidl's). The test runs it twice in fresh processes -- on real torch, and through
``python -m minidl run`` (``import torch`` then gives minidl) -- and requires the same
printed output. The one difference allowed is the library's name inside reprs
(``torch.float64`` prints as ``minidl.float64``). The scripts set their weights and data
deterministically because minidl's random streams are its own, not torch's. torchvision
cannot be imported beside the CPU build of torch on the test machines, so the scripts use
torch only.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith(("test_", "_")))
ROOT = HERE.parent.parent


def _run(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_there_are_a_dozen_scripts():
    assert len(SCRIPTS) >= 12, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_prints_the_same_on_minidl_and_torch(script, tmp_path):
    path = str(HERE / script)
    theirs = _run([path], tmp_path)
    mine = _run(["-m", "minidl", "run", path], tmp_path)
    assert theirs.strip(), f"{script} printed nothing"
    assert mine.replace("minidl.", "torch.") == theirs
