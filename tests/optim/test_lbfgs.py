"""``minidl.optim.LBFGS`` against ``torch.optim.LBFGS``: trajectories, counters, state."""
import itertools

import numpy as np
import pytest
import torch

import minidl
from minidl.optim import LBFGS

_R = np.random.default_rng(7)
_A = _R.standard_normal((12, 4))
_B = _R.standard_normal(12)
_LABELS = (_R.random(12) < 0.5).astype(np.float64)


def _rosenbrock(lib, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _least_squares(lib, w, b):
    a, y = lib.tensor(_A.astype(w.detach().numpy().dtype)), lib.tensor(_B.astype(_dt(w)))
    return (((a @ w.reshape(4, 1)).reshape(12) + b - y) ** 2).mean()


def _logistic(lib, w, b):
    a, y = lib.tensor(_A.astype(_dt(w))), lib.tensor(_LABELS.astype(_dt(w)))
    z = (a @ w).reshape(12) + b
    p = z.sigmoid()
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean() + 0.01 * (w ** 2).sum()


def _dt(t):
    return t.detach().numpy().dtype


PROBLEMS = {
    "rosenbrock": (_rosenbrock, lambda: [np.array([-1.2, 1.0, -0.5, 0.8, 1.5])]),
    "least_squares": (_least_squares, lambda: [np.array([0.5, -0.3, 0.2, 0.1]),
                                               np.array(0.3)]),
    "logistic": (_logistic, lambda: [np.array([[0.1], [-0.2], [0.3], [0.05]]),
                                     np.array([0.0])]),
}
CONFIGS = {
    "defaults": {},
    "strong_wolfe": {"line_search_fn": "strong_wolfe"},
    "short_history": {"history_size": 3, "max_iter": 5},
    "wolfe_short": {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 4,
                    "max_eval": 6},
    "early_stop": {"tolerance_grad": 1e-3, "tolerance_change": 1e-4, "lr": 0.5},
}
_STEPS = 4


def _value(v):
    if isinstance(v, (torch.Tensor, minidl.Tensor)):
        return np.array(v.detach().numpy() if isinstance(v, torch.Tensor) else v._data)
    if isinstance(v, list):
        return [_value(e) for e in v]
    return v


def _run(lib, problem, dtype, config, steps=_STEPS):
    """Per step: (returned loss, parameter arrays, func_evals, n_iter); then the state_dict."""
    fn, init = PROBLEMS[problem]
    params = [lib.nn.Parameter(lib.tensor(a.astype(dtype))) for a in init()]
    opt = (torch.optim.LBFGS if lib is torch else LBFGS)(params, **config)

    def closure():
        opt.zero_grad()
        loss = fn(lib, *params)
        loss.backward()
        return loss

    trace = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        trace.append((float(loss.detach()), [_value(p) for p in params],
                      state["func_evals"], state["n_iter"]))
    return trace, opt.state_dict()


def _assert_same(ours, theirs, rtol, atol):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_same(o, t, rtol, atol)
    elif theirs is None:
        assert ours is None
    else:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


_TOLS = {np.float64: (1e-9, 1e-12), np.float32: (2e-4, 1e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_matches_torch(problem, config, dtype):
    config, steps = dict(CONFIGS[config]), _STEPS
    if dtype is np.float32:
        # near a minimum float32 rounding (NumPy's vs torch's dot products) decides the
        # tolerance_change stops: compare the first iterations only
        config["max_iter"], steps = min(config.get("max_iter", 20), 5), 1
    ours, our_sd = _run(minidl, problem, dtype, config, steps)
    theirs, their_sd = _run(torch, problem, dtype, config, steps)
    rtol, atol = _TOLS[dtype]
    for (lo, po, eo, no), (lt, pt, et, nt) in zip(ours, theirs):
        assert (eo, no) == (et, nt)
        np.testing.assert_allclose(lo, lt, rtol=rtol, atol=atol)
        for a, b in zip(po, pt):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert our_sd["param_groups"] == their_sd["param_groups"]
    assert list(our_sd["state"]) == list(their_sd["state"]) == [0]
    ours_state, theirs_state = our_sd["state"][0], their_sd["state"][0]
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        _assert_same(_value(ours_state[key]), _value(value), rtol * 100, atol * 100)


def test_early_stop_rules_fire():
    """Each stopping rule ends a step early, at the same evaluation count as torch."""
    cases = [{"tolerance_grad": 1e3},            # already optimal: one evaluation, no iteration
             {"tolerance_change": 1e-1},          # loss change below tolerance
             {"max_eval": 3},                     # evaluation budget
             {"max_iter": 2},
             {"line_search_fn": "strong_wolfe", "tolerance_change": 1e-2}]
    full, _ = _run(minidl, "least_squares", np.float64, {}, steps=1)
    for config in cases:
        ours, _ = _run(minidl, "least_squares", np.float64, config, steps=1)
        theirs, _ = _run(torch, "least_squares", np.float64, config, steps=1)
        assert ours[0][2:] == theirs[0][2:], config
        assert ours[0][2] < full[0][2], config
        for a, b in zip(ours[0][1], theirs[0][1]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    ours, _ = _run(minidl, "least_squares", np.float64, cases[0], steps=1)
    assert ours[0][2:] == (1, 0)


def test_first_step_scaling_and_history():
    """Iteration 1 steps by min(1, 1/|g|_1) lr along -g; the memory keeps history_size pairs."""
    w = minidl.nn.Parameter(minidl.tensor(np.array([3.0, -4.0])))
    opt = LBFGS([w], lr=0.5, max_iter=1)
    opt.step(lambda: _quadratic(opt, w))
    g = np.array([6.0, -8.0])
    np.testing.assert_allclose(w._data, [3.0, -4.0] - 0.5 / 14.0 * g, rtol=1e-14)
    assert float(opt.state[w]["t"]) == pytest.approx(0.5 / 14.0)
    opt = LBFGS([w], history_size=2, max_iter=6, tolerance_grad=0, tolerance_change=0)
    opt.step(lambda: _rosenbrock_closure(opt, w))
    assert len(opt.state[w]["old_dirs"]) == len(opt.state[w]["ro"]) == 2
    assert len(opt.state[w]["al"]) == 2


def _quadratic(opt, w):
    opt.zero_grad()
    loss = (w * w).sum()
    loss.backward()
    return loss


def _rosenbrock_closure(opt, w):
    opt.zero_grad()
    loss = _rosenbrock(minidl, w)
    loss.backward()
    return loss


def test_load_state_dict_resumes():
    """A step after load_state_dict continues exactly as an uninterrupted run."""
    straight, _ = _run(minidl, "rosenbrock", np.float64, {"max_iter": 5}, steps=3)
    w = minidl.nn.Parameter(minidl.tensor(PROBLEMS["rosenbrock"][1]()[0]))
    opt = LBFGS([w], max_iter=5)
    for _ in range(2):
        opt.step(lambda: _rosenbrock_closure(opt, w))
    saved = opt.state_dict()
    w2 = minidl.nn.Parameter(minidl.tensor(w._data.copy()))
    opt2 = LBFGS([w2], max_iter=5)
    opt2.load_state_dict(saved)
    opt2.step(lambda: _rosenbrock_closure(opt2, w2))
    np.testing.assert_allclose(w2._data, straight[2][1][0], rtol=1e-13)
    assert opt2.state[w2]["func_evals"] == straight[2][2]


def test_errors():
    w = minidl.nn.Parameter(minidl.ones(3))
    v = minidl.nn.Parameter(minidl.ones(2))
    with pytest.raises(ValueError, match=r"LBFGS doesn't support per-parameter options "
                                         r"\(parameter groups\)"):
        LBFGS([{"params": [w]}, {"params": [v]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        LBFGS([w], lr=-1)
    with pytest.raises(TypeError, match="real floating-point"):
        LBFGS([minidl.tensor(np.arange(3))])
    opt = LBFGS([w])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(TypeError, match="callable closure"):
        opt.step(None)

    def vector_loss():
        opt.zero_grad()
        loss = w * w
        loss.sum().backward()
        return loss

    with pytest.raises(ValueError, match=r"scalar loss, got a tensor of shape \(3,\)"):
        opt.step(vector_loss)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        LBFGS([w], line_search_fn="wolfe").step(lambda: _quadratic(opt, w))


def test_defaults_and_closure_grad_mode():
    opt = LBFGS([minidl.nn.Parameter(minidl.ones(2))], max_iter=8)
    group = opt.param_groups[0]
    assert (group["lr"], group["max_eval"], group["tolerance_grad"], group["tolerance_change"],
            group["history_size"], group["line_search_fn"]) == (1, 10, 1e-7, 1e-9, 100, None)
    w = opt.param_groups[0]["params"][0]
    modes = []

    def closure():
        modes.append(minidl.is_grad_enabled())
        return _quadratic(opt, w)

    with minidl.no_grad():
        first = opt.step(closure)
    assert modes and all(modes)
    assert float(first) == 2.0


_LINE_FUNCTIONS = {  # f and its gradient on R^2
    "quadratic": (lambda z: (z ** 2).sum() + z[0], lambda z: 2 * z + np.array([1.0, 0.0])),
    "quartic": (lambda z: (z ** 4 - 3 * z ** 2 + z).sum(), lambda z: 4 * z ** 3 - 6 * z + 1),
    "bumpy": (lambda z: (np.sin(3 * z) + 0.1 * z ** 2).sum(),
              lambda z: 3 * np.cos(3 * z) + 0.2 * z),
    "wiggly": (lambda z: (np.sin(11 * z) + 0.02 * z ** 2 + np.abs(z) ** 3 / 30).sum(),
               lambda z: 11 * np.cos(11 * z) + 0.04 * z + z * np.abs(z) / 10),
}


_LINE_CASES = [  # (function, x0, initial t, tolerance_change, max_ls)
    (name, (0.3, -0.7), t0, tol, max_ls) for name in ("quadratic", "quartic", "bumpy", "wiggly")
    for t0, tol, max_ls in itertools.product((1e-3, 0.05, 0.3, 1.0, 4.0, 30.0), (1e-9, 1e-2),
                                             (25, 3, 1))] + [
    # zoom: two trials in a row near an end of the bracket
    ("bumpy", (-0.4456671880774925, -0.40951807539910723), 13.316180811686472,
     0.0002735121185439875, 25),
    # zoom: the bracket is narrower than tolerance_change
    ("wiggly", (0.4148698794136805, -1.6107092312472635), 17.180182976486837, 0.4387627777502565,
     25),
    # growth: a rise above the previous trial's f ends growth only from the third trial on
    ("wiggly", (0.7058832304118936, 1.7974386380590195), 0.10464922432686881,
     1.2024864744044974e-07, 25),
]


def test_strong_wolfe_line_search_matches_torch():
    """Bracket growth (t up to 10x), zoom with its 10% safeguard and the max_ls budget."""
    from torch.optim.lbfgs import _strong_wolfe as torch_search

    from minidl.optim.lbfgs import _strong_wolfe
    for name, x0, t0, tol, max_ls in _LINE_CASES:
        f, grad = _LINE_FUNCTIONS[name]
        x0 = np.array(x0)
        d, g0 = -grad(x0), grad(x0)

        def ours(x, t, direction, f=f, grad=grad):
            z = x + t * direction
            return float(f(z)), grad(z)

        def theirs(x, t, direction, f=f, grad=grad):
            z = x.numpy() + float(t) * direction.numpy()
            return float(f(z)), torch.tensor(grad(z))

        got = _strong_wolfe(ours, x0, t0, d, float(f(x0)), g0, g0.dot(d),
                            tolerance_change=tol, max_ls=max_ls)
        want = torch_search(theirs, torch.tensor(x0), t0, torch.tensor(d), float(f(x0)),
                            torch.tensor(g0), torch.tensor(g0).dot(torch.tensor(d)),
                            tolerance_change=tol, max_ls=max_ls)
        case = (name, t0, tol, max_ls)
        assert got[3] == want[3], case
        np.testing.assert_allclose(float(got[2]), float(want[2]), rtol=1e-12, err_msg=case)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12, err_msg=case)
        np.testing.assert_allclose(got[1], want[1].numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=case)


def test_line_search_budget_is_max_eval():
    """With strong_wolfe the line search may use only the evaluations max_eval leaves."""
    config = {"line_search_fn": "strong_wolfe", "max_eval": 3, "lr": 1e-4}
    ours, _ = _run(minidl, "rosenbrock", np.float64, config, steps=1)
    theirs, _ = _run(torch, "rosenbrock", np.float64, config, steps=1)
    free, _ = _run(minidl, "rosenbrock", np.float64, dict(config, max_eval=None), steps=1)
    assert ours[0][2:] == theirs[0][2:] == (4, 1)  # 1 + the search's first probe + 2 more
    assert free[0][2] > 4
    np.testing.assert_allclose(ours[0][1][0], theirs[0][1][0], rtol=1e-12)


def test_cubic_interpolation_matches_torch():
    """The cubic's minimiser, its clipping to the bounds, and the midpoint fallback (no real
    minimiser, or an overflowed nan)."""
    from torch.optim.lbfgs import _cubic_interpolate

    from minidl.optim.lbfgs import _cubic_min
    rng = np.random.default_rng(3)
    cases = [tuple(rng.standard_normal(6)) for _ in range(30)]
    cases += [(0.0, 1.0, -1.0, 2.0, np.inf, 3.0), (1.0, 0.0, np.nan, 0.0, 0.0, 1.0)]
    for x1, f1, g1, x2, f2, g2 in cases:
        for bounds in (None, (min(x1, x2) + 0.1, max(x1, x2) * 3 + 1)):
            got = _cubic_min(x1, f1, np.float64(g1), x2, f2, np.float64(g2), bounds=bounds)
            want = _cubic_interpolate(x1, f1, torch.tensor(g1, dtype=torch.float64), x2, f2,
                                      torch.tensor(g2, dtype=torch.float64), bounds=bounds)
            np.testing.assert_allclose(float(got), float(want), rtol=1e-13)
