"""``minidl.save`` / ``minidl.load``: checkpoints in a format that cannot execute code.

A checkpoint is one safetensors file. Every array (tensor data, NumPy array, NumPy scalar)
is a named safetensors entry; the Python structure around them (dicts, OrderedDicts, lists,
tuples, numbers, strings, None, dtypes) is described in JSON stored in the safetensors
metadata under ``minidl.structure``. Loading parses JSON and raw little-endian arrays only:
nothing is ever unpickled, so a checkpoint from an untrusted source cannot run code.

JSON layout: a JSON number / string / bool / null stands for itself; every JSON object is a
tagged node -- ``{"T": key, "i": n, "rg": bool}`` tensor (``i`` identifies the tensor, so an
object saved twice comes back as one object), ``{"A": key}`` ndarray, ``{"S": key}`` NumPy
scalar, ``{"F": "nan"|"inf"|"-inf"}`` non-finite float, ``{"L": [...]}`` list, ``{"U": [...]}``
tuple, ``{"Z": [...]}`` Size, ``{"D": [[key, value], ...], "o": bool}`` dict / OrderedDict,
``{"dt": name}`` dtype.

``load`` also reads the files ``torch.save`` writes, through a restricted unpickler that
never runs their code (``serialization_torch``).
"""
import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from .backend import as_dtype, check_device
from .backend import device as _device
from .backend.dtypes import dtype as _dtype_cls
from .serialization_torch import is_torch_file, load_torch
from .tensor import Size, Tensor

__all__ = ["save", "load"]

FORMAT = "minidl"
FORMAT_VERSION = "1"
_SUPPORTED = ("tensors, NumPy arrays and scalars, dict / OrderedDict / list / tuple, int, "
              "float, bool, str, None and dtypes")

_UMASK = os.umask(0)
os.umask(_UMASK)


# ---------------------------------------------------------------------- save
class _Encoder:
    """Walks the object, collecting arrays (each stored once) and building the JSON tree."""

    def __init__(self):
        self.arrays = {}
        self.array_keys = {}   # id(ndarray) -> key
        self.tensor_ids = {}   # id(Tensor) -> n
        self._alive = []       # keep encoded objects alive so ids stay unique

    def array(self, a):
        key = self.array_keys.get(id(a))
        if key is None:
            key = self.array_keys[id(a)] = str(len(self.arrays))
            self.arrays[key] = a if a.flags.c_contiguous else a.copy(order="C")
            self._alive.append(a)
        return key

    def encode(self, obj, where):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"F": repr(obj)}
        if isinstance(obj, Tensor):
            n = self.tensor_ids.get(id(obj))
            if n is None:
                n = self.tensor_ids[id(obj)] = len(self.tensor_ids)
                self._alive.append(obj)
            return {"T": self.array(_check_array(obj._data, where)), "i": n,
                    "rg": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"A": self.array(_check_array(obj, where))}
        if isinstance(obj, np.generic):
            return {"S": self.array(_check_array(np.asarray(obj), where))}
        if isinstance(obj, _dtype_cls):
            return {"dt": obj.name}
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{where} (a key)"), self.encode(v, f"{where}[{k!r}]")]
                     for k, v in obj.items()]
            return {"D": items, "o": isinstance(obj, OrderedDict)}
        if isinstance(obj, Size):
            return {"Z": [int(s) for s in obj]}
        if isinstance(obj, (list, tuple)):
            tag = "L" if isinstance(obj, list) else "U"
            return {tag: [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        hint = ("; save its state_dict() instead" if callable(getattr(obj, "state_dict", None))
                else "")
        raise TypeError(f"minidl.save cannot store an object of type {type(obj).__name__} "
                        f"(at {where}){hint}; a checkpoint holds only {_SUPPORTED}")


def _check_array(a, where):
    if a.dtype.kind not in "biuf":
        raise TypeError(f"minidl.save cannot store an array of dtype {a.dtype} (at {where}); "
                        f"only bool, integer and floating arrays are supported")
    return a


def _serialize(obj):
    import safetensors.numpy

    enc = _Encoder()
    tree = enc.encode(obj, "obj")
    meta = {"format": FORMAT, "minidl.version": FORMAT_VERSION,
            "minidl.structure": json.dumps(tree, separators=(",", ":"))}
    return safetensors.numpy.save(enc.arrays, metadata=meta)


def _refuse_pickling(fn, **given):
    """The pickle-only arguments of save / load, refused by name when given."""
    for name, value in given.items():
        if value not in (None, False, {}):
            raise ValueError(f"{fn}(): {name} is not supported: minidl checkpoints are "
                             f"safetensors, never pickles")


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors and nested containers of them) to a path or binary file object.

    Writing to a path is atomic: the data goes to a temporary file in the same folder, which
    then replaces ``f``, so a crash never leaves a half-written checkpoint. Nothing is
    pickled, so ``pickle_module`` / ``pickle_protocol`` and torch's legacy format
    (``_use_new_zipfile_serialization=False``) are refused.
    """
    _refuse_pickling("save", pickle_module=pickle_module, pickle_protocol=pickle_protocol,
                     _use_new_zipfile_serialization=not _use_new_zipfile_serialization)
    data = _serialize(obj)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------------- load
def _not_a_checkpoint(name, why):
    return RuntimeError(f"{name} is not a minidl checkpoint: {why}. minidl.load reads files "
                        f"written by minidl.save or torch.save, and plain safetensors files")


def _read_header(data, name):
    """The safetensors JSON header of ``data``, with clear errors for anything else."""
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else -1
    if not (0 < n <= len(data) - 8 and data[8:9] == b"{"):
        if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            why = ("it looks like a pickle file but not torch.save's (e.g. from pickle.dump); "
                   "minidl never unpickles other pickles, because unpickling can run code")
        elif len(data) < 8:
            why = f"the file is too short ({len(data)} bytes)"
        else:
            why = "it does not start with a safetensors header"
        raise _not_a_checkpoint(name, why)
    try:
        return json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _not_a_checkpoint(name, "its safetensors header is not valid JSON") from None


class _Decoder:
    def __init__(self, arrays, map_tensor):
        self.arrays = arrays
        self.tensors = {}
        self.map_tensor = map_tensor

    def array(self, key):
        try:
            return self.arrays[key]
        except KeyError:
            raise RuntimeError(f"corrupt minidl checkpoint: array {key!r} is missing") from None

    def decode(self, node):
        if not isinstance(node, dict):
            if isinstance(node, list):
                raise RuntimeError("corrupt minidl checkpoint: untagged list in the structure")
            return node
        if "T" in node:
            t = self.tensors.get(node["i"])
            if t is None:
                a = self.array(node["T"])
                t = Tensor(a, requires_grad=bool(node.get("rg")) and a.dtype.kind == "f")
                t = self.tensors[node["i"]] = self.map_tensor(t)
            return t
        if "A" in node:
            return self.array(node["A"])
        if "S" in node:
            return self.array(node["S"])[()]
        if "F" in node:
            return float(node["F"])
        if "L" in node:
            return [self.decode(v) for v in node["L"]]
        if "U" in node:
            return tuple(self.decode(v) for v in node["U"])
        if "Z" in node:
            return Size(node["Z"])
        if "D" in node:
            cls = OrderedDict if node.get("o") else dict
            return cls((self._key(k), self.decode(v)) for k, v in node["D"])
        if "dt" in node:
            return as_dtype(node["dt"])
        raise RuntimeError(f"corrupt minidl checkpoint: unknown node {sorted(node)}")

    def _key(self, k):
        k = self.decode(k)
        return tuple(k) if isinstance(k, list) else k


def _on_cpu(location):
    if _device(str(location)).type != "cpu":
        raise RuntimeError(f"a tensor was saved on device '{location}', and minidl runs on the "
                           f"CPU only; pass map_location='cpu' to load it there")


def _location_mapper(map_location):
    """Validate ``map_location`` (minidl has only the CPU) and return ``mapper(tensor,
    location)`` placing a tensor saved on ``location`` as torch.load does: a callable gets
    ``(tensor, location)`` and may return a replacement, a dict renames locations, a device
    or name takes every tensor; each must end up on the CPU."""
    if callable(map_location) and not isinstance(map_location, (str, _device)):
        def mapper(t, location="cpu"):
            out = map_location(t, location)
            if isinstance(out, Tensor):
                return out
            _on_cpu(location)
            return t
        return mapper
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if target is not None:
            check_device(target)

    def mapper(t, location="cpu"):
        if isinstance(map_location, dict):
            location = map_location.get(location, location)
        _on_cpu(location if map_location is None or isinstance(map_location, dict)
                else map_location)
        return t
    return mapper


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``minidl.save`` or ``torch.save`` from a path or binary file.

    minidl's files: tensors come back with their dtype, shape and ``requires_grad``
    (Parameters as plain Tensors); a tensor stored several times comes back as one object. A
    plain safetensors file (no minidl structure) loads as a dict name -> Tensor.

    torch.save's files (its zip format, and the legacy stream of
    ``_use_new_zipfile_serialization=False``) go through a restricted unpickler
    (``minidl.serialization_torch``) that, like torch's ``weights_only=True``, rebuilds only
    tensors, Parameters, storages, NumPy arrays and scalars, containers, numbers, strings,
    dtypes, ``Size`` and ``device``; any other global or object-creating opcode raises
    ``pickle.UnpicklingError`` (``serialization_torch.UnsafePickleError``) naming it. Tensors
    that share a storage in the file share memory; a dtype minidl lacks (bfloat16, complex)
    raises TypeError naming where it sits; a damaged file raises RuntimeError.

    Nothing in a file is ever run, so ``weights_only=False`` loads the same as True.
    ``map_location`` is torch's: a device or name, a dict from saved locations, or a callable
    ``(tensor, location)``; every tensor must land on the CPU. ``pickle_module``, pickle's own
    arguments and ``mmap=True`` (the file is read whole) are refused.
    """
    import safetensors.numpy

    _refuse_pickling("load", pickle_module=pickle_module,
                     **{f"pickle argument {k!r}": True for k in pickle_load_args})
    if mmap:
        raise ValueError("load(): mmap=True is not supported: minidl reads the whole file")
    mapper = _location_mapper(map_location)
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "the file object"))
        data = f.read()
    else:
        name = repr(os.fspath(f))
        with open(f, "rb") as fh:
            data = fh.read()
    if is_torch_file(data):
        return load_torch(data, name, mapper)
    header = _read_header(data, name)
    meta = header.get("__metadata__") or {}
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # safetensors raises its own error type
        raise _not_a_checkpoint(name, f"safetensors could not read it ({e})") from None
    arrays = {k: (a if a.flags.writeable else a.copy()) for k, a in arrays.items()}
    if meta.get("format") != FORMAT or "minidl.structure" not in meta:
        return OrderedDict((k, mapper(Tensor(a))) for k, a in sorted(arrays.items()))
    if meta.get("minidl.version") != FORMAT_VERSION:
        raise RuntimeError(f"{name} was written by a newer minidl (checkpoint format "
                           f"{meta.get('minidl.version')!r}, this minidl reads "
                           f"{FORMAT_VERSION!r})")
    try:
        tree = json.loads(meta["minidl.structure"])
    except ValueError:
        raise RuntimeError(f"corrupt minidl checkpoint {name}: its structure is not valid "
                           f"JSON") from None
    return _Decoder(arrays, mapper).decode(tree)
