"""The ``Tensor``: a NumPy array plus its autograd bookkeeping.

This module holds what is intrinsic to a tensor (data, dtype, grad, history, hooks,
conversion, printing, in-place semantics). Arithmetic and every other op is installed onto
the class by ``minidl.ops`` (layer 3), so that this layer never imports upward.
"""
import weakref

import numpy as np

from . import _tensor_str, backend
from .autograd import function as _function
from .autograd import node as _node
from .autograd.engine import backward as _backward
from .autograd.function import RemovableHandle, accumulate_node
from .autograd.grad_mode import is_grad_enabled, no_grad
from .backend import as_dtype

__all__ = ["Tensor", "Size", "is_tensor"]


class Size(tuple):
    """``torch.Size``: a tuple of dimension lengths."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"minidl.Size({list(self)})"

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            f"minidl.Size")
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


class Tensor:
    """An n-dimensional array that can record the ops applied to it for backpropagation."""

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_output_nr", "_vc", "_acc",
                 "_hooks", "_base", "__dict__", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, data=None, *sizes, requires_grad=False, _version_counter=None):
        if not isinstance(data, np.ndarray):
            data = _legacy_constructor(data, sizes)
        self._data = data
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._vc = _version_counter if _version_counter is not None else [0]
        self._acc = None
        self._hooks = None
        self._base = None  # the tensor this one is a view of (set by view kernels)

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self):
        return as_dtype(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def device(self):
        return backend.device("cpu")

    @property
    def is_cuda(self):
        return False

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._vc[0]

    def stride(self, dim=None):
        a = self._data
        if a.size == 0:  # NumPy gives empty arrays zero strides; torch the row-major ones
            st, n = [], 1
            for size in reversed(a.shape):
                st.insert(0, n)
                n *= max(size, 1)
            st = tuple(st)
        else:
            st = tuple(s // a.itemsize for s in a.strides)
        return st if dim is None else st[self._wrap_dim(dim)]

    def is_contiguous(self, memory_format=backend.contiguous_format):
        """Whether the elements lie densely in row-major order -- or, for ``channels_last``
        (4-D) / ``channels_last_3d`` (5-D), channels innermost (torch's test, which skips
        size-1 dimensions)."""
        order = {backend.channels_last: (1, 3, 2, 0), backend.channels_last_3d: (1, 4, 3, 2, 0)}
        if memory_format not in order:
            backend.layout_order("is_contiguous", memory_format)  # a format at all?
            return self._data.flags.c_contiguous
        dims = order[memory_format]
        if self._data.ndim != len(dims):
            return False
        expected = 1
        for d in dims:
            if self._data.shape[d] != 1:
                if self.stride(d) != expected:
                    return False
                expected *= self._data.shape[d]
        return True

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return False

    def data_ptr(self):
        return self._data.ctypes.data

    def _wrap_dim(self, dim):
        n = max(self._data.ndim, 1)
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {dim})")
        return dim % n

    # ------------------------------------------------------------ conversion
    @property
    def data(self):
        """The same memory, detached from the graph."""
        return Tensor(self._data, _version_counter=self._vc)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=backend.preserve_format):
        raise RuntimeError("minidl runs on the CPU only; there is no CUDA device")

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def _scalar(self, kind):
        if self._data.size != 1:
            raise RuntimeError(f"only one element tensors can be converted to Python scalars "
                               f"(this one has shape {tuple(self.shape)})")
        return kind(self._data.reshape(()).item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self._data.reshape(()).item())

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self._scalar(int)

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, proto):
        return (_rebuild, (self._data, self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol")
        new = type(self).__new__(type(self))
        Tensor.__init__(new, self._data.copy(), requires_grad=self.requires_grad)
        new.__dict__.update({k: v for k, v in self.__dict__.items()})
        if self.grad is not None:
            new.grad = Tensor(self.grad._data.copy())
        memo[id(self)] = new
        return new

    # -------------------------------------------------------------- autograd
    def _edge(self):
        """Where a gradient for this tensor enters the graph: (node, output index)."""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        return accumulate_node(self), 0

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf."""
        _backward(self, gradient, retain_graph, create_graph, inputs)

    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. Use "
                               "detach() to get a leaf that does not require grad")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(this one is {self.dtype})")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A new tensor on the same memory, cut from the graph."""
        return Tensor(self._data, _version_counter=self._vc)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn.__dict__.setdefault("_retained", {})[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        fn = self.grad_fn
        return fn is not None and self._output_nr in fn.__dict__.get("_retained", {})

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            pre_hooks = self.grad_fn.__dict__.setdefault("_pre_hooks", {})
            hooks = pre_hooks.setdefault(self._output_nr, [])
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # -------------------------------------------------------------- in-place
    def _inplace(self, fn, *args, **kwargs):
        """Run the out-of-place ``fn(self, ...)`` and write its result into this tensor.

        The result always lands in this tensor's memory, so views and the base see it, and
        the version counter goes up: a node that saved this memory earlier then refuses to
        run backward, as in torch. Inside the graph the tensor also takes the new node as
        its history; if that node saved this tensor's old values they are copied first.
        """
        recording = is_grad_enabled() and (self.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in args))
        if recording and self.is_leaf and self.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        if recording and self._base is not None:
            raise RuntimeError("an in-place operation on a view inside the autograd graph would "
                               "not update the history of the tensor it views (minidl does not "
                               "rebase views); apply it to the base tensor or clone() the view")
        if recording:
            result = fn(self, *args, **kwargs)
        else:
            with no_grad():
                result = fn(self, *args, **kwargs)
        r = result._data
        if r.dtype != self._data.dtype and not np.can_cast(r.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"result type {_SCALAR_NAMES[as_dtype(r.dtype).name]} can't be cast "
                               f"to the desired output type {_SCALAR_NAMES[self.dtype.name]}")
        if r.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(r.shape)}")
        node = result.grad_fn if recording else None
        if node is not None and any(a is self._data for a in node._saved):
            old = self._data.copy()
            node._saved = tuple(old if a is self._data else a for a in node._saved)
            if node.__dict__.get("_roles"):  # a recorded backward reads the old values, with
                before = Tensor(old)        # the history they had (not this node's output)
                before.requires_grad, before.grad_fn = self.requires_grad, self.grad_fn
                before._output_nr = self._output_nr
                node._roles = [("in", before) if r is not None and r[0] == "in" and r[1] is self
                               else r for r in node._roles]
        if r is not self._data:
            np.copyto(self._data, r, casting="unsafe")
        self._vc[0] += 1
        if recording:
            self.grad_fn, self._output_nr = node, result._output_nr
            self.requires_grad = result.requires_grad
            if node is not None and node._versions:
                # the node's saved arrays no longer alias this memory, except its output,
                # which now is this tensor's: guard that by this tensor's counter
                node._versions = [(self._vc, self._vc[0], what) if c is result._vc else (c, v, what)
                                  for c, v, what in node._versions if c is not self._vc]
        return self

    def _set_data_(self, array):
        """Write ``array`` into this tensor's memory outside the graph (init, optimizers)."""
        np.copyto(self._data, array, casting="unsafe")
        self._vc[0] += 1
        return self

    # --------------------------------------------------------------- printing
    def __repr__(self):
        a, default = self._data, backend.get_default_dtype().np
        extras = []
        if (a.size == 0 and a.ndim != 1) or (a.size and not _tensor_str.PRINT_OPTS.edgeitems):
            extras.append(f"size={tuple(a.shape)}")
        shown = (default,) if a.size == 0 else (default, np.dtype(np.int64), np.dtype(np.bool_))
        if a.dtype not in shown:
            extras.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return _tensor_str.tensor_str(a, len("tensor("), extras)

    def __format__(self, spec):
        """A 0-d tensor formats as its Python number (``f"{loss:.4f}"``), as in torch."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    __str__ = __repr__


_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                 "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}


def _rebuild(data, requires_grad):
    return Tensor(data, requires_grad=requires_grad)


def _legacy_constructor(data, sizes):
    """``Tensor()``, ``Tensor(2, 3)`` (uninitialised) and ``Tensor([..])`` (default float)."""
    dt = backend.get_default_dtype().np
    if data is None:
        return np.empty((0,), dt)
    if isinstance(data, int) and not isinstance(data, bool):
        return np.zeros((data,) + tuple(sizes), dt)
    if isinstance(data, Tensor):
        return data._data
    return np.array(data, dtype=dt)


def is_tensor(obj):
    return isinstance(obj, Tensor)


_function.Tensor = _node.Tensor = Tensor
_node.Size = Size
