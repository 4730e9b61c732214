"""L-BFGS: ``torch.optim.LBFGS`` (Nocedal & Wright, *Numerical Optimization*, alg. 7.4/7.5).

All parameters are treated as one flat vector x. Each iteration takes the direction
d = -H g, where H g comes from the two-loop recursion over the last ``history_size``
curvature pairs (s = x_{k+1} - x_k, y = g_{k+1} - g_k, kept only when y.s > 1e-10) with the
initial inverse Hessian H0 = (y.s / y.y) I, then steps x <- x + t d with a fixed t (``lr``;
``min(1, 1/|g|_1) lr`` on the very first iteration) or a strong-Wolfe line search
(``line_search_fn="strong_wolfe"``, alg. 3.5/3.6 with cubic interpolation).
"""
import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LBFGS"]

_CURVATURE_MIN = 1e-10  # a pair (s, y) with y.s at or below this is not stored


def _as_array(value):
    """A state value read back: Tensors become NumPy (0-d ones NumPy scalars)."""
    if isinstance(value, Tensor):
        a = value._data
        return a[()] if a.ndim == 0 else a
    if isinstance(value, list):
        return [_as_array(v) for v in value]
    return value


def _as_state(value):
    """A value to keep in ``state``: arrays and NumPy scalars as Tensors, as torch keeps them."""
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(np.array(value))
    if isinstance(value, list):
        return [_as_state(v) for v in value]
    return value


class LBFGS(Optimizer):
    """Limited-memory BFGS over all parameters as one vector; one parameter group only.

    ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls, default
    ``max_iter * 5 // 4``) and stops early when max|g| <= ``tolerance_grad``, when the step
    or the loss change falls below ``tolerance_change``, or when g.d > -tolerance_change.
    It returns the loss of the first closure call.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        for p in self._params:
            if p._data.dtype.kind != "f":
                raise TypeError(f"LBFGS optimizes real floating-point parameters only, got a "
                                f"parameter of dtype {p.dtype}")

    # ------------------------------------------------------------- flat vector
    def _flat_grad(self):
        """The gradients of all parameters, concatenated (zeros where a gradient is None)."""
        parts = [np.zeros(p._data.size, p._data.dtype) if p.grad is None
                 else p.grad._data.reshape(-1) for p in self._params]
        return np.concatenate(parts)

    def _add_step(self, t, d):
        """x <- x + t d, written into each parameter's own array."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset:offset + n].reshape(p._data.shape)
            self._bump(p)
            offset += n

    def _restore(self, saved):
        for p, a in zip(self._params, saved):
            p._data[...] = a
            self._bump(p)

    def _evaluate(self, closure):
        """Run the closure with gradients on: (its loss as a float, the flat gradient)."""
        with enable_grad():
            loss = closure()
        return _loss_value(loss), self._flat_grad()

    def _evaluate_at(self, closure, x, t, d):
        """f and g at x + t d, then the parameters are put back to x (the line search's probe)."""
        self._add_step(t, d)
        f, g = self._evaluate(closure)
        self._restore(x)
        return f, g

    # --------------------------------------------------------------------- step
    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the first ``closure()`` result."""
        if not callable(closure):
            raise TypeError(f"LBFGS.step(closure) needs a callable closure that re-evaluates "
                            f"the model and returns the loss, got {type(closure).__name__}")
        group = self.param_groups[0]
        line_search = group["line_search_fn"]
        if line_search is not None and line_search != "strong_wolfe":
            raise RuntimeError(f"LBFGS line_search_fn: only 'strong_wolfe' is supported, "
                               f"got {line_search!r}")
        with no_grad():
            return self._run(closure, group)

    def _run(self, closure, group):
        lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        # all state is global; torch files it under the first parameter
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = _loss_value(first_loss)
        g = self._flat_grad()
        evals = 1
        state["func_evals"] += 1
        if np.abs(g).max() <= tol_grad:
            return first_loss

        d, t = _as_array(state.get("d")), _as_array(state.get("t"))
        dirs, steps = _as_array(state.get("old_dirs")), _as_array(state.get("old_stps"))
        ro, h_diag = _as_array(state.get("ro")), _as_array(state.get("H_diag"))
        prev_g, prev_loss = _as_array(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, steps, ro, h_diag = [], [], [], 1
            else:
                y = g - prev_g
                s = d * t
                ys = y.dot(s)
                if ys > _CURVATURE_MIN:
                    if len(dirs) == history:
                        del dirs[0], steps[0], ro[0]
                    dirs.append(y)
                    steps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                if "al" not in state:
                    state["al"] = [None] * history
                alphas = _as_array(state["al"])
                d = _two_loop(-g, dirs, steps, ro, h_diag, alphas)
                state["al"] = _as_state(alphas)
            prev_g = g
            prev_loss = loss

            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = g.dot(d)
            if gtd > -tol_change:  # not a descent direction (to the tolerance)
                break

            ls_evals = 0
            if group["line_search_fn"] is not None:
                x0 = [p._data.copy() for p in self._params]
                loss, g, t, ls_evals = _strong_wolfe(
                    lambda x, step, direction: self._evaluate_at(closure, x, step, direction),
                    x0, t, d, loss, g, gtd, tolerance_change=tol_change,
                    max_ls=max_eval - evals)
                self._add_step(t, d)
                optimal = np.abs(g).max() <= tol_grad
            else:
                self._add_step(t, d)
                optimal = False
                if n_iter != max_iter:  # the last iteration's loss would go unused
                    loss, g = self._evaluate(closure)
                    optimal = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        for key, value in (("d", d), ("t", t), ("old_dirs", dirs), ("old_stps", steps),
                           ("ro", ro), ("H_diag", h_diag), ("prev_flat_grad", prev_g),
                           ("prev_loss", prev_loss)):
            state[key] = _as_state(value)
        return first_loss


def _two_loop(q, dirs, steps, ro, h_diag, alphas):
    """H g by the two-loop recursion (Nocedal & Wright alg. 7.4); ``q`` is overwritten.

    ``alphas`` (length ``history_size``) receives a_i = rho_i s_i.q of the first loop.
    """
    for i in range(len(dirs) - 1, -1, -1):
        alphas[i] = steps[i].dot(q) * ro[i]
        q -= alphas[i] * dirs[i]
    r = q * h_diag
    for i in range(len(dirs)):
        beta = dirs[i].dot(r) * ro[i]
        r += (alphas[i] - beta) * steps[i]
    return r


def _loss_value(loss):
    """The closure's loss as a Python float; a loss with more than one element is refused."""
    if isinstance(loss, Tensor) and loss._data.size != 1:
        raise ValueError(f"LBFGS: the closure must return a scalar loss, got a tensor of "
                         f"shape {tuple(loss.shape)}")
    return float(loss)


def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, f'=g1) and (x2, f2, f'=g2), clipped to
    ``bounds`` (default: the interval between x1 and x2); its midpoint if there is none."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    with np.errstate(all="ignore"):  # overflow gives inf / nan quietly, as torch's scalars do
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        disc = d1 ** 2 - g1 * g2
        if not disc >= 0:
            return (lo + hi) / 2.0
        d2 = np.sqrt(disc)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search for t meeting the strong Wolfe conditions (Nocedal & Wright alg. 3.5/3.6):
    f(x + t d) <= f + c1 t g.d  and  |g(x + t d).d| <= -c2 g.d.

    ``evaluate(x, t, d)`` gives (f, g) at x + t d. Returns (f, g, t, evaluations).
    """
    d_max = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)
    # bracketing: grow t until an interval [t_prev, t] holds an acceptable point
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = None
    while ls_iter < max_ls:
        armijo_fails = f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev)
        if not armijo_fails and abs(gtd_new) <= -c2 * gtd:
            bracket = [[t, f_new, g_new, gtd_new]]
            done = True
            break
        if armijo_fails or gtd_new >= 0:
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new.copy(), gtd_new]]
            break
        t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                            bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = t_next
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter >= max_ls:
        bracket = [[0, f, g, None], [t, f_new, g_new, None]]

    # zoom: shrink the bracket [low, high] (f(low) <= f(high)) onto an acceptable point
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    stalled = False
    while not done and ls_iter < max_ls:
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_max < tolerance_change:
            break
        t = _cubic_min(a, fa, ga, b, fb, gb)
        # a trial too close to an end: move it 10% of the interval inside, unless it is the
        # first such trial and strictly inside
        top, bottom = max(a, b), min(a, b)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            if stalled or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, g_new.copy(), gtd_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = list(bracket[low])
            bracket[low] = [t, f_new, g_new.copy(), gtd_new]
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals
