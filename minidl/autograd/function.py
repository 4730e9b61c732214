"""Differentiable functions and the graph nodes they leave behind.

``Function.apply`` runs ``forward`` and, when grad mode is on and an input requires grad,
records a node (the ``ctx``) whose ``backward`` maps output gradients to input gradients.

Two flavours share one engine:

* ``Kernel`` -- minidl's own ops. ``forward(ctx, *arrays, **attrs)`` and
  ``backward(ctx, *grads)`` see raw NumPy arrays only; Tensors never enter them.
* ``Function`` -- the public, torch-compatible base for user-defined ops: ``forward`` and
  ``backward`` receive and return Tensors, exactly as in ``torch.autograd.Function``.

Higher-order gradients (``create_graph=True``) use one mechanism for every kernel: the
kernel's own ``backward`` runs again, on Tensors instead of arrays. Its gradient arguments
and its saved inputs/outputs arrive as ``ops._traced.Traced`` values -- NumPy-compatible
wrappers whose every operation (operators, ufuncs, ``np.sum``, ``np.where``...) dispatches
to the differentiable minidl op -- so the one backward written next to the forward is both
the fast array path and, traced, a graph that can be differentiated again. Saved inputs come
back connected to the graph (torch's SavedVariable), saved outputs as outputs of this node.
A fused kernel whose backward reads intermediates of its forward (a normalised x, a column
matrix) defines ``reference(*args, **kwargs)`` instead: the same function composed of
simpler minidl ops, re-run on the saved inputs and differentiated with ``create_graph``.
Anything that would silently turn a traced value into a constant array raises instead.
"""
import weakref

import numpy as np

from ..backend import as_dtype
from .grad_mode import is_grad_enabled, no_grad

__all__ = ["Function", "Kernel", "Node", "AccumulateGrad", "RemovableHandle"]

# Set by minidl.tensor (layer 2) and minidl.ops (the traced NumPy wrappers) so that this
# layer never imports upward.
Tensor = Size = None
traced = None

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A vertex of the backward graph: gradients flow in per output, out per edge."""

    next_edges = ()
    n_outputs = 1

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple(self.next_edges)

    def register_hook(self, hook):
        hooks = self.__dict__.setdefault("_node_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """Sink for a leaf tensor: adds the incoming gradient into ``tensor.grad``."""

    def __init__(self, tensor):
        self.variable = tensor

    def run(self, grads, accumulate=True):
        g = grads[0]
        t = self.variable
        if g is None:
            return ()
        if t._hooks:
            g = _apply_tensor_hooks(t._hooks, g)
        if accumulate:
            if g.shape != t.shape:
                raise RuntimeError(f"gradient of shape {g.shape} does not match the leaf "
                                   f"tensor of shape {t.shape}")
            if t.grad is None:
                t.grad = Tensor(np.array(g, dtype=t._data.dtype, copy=True))
            else:
                t.grad._data = t.grad._data + g
        return ()

    def run_graph(self, grads):
        """Accumulate a recorded (differentiable) gradient Tensor into ``.grad``."""
        g = grads[0]
        t = self.variable
        if g is None:
            return ()
        g = _apply_tensor_hooks(t._hooks, g, recorded=True)
        if g.shape != t.shape:
            raise RuntimeError(f"gradient of shape {g.shape} does not match the leaf tensor of "
                               f"shape {t.shape}")
        t.grad = g if t.grad is None else t.grad + g
        return ()


def _apply_tensor_hooks(hooks, g, recorded=False):
    """Run tensor hooks on gradient ``g``: an array (wrapped for the hook), or a recorded
    Tensor that the hooks see and may replace as it is."""
    for hook in list(hooks or ()):
        out = hook(g if recorded else Tensor(g))
        if out is not None:
            g = out if recorded else out._data
    return g


class BackwardNode(Node):
    """The ``ctx`` of one recorded call: saved arrays, edges, output metadata, hooks."""

    _freed = False
    _saved = ()
    _versions = ()
    _materialize = True

    def save_for_backward(self, *items):
        self._saved = items

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._fn._arrays:
            return self._saved
        return tuple(x if x is None or isinstance(x, Tensor) else Tensor(x) for x in self._saved)

    saved_arrays = saved_tensors

    def mark_non_differentiable(self, *outputs):
        self.__dict__.setdefault("_non_diff", set()).update(id(o) for o in outputs)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    def name(self):
        return self._fn.__name__ + "Backward0"

    def _check_versions(self):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        for counter, version, (kind, i) in self._versions:
            if counter[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {kind} {i} of {self.name()} is at version "
                    f"{counter[0]}; expected version {version} instead. Hint: clone the tensor "
                    f"before modifying it in place.")

    def _incoming(self, grads, recorded):
        """The gradients arriving at this node after its pre-hooks, with retained ``.grad``
        filled and missing ones materialised as zeros; None when none arrived. ``recorded``:
        they are Tensors of a create_graph backward, else arrays."""
        self._check_versions()
        hooks = self.__dict__.get("_pre_hooks")
        retained = self.__dict__.get("_retained")
        if hooks or retained:
            grads = list(grads)
            for i, g in enumerate(grads):
                if g is None:
                    continue
                if hooks and hooks.get(i):
                    grads[i] = g = _apply_tensor_hooks(hooks[i], g, recorded)
                t = retained[i]() if retained and i in retained else None
                if t is not None:
                    if recorded:
                        t.grad = g if t.grad is None else t.grad + g
                    else:
                        t.grad = Tensor(g.copy()) if t.grad is None else Tensor(t.grad._data + g)
        missing = 0
        for g in grads:
            if g is None:
                missing += 1
        if missing == len(grads):
            return None
        if missing and self._materialize:
            grads = [(Tensor(np.zeros(shape, dtype)) if recorded else np.zeros(shape, dtype))
                     if g is None else g for g, (shape, dtype) in zip(grads, self._out_meta)]
        return grads

    def run(self, grads, accumulate=True):
        """The array path: NumPy gradients in, NumPy gradients out, nothing recorded."""
        grads = self._incoming(grads, recorded=False)
        if grads is None:
            return [None] * len(self.next_edges)
        fn = self._fn
        if fn._arrays:
            result = fn.backward(self, *grads)
        else:
            with no_grad():
                result = fn.backward(self, *[None if g is None else Tensor(g) for g in grads])
        out = self._check_result(result, recorded=False)
        for hook in self.__dict__.get("_node_hooks", ()):
            hook(out, grads)
        return out

    def run_graph(self, grads):
        """The recorded path (``create_graph``): Tensor gradients in, differentiable Tensor
        gradients out, with grad mode on so that every op of the backward is recorded."""
        grads = self._incoming(grads, recorded=True)
        if grads is None:
            return [None] * len(self.next_edges)
        fn = self._fn
        if not fn._arrays:
            result = fn.backward(self, *grads)
        elif hasattr(fn, "reference"):
            result = traced.reference_grads(self, grads)
        else:
            result = traced.run_backward(self, grads)
        out = self._check_result(result, recorded=True)
        for hook in self.__dict__.get("_node_hooks", ()):
            hook(out, grads)
        return out

    def _check_result(self, result, recorded):
        """One gradient per edge from what backward returned: arrays (Tensors if
        ``recorded``) of the inputs' shapes, cast to their dtypes."""
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) < len(self._input_slots):
            raise RuntimeError(f"function {self.name()} returned {len(result)} gradients, "
                               f"but forward took {len(self._input_slots)} inputs")
        out = [None] * len(self.next_edges)
        for edge_i, arg_i in enumerate(self._input_slots):
            g = result[arg_i]
            if g is not None:
                if recorded:
                    g = g if isinstance(g, Tensor) else Tensor(np.asarray(g))
                elif type(g) is not np.ndarray:
                    g = g._data if isinstance(g, Tensor) else np.asarray(g)
                shape, dtype = self._in_meta[edge_i]
                if g.shape != shape:
                    raise RuntimeError(f"function {self.name()} returned a gradient of shape "
                                       f"{tuple(g.shape)} for an input of shape {Size(shape)}")
                if recorded and g._data.dtype != dtype:
                    g = g.to(as_dtype(dtype))
                elif not recorded and g.dtype != dtype:
                    g = g.astype(dtype)
            out[edge_i] = g
        return out

    @property
    def _saved_values(self):
        """The saved items for a recorded backward: inputs and outputs connected to the graph
        (an output as output ``k`` of this node), constant arguments as constant Tensors,
        anything else as it was saved."""
        roles = self.__dict__.get("_roles", ())
        values = []
        for item, role in zip(self._saved, roles or [None] * len(self._saved)):
            if role is None:
                values.append(item)
            elif role[0] == "in":
                values.append(role[1])
            elif role[0] == "const":
                values.append(Tensor(item))
            else:
                out = Tensor(item)
                out.requires_grad = True
                out.grad_fn = self
                out._output_nr = role[1]
                values.append(out)
        return values

    def release(self):
        """Free what backward no longer needs (after a backward without retain_graph)."""
        d = self.__dict__
        arrays = [k for k, v in d.items() if isinstance(v, np.ndarray)]
        if self._saved or arrays:
            self._freed = True
        self._saved = ()
        d.pop("_roles", None)
        d.pop("_ref_args", None)
        for k in arrays:
            del d[k]


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardNode,), {"_fn": cls})
        cls._has_reference = cls._arrays and hasattr(cls, "reference")


class Function(metaclass=_FunctionMeta):
    """Base for user-defined differentiable ops (``torch.autograd.Function``).

    Subclass with ``@staticmethod forward(ctx, *args)`` and ``@staticmethod backward(ctx,
    *grad_outputs)``, call with ``MyFn.apply(*args)``. ``backward`` returns one gradient
    per ``forward`` argument (``None`` for non-tensors or inputs that need none).
    """

    _arrays = False   # forward/backward see Tensors
    _view = False     # outputs share the version counter of the first input (views)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")

    @classmethod
    def apply(cls, *args, **kwargs):
        T = Tensor
        if is_grad_enabled():
            for a in args:
                if isinstance(a, T) and a.requires_grad:
                    return cls._apply_recorded(args, kwargs)
        # nothing to record: a fresh ctx serves forward only and is dropped with it
        ctx = cls._backward_cls()
        ctx.needs_input_grad = (False,) * len(args)
        out = _forward(cls, ctx, args, kwargs)
        if type(out) is np.ndarray and not cls._view:
            return T(out)
        single = not isinstance(out, tuple)
        results = _wrap_outputs(cls, args, (out,) if single else out)[1]
        return results[0] if single else tuple(results)

    @classmethod
    def _apply_recorded(cls, args, kwargs):
        """``apply`` when an input requires grad: the outputs get this call's node."""
        T = Tensor
        ctx = cls._backward_cls()
        needs, edges, slots, in_meta = [], [], [], []
        for i, a in enumerate(args):
            need = isinstance(a, T) and a.requires_grad
            needs.append(need)
            if need:  # the input's edge: Tensor._edge, inlined
                node = a.grad_fn
                edges.append((node, a._output_nr) if node is not None else (accumulate_node(a), 0))
                slots.append(i)
                in_meta.append((a._data.shape, a._data.dtype))
        ctx.needs_input_grad = tuple(needs)
        out = _forward(cls, ctx, args, kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        arrays, results = _wrap_outputs(cls, args, outs)
        ctx.next_edges, ctx._input_slots, ctx._in_meta = edges, slots, in_meta
        ctx.n_outputs, ctx._out_meta = len(results), [(a.shape, a.dtype) for a in arrays]
        if ctx._saved:
            _record_versions(ctx, args, results, outs)
        if cls._has_reference:
            ctx._ref_args = (args, kwargs)
        non_diff = ctx.__dict__.get("_non_diff", ())
        for i, (r, o) in enumerate(zip(results, outs)):
            if r._data.dtype.kind == "f" and id(o) not in non_diff:
                r.requires_grad = True
                r.grad_fn = ctx
                r._output_nr = i
        return results[0] if single else tuple(results)


def _forward(cls, ctx, args, kwargs):
    """Run ``cls.forward``: on the inputs' arrays (a Kernel), or on the Tensors under no_grad."""
    if cls._arrays:
        arrays = []
        for a in args:
            arrays.append(a._data if isinstance(a, Tensor) else a)
        return cls.forward(ctx, *arrays, **kwargs)
    with no_grad():
        return cls.forward(ctx, *args, **kwargs)


def _wrap_outputs(cls, args, outs):
    """The raw outputs as arrays, and as new Tensors (a view's share the version counter and
    the base of its input)."""
    T = Tensor
    if len(outs) == 1 and type(outs[0]) is np.ndarray and not cls._view:
        return outs, [T(outs[0])]
    arrays = [o if type(o) is np.ndarray else o._data if isinstance(o, T) else np.asarray(o)
              for o in outs]
    if cls._view and isinstance(args[0], T):
        src = args[0]
        base = src._base if src._base is not None else src
        results = [T(a, _version_counter=src._vc) for a in arrays]
        for r in results:
            r._base = base
    else:
        results = [T(a) for a in arrays]
    return arrays, results


def _record_versions(ctx, args, results, raw_outs):
    """Remember the versions of inputs/outputs whose memory backward will read, and which
    saved item is which input or output (a recorded backward unpacks them connected)."""
    saved = ctx._saved
    ids = set(map(id, saved))
    ids.discard(id(None))
    versions, roles = [], {}
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            if id(a._data) in ids or id(a) in ids:
                versions.append((a._vc, a._vc[0], ("input", i)))
                roles[id(a._data)] = ("in", a)
        elif isinstance(a, np.ndarray) and id(a) in ids and a.dtype.kind in "fc":
            # a float array passed to apply as it is (a scalar operand's 0-d array) is a
            # constant argument, not a value the forward computed (an input's role wins)
            roles.setdefault(id(a), ("const",))
    for i in range(len(results)):
        r, o = results[i], raw_outs[i]
        if id(r._data) in ids or id(o) in ids:
            versions.append((r._vc, r._vc[0], ("output", i)))
            roles[id(r._data)] = roles[id(o)] = ("out", i)
    ctx._versions = versions
    if roles and ctx._fn._arrays:
        ctx._roles = list(map(roles.get, map(id, saved)))  # None where no role


class Kernel(Function):
    """Base for minidl's ops: ``forward``/``backward`` take and return NumPy arrays."""

    _arrays = True


class Identity(Kernel):
    """y = x; dy/dx = 1 -- where a ``reference`` re-run meets the recorded graph."""

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g


def accumulate_node(tensor):
    """The (cached, weakly held) AccumulateGrad sink of a leaf tensor."""
    ref = tensor._acc
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._acc = weakref.ref(node)
    return node
