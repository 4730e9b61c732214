"""minidl.set_num_threads / get_num_threads: torch's API over the BLAS thread pool."""
import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

import minidl
from minidl import cli


@pytest.fixture
def restore_threads():
    before = minidl.get_num_threads()
    yield
    minidl.set_num_threads(before)


def blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_set_and_get(restore_threads):
    for n in (1, 2, 1):
        minidl.set_num_threads(n)
        assert minidl.get_num_threads() == n
        assert blas_threads() == {n}           # the pool NumPy's matmul really uses
    a = np.ones((64, 64), np.float32)
    assert (minidl.from_numpy(a) @ minidl.from_numpy(a)).numpy()[0, 0] == 64


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_counts_raise_like_torch(bad, restore_threads):
    with pytest.raises((RuntimeError, TypeError)):
        torch.set_num_threads(bad)
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        minidl.set_num_threads(bad)


def test_cli_threads_option(tmp_path, restore_threads, capsys):
    minidl.set_num_threads(2)
    assert cli.main(["train", "mlp", "--epochs", "1", "--limit", "64", "--no-progress",
                     "--threads", "1", "--out", str(tmp_path / "run")]) == 0
    assert minidl.get_num_threads() == 1
    assert cli.main(["eval", str(tmp_path / "run" / "last.safetensors"), "--threads", "2"]) == 0
    assert minidl.get_num_threads() == 2
    with pytest.raises(SystemExit):
        cli.main(["train", "mlp", "--threads", "0"])
    assert "expected a positive integer, got 0" in capsys.readouterr().err
