"""A pickle interpreter that never runs code: it rebuilds only plain data.

The pickle never reaches ``pickle.Unpickler``: ``pickletools.genops`` only decodes the opcodes
and :class:`RestrictedUnpickler` interprets them itself. A GLOBAL (or STACK_GLOBAL) resolves
only through an allow-list, whose callables are minidl's own rebuilders (:class:`Call`);
REDUCE calls only those; BUILD reaches only an OrderedDict's attributes and fresh NumPy arrays
and dtypes, with validated states; APPEND / SETITEM / ADDITEMS reach only lists, dicts and
sets; the opcodes that create arbitrary objects (NEWOBJ, INST, OBJ, EXT*, out-of-band buffers)
are refused. A refusal raises :class:`UnsafePickleError` naming the global or opcode.
``BASE_GLOBALS`` holds what torch's ``weights_only=True`` allows beside torch's own types
(OrderedDict, Counter, set, complex, bytes / bytearray; torch/_weights_only_unpickler.py) and
NumPy's pickles of bool / integer / float / complex arrays, dtypes and scalars.
"""
import math
import pickle
import pickletools
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict

import numpy as np

__all__ = ["UnsafePickleError", "Call", "RestrictedUnpickler", "BASE_GLOBALS", "ints"]


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asks for a global or an operation that minidl refuses to run."""


class Call:
    """An allow-listed global that REDUCE may call: ``fn(*args)``."""

    def __init__(self, fn):
        self.fn = fn

    def __repr__(self):
        return f"Call({getattr(self.fn, '__name__', self.fn)})"


def ints(values, what, ndim=None):
    """``values`` as a tuple of non-negative ints (``ndim`` of them), else a ValueError."""
    values = tuple(values)
    if (not all(type(v) is int and v >= 0 for v in values)
            or (ndim is not None and len(values) != ndim)):
        raise ValueError(f"bad {what} {str(values)[:80]}")
    return values


def _plain(values):
    return all(v is None or type(v) in (int, str, bool) for v in values)


class RestrictedUnpickler:
    """Runs pickles against ``allowed`` ({'module.name': value or Call}); a persistent id is
    handed to ``persistent_load`` (refused when it is None)."""

    def __init__(self, allowed, persistent_load=None):
        self.allowed, self.persistent_load = allowed, persistent_load
        self.pos = 0  # the byte offset of the opcode being run, for error messages

    def find_global(self, module, name):
        if (module, name) in NAME_MAPPING:  # protocol 2 writes Python 2's names
            module, name = NAME_MAPPING[(module, name)]
        else:
            module = IMPORT_MAPPING.get(module, module)
        path = f"{module}.{name}"
        if path not in self.allowed:
            raise UnsafePickleError(f"refusing to load the global '{path}': it is not on "
                                    f"minidl's allow-list, and nothing in a checkpoint is run")
        return self.allowed[path]

    def build(self, inst, state):
        """BUILD: an OrderedDict's attributes (a state_dict's ``_metadata``) or NumPy's state."""
        if type(inst) is OrderedDict and type(state) is dict and all(
                type(k) is str and not hasattr(OrderedDict, k) for k in state):
            inst.__dict__.update(state)
        elif type(inst) is np.ndarray and type(state) is tuple and len(state) == 5:
            _, shape, dt, fortran, raw = state
            n = math.prod(ints(shape, "array shape")) * np_dtype(dt).itemsize
            if not (type(fortran) is bool and type(raw) in (bytes, bytearray) and len(raw) == n):
                raise ValueError(f"bad NumPy array state {str(state)[:80]}")
            inst.__setstate__(state)
        elif (isinstance(inst, np.dtype) and type(state) is tuple and len(state) == 8
              and _plain(state) and state[0] == 3 and state[1] in ("<", ">", "|", "=")
              and state[2:] == (None, None, None, -1, -1, 0)):
            inst.__setstate__(state)
        else:
            raise UnsafePickleError(f"refusing BUILD of a {type(inst).__name__} with state "
                                    f"{str(state)[:80]}")

    def load(self, f):
        """The next pickle of binary file object ``f`` (left just past its STOP)."""
        stack, marks, memo = [], [], {}

        def pop_mark():
            nonlocal stack
            items, stack = stack, marks.pop()
            return items

        for op, arg, self.pos in pickletools.genops(f):
            code = op.name
            if code in _ARG_OPS:
                stack.append(bytearray(arg) if code == "BYTEARRAY8" else arg)
            elif code in _CONSTANTS:
                stack.append(_CONSTANTS[code]())
            elif code in ("PROTO", "FRAME"):
                pass
            elif code == "MARK":
                marks.append(stack)
                stack = []
            elif code in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                memo[len(memo) if arg is None else arg] = stack[-1]
            elif code in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif code in _FROM_MARK:
                items = pop_mark()  # before reading ``stack``, which it rebinds
                stack.append(_FROM_MARK[code](items))
            elif code in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(code[-1])
                if len(stack) < n:
                    raise IndexError(f"{code} on a stack of {len(stack)}")
                stack[-n:] = [tuple(stack[-n:])]
            elif code in _FILL:
                items = ([stack.pop()] if code == "APPEND" else
                         [stack.pop(-2), stack.pop()] if code == "SETITEM" else pop_mark())
                kinds, fill = _FILL[code]
                if type(stack[-1]) not in kinds:
                    raise UnsafePickleError(f"refusing {code} on a {type(stack[-1]).__name__}")
                fill(stack[-1], items)
            elif code == "POP":
                stack.pop() if stack else pop_mark()
            elif code == "POP_MARK":
                pop_mark()
            elif code == "DUP":
                stack.append(stack[-1])
            elif code in ("GLOBAL", "STACK_GLOBAL"):
                module, name = (arg.split(" ", 1) if code == "GLOBAL"
                                else [stack.pop(-2), stack.pop()])
                if not (type(module) is str and type(name) is str):
                    raise ValueError("STACK_GLOBAL of non-strings")
                stack.append(self.find_global(module, name))
            elif code == "REDUCE":
                args, func = stack.pop(), stack[-1]
                if not isinstance(func, Call) or type(args) is not tuple:
                    raise UnsafePickleError(f"refusing REDUCE (a call) of {str(func)[:80]}")
                stack[-1] = func.fn(*args)
            elif code == "BUILD":
                state = stack.pop()
                self.build(stack[-1], state)
            elif code in ("PERSID", "BINPERSID") and self.persistent_load is not None:
                stack.append(self.persistent_load(arg if code == "PERSID" else stack.pop()))
            elif code == "STOP":
                return stack.pop()
            else:  # NEWOBJ, NEWOBJ_EX, INST, OBJ, EXT1/2/4, out-of-band buffers, ...
                what = f" of '{arg.replace(' ', '.')}'" if code == "INST" else ""
                raise UnsafePickleError(f"refusing the pickle opcode {code}{what}")
        raise EOFError("the pickle ends without STOP")


_ARG_OPS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT",
            "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE",
            "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
            "BYTEARRAY8"}
_CONSTANTS = {"NONE": lambda: None, "NEWTRUE": lambda: True, "NEWFALSE": lambda: False,
              "EMPTY_TUPLE": tuple, "EMPTY_LIST": list, "EMPTY_DICT": dict, "EMPTY_SET": set}
_FROM_MARK = {"TUPLE": tuple, "LIST": list, "FROZENSET": frozenset,
              "DICT": lambda items: dict(zip(items[::2], items[1::2]))}
_DICTS = (dict, OrderedDict, Counter)
_FILL = {"APPEND": ((list,), list.extend), "APPENDS": ((list,), list.extend),
         "SETITEM": (_DICTS, lambda d, items: d.update(zip(items[::2], items[1::2]))),
         "SETITEMS": (_DICTS, lambda d, items: d.update(zip(items[::2], items[1::2]))),
         "ADDITEMS": ((set,), set.update)}


# ------------------------------------------------------- the plain-data globals
def np_dtype(dt):
    """``dt`` if it is a plain NumPy bool / integer / float / complex dtype, else refused."""
    if not (isinstance(dt, np.dtype) and dt.kind in "biufc" and dt.fields is None
            and dt.subdtype is None):
        raise UnsafePickleError(f"refusing the NumPy dtype {str(dt)[:80]}: only bool, integer, "
                                f"float and complex NumPy arrays and scalars are loaded")
    return dt


def _mapping(cls):
    def make(items=()):
        if type(items) not in (list, tuple, dict):
            raise ValueError(f"{cls.__name__} of a {type(items).__name__}")
        return cls(items)
    return Call(make)


def _latin1(text, encoding="latin1"):
    """``_codecs.encode(text, 'latin1')``: how pickle protocol 2 writes bytes."""
    if not (type(text) is str and type(encoding) is str and encoding in ("latin1", "latin-1")):
        raise ValueError(f"_codecs.encode({str(text)[:40]!r}, {str(encoding)[:20]!r})")
    return text.encode("latin1")


def _bytearray(data=b"", *encoding):
    return bytearray(data if type(data) is bytes and not encoding else _latin1(data, *encoding))


def _complex(real=0.0, imag=0.0):
    if not all(type(x) in (int, float) for x in (real, imag)):
        raise ValueError(f"complex({str(real)[:40]}, {str(imag)[:40]})")
    return complex(real, imag)


def _np_reconstruct(cls, shape, typecode):
    """NumPy's ``_reconstruct``: an empty array that BUILD then fills."""
    if cls is not np.ndarray:
        raise UnsafePickleError(f"refusing NumPy _reconstruct of {str(cls)[:60]}")
    return np.empty((0,), np.uint8)


def _np_new_dtype(spec, align=False, copy=True):
    if not (type(spec) is str and type(align) is bool and type(copy) is bool):
        raise ValueError(f"numpy.dtype{str((spec, align, copy))[:80]}")
    return np_dtype(np.dtype(spec, align, True))  # a copy: BUILD may set its byte order


def _np_scalar(dt, raw):
    if type(raw) is not bytes or len(raw) != np_dtype(dt).itemsize:
        raise ValueError(f"bad NumPy {dt} scalar data")
    return np.frombuffer(raw, dt)[0]


def _np_frombuffer(raw, dt, shape, order):
    """NumPy's ``_frombuffer`` (pickle protocol 5)."""
    shape = ints(shape, "array shape")
    if not (type(raw) in (bytes, bytearray) and type(order) is str and order in ("C", "F")
            and len(raw) == math.prod(shape) * np_dtype(dt).itemsize):
        raise ValueError("bad NumPy array data")
    return np.frombuffer(raw, dt).reshape(shape, order=order).copy(order="K")


BASE_GLOBALS = {
    "collections.OrderedDict": _mapping(OrderedDict), "collections.Counter": _mapping(Counter),
    "builtins.set": _mapping(set), "builtins.complex": Call(_complex),
    "builtins.bytearray": Call(_bytearray), "_codecs.encode": Call(_latin1),
    "builtins.bytes": Call(lambda: b""),  # protocol 2 writes b"" as bytes()
    "numpy.ndarray": np.ndarray, "numpy.dtype": Call(_np_new_dtype),
    **{f"{m}.multiarray.{n}": Call(f) for m in ("numpy.core", "numpy._core")
       for n, f in (("_reconstruct", _np_reconstruct), ("scalar", _np_scalar))},
    **{f"{m}.numeric._frombuffer": Call(_np_frombuffer) for m in ("numpy.core", "numpy._core")},
    **{f"{type(d).__module__}.{type(d).__name__}": type(d)
       for d in map(np.dtype, "?bBhHiIlLqQefdFD")},
}
