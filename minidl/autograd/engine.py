"""The backward graph walk: iterative topological order (Kahn), no recursion.

Gradients are summed per (node, output) until every consumer of that node has run; then
the node's backward runs once. A chain of any length backpropagates without touching
Python's recursion limit.
"""
import numpy as np

from . import function as _fn
from .grad_mode import no_grad

__all__ = ["backward", "grad"]


def _as_roots(tensors, grad_tensors, fn_name):
    T = _fn.Tensor
    if isinstance(tensors, T):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, T):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{fn_name}: got {len(tensors)} tensors and {len(grad_tensors)} "
                           "gradients")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                                   f"(got an output of shape {tuple(t.shape)})")
            g = np.ones(t.shape, t._data.dtype)
        else:
            g = g._data if isinstance(g, T) else np.asarray(g)
            if g.shape != t.shape:
                raise RuntimeError(f"{fn_name}: gradient of shape {tuple(g.shape)} does not match "
                                   f"the output of shape {tuple(t.shape)}")
            g = g.astype(t._data.dtype, copy=False)
        node, idx = t._edge()
        roots.append((node, idx, g))
    return roots


def _run(roots, retain_graph, capture=None):
    """Walk the graph from ``roots``; fill ``capture[(node, idx)]`` instead of leaf .grad."""
    deps = {}
    stack = list(dict.fromkeys(n for n, _, _ in roots))  # a node may be the root of several outputs
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child, _ in node.next_edges:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    buffers = {}
    for node, idx, g in roots:
        buf = buffers.setdefault(node, [None] * node.n_outputs)
        buf[idx] = g if buf[idx] is None else buf[idx] + g
    ready = [n for n in buffers if deps.get(n, 0) == 0]
    accumulate = capture is None
    with no_grad():
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node.n_outputs
            if capture is not None:
                for i, g in enumerate(grads):
                    if (node, i) in capture and g is not None:
                        capture[(node, i)] = g
            if isinstance(node, _fn.AccumulateGrad):
                node.run(grads, accumulate)
                continue
            in_grads = node.run(grads)
            if not retain_graph:
                node.release()
            for (child, idx), g in zip(node.next_edges, in_grads):
                if child is None:
                    continue
                if g is not None:
                    buf = buffers.setdefault(child, [None] * child.n_outputs)
                    buf[idx] = g if buf[idx] is None else buf[idx] + g
                deps[child] -= 1
                if deps[child] == 0:
                    ready.append(child)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (``torch.autograd.backward``)."""
    if create_graph:
        raise NotImplementedError("minidl's backward passes are not themselves differentiable: "
                                  "create_graph=True (higher-order gradients) is not supported")
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported; use minidl.autograd.grad")
    _run(_as_roots(tensors, grad_tensors, "backward"), bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (``torch.autograd.grad``)."""
    T = _fn.Tensor
    if create_graph:
        raise NotImplementedError("minidl's backward passes are not themselves differentiable: "
                                  "create_graph=True (higher-order gradients) is not supported")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    single = isinstance(inputs, T)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    keys = [t._edge() for t in inputs]
    capture = {k: None for k in keys}
    _run(_as_roots(outputs, grad_outputs, "grad"), bool(retain_graph), capture)
    result = []
    for i, (t, k) in enumerate(zip(inputs, keys)):
        g = capture[k]
        if g is None:
            if materialize_grads:
                g = np.zeros(t.shape, t._data.dtype)
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not "
                                   f"have been used in the graph. Set allow_unused=True if this "
                                   f"is the desired behavior.")
        result.append(None if g is None else T(np.array(g, copy=True)))
    return tuple(result)
