"""Finite-difference gradient checking (``torch.autograd.gradcheck``), torch's algorithm.

Slow mode compares whole Jacobians: numerical columns by central differences,
J[:, k] ~ (f(x + eps e_k) - f(x - eps e_k)) / 2eps, against analytical rows from
vector-Jacobian products, J[r, :] = grad(out, x, e_r). Fast mode (``fast_mode=True``)
compares one number per (input, output) pair: v^T J u for random unit vectors u, v, with
J u by a central difference along u and v^T J by one vector-Jacobian product; ``atol`` is
scaled by sum(u) sum(v), as torch does. Either way every analytical product is computed
twice and the two must agree within ``nondet_tol`` (backward must be reentrant).
"""
import warnings

import numpy as np

from . import function as _fn
from .engine import grad as _grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _outputs(func, inputs):
    out = func(*inputs)
    return (out,) if isinstance(out, _fn.Tensor) else tuple(out)


def _differentiable(outs):
    """The positions of the outputs that require grad."""
    return [k for k, o in enumerate(outs) if isinstance(o, _fn.Tensor) and o.requires_grad]


def _vjp(out, xs, seed, nondet_tol, check_grad_dtypes):
    """grad(out, xs, seed) as float64 arrays (zeros for unused inputs), computed twice."""
    runs = []
    for _ in range(2):
        gs = _grad(out, xs, _fn.Tensor(seed), retain_graph=True, allow_unused=True)
        for x, g in zip(xs, gs):
            if g is not None and g.shape != x.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if g is not None and check_grad_dtypes and g.dtype != x.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
        runs.append([np.zeros(x.numel()) if g is None else g._data.astype(np.float64).ravel()
                     for x, g in zip(xs, gs)])
    for a, b in zip(*runs):
        if a.size and np.abs(a - b).max() > nondet_tol:
            raise GradcheckError(
                f"Backward is not reentrant, i.e., running backward with same input and "
                f"grad_output multiple times gives different values, although analytical "
                f"gradient matches numerical gradient. The tolerance for nondeterminism was "
                f"{nondet_tol}.")
    return runs[0]


def _central_difference(func, inputs, x, direction, eps, picked):
    """(f(x + eps d) - f(x - eps d)) / 2eps for the outputs at positions ``picked``,
    flattened; ``direction(x_array, sign)`` perturbs ``x``'s memory in place (0 undoes it).
    ``func`` runs with grad mode as the caller has it: gradgradcheck's ``func`` differentiates."""
    direction(x._data, 1)
    plus = _outputs(func, inputs)
    plus = [np.array(plus[k]._data, dtype=np.float64).ravel() for k in picked]
    direction(x._data, -1)
    minus = _outputs(func, inputs)
    minus = [np.array(minus[k]._data, dtype=np.float64).ravel() for k in picked]
    direction(x._data, 0)
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _mismatch(oi, i, analytical, numerical, fast):
    how = (" in fast mode (v^T J u for random unit vectors u, v); run with fast_mode=False "
           "to see the full Jacobians") if fast else ""
    return (f"Jacobian mismatch for output {oi} with respect to input {i}{how},\n"
            f"numerical:{numerical}\nanalytical:{analytical}\n")


def _slow(func, inputs, diff, outs, picked, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    xs = [inputs[i] for i in diff]
    numerical = {i: [np.zeros((o.numel(), inputs[i].numel())) for o in outs] for i in diff}
    for i in diff:
        x = inputs[i]
        original = x._data.copy()
        for k in range(x.numel()):
            at = np.unravel_index(k, x.shape)

            def nudge(a, sign, at=at, original=original):
                a[at] = original[at] + sign * eps
            for oi, col in enumerate(_central_difference(func, inputs, x, nudge, eps, picked)):
                numerical[i][oi][:, k] = col
    for oi, out in enumerate(outs):
        analytical = {i: np.zeros((out.numel(), inputs[i].numel())) for i in diff}
        for r in range(out.numel()):
            seed = np.zeros(out.shape, out._data.dtype)
            seed.flat[r] = 1.0
            for i, row in zip(diff, _vjp(out, xs, seed, nondet_tol, check_grad_dtypes)):
                analytical[i][r] = row
        for i in diff:
            if not np.allclose(analytical[i], numerical[i][oi], rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch(oi, i, analytical[i], numerical[i][oi], False))


def _unit(rng, n):
    v = rng.random(n)
    return v / np.linalg.norm(v) if n else v


def _fast(func, inputs, diff, outs, picked, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    rng = np.random.default_rng(0)  # its own stream: the user's generator is left alone
    us = {i: _unit(rng, inputs[i].numel()) for i in diff}
    vs = [_unit(rng, o.numel()) for o in outs]
    ju = {}
    for i in diff:
        x = inputs[i]
        original, step = x._data.copy(), us[i].reshape(x.shape)

        def nudge(a, sign, original=original, step=step):
            a[...] = original + sign * eps * step
        ju[i] = _central_difference(func, inputs, x, nudge, eps, picked)
    xs = [inputs[i] for i in diff]
    for oi, out in enumerate(outs):
        seed = vs[oi].reshape(out.shape).astype(out._data.dtype)
        for i, vj in zip(diff, _vjp(out, xs, seed, nondet_tol, check_grad_dtypes)):
            analytical, numerical = float(vj @ us[i]), float(vs[oi] @ ju[i][oi])
            tol = atol * us[i].sum() * vs[oi].sum()
            if not np.isclose(analytical, numerical, rtol=rtol, atol=tol):
                raise GradcheckError(_mismatch(oi, i, analytical, numerical, True))


def _check_undefined_grad(outs, xs):
    """torch's undefined-gradient check, with zeros for the undefined output gradients:
    backward must run and give every input a zero (or no) gradient."""
    zeros = [_fn.Tensor(np.zeros(o.shape, o._data.dtype)) for o in outs]
    try:
        gs = _grad(outs, xs, zeros, retain_graph=True, allow_unused=True)
    except RuntimeError as e:
        raise GradcheckError("Expected backward function to handle undefined (zero) output "
                             "grads") from e
    if any(g is not None and np.any(g._data != 0) for g in gs):
        raise GradcheckError("Expected all input grads to be undefined or zero when all "
                             "output grads are undefined or zero")


def _refuse(fn_name, **flags):
    for name, (value, why) in flags.items():
        if value:
            raise NotImplementedError(f"{fn_name}({name}=True) is not supported: {why}")


def _differentiable_inputs(inputs, fn_name):
    """The inputs as a tuple and the positions of those that require grad (at least one)."""
    T = _fn.Tensor
    inputs = (inputs,) if isinstance(inputs, T) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, T) and x.requires_grad]
    if not diff:
        raise ValueError(f"{fn_name} expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    return inputs, diff


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False):
    """True when the analytical and numerical Jacobians of ``func`` at ``inputs`` agree
    (see the module docstring); else GradcheckError, or False with ``raise_exception=False``."""
    _refuse("gradcheck", check_batched_grad=(check_batched_grad, "minidl has no vmap"),
            check_batched_forward_grad=(check_batched_forward_grad, "minidl has no vmap"),
            check_forward_ad=(check_forward_ad, "minidl has no forward-mode AD"))
    if not check_backward_ad:
        raise ValueError("gradcheck(check_backward_ad=False): expected at least one of "
                         "check_forward_ad or check_backward_ad to be True, and minidl has no "
                         "forward-mode AD")
    inputs, diff = _differentiable_inputs(inputs, "gradcheck")
    for i in diff:
        if inputs[i].dtype.np != np.float64:
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; "
                          "the check will likely fail from rounding", stacklevel=2)
    all_outs = _outputs(func, inputs)
    picked = _differentiable(all_outs)
    outs = [all_outs[k] for k in picked]
    check = _fast if fast_mode else _slow
    try:
        check(func, inputs, diff, outs, picked, eps, atol, rtol, nondet_tol, check_grad_dtypes)
        if check_undefined_grad and outs:
            _check_undefined_grad(outs, [inputs[i] for i in diff])
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Second derivatives by finite differences (``torch.autograd.gradgradcheck``):
    ``gradcheck`` of x, v -> grad(func(x), x, v, create_graph=True) -- the recorded backward
    is itself differentiated, against central differences of the first derivative.

    ``grad_outputs`` default to seeded random tensors that require grad (so the check also
    covers the derivative with respect to the incoming gradient)."""
    _refuse("gradgradcheck",
            check_fwd_over_rev=(check_fwd_over_rev, "minidl has no forward-mode AD"),
            masked=(masked, "minidl has no masked tensors"))
    if not check_rev_over_rev:
        raise ValueError("gradgradcheck(check_rev_over_rev=False): expected at least one of "
                         "check_fwd_over_rev or check_rev_over_rev, and minidl has no "
                         "forward-mode AD")
    T = _fn.Tensor
    inputs, diff = _differentiable_inputs(inputs, "gradgradcheck")
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            if isinstance(o, T) and o.requires_grad:
                v = rng.standard_normal(o.shape).astype(o._data.dtype)
                if gen_non_contig_grad_outputs and v.ndim:
                    v = np.repeat(v[..., None], 2, axis=-1)[..., 0]
                grad_outputs.append(T(v, requires_grad=True))
    else:
        grad_outputs = ((grad_outputs,) if isinstance(grad_outputs, T)
                        else tuple(grad_outputs))
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        outs = [o for o in _outputs(func, xs) if isinstance(o, T) and o.requires_grad]
        grads = _grad(outs, [xs[i] for i in diff], list(vs), create_graph=True,
                      allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode)
