"""``minidl.install_as_torch`` / ``minidl run``: unchanged torch scripts import minidl."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minidl

ROOT = Path(__file__).parent.parent
SCRIPT = """
import sys
import torch, torch.nn as nn, torch.nn.functional as F, torchvision.transforms as T
from torch.utils.data import DataLoader
from torch.optim.lr_scheduler import StepLR
import torch.nn.modules.conv
print(torch.__name__, nn.__name__, F.__name__, T.__name__, DataLoader.__module__,
      StepLR.__module__, sys.argv[1:], __name__)
try:
    import torch.fx
except ModuleNotFoundError as e:
    print("refused:", e.name)
"""


def _python(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_minidl_run_maps_torch_and_torchvision_imports(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    done = _python("-m", "minidl", "run", "script.py", "--epochs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [
        "minidl minidl.nn minidl.nn.functional minidl.vision.transforms "
        "minidl.utils.data.dataloader minidl.optim.lr_scheduler_decay ['--epochs', '2'] "
        "__main__", "refused: torch.fx"]


def test_install_as_torch_in_a_fresh_process(tmp_path):
    done = _python("-c", "import minidl; minidl.install_as_torch(); import torch; "
                         "import torch.optim as o; print(torch is minidl, o is minidl.optim)",
                   cwd=tmp_path)
    assert done.stdout.strip() == "True True", done.stderr


def test_missing_counterpart_error_names_the_module(tmp_path):
    done = _python("-c", "import minidl; minidl.install_as_torch(); import torch.distributed",
                   cwd=tmp_path)
    assert done.returncode != 0
    assert "No module named 'torch.distributed'" in done.stderr
    assert "minidl.distributed" in done.stderr


def test_refused_once_the_real_torch_is_imported():
    import torch  # noqa: F401 -- the test process has the real torch
    with pytest.raises(RuntimeError, match="real 'torch' is already imported"):
        minidl.install_as_torch()


def test_run_refuses_a_missing_script(tmp_path):
    done = _python("-m", "minidl", "run", "nope.py", cwd=tmp_path)
    assert done.returncode == 2 and "no such script: nope.py" in done.stderr
