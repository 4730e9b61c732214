"""The backward graph walk: iterative topological order (Kahn), no recursion.

Gradients are summed per (node, output) until every consumer of that node has run; then
the node's backward runs once. A chain of any length backpropagates without touching
Python's recursion limit.

Two modes share the walk. By default gradients are NumPy arrays and each node runs its
array-level backward under ``no_grad`` -- the fast path every training step takes. With
``create_graph=True`` gradients are Tensors and each node runs ``run_graph`` with grad mode
on, so the gradients are themselves recorded and can be differentiated again (see
``node.BackwardNode.run_graph`` for how a kernel's backward becomes differentiable).

``grad`` walks only the part of the graph between the outputs and the requested inputs
(as ``torch.autograd.grad`` does): nodes that lead to none of the inputs never run.
"""
import numpy as np

from . import function as _fn
from .grad_mode import enable_grad, no_grad

__all__ = ["backward", "grad"]


def _as_roots(tensors, grad_tensors, fn_name, create_graph):
    T = _fn.Tensor
    if isinstance(tensors, T):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, T):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"{fn_name}: got {len(tensors)} tensors and {len(grad_tensors)} "
                           "gradients")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, T):
            raise TypeError(f"{fn_name}: element {i} of tensors is a {type(t).__name__}, not a "
                            "Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                                   f"(got an output of shape {tuple(t.shape)})")
            g = np.ones(t.shape, t._data.dtype)
            if create_graph:
                g = T(g)
        else:
            if g.shape != t.shape:
                raise RuntimeError(f"{fn_name}: gradient of shape {tuple(g.shape)} does not match "
                                   f"the output of shape {tuple(t.shape)}")
            if create_graph:
                g = (g if isinstance(g, T) else T(np.asarray(g)))
                if g._data.dtype != t._data.dtype:
                    g = g.to(t.dtype)
            else:
                g = g._data if isinstance(g, T) else np.asarray(g)
                g = g.astype(t._data.dtype, copy=False)
        node, idx = t._edge()
        roots.append((node, idx, g))
    return roots


def _walk(roots, stop=()):
    """Every node reachable from the roots (not walking past ``stop``), and for each how many
    edges point at it."""
    deps = {}
    stack = list(dict.fromkeys(n for n, _, _ in roots))  # a node may be the root of several outputs
    seen = set(stack)
    while stack:
        node = stack.pop()
        if node in stop:
            continue
        for child, _ in node.next_edges:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen, deps


def _prune(seen, targets):
    """The nodes to run so that gradients reach ``targets``: those with a child on a path."""
    parents = {}
    for node in seen:
        for child, _ in node.next_edges:
            if child is not None:
                parents.setdefault(child, []).append(node)
    needed = {t for t in targets if t in seen}
    stack = list(needed)
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    run = {n for n in needed
           if any(c in needed for c, _ in n.next_edges if c is not None)}
    deps = {}
    for n in run:
        for c, _ in n.next_edges:
            if c in needed:
                deps[c] = deps.get(c, 0) + 1
    return run, needed, deps


def _run(roots, retain_graph, capture=None, create_graph=False, stop=()):
    """Walk the graph from ``roots``; fill ``capture[(node, idx)]`` instead of leaf .grad."""
    seen, deps = _walk(roots, stop)
    if capture is not None:
        run, needed, deps = _prune(seen, {n for n, _ in capture})
    else:
        run = needed = seen
    buffers = {}
    for node, idx, g in roots:
        buf = buffers.setdefault(node, [None] * node.n_outputs)
        buf[idx] = g if buf[idx] is None else buf[idx] + g
    ready = [n for n in buffers if deps.get(n, 0) == 0 and n in needed]
    accumulate = capture is None
    sink = _fn.AccumulateGrad
    with enable_grad() if create_graph else no_grad():
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node.n_outputs
            if capture is not None:
                for i, g in enumerate(grads):
                    if (node, i) in capture and g is not None:
                        capture[(node, i)] = g
            if isinstance(node, sink):
                if accumulate:
                    (node.run_graph if create_graph else node.run)(grads)
                continue
            if node not in run:
                continue
            in_grads = node.run_graph(grads) if create_graph else node.run(grads)
            if not retain_graph:
                node.release()
            for (child, idx), g in zip(node.next_edges, in_grads):
                if child is None or child not in needed:
                    continue
                if g is not None:
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child.n_outputs
                    buf[idx] = g if buf[idx] is None else buf[idx] + g
                left = deps[child] - 1
                deps[child] = left
                if not left:
                    ready.append(child)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (``torch.autograd.backward``).

    ``create_graph=True`` records the backward pass itself, so the ``.grad`` it leaves can be
    differentiated again; ``retain_graph`` then defaults to True, as in torch. ``inputs``
    restricts accumulation to the given tensors (leaves or not)."""
    if retain_graph is None:
        retain_graph = create_graph
    roots = _as_roots(tensors, grad_tensors, "backward", create_graph)
    if inputs is None:
        _run(roots, bool(retain_graph), create_graph=create_graph)
        return
    T = _fn.Tensor
    inputs = (inputs,) if isinstance(inputs, T) else tuple(inputs)
    if not inputs:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    grads = _grads(roots, inputs, bool(retain_graph), create_graph, allow_unused=True)
    for t, g in zip(inputs, grads):
        if g is None:
            continue
        if not create_graph:
            g = T(g._data)
        if t.grad is None:
            t.grad = g
        else:
            t.grad = t.grad + g if create_graph else T(t.grad._data + g._data)


def _grads(roots, inputs, retain_graph, create_graph, allow_unused, materialize=False,
           stop_at_inputs=False):
    T = _fn.Tensor
    for i, t in enumerate(inputs):
        if not isinstance(t, T):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    keys = [t._edge() for t in inputs]
    capture = {k: None for k in keys}
    _run(roots, retain_graph, capture, create_graph,
         {n for n, _ in keys} if stop_at_inputs else ())
    result = []
    for i, (t, k) in enumerate(zip(inputs, keys)):
        g = capture[k]
        if g is None:
            if materialize:
                g = np.zeros(t.shape, t._data.dtype)
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not "
                                   f"have been used in the graph. Set allow_unused=True if this "
                                   f"is the desired behavior.")
        if g is None or isinstance(g, T):
            result.append(g)
        else:
            result.append(T(np.array(g, copy=True)))
    return tuple(result)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (``torch.autograd.grad``).

    With ``create_graph=True`` the returned gradients carry a graph of their own (double
    backward, gradient penalties, Hessian-vector products)."""
    T = _fn.Tensor
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    single = isinstance(inputs, T)
    inputs = (inputs,) if single else tuple(inputs)
    roots = _as_roots(outputs, grad_outputs, "grad", create_graph)
    return _grads(roots, inputs, bool(retain_graph), create_graph, allow_unused,
                  materialize_grads)


def grad_to_fresh_inputs(outputs, inputs, grad_outputs):
    """``grad(..., create_graph=True, allow_unused=True)`` for inputs that were created for
    this call (and so lead to none of each other): the walk stops at them."""
    roots = _as_roots(outputs, grad_outputs, "grad", True)
    return _grads(roots, tuple(inputs), True, True, True, stop_at_inputs=True)
