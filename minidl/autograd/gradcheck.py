"""Finite-difference gradient checking (``torch.autograd.gradcheck``).

Numerical Jacobian by central differences, J[:, k] ~ (f(x + eps e_k) - f(x - eps e_k)) / 2eps,
compared with the analytical one built row by row from vector-Jacobian products.
"""
import numpy as np

from . import function as _fn
from .engine import grad as _grad
from .grad_mode import no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _outputs(func, inputs):
    out = func(*inputs)
    return (out,) if isinstance(out, _fn.Tensor) else tuple(out)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False):
    """True when analytical and numerical Jacobians of ``func`` at ``inputs`` agree."""
    T = _fn.Tensor
    inputs = (inputs,) if isinstance(inputs, T) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, T) and x.requires_grad]
    for i in diff:
        if inputs[i].dtype.np != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype}, not float64; "
                          "the check will likely fail from rounding", stacklevel=2)
    outs = [o for o in _outputs(func, inputs) if o.requires_grad]
    for oi, out in enumerate(outs):
        n_out = out.numel()
        analytical = {i: np.zeros((n_out, inputs[i].numel())) for i in diff}
        for r in range(n_out):
            seed = np.zeros(out.shape, out._data.dtype)
            seed.flat[r] = 1.0
            outs_r = [o for o in _outputs(func, inputs) if o.requires_grad]
            gs = _grad(outs_r[oi], [inputs[i] for i in diff], T(seed), allow_unused=True)
            for i, g in zip(diff, gs):
                if g is not None:
                    analytical[i][r] = g._data.ravel()
        for i in diff:
            x = inputs[i]._data
            numerical = np.zeros((n_out, x.size))
            flat = x.reshape(-1) if x.flags.c_contiguous else None
            if flat is None:
                raise GradcheckError(f"gradcheck: input {i} must be contiguous")
            with no_grad():
                for k in range(x.size):
                    orig = flat[k]
                    flat[k] = orig + eps
                    plus = np.array(_outputs(func, inputs)[oi]._data, dtype=np.float64)
                    flat[k] = orig - eps
                    minus = np.array(_outputs(func, inputs)[oi]._data, dtype=np.float64)
                    flat[k] = orig
                    numerical[:, k] = ((plus - minus) / (2 * eps)).ravel()
            a = analytical[i]
            if not np.allclose(a, numerical, rtol=rtol, atol=atol):
                bad = np.unravel_index(np.argmax(np.abs(a - numerical) - rtol * np.abs(numerical)), a.shape)
                msg = (f"Jacobian mismatch for output {oi} with respect to input {i}: "
                       f"analytical {a[bad]:.6g} vs numerical {numerical[bad]:.6g} at "
                       f"(output element {bad[0]}, input element {bad[1]})\n"
                       f"numerical:{numerical}\nanalytical:{a}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True
