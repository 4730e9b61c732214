"""Reading the files ``torch.save`` writes, without running anything they contain.

Two layouts (torch/serialization.py). The zip archive (torch >= 1.6): ``<archive>/data.pkl``
(the pickled object), ``<archive>/data/<key>`` (each storage's raw bytes),
``<archive>/byteorder`` (``little`` when absent) and ``<archive>/version``. The legacy stream
(``_use_new_zipfile_serialization=False``): pickles of the magic number 0x1950a86a20f9469cfc6c,
the protocol version 1001, a sys-info dict, the object and the list of storage keys, then per
key an int64 element count and the storage's little-endian bytes. The object's pickle names
each storage by a persistent id ``('storage', torch.<X>Storage, key, location, numel[, view])``.

The pickles run on minidl's restricted interpreter (``_restricted_pickle``), never on
``pickle``: beside its plain data (containers, numbers, strings, bytes, NumPy arrays) it
rebuilds only what torch's ``weights_only=True`` rebuilds of torch's own -- tensors
(``torch._utils._rebuild_tensor{,_v2,_v3}``), Parameters, storages, dtypes, ``torch.Size`` and
``torch.device`` -- into minidl's. Tensors on one storage view one NumPy buffer, so they keep
sharing memory. A refused global or opcode raises ``UnsafePickleError`` (a
``pickle.UnpicklingError``) naming it; a tensor of a dtype minidl lacks (bfloat16, complex,
...) raises TypeError naming its place in the object; a damaged file raises RuntimeError.
"""
import io
import struct
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from ._restricted_pickle import BASE_GLOBALS, Call, RestrictedUnpickler, UnsafePickleError, ints
from .backend import as_dtype
from .backend import device as _device
from .nn.parameter import Parameter
from .tensor import Size, Tensor

__all__ = ["UnsafePickleError", "is_torch_file", "load_torch"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_MAGIC_LONG1 = b"\x8a\x0a" + MAGIC_NUMBER.to_bytes(10, "little")  # LONG1 opcode, protocol >= 2
_WHAT = "minidl loads only tensors, storages, NumPy arrays, containers and numbers"
_DTYPES = {n: as_dtype(n) for n in ("float16", "float32", "float64", "int8", "int16", "int32",
                                    "int64", "uint8", "bool")}
_OTHER_DTYPES = ("bfloat16", "complex32", "complex64", "complex128", "uint16", "uint32",
                 "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
                 "float8_e8m0fnu", "qint8", "quint8", "qint32", "quint4x2", "quint2x4")
# torch's storage classes -> (element dtype, bytes per element) (torch/storage.py)
_STORAGES = {
    "DoubleStorage": ("float64", 8), "FloatStorage": ("float32", 4), "HalfStorage": ("float16", 2),
    "LongStorage": ("int64", 8), "IntStorage": ("int32", 4), "ShortStorage": ("int16", 2),
    "CharStorage": ("int8", 1), "ByteStorage": ("uint8", 1), "BoolStorage": ("bool", 1),
    "UntypedStorage": ("uint8", 1), "BFloat16Storage": ("bfloat16", 2),
    "ComplexFloatStorage": ("complex64", 8), "ComplexDoubleStorage": ("complex128", 16),
    "QUInt8Storage": ("quint8", 1), "QInt8Storage": ("qint8", 1), "QInt32Storage": ("qint32", 4),
    "QUInt4x2Storage": ("quint4x2", 1), "QUInt2x4Storage": ("quint2x4", 1)}


class _Unsupported:
    """Stands in for a tensor or dtype minidl has no dtype for; ``load_torch`` refuses the file
    naming where it sits."""

    def __init__(self, what, dtype):
        self.what, self.dtype = what, dtype


class _StorageType:
    def __init__(self, name):
        self.dtype, self.itemsize = _STORAGES[name]


class _Storage:
    """A storage: ``raw`` (a writable uint8 array that every tensor on it views), its element
    dtype and its saved location."""

    def __init__(self, raw, dtype, location):
        self.raw, self.dtype, self.location = raw, dtype, location


def _empty(x):
    return x is None or (type(x) in (dict, OrderedDict) and not x)


def _no_state(state, what):
    if not (_empty(state) or (type(state) is tuple and len(state) == 2
                              and all(map(_empty, state)))):
        raise RuntimeError(f"{what} carries Python attributes {str(state)[:80]}, which minidl "
                           f"does not load")


def _no_extras(hooks, metadata=None):
    if not _empty(hooks):
        raise RuntimeError(f"a tensor carries backward hooks {str(hooks)[:80]}, which minidl "
                           f"does not load")
    if not _empty(metadata):
        raise RuntimeError(f"a tensor carries metadata {str(metadata)[:80]} (conjugate / "
                           f"negative bits), which minidl does not load")


def _size(dims):
    return Size(ints(dims, "torch.Size"))


def _device_of(kind, index=None):
    if not (type(kind) is str and (index is None or type(index) is int)):
        raise ValueError(f"torch.device({str(kind)[:40]}, {str(index)[:40]})")
    return _device(kind, index)


_TORCH_GLOBALS = {
    **BASE_GLOBALS,
    **{f"torch.{n}": d for n, d in _DTYPES.items()},
    **{f"torch.{n}": _Unsupported(f"the dtype torch.{n}", n) for n in _OTHER_DTYPES},
    **{f"torch.{n}": _StorageType(n) for n in _STORAGES},
    "torch.storage.UntypedStorage": _StorageType("UntypedStorage"),
    "torch.Tensor": Tensor, "torch.nn.parameter.Parameter": Parameter,
    "torch.Size": Call(_size), "torch.device": Call(_device_of),
}


class _TorchUnpickler(RestrictedUnpickler):
    """The restricted interpreter plus torch's tensors and storages; ``read_storage(key,
    nbytes, dtype)`` gives a storage's bytes, ``mapper(tensor, location)`` places a tensor."""

    def __init__(self, mapper, read_storage):
        rebuild = {"_rebuild_tensor": self.tensor, "_rebuild_tensor_v2": self.tensor,
                   "_rebuild_tensor_v3": self.tensor_v3, "_rebuild_parameter": self.parameter,
                   "_rebuild_parameter_with_state": self.parameter}
        super().__init__({**_TORCH_GLOBALS,
                          **{f"torch._utils.{n}": Call(f) for n, f in rebuild.items()},
                          "torch._tensor._rebuild_from_type_v2": Call(self.from_type)},
                         self.storage)
        self.mapper, self.read_storage = mapper, read_storage
        self.storages = {}  # key -> _Storage or _Unsupported

    def find_global(self, module, name):
        try:
            return super().find_global(module, name)
        except UnsafePickleError as e:
            if module.startswith(("torch.nn.", "torch.optim.")):
                raise UnsafePickleError(f"{e} (the file holds a whole torch Module or "
                                        f"Optimizer: save its state_dict() instead)") from None
            raise

    # ------------------------------------------------------------ rebuilders
    def tensor(self, storage, offset, size, stride, requires_grad=False, hooks=None,
               metadata=None, dtype=None):
        """torch._utils._rebuild_tensor{,_v2,_v3}: a view of ``storage`` (shares its memory)."""
        _no_extras(hooks, metadata)
        if isinstance(dtype, _Unsupported) or isinstance(storage, _Unsupported):
            unsupported = dtype if isinstance(dtype, _Unsupported) else storage
            return _Unsupported(f"a {unsupported.dtype} tensor", unsupported.dtype)
        if not isinstance(storage, _Storage):
            raise ValueError(f"a tensor's storage is a {type(storage).__name__}")
        dt = storage.dtype if dtype is None else dtype.np
        size = ints(size, "size")
        stride, offset = ints(stride, "stride", len(size)), ints([offset], "storage offset")[0]
        typed = storage.raw.view(dt)
        if 0 in size:
            array = np.empty(size, dt)
        else:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= typed.size:
                raise ValueError(f"a tensor of size {size}, stride {stride} and offset {offset} "
                                 f"reaches past its storage of {typed.size} elements")
            array = np.lib.stride_tricks.as_strided(
                typed[offset:], size, [s * dt.itemsize for s in stride])
        if type(requires_grad) is not bool or (requires_grad and dt.kind != "f"):
            raise ValueError(f"a {dt} tensor with requires_grad={str(requires_grad)[:20]}")
        return self.mapper(Tensor(array, requires_grad=bool(requires_grad)), storage.location)

    def tensor_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype,
                  metadata=None):
        if not (isinstance(dtype, _Unsupported) or any(dtype is d for d in _DTYPES.values())):
            raise ValueError(f"a tensor's dtype is {dtype!r}")
        return self.tensor(storage, offset, size, stride, requires_grad, hooks, metadata, dtype)

    def parameter(self, data, requires_grad, hooks, state=None):
        """torch._utils._rebuild_parameter{,_with_state}: a Parameter sharing ``data``."""
        _no_extras(hooks)
        _no_state(state, "a Parameter")
        if isinstance(data, _Unsupported):
            return data
        if not isinstance(data, Tensor) or type(requires_grad) is not bool:
            raise ValueError(f"a Parameter of a {type(data).__name__}")
        return Parameter(data, requires_grad)

    def from_type(self, func, new_type, args, state):
        """torch._tensor._rebuild_from_type_v2: a Tensor or Parameter without attributes."""
        _no_state(state, "a tensor")
        if not (isinstance(func, Call) and func.fn in (self.tensor, self.tensor_v3)
                and (new_type is Tensor or new_type is Parameter) and type(args) is tuple):
            raise UnsafePickleError(f"refusing _rebuild_from_type_v2 of {str(new_type)[:60]}")
        t = func.fn(*args)
        if new_type is Parameter and type(t) is Tensor:
            t = Parameter(t, t.requires_grad)
        return t

    def storage(self, pid):
        """The storage a persistent id names (torch/serialization.py ``persistent_load``)."""
        if not (type(pid) is tuple and len(pid) in (5, 6) and type(pid[0]) is str
                and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[3], str)):
            raise UnsafePickleError(f"refusing the persistent id {str(pid)[:80]}: only storages")
        stype, key, location, numel = pid[1:5]
        (numel,) = ints([numel], "storage size")
        if key not in self.storages:
            if stype.dtype in _DTYPES:
                dt = as_dtype(stype.dtype).np
                self.storages[key] = _Storage(self.read_storage(key, numel * stype.itemsize, dt),
                                              dt, location)
            else:
                self.storages[key] = _Unsupported(f"a {stype.dtype} storage (key {key!r})",
                                                  stype.dtype)
        storage = self.storages[key]
        view = pid[5] if len(pid) == 6 else None
        if view is None or isinstance(storage, _Unsupported):
            return storage
        view_key, start, count = view  # legacy storage views: a slice of the root storage
        start, count = ints([start, count], "storage view")
        if view_key not in self.storages:
            n = stype.itemsize
            self.storages[view_key] = _Storage(storage.raw[start * n:(start + count) * n],
                                               storage.dtype, location)
        return self.storages[view_key]


# ---------------------------------------------------------------------- files
_CORRUPT = (IndexError, KeyError, TypeError, ValueError, AttributeError, EOFError, OverflowError,
            MemoryError, struct.error, UnicodeDecodeError, zipfile.BadZipFile, zlib.error)


def is_torch_file(data):
    """Whether ``data`` starts like a torch.save zip archive or legacy pickle stream."""
    return data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and _MAGIC_LONG1 in data[:32])


def load_torch(data, name, mapper):
    """The object in torch.save file ``data`` (its name ``name`` for errors); ``mapper(tensor,
    location)`` places each tensor (serialization._location_mapper)."""
    try:
        obj = (_load_zip if data[:4] == b"PK\x03\x04" else _load_legacy)(data, mapper)
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{name}: {e}; {_WHAT}") from None
    except _CORRUPT as e:
        raise RuntimeError(f"{name} is a corrupt torch checkpoint ({type(e).__name__}: {e})"
                           ) from None
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}") from None
    _refuse_unsupported(obj, name)
    return obj


def _load_zip(data, mapper):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except zipfile.BadZipFile as e:
        raise RuntimeError(f"a damaged zip archive ({e}): a torch.save checkpoint cut short or "
                           f"corrupted") from None
    prefix = names[0].split("/")[0] if names and "/" in names[0] else ""
    if f"{prefix}/constants.pkl" in names:
        raise RuntimeError("a TorchScript archive (torch.jit.save), which holds code; "
                           "minidl.load reads torch.save checkpoints")
    if f"{prefix}/data.pkl" not in names or f"{prefix}/version" not in names:
        raise RuntimeError("a zip archive but not a torch.save checkpoint (no "
                           "<archive>/data.pkl and <archive>/version records; a NumPy .npz?)")
    order = (archive.read(f"{prefix}/byteorder") if f"{prefix}/byteorder" in names
             else b"little")
    if order not in (b"little", b"big"):
        raise RuntimeError(f"unknown byteorder record {order[:20]!r}")

    def read_storage(key, nbytes, dt):
        record = archive.getinfo(f"{prefix}/data/{key}")
        if record.file_size != nbytes:  # checked before reading: no zip bomb inflates here
            raise ValueError(f"storage {key!r} holds {record.file_size} bytes where its "
                             f"tensors need {nbytes}")
        raw = np.frombuffer(archive.read(record), np.uint8).copy()
        if order == b"big" and dt.itemsize > 1:
            raw.view(dt).byteswap(inplace=True)
        return raw

    pickled = io.BytesIO(archive.read(f"{prefix}/data.pkl"))
    return _TorchUnpickler(mapper, read_storage).load(pickled)


def _load_legacy(data, mapper):
    """The legacy stream; storages are allocated while unpickling and filled after it."""
    claimed = 0

    def allocate(key, nbytes, dt):
        nonlocal claimed
        claimed += nbytes
        if claimed > len(data):
            raise ValueError(f"storage {key!r} and those before claim {claimed} bytes, more "
                             f"than the file holds")
        return np.zeros(nbytes, np.uint8)

    f = io.BytesIO(data)
    unpickler = _TorchUnpickler(mapper, allocate)
    magic = unpickler.load(f)
    if type(magic) is not int or magic != MAGIC_NUMBER:
        raise RuntimeError("invalid magic number; corrupt file?")
    version = unpickler.load(f)
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise RuntimeError(f"invalid torch protocol version {str(version)[:20]}")
    if type(unpickler.load(f)) is not dict:
        raise ValueError("the sys-info record is not a dict")
    obj = unpickler.load(f)
    for key in unpickler.load(f):
        storage = unpickler.storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        nbytes = count * _itemsize(storage)
        chunk = f.read(nbytes)
        if len(chunk) != nbytes or (isinstance(storage, _Storage) and nbytes != storage.raw.size):
            raise ValueError(f"storage {key!r}: {len(chunk)} bytes where {nbytes} are due")
        if isinstance(storage, _Storage):
            storage.raw[:] = np.frombuffer(chunk, np.uint8)
    return obj


def _itemsize(storage):
    if isinstance(storage, _Storage):
        return storage.dtype.itemsize
    return next(size for dt, size in _STORAGES.values() if dt == storage.dtype)


def _refuse_unsupported(obj, name):
    """Refuse ``obj`` if it holds a tensor or dtype minidl has no dtype for, naming where."""
    todo, seen = [(obj, "obj")], set()
    while todo:
        x, where = todo.pop()
        if isinstance(x, _Unsupported):
            raise TypeError(f"{name}: {where} is {x.what}, and minidl has no {x.dtype} dtype; "
                            f"it loads {', '.join(_DTYPES)} tensors")
        if id(x) in seen or not isinstance(x, (dict, list, tuple, set, frozenset)):
            continue
        seen.add(id(x))
        if isinstance(x, dict):
            todo += [(v, f"{where}[{k!r}]") for k, v in x.items()]
            todo += [(k, f"{where} (a key)") for k in x]
        else:
            todo += [(v, f"{where}[{i}]") for i, v in enumerate(x)]
