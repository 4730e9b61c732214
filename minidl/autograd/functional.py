"""Higher-level differentiation (``torch.autograd.functional``): vjp, jvp, jacobian,
hessian, hvp, vhp -- all from reverse mode, with torch's signatures and return layouts.

With f: R^n -> R^m, J = df/dx (m x n) and, for scalar f, H = d^2f/dx^2:

* ``vjp``: v^T J -- one backward pass.
* ``jvp``: J v by the double-backward trick: u -> J^T u is linear, so J v = d(J^T u . v)/du
  with a dummy u (Pearlmutter; no forward mode needed).
* ``jacobian``: m backward passes, one per output element (rows), or with
  ``strategy="forward-mode"`` n ``jvp``s (columns). ``vectorize`` is torch's vmap switch:
  minidl has no vmap, so rows are computed one after another (the result is the same).
* ``hessian``: the jacobian of the recorded gradient.
* ``vhp``: v^T H = d(grad f . v)/dx; ``hvp``: H v by the double-backward trick on the
  gradient (equal to vhp for a symmetric H, as torch notes).

These are built from the ops layer (stacking, zeros) and so are imported by ``minidl``
after it; ``create_graph=True`` returns results that can be differentiated again.
"""
import numpy as np

from ..ops.join import stack
from . import function as _fn
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, what, fn_name):
    single = not isinstance(x, tuple)
    xs = (x,) if single else x
    for i, el in enumerate(xs):
        if not isinstance(el, _fn.Tensor):
            where = f"the given {what}" if single else f"the value at index {i}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but {where} has type {type(el)}.")
    return xs, single


def _prepare(inputs, create_graph):
    """Fresh inputs that require grad; kept on the caller's graph when create_graph."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _outputs(func, inputs, fn_name):
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


def _check_v(v, refs, what, fn_name):
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} of the "
                               "user-provided function is a single Tensor with a single element.")
        return (_fn.Tensor(np.ones(refs[0].shape, refs[0]._data.dtype)),)
    vs, _ = _as_tuple(v, "v", fn_name)
    if len(vs) != len(refs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got "
                           f"{len(vs)}.")
    for i, (a, b) in enumerate(zip(vs, refs)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if len(refs) > 1 else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")
    return vs


def _grads(outs, wrt, seeds, create_graph, strict, what):
    """grad(outs, wrt, seeds) with zeros for unused inputs (strict: an error instead)."""
    pairs = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    if strict and len(pairs) < len(outs):
        raise RuntimeError(f"The output of the user-provided function is independent of {what}. "
                           "This is not allowed in strict mode.")
    found = (_grad([o for o, _ in pairs], wrt, [s for _, s in pairs], retain_graph=True,
                   create_graph=create_graph, allow_unused=True) if pairs else [None] * len(wrt))
    result = []
    for i, (g, x) in enumerate(zip(found, wrt)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = _fn.Tensor(np.zeros(x.shape, x._data.dtype))
        result.append(g)
    return tuple(result)


def _finish(xs, single, create_graph):
    xs = tuple(x if create_graph else x.detach() for x in xs)
    return xs[0] if single else xs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    xs, single_in = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    outs, single_out = _outputs(func, xs, "vjp")
    vs = _check_v(v, outs, "output", "vjp")
    g = _grads(outs, xs, vs, create_graph, strict, "the inputs")
    return _finish(outs, single_out, create_graph), _finish(g, single_in, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    xs, single_in = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _check_v(v, xs, "input", "jvp")
    outs, single_out = _outputs(func, xs, "jvp")
    out = _double_backward(outs, xs, vs, create_graph, strict)
    return _finish(outs, single_out, create_graph), _finish(out, single_out, create_graph)


def _double_backward(outs, xs, vs, create_graph, strict):
    """J v of outs(xs) without forward mode: with dummy cotangents u that require grad,
    J^T u = grad(outs, xs, u) is linear in u, and its gradient w.r.t. u along v is J v."""
    us = tuple(_fn.Tensor(np.zeros(o.shape, o._data.dtype), requires_grad=True) for o in outs)
    with enable_grad():
        back = _grads(outs, xs, us, True, strict, "the inputs")
        pairs = [(b, w) for b, w in zip(back, vs) if b.requires_grad]
        found = (_grad([b for b, _ in pairs], us, [w for _, w in pairs], retain_graph=True,
                       create_graph=create_graph, allow_unused=True)
                 if pairs else [None] * len(us))
    return tuple(_fn.Tensor(np.zeros(o.shape, o._data.dtype)) if g is None else g
                 for g, o in zip(found, outs))


def _rows(out, xs, create_graph, strict, index):
    """d out / d xs, one backward pass per element of ``out``: per input, out.shape + x.shape."""
    flat = out.reshape(-1)
    per_input = [[] for _ in xs]
    for k in range(flat.numel()):
        seed = np.zeros(flat.shape, flat._data.dtype)
        seed[k] = 1
        gs = _grads((flat,), xs, (_fn.Tensor(seed),), create_graph, strict, f"output {index}")
        for rows, g in zip(per_input, gs):
            rows.append(g)
    return [_assemble(rows, out.shape, x) for rows, x in zip(per_input, xs)]


def _assemble(rows, out_shape, x):
    if not rows:
        return _fn.Tensor(np.zeros(tuple(out_shape) + tuple(x.shape), x._data.dtype))
    return stack(rows).reshape(tuple(out_shape) + tuple(x.shape))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func / d inputs: a Tensor for one input and one output, else tuples (per output,
    per input) of Tensors of shape out.shape + in.shape."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise AssertionError(f'Expected strategy to be either "forward-mode" or '
                             f'"reverse-mode" (as torch, an AssertionError), got {strategy!r}.')
    if strategy == "forward-mode":
        if not vectorize:
            raise NotImplementedError('torch.autograd.functional.jacobian: `strategy="forward-'
                                      'mode"` only works when `vectorize=True`.')
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` '
                                      'is not supported with `strategy="forward-mode"`.')
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    xs, single_in = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    outs, single_out = _outputs(func, xs, "jacobian")
    if strategy == "forward-mode":
        table = _columns(func, xs, outs)
    else:
        table = [_rows(o, xs, create_graph, strict, i) for i, o in enumerate(outs)]
    table = [tuple(t if create_graph else t.detach() for t in row) for row in table]
    if single_out and single_in:
        return table[0][0]
    if single_out:
        return table[0]
    if single_in:
        return tuple(row[0] for row in table)
    return tuple(table)


def _columns(func, xs, outs):
    """Forward-mode layout: one jvp per input element, stacked on the last axes."""
    table = [[None] * len(xs) for _ in outs]
    for j, x in enumerate(xs):
        cols = [[] for _ in outs]
        for k in range(x.numel()):
            vs = [_fn.Tensor(np.zeros(t.shape, t._data.dtype)) for t in xs]
            vs[j]._data.reshape(-1)[k] = 1
            _, col = jvp(func, tuple(xs), tuple(vs))
            col = col if isinstance(col, tuple) else (col,)
            for c, piece in zip(cols, col):
                c.append(piece)
        for i, o in enumerate(outs):
            if cols[i]:
                table[i][j] = _fn.Tensor(np.moveaxis(stack(cols[i])._data, 0, -1)).reshape(
                    tuple(o.shape) + tuple(x.shape))
            else:
                table[i][j] = _assemble([], o.shape, x)
    return table


def _scalar_function(func, fn_name):
    def scalar(*xs):
        out = func(*xs)
        outs, _ = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if len(outs) != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                               "contain a single element")
        return outs[0].reshape(())
    return scalar


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """d^2 func / d inputs^2 of a scalar function: per pair of inputs, in_i.shape + in_j.shape."""
    xs, single_in = _as_tuple(inputs, "inputs", "hessian")
    scalar = _scalar_function(func, "hessian")

    def gradient(*ys):
        out = scalar(*ys)
        return _grads((out,), ys, (_fn.Tensor(np.ones((), out._data.dtype)),), True, strict,
                      "the inputs")

    table = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                     vectorize=vectorize, strategy=outer_jacobian_strategy)
    return table[0][0] if single_in else table


def _strict_gradient(g, strict):
    if strict:
        for i, gi in enumerate(g):
            if not gi.requires_grad and not np.any(gi._data):
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")


def _gradient(func, inputs, v, create_graph, fn_name):
    """The prepared inputs, v, func's (scalar) output and its recorded gradient."""
    xs, single_in = _as_tuple(inputs, "inputs", fn_name)
    xs = _prepare(xs, create_graph)
    vs = _check_v(v, xs, "input", fn_name)
    out = _outputs(_scalar_function(func, fn_name), xs, fn_name)[0][0]
    with enable_grad():
        g = _grads((out,), xs, (_fn.Tensor(np.ones((), out._data.dtype)),), True, False,
                   "the inputs")
    return xs, single_in, vs, out, g


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) of a scalar function."""
    xs, single_in, vs, out, g = _gradient(func, inputs, v, create_graph, "vhp")
    _strict_gradient(g, strict)
    with enable_grad():
        result = _grads(g, xs, vs, create_graph, strict, "the inputs")
    return _finish((out,), True, create_graph), _finish(result, single_in, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) of a scalar function, by the double-backward trick."""
    xs, single_in, vs, out, g = _gradient(func, inputs, v, create_graph, "hvp")
    _strict_gradient(g, strict)
    result = _double_backward(g, xs, vs, create_graph, strict)
    return _finish((out,), True, create_graph), _finish(result, single_in, create_graph)
