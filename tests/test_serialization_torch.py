"""minidl.load reads files written by real torch.save -- zip and legacy formats -- with a
restricted unpickler that never runs code; torch (torch.save / torch.load) is the oracle."""
import io
import math
import pickle
import struct
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch

import minidl
from minidl.serialization_torch import MAGIC_NUMBER, PROTOCOL_VERSION

FORMATS = ["zip", "legacy"]


def torch_roundtrip(obj, tmp_path, fmt, as_file=False, **kw):
    """``obj`` saved by torch.save in format ``fmt``, loaded back by minidl.load."""
    path = tmp_path / f"{fmt}.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=fmt == "zip", **kw)
    if as_file:
        with open(path, "rb") as f:
            return minidl.load(f)
    return minidl.load(path)


def assert_same(out, ref):
    assert isinstance(out, minidl.Tensor)
    assert out.dtype == getattr(minidl, str(ref.dtype).removeprefix("torch."))
    assert tuple(out.shape) == tuple(ref.shape)
    assert out.stride() == ref.stride() or ref.numel() == 0  # NumPy: empty arrays' strides 0
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    assert out.requires_grad == ref.requires_grad


# ----------------------------------------------------------------- tensors
DTYPES = [torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
          torch.int64, torch.uint8, torch.bool]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4)])
def test_every_dtype_and_shape(tmp_path, fmt, dtype, shape):
    t = (torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 50).to(dtype)
    assert_same(torch_roundtrip(t, tmp_path, fmt), t)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("as_file", [False, True], ids=["path", "file object"])
def test_non_contiguous_views_keep_values_strides_and_shared_memory(tmp_path, fmt, as_file):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"base": base, "t": base.t(), "sliced": base[1:3, 2:5], "col": base[:, 4],
           "step": base[::2, 1::3], "expanded": torch.arange(3.).expand(4, 3),
           "scalar_view": base[2, 3]}
    out = torch_roundtrip(obj, tmp_path, fmt, as_file)
    for k, ref in obj.items():
        assert_same(out[k], ref)
    # a tensor and its views share one storage in the file, and one buffer after loading
    out["base"][2, 3] = -1.0
    assert out["t"][3, 2].item() == out["sliced"][1, 1].item() == -1.0
    assert out["scalar_view"].item() == -1.0
    out["col"].mul_(0)
    assert out["base"][:, 4].tolist() == [0.0] * 4
    assert np.shares_memory(out["base"].numpy(), out["step"].numpy())
    assert not np.shares_memory(out["base"].numpy(), out["expanded"].numpy())


@pytest.mark.parametrize("fmt", FORMATS)
def test_parameters_and_requires_grad(tmp_path, fmt):
    w = torch.nn.Parameter(torch.randn(2, 3))
    obj = {"w": w, "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
           "counter": torch.nn.Parameter(torch.arange(3), requires_grad=False),
           "leaf": torch.zeros(2, requires_grad=True), "plain": torch.zeros(2)}
    out = torch_roundtrip(obj, tmp_path, fmt)
    for k in ("w", "frozen", "counter"):
        assert type(out[k]) is minidl.nn.Parameter
        assert_same(out[k], obj[k])
    assert type(out["leaf"]) is minidl.Tensor and out["leaf"].requires_grad
    assert out["leaf"].is_leaf and not out["plain"].requires_grad


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_nested_structure(tmp_path, fmt, protocol):
    t = torch.randn(3)
    obj = {
        "epoch": 7, "lr": 0.125, "nan": float("nan"), "inf": -math.inf, "big": 2 ** 70,
        "name": "resnet", "flag": True, "nothing": None, "bytes": b"\x00\xffab",
        "bytearray": bytearray(b"xy"), "complex": 1.5 - 2j, "set": {1, 2, "three"},
        "counter": Counter("abracadabra"),
        "od": OrderedDict([("b", t), ("a", [t, (t, {"deep": [1, (2, 3)]})])]),
        "tuple": (1, "x", (2.0, [None])), "empty": ([], (), {}, set()),
        "size": torch.Size([2, 3]), "dtype": torch.float16, "dtypes": [torch.int64, torch.bool],
        "device": torch.device("cpu"), "cuda": torch.device("cuda", 1),
        3: "int key", (1, 2): "tuple key",
    }
    out = torch_roundtrip(obj, tmp_path, fmt, pickle_protocol=protocol)
    assert type(out) is dict and list(out) == list(obj)
    assert out["epoch"] == 7 and out["lr"] == 0.125 and math.isnan(out["nan"])
    assert out["inf"] == -math.inf and out["big"] == 2 ** 70 and out["name"] == "resnet"
    assert out["flag"] is True and out["nothing"] is None and out["bytes"] == b"\x00\xffab"
    assert type(out["bytearray"]) is bytearray and out["bytearray"] == b"xy"
    assert out["complex"] == 1.5 - 2j and out["set"] == {1, 2, "three"}
    assert type(out["counter"]) is Counter and out["counter"] == Counter("abracadabra")
    od = out["od"]
    assert type(od) is OrderedDict and list(od) == ["b", "a"]
    assert od["b"] is od["a"][0] is od["a"][1][0]  # one tensor saved thrice comes back once
    np.testing.assert_array_equal(od["b"].numpy(), t.numpy())
    assert od["a"][1][1] == {"deep": [1, (2, 3)]} and isinstance(od["a"][1], tuple)
    assert out["tuple"] == (1, "x", (2.0, [None])) and out["empty"] == ([], (), {}, set())
    assert type(out["size"]) is minidl.Size and out["size"] == minidl.Size([2, 3])
    assert out["dtype"] is minidl.float16 and out["dtypes"] == [minidl.int64, minidl.bool]
    assert out["device"] == minidl.device("cpu") and out["cuda"] == minidl.device("cuda", 1)
    assert out[3] == "int key" and out[(1, 2)] == "tuple key"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("protocol", [2, 5])
def test_numpy_arrays_and_scalars(tmp_path, fmt, protocol):
    obj = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "i64": np.array([-1, 2 ** 40]),
           "bool": np.array([True, False]), "c128": np.array([1 + 2j]), "u8": np.zeros(0, np.uint8),
           "fortran": np.asfortranarray(np.arange(6.).reshape(2, 3)), "zero_d": np.array(2.5),
           "big_endian": np.arange(3, dtype=">i4"), "s32": np.float32(0.5), "s64": np.int64(-3),
           "sbool": np.bool_(True), "dtype": np.dtype("float16")}
    out = torch_roundtrip(obj, tmp_path, fmt, pickle_protocol=protocol)
    oracle = torch.load(tmp_path / f"{fmt}.pt", weights_only=False)  # runs pickle: trusted here
    for k, ref in oracle.items():
        if isinstance(ref, np.dtype):
            assert out[k] == ref
            continue
        assert type(out[k]) is type(ref) and out[k].dtype == ref.dtype  # '>i4' may come back
        np.testing.assert_array_equal(out[k], ref)                       # native, as in torch
        np.testing.assert_array_equal(out[k], obj[k])
    assert out["fortran"].flags.f_contiguous and out["f32"].flags.writeable


# ------------------------------------------------- models and optimizers
class TorchBasicBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride,
                                                                  bias=False),
                                                  torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet18(torch.nn.Module):
    """torchvision's resnet18 layout (and state_dict keys), written out in torch."""

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(64)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        widths, cin = [64, 128, 256, 512], 64
        for i, w in enumerate(widths):
            setattr(self, f"layer{i + 1}", torch.nn.Sequential(
                TorchBasicBlock(cin, w, 1 if i == 0 else 2), TorchBasicBlock(w, w, 1)))
            cin = w
        self.fc = torch.nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def randomize_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.num_batches_tracked.fill_(5)


def assert_same_outputs(tmp_path, fmt, torch_model, minidl_model, x):
    torch_model.eval()
    path = tmp_path / "model.pt"
    torch.save(torch_model.state_dict(), path, _use_new_zipfile_serialization=fmt == "zip")
    sd = minidl.load(path)
    assert type(sd) is OrderedDict and list(sd) == list(torch_model.state_dict())
    assert sd._metadata[""]["version"] == torch_model.state_dict()._metadata[""]["version"]
    assert list(sd) == list(minidl_model.state_dict())
    minidl_model.load_state_dict(sd)
    minidl_model.eval()
    with torch.no_grad():
        ref = torch_model(torch.from_numpy(x)).numpy()
    with minidl.no_grad():
        got = minidl_model(minidl.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sequential_state_dict_gives_torchs_outputs(tmp_path, fmt):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                             torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 5, 3))
    randomize_batchnorm(tm)
    mm = minidl.nn.Sequential(minidl.nn.Conv2d(3, 4, 3, padding=1), minidl.nn.BatchNorm2d(4),
                              minidl.nn.ReLU(), minidl.nn.Flatten(), minidl.nn.Linear(100, 3))
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert_same_outputs(tmp_path, fmt, tm, mm, x)


def test_resnet18_state_dict_loads_into_the_zoo_model(tmp_path):
    torch.manual_seed(0)
    tm = TorchResNet18(num_classes=10)
    randomize_batchnorm(tm)
    x = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    assert_same_outputs(tmp_path, "zip", tm, minidl.vision.models.resnet18(num_classes=10), x)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", [
    lambda p: (torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
               minidl.optim.SGD),
    lambda p: (torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True), minidl.optim.Adam),
], ids=["SGD", "Adam"])
def test_optimizer_state_dict_continues_torchs_trajectory(tmp_path, fmt, make):
    torch.manual_seed(0)
    tp = [torch.nn.Parameter(torch.randn(3, 2)), torch.nn.Parameter(torch.randn(2))]
    topt, minidl_cls = make(tp)

    def step():
        topt.zero_grad()
        ((tp[0] ** 2).sum() + (tp[1] ** 3).sum()).backward()
        topt.step()

    for _ in range(3):
        step()
    sd = torch_roundtrip(topt.state_dict(), tmp_path, fmt)
    ref = topt.state_dict()
    assert sd["param_groups"] == [dict(g) for g in ref["param_groups"]]
    assert list(sd["state"]) == [0, 1]
    for i in (0, 1):
        assert list(sd["state"][i]) == list(ref["state"][i])
        for k, v in ref["state"][i].items():
            np.testing.assert_array_equal(sd["state"][i][k].numpy(), v.numpy())
    # the loaded state drives minidl's optimizer to torch's next step
    mp = [minidl.nn.Parameter(minidl.tensor(p.detach().numpy().copy())) for p in tp]
    mopt = minidl_cls(mp, lr=1.0)
    mopt.load_state_dict(sd)
    mopt.zero_grad()
    ((mp[0] ** 2).sum() + (mp[1] ** 3).sum()).backward()
    mopt.step()
    step()
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)


class Reduce:
    """Pickles as a call of ``fn(*args)``."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


# ------------------------------------------------------ format details
def test_big_endian_archive(tmp_path):
    obj = {"f": torch.arange(6, dtype=torch.float32).reshape(2, 3) - 2.5,
           "i": torch.tensor([1, -2, 300], dtype=torch.int16),
           "b": torch.tensor([1, 2], dtype=torch.uint8)}
    src, dst = tmp_path / "little.pt", tmp_path / "big.pt"
    torch.save(obj, src)
    dtypes = {"0": np.float32, "1": np.int16, "2": np.uint8}  # storages in pickling order
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data, key = zin.read(info), info.filename.rpartition("/data/")[2]
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                data = np.frombuffer(data, dtypes[key]).byteswap().tobytes()
            zout.writestr(info, data)
    ref = torch.load(dst)
    out = minidl.load(dst)
    for k in obj:
        assert_same(out[k], ref[k])
        np.testing.assert_array_equal(out[k].numpy(), obj[k].numpy())


class StorageRef:
    """Stands for a float32 storage in :func:`handmade` (``view``: a legacy storage view)."""

    def __init__(self, view=None):
        self.view = view


class TensorOn:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


def handmade(tmp_path, obj, fmt):
    """``obj`` written in torch's layout ``fmt`` by hand, each StorageRef naming one float32
    storage holding 0..5: for what today's torch.save no longer writes."""
    values = np.arange(6, dtype="<f4")
    class Pickler(pickle.Pickler):
        def persistent_id(self, x):
            if not isinstance(x, StorageRef):
                return None
            pid = ("storage", torch.FloatStorage, "0", "cpu", values.size)
            return pid + (x.view,) if fmt == "legacy" else pid

    path, f = tmp_path / f"handmade_{fmt}.pt", io.BytesIO()
    if fmt == "legacy":
        for x in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(x, f, protocol=2)
        Pickler(f, protocol=2).dump(obj)
        pickle.dump(["0"], f, protocol=2)
        path.write_bytes(f.getvalue() + struct.pack("<q", values.size) + values.tobytes())
    else:
        Pickler(f, protocol=2).dump(obj)
        with zipfile.ZipFile(path, "w") as z:
            for name, data in (("data.pkl", f.getvalue()), ("data/0", values.tobytes()),
                               ("byteorder", "little"), ("version", "3\n")):
                z.writestr(f"handmade/{name}", data)
    return path


def test_legacy_storage_views(tmp_path):
    """Old torch wrote storage views: ('storage', type, root, location, numel, (view key,
    offset, size)); torch.load is the oracle."""
    root, view = StorageRef(), StorageRef(("view", 2, 3))
    path = handmade(tmp_path, {"all": TensorOn(root, 0, (2, 3), (3, 1)),
                               "tail": TensorOn(view, 1, (2,), (1,))}, "legacy")
    ref, out = torch.load(path), minidl.load(path)
    for k in ref:
        assert_same(out[k], ref[k])
    assert out["tail"].tolist() == [3.0, 4.0]
    out["all"][1, 0] = 30.0
    assert out["tail"].tolist() == [30.0, 4.0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_rebuild_from_type_without_attributes(tmp_path, fmt):
    """torch._tensor._rebuild_from_type_v2(rebuild, type, args, state), torch.load the oracle."""
    args = (StorageRef(), 1, (2, 2), (1, 2), False, OrderedDict())
    obj = {name: Reduce(torch._tensor._rebuild_from_type_v2, torch._utils._rebuild_tensor_v2,
                        cls, args, {}) for name, cls in (("t", torch.Tensor),
                                                         ("p", torch.nn.Parameter))}
    path = handmade(tmp_path, obj, fmt)
    ref, out = torch.load(path), minidl.load(path)
    assert type(out["t"]) is minidl.Tensor and type(out["p"]) is minidl.nn.Parameter
    for k in ref:
        assert_same(out[k], ref[k])


def test_map_location_and_saved_devices(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
    path = tmp_path / "gpu.pt"
    torch.save({"w": torch.ones(2)}, path)
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="saved on device 'cuda:0'.*map_location='cpu'"):
        minidl.load(path)
    for loc in ("cpu", minidl.device("cpu"), {"cuda:0": "cpu"}):
        assert minidl.load(path, map_location=loc)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="saved on device 'cuda:0'"):
        minidl.load(path, map_location={"cuda:1": "cpu"})
    seen = []
    out = minidl.load(path, map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert seen == ["cuda:0"] and out["w"].tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="CPU only"):
        minidl.load(path, map_location="cuda")
