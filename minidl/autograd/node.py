"""The backward graph's vertices: ``Node``, the ``BackwardNode`` a recorded call leaves (its
saved arrays, edges, hooks and the array / recorded backward passes), ``AccumulateGrad``
(the sink of a leaf) and the hooks' ``RemovableHandle``. ``function.Function.apply`` creates
them; ``engine`` runs them.
"""
import weakref

import numpy as np

from ..backend import as_dtype
from .grad_mode import no_grad

__all__ = ["Node", "BackwardNode", "AccumulateGrad", "RemovableHandle", "accumulate_node"]

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


def accumulate_node(tensor):
    """The (cached, weakly held) AccumulateGrad sink of a leaf tensor."""
    ref = tensor._acc
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._acc = weakref.ref(node)
    return node
