"""minidl.save / minidl.load: round trips, atomic writes, and refusal of anything executable."""
import io
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minidl
from minidl.serialization import load, save


def roundtrip(obj, tmp_path=None):
    if tmp_path is None:
        buf = io.BytesIO()
        save(obj, buf)
        buf.seek(0)
        return load(buf)
    path = tmp_path / "ckpt.pt"
    save(obj, path)
    return load(path)


@pytest.mark.parametrize("dtype", [minidl.float16, minidl.float32, minidl.float64, minidl.int8,
                                   minidl.int16, minidl.int32, minidl.int64, minidl.uint8,
                                   minidl.bool])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4)])
def test_tensor_dtype_and_shape(dtype, shape):
    a = np.asarray((np.random.default_rng(0).standard_normal(shape) * 5).astype(dtype.np))
    t = minidl.from_numpy(a)
    out = roundtrip(t)
    assert isinstance(out, minidl.Tensor)
    assert out.dtype == dtype and out.shape == t.shape
    np.testing.assert_array_equal(out.numpy(), a)
    out._data[...] = 0  # loaded memory is writable and not shared with the original
    np.testing.assert_array_equal(t.numpy(), a)


def test_nested_structure(tmp_path):
    w = minidl.randn(3, 4)
    obj = {
        "epoch": 7, "best": 0.125, "nan": float("nan"), "inf": -math.inf, "name": "lenet",
        "flag": True, "nothing": None,
        "model": OrderedDict([("fc.weight", w), ("fc.bias", minidl.zeros(3))]),
        "history": [0.5, 0.25, {"acc": np.float32(0.75), "step": np.int64(3)}],
        "pair": (1, "a", (2.0, [minidl.arange(3)])),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3).T,  # non-contiguous
        3: "int key", (1, 2): "tuple key", 2.5: "float key",
        "dtype": minidl.float64, "shape": w.shape,
    }
    for out in (roundtrip(obj), roundtrip(obj, tmp_path)):
        assert out["epoch"] == 7 and out["best"] == 0.125 and math.isnan(out["nan"])
        assert out["inf"] == -math.inf and out["name"] == "lenet"
        assert out["flag"] is True and out["nothing"] is None
        assert type(out["model"]) is OrderedDict and list(out["model"]) == ["fc.weight", "fc.bias"]
        np.testing.assert_array_equal(out["model"]["fc.weight"].numpy(), w.numpy())
        assert out["history"][:2] == [0.5, 0.25]
        acc = out["history"][2]["acc"]
        assert isinstance(acc, np.float32) and acc == np.float32(0.75)
        assert isinstance(out["history"][2]["step"], np.int64)
        assert isinstance(out["pair"], tuple) and isinstance(out["pair"][2], tuple)
        assert out["pair"][2][1][0].tolist() == [0, 1, 2]
        assert out["pair"][2][1][0].dtype == minidl.int64
        np.testing.assert_array_equal(out["array"], obj["array"])
        assert out[3] == "int key" and out[(1, 2)] == "tuple key" and out[2.5] == "float key"
        assert out["dtype"] is minidl.float64 and out["shape"] == minidl.Size([3, 4])
        assert type(out) is dict and type(out["shape"]) is minidl.Size


def test_shared_tensor_stored_once_and_restored_shared():
    w = minidl.randn(64, 64)
    single = io.BytesIO()
    save({"a": w}, single)
    both = io.BytesIO()
    save({"a": w, "b": w, "c": [w]}, both)
    assert len(both.getvalue()) < len(single.getvalue()) + 200
    both.seek(0)
    out = load(both)
    assert out["a"] is out["b"] is out["c"][0]


def test_requires_grad_kept_and_parameters_come_back_as_tensors():
    p = minidl.randn(2, 2, requires_grad=True)
    out = roundtrip({"p": p, "d": p.detach()})
    assert type(out["p"]) is minidl.Tensor and out["p"].requires_grad and out["p"].is_leaf
    assert not out["d"].requires_grad
    Parameter = getattr(getattr(minidl, "nn", None), "Parameter", None)
    if Parameter is not None:
        out = roundtrip(Parameter(minidl.ones(2)))
        assert type(out) is minidl.Tensor and out.requires_grad


def test_optimizer_state_dict_round_trip():
    p = minidl.randn(3, requires_grad=True)
    opt = minidl.optim.Adam([p], lr=0.01, betas=(0.8, 0.9), amsgrad=True)
    p.grad = minidl.ones(3)
    opt.step()
    sd = roundtrip(opt.state_dict())
    assert sd["param_groups"][0]["betas"] == (0.8, 0.9)
    assert sd["param_groups"][0]["params"] == [0] and list(sd["state"]) == [0]
    assert float(sd["state"][0]["step"]) == 1.0
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(),
                                  opt.state[p]["exp_avg"].numpy())


def test_atomic_write_leaves_no_temp_file_and_replaces(tmp_path):
    path = tmp_path / "model.ckpt"
    save({"v": minidl.ones(2)}, path)
    save({"v": minidl.zeros(2)}, str(path))
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    assert load(path)["v"].tolist() == [0.0, 0.0]
    # the temp file's private 0600 mode is not kept: the file gets the usual umask mode
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~minidl.serialization._UMASK


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "model.ckpt"
    save({"v": minidl.ones(2)}, path)
    with pytest.raises(TypeError, match=r"cannot store an object of type object \(at obj\['bad'\]"):
        save({"v": minidl.zeros(2), "bad": object()}, path)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    assert load(path)["v"].tolist() == [1.0, 1.0]


def test_missing_parent_directory(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        save({}, tmp_path / "nope" / "x.ckpt")


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > " + os.devnull,))


def test_pickle_file_is_refused_and_never_executed(tmp_path, monkeypatch):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"x": Boom()}, protocol=4))  # unpickling would call os.system
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.raises(RuntimeError, match="not a minidl checkpoint: it looks like a pickle"):
        load(path)
    assert called == []


def test_torch_zip_checkpoint_is_refused(tmp_path):
    path = tmp_path / "torch.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    with pytest.raises(RuntimeError, match="zip archive"):
        load(path)


@pytest.mark.parametrize("payload,match", [
    (b"", "too short"), (b"hello world, not a ckpt", "safetensors header"),
    (b"\x05\x00\x00\x00\x00\x00\x00\x00{abcd", "not valid JSON")])
def test_garbage_is_refused(payload, match):
    with pytest.raises(RuntimeError, match=match):
        load(io.BytesIO(payload))


def test_plain_safetensors_file_loads_as_dict(tmp_path):
    import safetensors.numpy
    path = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"b": np.ones(2, np.float32), "a": np.arange(3)}, str(path))
    out = load(path)
    assert list(out) == ["a", "b"] and out["a"].dtype == minidl.int64


def test_unsupported_values_name_their_place():
    with pytest.raises(TypeError, match=r"type set \(at obj\[0\]\['s'\]\)"):
        save([{"s": {1, 2}}], io.BytesIO())
    with pytest.raises(TypeError, match="dtype <U1"):
        save(np.array(["a"]), io.BytesIO())
    with pytest.raises(TypeError, match=r"type Adam \(at obj\['opt'\]\); save its state_dict"):
        save({"opt": minidl.optim.Adam([minidl.zeros(1, requires_grad=True)])}, io.BytesIO())


def test_map_location():
    t = minidl.ones(2)
    buf = io.BytesIO()
    save(t, buf)
    for loc in (None, "cpu", minidl.device("cpu"), {"cuda:0": "cpu"}):
        buf.seek(0)
        assert load(buf, map_location=loc).tolist() == [1.0, 1.0]
    buf.seek(0)
    assert load(buf, map_location=lambda s, loc: s).tolist() == [1.0, 1.0]
    buf.seek(0)
    with pytest.raises(RuntimeError, match="CPU only"):
        load(buf, map_location="cuda")
