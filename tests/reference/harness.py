"""One harness for every comparison with PyTorch: same inputs, same upstream gradients.

``compare(md_fn, torch_fn, inputs)`` builds the inputs in both libraries (float arrays
become leaf tensors that require grad, integer/bool arrays plain tensors, anything else is
passed through), runs both functions, compares every output, backpropagates the same
random upstream gradient through each floating output and compares every input gradient.
"""
import numpy as np
import torch

import minidl

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def as_pair(x, dtype, requires_grad, noncontiguous):
    """(minidl tensor, torch tensor) for a NumPy array; other objects pass through."""
    if not isinstance(x, np.ndarray):
        return x, x
    if x.dtype.kind == "f":
        x = x.astype(dtype)
    if noncontiguous and x.ndim >= 2:
        x = np.ascontiguousarray(x.T).T  # same values, Fortran-ordered memory
    grad = requires_grad and x.dtype.kind == "f"
    m = minidl.from_numpy(x.copy(order="K"))
    t = torch.from_numpy(x.copy(order="K"))
    if grad:
        m.requires_grad_(True)
        t.requires_grad_(True)
    return m, t


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def assert_close(m, t, rtol, atol, what="output"):
    """Compare a minidl tensor (or scalar) with a torch tensor: shape, dtype kind, values."""
    mv = m._data if isinstance(m, minidl.Tensor) else np.asarray(m)
    tv = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    assert mv.shape == tv.shape, f"{what}: shape {mv.shape} != torch {tv.shape}"
    if isinstance(m, minidl.Tensor) and isinstance(t, torch.Tensor):
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
            f"{what}: dtype {m.dtype} != torch {t.dtype}"
    if tv.dtype.kind in "f":
        np.testing.assert_allclose(mv, tv, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(mv, tv, err_msg=what)


def compare(md_fn, torch_fn, inputs, *, dtype="float32", grad=True, rtol=None, atol=None,
            noncontiguous=False, seed=0):
    """Run ``md_fn(*inputs)`` and ``torch_fn(*inputs)`` and compare outputs and gradients."""
    tol = dict(TOL[dtype])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    pairs = [as_pair(x, dtype, grad, noncontiguous) for x in inputs]
    m_in = [p[0] for p in pairs]
    t_in = [p[1] for p in pairs]
    m_out = _outputs(md_fn(*m_in))
    t_out = _outputs(torch_fn(*t_in))
    assert len(m_out) == len(t_out), f"{len(m_out)} outputs != torch {len(t_out)}"
    for i, (m, t) in enumerate(zip(m_out, t_out)):
        assert_close(m, t, what=f"output {i}", **tol)
    if not grad:
        return m_out, t_out
    rng = np.random.default_rng(seed)
    m_roots, t_roots, m_gs, t_gs = [], [], [], []
    for m, t in zip(m_out, t_out):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert m.requires_grad, "minidl output does not require grad but torch's does"
            g = rng.standard_normal(t.shape).astype(t.detach().numpy().dtype)
            m_roots.append(m)
            t_roots.append(t)
            m_gs.append(minidl.from_numpy(g.copy()))
            t_gs.append(torch.from_numpy(g.copy()))
    if not t_roots:
        return m_out, t_out
    minidl.autograd.backward(m_roots, m_gs)
    torch.autograd.backward(t_roots, t_gs)
    for i, (m, t) in enumerate(zip(m_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert m.grad is None or not np.any(m.grad._data), f"input {i}: grad should be None"
                continue
            assert m.grad is not None, f"input {i}: minidl computed no gradient"
            assert_close(m.grad, t.grad, what=f"grad of input {i}", **tol)
    return m_out, t_out


def gradcheck(fn, inputs, **kw):
    """minidl.autograd.gradcheck in float64 on NumPy inputs (float arrays require grad)."""
    ts = [minidl.from_numpy(x.astype(np.float64)).requires_grad_(True)
          if isinstance(x, np.ndarray) and x.dtype.kind == "f" else
          (minidl.from_numpy(x) if isinstance(x, np.ndarray) else x) for x in inputs]
    assert minidl.autograd.gradcheck(fn, ts, **kw)
