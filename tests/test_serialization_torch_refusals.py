"""minidl.load refuses what a torch.save file must not hold -- globals beyond the allow-list,
object-creating opcodes, dtypes minidl lacks -- and damaged files, with clear errors; nothing
in a refused file runs (a marker file proves it)."""
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch

import minidl
from minidl.serialization_torch import MAGIC_NUMBER, PROTOCOL_VERSION, UnsafePickleError
from tests.test_serialization_torch import FORMATS, Reduce, torch_roundtrip


def write_marker(path):
    with open(path, "w") as f:
        f.write("this ran")


def in_torch_zip(tmp_path, pickled):
    path = tmp_path / "evil_zip.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", pickled)
        z.writestr("evil/byteorder", "little")
        z.writestr("evil/version", "3\n")
    return path


def in_legacy_stream(tmp_path, pickled):
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    path = tmp_path / "evil_legacy.pt"
    path.write_bytes(b"".join(pickle.dumps(x, protocol=2) for x in (
        MAGIC_NUMBER, PROTOCOL_VERSION, sys_info)) + pickled + pickle.dumps([], protocol=2))
    return path


CONTAINERS = [in_torch_zip, in_legacy_stream]


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("payload, name", [
    (lambda marker: Reduce(os.system, f"touch {marker}"), f"{os.system.__module__}.system"),
    (lambda marker: Reduce(eval, f"open({str(marker)!r}, 'w')"), "builtins.eval"),
    (lambda marker: Reduce(write_marker, str(marker)), f"{__name__}.write_marker"),
    (lambda marker: Reduce(__import__, "os"), "builtins.__import__"),
], ids=["os.system", "eval", "marker writer", "__import__"])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, container, protocol, payload,
                                                      name):
    marker = tmp_path / "marker"
    pickled = pickle.dumps({"weights": [1.0], "payload": payload(marker)}, protocol=protocol)
    if name.endswith("write_marker"):  # the payload is live: plain pickle would run it
        pickle.loads(pickled)
        assert marker.exists()
        marker.unlink()
    path = container(tmp_path, pickled)
    with pytest.raises(UnsafePickleError, match=f"refusing to load the global '{name}'") as e:
        minidl.load(path)
    assert isinstance(e.value, pickle.UnpicklingError)
    assert str(path) in str(e.value) and "only tensors, storages, NumPy arrays" in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("pickled, match", [
    (b"\x80\x02ccollections\nOrderedDict\n)\x81.", "opcode NEWOBJ"),
    (b"\x80\x02(ibuiltins\nobject\n.", "opcode INST of 'builtins.object'"),
    (b"\x80\x02\x82\x01.", "opcode EXT1"),
    (b"\x80\x02ctorch\nfloat32\n)R.", "REDUCE"),
    (b"\x80\x02]}b.", "BUILD of a list"),
    (b"\x80\x02ccollections\nOrderedDict\n)R}X\x04\x00\x00\x00keysK\x01sb.", "BUILD of a"),
    (b"\x80\x02}K\x01a.", "APPEND on a dict"),
    (b"\x80\x02]K\x01K\x02s.", "SETITEM on a list"),
    (b"\x80\x02X\x03\x00\x00\x00abcQ.", "persistent id"),
], ids=["NEWOBJ", "INST", "EXT1", "REDUCE value", "BUILD list", "BUILD shadowing keys",
        "APPEND dict", "SETITEM list", "persistent id"])
def test_object_creating_opcodes_are_refused(tmp_path, container, pickled, match):
    with pytest.raises(UnsafePickleError, match=match):
        minidl.load(container(tmp_path, pickled))


def test_whole_modules_are_refused_with_a_hint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    with pytest.raises(UnsafePickleError, match="'torch.nn.modules.container.Sequential'.*save "
                                                "its state_dict"):
        minidl.load(path)


def test_numpy_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"a": np.array([1, "two"], dtype=object)}, path)
    with pytest.raises(UnsafePickleError, match="NumPy dtype object"):
        minidl.load(path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.complex64, torch.uint16], ids=str)
def test_dtypes_minidl_lacks_are_refused_by_name_and_key(tmp_path, fmt, dtype):
    obj = {"ok": torch.ones(2), "layer": {"weight": torch.zeros(2, dtype=dtype)}}
    name = str(dtype).removeprefix("torch.")
    with pytest.raises(TypeError, match=rf"obj\['layer'\]\['weight'\] is a {name} tensor.*no "
                                        rf"{name} dtype"):
        torch_roundtrip(obj, tmp_path, fmt)
    with pytest.raises(TypeError, match=rf"obj\['dt'\] is the dtype torch.{name}"):
        torch_roundtrip({"dt": dtype}, tmp_path, fmt)


def test_tensor_attributes_are_refused(tmp_path):
    t = torch.ones(2)
    t.note = "hello"
    p = torch.nn.Parameter(torch.ones(2))
    p.note = "hello"
    for obj in (t, p):
        path = tmp_path / "attr.pt"
        torch.save(obj, path)
        with pytest.raises(RuntimeError, match="carries Python attributes.*note"):
            minidl.load(path)


# --------------------------------------------------------- damaged files
def test_truncated_and_corrupt_files_give_clear_errors(tmp_path):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(100.)}, buf)
    data = buf.getvalue()
    with pytest.raises(RuntimeError, match="damaged zip archive.*cut short or corrupted"):
        minidl.load(io.BytesIO(data[:len(data) // 2]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("archive/data/0")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:][:4])
    pos = info.header_offset + 30 + name_len + extra_len + 8  # a byte inside the storage
    flipped = data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]
    with pytest.raises(RuntimeError, match="corrupt torch checkpoint.*CRC"):
        minidl.load(io.BytesIO(flipped))
    legacy = io.BytesIO()
    torch.save({"w": torch.arange(100.)}, legacy, _use_new_zipfile_serialization=False)
    for cut in (40, len(legacy.getvalue()) - 10):
        with pytest.raises(RuntimeError, match="corrupt torch checkpoint"):
            minidl.load(io.BytesIO(legacy.getvalue()[:cut]))


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_other_zip_archives_are_refused(tmp_path):
    np.savez(tmp_path / "arrays.npz", a=np.ones(2))
    with pytest.raises(RuntimeError, match="not a torch.save checkpoint.*npz"):
        minidl.load(tmp_path / "arrays.npz")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), tmp_path / "script.pt")
    with pytest.raises(RuntimeError, match="TorchScript archive"):
        minidl.load(tmp_path / "script.pt")


def test_weights_only_false_loads_the_same_and_still_runs_nothing(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"w": torch.arange(3.)}, path)
    assert minidl.load(path, weights_only=False)["w"].tolist() == [0.0, 1.0, 2.0]
    marker = tmp_path / "marker"
    evil = in_torch_zip(tmp_path, pickle.dumps(Reduce(write_marker, str(marker)), protocol=2))
    with pytest.raises(UnsafePickleError):
        minidl.load(evil, weights_only=False)
    assert not marker.exists()
