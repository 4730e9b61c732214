"""Second derivatives of every kernel: gradgradcheck in float64, and equality with torch.

A ``Case`` is a function written once for both libraries, ``fn(lib, *tensors)`` (``lib``
is ``minidl`` or ``torch``), and its inputs as float64 NumPy arrays (or non-tensor values,
passed as they are). ``check(case)``:

1. ``minidl.autograd.gradgradcheck`` at the inputs (finite differences of the recorded
   first derivative, including its derivative with respect to the incoming gradient);
2. the same seeded Hessian-vector product in both libraries -- first gradients with
   ``create_graph=True`` under cotangents that require grad, then the gradients of
   ``sum(grad_i * w_i)`` with respect to the inputs and the cotangents -- equal to torch's
   at float64 tolerances.

``kernels_recorded(case)`` names the minidl kernels whose recorded backward ran for a
case; test_coverage.py holds every Kernel subclass to at least one case.
"""
from dataclasses import dataclass, field

import numpy as np
import torch

import minidl
from minidl.autograd import function as _function

TOL = dict(rtol=1e-7, atol=1e-7)


@dataclass
class Case:
    name: str
    fn: object                      # fn(lib, *tensors) -> Tensor or tuple of Tensors
    inputs: tuple                   # float64 arrays (differentiable) or other values
    no_grad: tuple = ()             # positions of array inputs that do not require grad
    gradgradcheck: bool = True      # False only where finite differences do not apply (a
    #                                 case too large, or ties a nudge would break)
    kwargs: dict = field(default_factory=dict)   # passed to gradgradcheck (eps, atol, ...)

    def __repr__(self):
        return self.name


def _tensors(lib, case):
    out = []
    for i, x in enumerate(case.inputs):
        if isinstance(x, np.ndarray):
            t = lib.tensor(x.copy())
            if x.dtype.kind == "f" and i not in case.no_grad:
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(x)
    return out


def _outs(result):
    outs = result if isinstance(result, (tuple, list)) else (result,)
    return [o for o in outs if o.requires_grad]


def second_derivatives(lib, case, seed=0):
    """[d/dx sum(dL/dx_i * w_i) for x in inputs + cotangents] in ``lib``, as NumPy arrays."""
    args = _tensors(lib, case)
    leaves = [a for a in args if hasattr(a, "requires_grad") and a.requires_grad]
    outs = _outs(case.fn(lib, *args))
    rng = np.random.default_rng(seed)
    vs = [lib.tensor(rng.standard_normal(tuple(o.shape))).requires_grad_(True) for o in outs]
    loss = sum((o * v).sum() for o, v in zip(outs, vs))
    firsts = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    used = [g for g in firsts if g is not None and g.requires_grad]
    if not used:
        return [], firsts
    loss2 = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in used)
    seconds = lib.autograd.grad(loss2, leaves + vs, allow_unused=True)
    # force: torch returns a ZeroTensor where a derivative is structurally zero (sign, ...)
    arrays = [None if s is None else np.asarray(s.detach().numpy(force=True)) for s in seconds]
    return arrays, firsts


def check(case):
    args = _tensors(minidl, case)
    assert minidl.autograd.gradgradcheck(lambda *a: case.fn(minidl, *a), args,
                                         **case.kwargs) if case.gradgradcheck else True
    got, m_first = second_derivatives(minidl, case)
    want, t_first = second_derivatives(torch, case)
    assert len(got) == len(want), f"{case.name}: {len(got)} second derivatives, torch {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None or not np.any(g), f"{case.name}: nonzero second derivative {i}"
            continue
        g = np.zeros_like(w) if g is None else g
        np.testing.assert_allclose(g, w, err_msg=f"{case.name}: second derivative {i}", **TOL)


def kernels_recorded(case):
    """The Kernel classes whose recorded backward ran for this case (minidl only)."""
    seen = set()
    original = _function.BackwardNode.run_graph

    def spy(node, grads):
        seen.add(node._fn)
        return original(node, grads)

    _function.BackwardNode.run_graph = spy
    try:
        second_derivatives(minidl, case)
    finally:
        _function.BackwardNode.run_graph = original
    return seen
