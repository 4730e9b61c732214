"""The IDX reader: every element type, gzip or not, and strict header checks."""
import gzip

import numpy as np
import pytest

from minidl.vision.datasets import read_idx
from minidl.vision.datasets.idx import parse_idx

from .idx_helpers import idx_bytes, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("shape", [(5,), (3, 4, 2), (2, 28, 28), (0, 3)])
@pytest.mark.parametrize("gz", [False, True])
def test_roundtrip(tmp_path, dtype, shape, gz):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    path = write_idx(tmp_path / ("x.idx" + (".gz" if gz else "")), a)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype).newbyteorder("=") and out.dtype.isnative
    assert out.shape == shape
    np.testing.assert_array_equal(out, a)
    assert out.flags.writeable


def test_ndim_check(tmp_path):
    path = write_idx(tmp_path / "labels.idx", np.zeros((4, 2), np.uint8))
    with pytest.raises(RuntimeError, match="2 dimensions, expected 1"):
        read_idx(path, ndim=1)


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00", "only 2 bytes"),
    (b"\x08\x03\x00\x00" + b"\x00" * 12, "magic number starts with bytes 0x08 0x03"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
])
def test_corrupted_header(raw, message):
    with pytest.raises(RuntimeError, match=message):
        parse_idx(raw, "bad.idx")


def test_length_mismatch(tmp_path):
    raw = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    for broken in (raw[:-1], raw + b"\x00"):
        (tmp_path / "x").write_bytes(broken)
        with pytest.raises(RuntimeError, match=r"shape \(2, 3, 4\) of uint8 \(40 bytes in all\)"):
            read_idx(tmp_path / "x")


def test_not_gzip(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    with pytest.raises(RuntimeError, match="x.gz: cannot read"):
        read_idx(tmp_path / "x.gz")


def test_truncated_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.zeros((10, 28, 28), np.uint8)))
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="x.gz: cannot read"):
        read_idx(tmp_path / "x.gz")
