"""Optimizer trajectories against torch.optim: same initial parameters, same gradient function.

The gradient of a small non-quadratic problem is computed in NumPy from each library's own
current parameters, so any difference in an update would grow over the 20 steps.
"""
import io

import numpy as np
import pytest
import torch

import minidl
from minidl import optim
from minidl.serialization import load, save

STEPS = 20
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def make_params(dtype, seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal((4, 3)).astype(dtype), r.standard_normal(3).astype(dtype),
            np.array(r.standard_normal(), dtype=dtype)]


def grads_of(arrays, sign=1):
    """Gradient of a coupled function of all three parameters (times ``sign``: -1 turns it
    into a concave problem for ``maximize=True``, so the trajectory stays bounded)."""
    w, b, s = arrays
    x = np.linspace(-1, 1, 4).astype(w.dtype)
    y = x @ w + b                      # (3,)
    r = y * s
    gw = np.outer(x, r * s) + 0.4 * w ** 3
    gb = r * s + 0.1 * b
    gs = np.asarray((r * y).sum() + 0.05 * s, dtype=w.dtype)
    return [np.asarray(sign * g, dtype=w.dtype) for g in (gw, gb, gs)]


def run(lib, opt_name, kwargs, dtype, steps=STEPS, groups=None):
    """Parameters after each of ``steps`` updates; ``lib`` is minidl or torch."""
    ps = [lib.from_numpy(a.copy()).requires_grad_() for a in make_params(dtype)]
    params = groups(ps) if groups else ps
    opt = getattr(lib.optim, opt_name)(params, **kwargs)
    traj, sign = [], -1 if kwargs.get("maximize") else 1
    for _ in range(steps):
        for p, g in zip(ps, grads_of([p.detach().numpy() for p in ps], sign)):
            p.grad = lib.from_numpy(g)
        opt.step()
        traj.append([p.detach().numpy().copy() for p in ps])
    return traj, opt, ps


def run_minidl(*args, **kwargs):
    return run(minidl, *args, **kwargs)


def run_torch(*args, **kwargs):
    return run(torch, *args, **kwargs)


def assert_same_trajectory(a, b, dtype):
    for step, (pa, pb) in enumerate(zip(a, b)):
        for i, (x, y) in enumerate(zip(pa, pb)):
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_allclose(x, y, err_msg=f"step {step}, param {i}", **TOL[dtype])


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict()),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.6))),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.8), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch(name, kwargs, dtype):
    ours, _, ps = run_minidl(name, kwargs, dtype)
    theirs, _, _ = run_torch(name, kwargs, dtype)
    assert_same_trajectory(ours, theirs, dtype)
    assert all(p.dtype == minidl.as_tensor(np.zeros(1, dtype)).dtype for p in ps)


def two_groups(ps):
    return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.003, "weight_decay": 0.2}]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.05)), ("AdamW", dict(lr=0.05)),
                                         ("RMSprop", dict(lr=0.01)), ("Adagrad", dict(lr=0.1))])
def test_param_groups_match_torch(name, kwargs):
    ours, opt, _ = run_minidl(name, kwargs, np.float64, groups=two_groups)
    theirs, topt, _ = run_torch(name, kwargs, np.float64, groups=two_groups)
    assert_same_trajectory(ours, theirs, np.float64)
    assert [g["lr"] for g in opt.param_groups] == [0.05 if "lr" in kwargs and name != "RMSprop"
                                                    and name != "Adagrad" else kwargs["lr"],
                                                    0.003]
    ours_groups = opt.state_dict()["param_groups"]
    torch_groups = topt.state_dict()["param_groups"]
    assert ours_groups == torch_groups


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.05, amsgrad=True)),
                                         ("AdamW", dict(lr=0.05)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                         ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
                                         ("Adadelta", dict()), ("Adamax", dict()),
                                         ("NAdam", dict()), ("RAdam", dict())])
def test_state_dict_matches_torch_layout(name, kwargs):
    _, opt, _ = run_minidl(name, kwargs, np.float32, steps=3)
    _, topt, _ = run_torch(name, kwargs, np.float32, steps=3)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for k, st in theirs["state"].items():
        assert sorted(ours["state"][k]) == sorted(st)
        for key, v in st.items():
            mine = ours["state"][k][key]
            assert mine.dtype.name == str(v.dtype).replace("torch.", "")
            np.testing.assert_allclose(mine.numpy(), v.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.05, momentum=0.9)),
                                         ("Adam", dict(lr=0.05, amsgrad=True)),
                                         ("AdamW", dict(lr=0.05)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                         ("Adagrad", dict(lr=0.1, lr_decay=0.1))])
def test_state_dict_round_trip_resumes_exactly(name, kwargs):
    """10 steps, checkpoint through minidl.save / load, 10 more in a fresh optimizer."""
    full, _, _ = run_minidl(name, kwargs, np.float32, steps=20, groups=two_groups)
    first, opt, ps = run_minidl(name, kwargs, np.float32, steps=10, groups=two_groups)
    buf = io.BytesIO()
    save({"optim": opt.state_dict(), "params": [p.detach() for p in ps]},
                              buf)
    buf.seek(0)
    ckpt = load(buf)
    ps2 = [minidl.from_numpy(t.numpy().copy()).requires_grad_() for t in ckpt["params"]]
    opt2 = getattr(optim, name)(two_groups(ps2), **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    opt.step()  # the original keeps going: it must not share buffers with the copy
    rest = []
    for _ in range(10):
        for p, g in zip(ps2, grads_of([p.detach().numpy() for p in ps2])):
            p.grad = minidl.from_numpy(g)
        opt2.step()
        rest.append([p.detach().numpy().copy() for p in ps2])
    for a, b in zip(full[10:], rest):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_load_state_dict_from_torch_converted_to_numpy():
    _, topt, _ = run_torch("Adam", dict(lr=0.05), np.float32, steps=5)
    sd = topt.state_dict()
    sd = {"state": {k: {n: v.numpy() for n, v in st.items()} for k, st in sd["state"].items()},
          "param_groups": sd["param_groups"]}
    ps = [minidl.from_numpy(a.copy()).requires_grad_() for a in make_params(np.float32)]
    opt = optim.Adam(ps, lr=0.05)
    opt.load_state_dict(sd)
    assert float(opt.state[ps[0]]["step"]) == 5.0
    assert isinstance(opt.state[ps[1]]["exp_avg"], minidl.Tensor)


def test_zero_grad():
    p = minidl.randn(3, requires_grad=True)
    q = minidl.randn(2, requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1)
    p.grad = minidl.ones(3)
    opt.zero_grad()
    assert p.grad is None and q.grad is None
    p.grad = minidl.ones(3)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(p.grad.numpy() == 0)


def test_step_skips_params_without_grad_and_returns_closure_loss():
    p = minidl.tensor([1.0, 2.0], requires_grad=True)
    q = minidl.tensor([3.0], requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    calls = []

    def closure():
        calls.append(minidl.is_grad_enabled())
        p.grad = minidl.tensor([1.0, -1.0])
        return 1.5

    assert opt.step(closure) == 1.5 and calls == [True]
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 2.1], rtol=1e-6)
    assert q.detach().numpy().tolist() == [3.0] and q not in opt.state
    assert p._version > 0  # an in-place write, visible to autograd's version checks


def test_step_runs_without_grad_and_keeps_dtype():
    p = minidl.randn(5, requires_grad=True)
    p.grad = minidl.randn(5)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    assert p.is_leaf and p.grad_fn is None and p.dtype == minidl.float32
    assert opt.state[p]["momentum_buffer"].dtype == minidl.float32


def test_add_param_group_and_errors():
    p, q = minidl.randn(2, requires_grad=True), minidl.randn(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError,
                       match="can only optimize Tensors, but one of the params is float"):
        optim.SGD([p, 3.0], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize("ctor,match", [
    (lambda ps: optim.SGD(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.SGD(ps, momentum=-0.1), "Invalid momentum value"),
    (lambda ps: optim.SGD(ps, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda ps: optim.SGD(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda ps: optim.Adam(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: optim.AdamW(ps, lr=-0.1), "Invalid learning rate"),
    (lambda ps: optim.RMSprop(ps, alpha=-1), "Invalid alpha value"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value: 1.5"),
    (lambda ps: optim.NAdam(ps, momentum_decay=-1), "Invalid momentum_decay value"),
    (lambda ps: optim.RAdam(ps, betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
])
def test_invalid_options(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor([minidl.randn(2, requires_grad=True)])


def test_load_state_dict_validates_groups():
    ps = [minidl.randn(2, requires_grad=True) for _ in range(3)]
    sd = optim.Adam(ps).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam(ps[:2]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam(ps).load_state_dict({"lr": 1})


def test_load_state_dict_restores_options_and_casts_to_param_dtype():
    p64 = minidl.randn(3, dtype=minidl.float64, requires_grad=True)
    p32 = minidl.randn(3, requires_grad=True)
    src = optim.Adam([p32], lr=0.5)
    p32.grad = minidl.ones(3)
    src.step()
    dst = optim.Adam([p64], lr=0.1)
    dst.load_state_dict(src.state_dict())
    assert dst.param_groups[0]["lr"] == 0.5
    assert dst.state[p64]["exp_avg"].dtype == minidl.float64
    assert dst.state[p64]["step"].dtype == minidl.float32
    assert dst.param_groups[0]["params"][0] is p64


def test_repr_and_hooks():
    p = minidl.randn(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    assert "SGD (" in repr(opt) and "lr: 0.1" in repr(opt)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    opt.step()
    h1.remove()
    opt.step()
    assert seen == ["pre", "post", "post"]


def test_subclass_with_own_step():
    class Sign(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        @minidl.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p._set_data_(p.detach().numpy() - group["lr"] * np.sign(p.grad.numpy()))

    p = minidl.tensor([1.0, -1.0], requires_grad=True)
    opt = Sign([p])
    p.grad = minidl.tensor([2.0, -3.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -0.9], rtol=1e-6)
    assert opt._opt_called


def test_named_parameters_accepted():
    p = minidl.randn(2, requires_grad=True)
    opt = optim.SGD([("w", p)], lr=0.1)
    assert opt.param_groups[0]["params"][0] is p
    assert opt.param_groups[0]["param_names"] == ["w"]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("AdamW", dict(lr=0.01, weight_decay=0.1)),
                                         ("RMSprop", dict(lr=0.01, centered=True)),
                                         ("Adagrad", dict(lr=0.1))])
def test_mlp_training_with_autograd_matches_torch(name, kwargs):
    """A real training loop: nn.Linear MLP, cross-entropy, backward, step, zero_grad."""
    r = np.random.default_rng(1)
    x = r.standard_normal((16, 5)).astype(np.float32)
    y = r.integers(0, 3, 16)
    nets = {}
    for lib in (minidl, torch):
        lib.manual_seed(0)
        nets[lib] = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    with torch.no_grad():
        for pm, pt in zip(nets[minidl].parameters(), nets[torch].parameters()):
            pt.copy_(torch.from_numpy(pm.detach().numpy().copy()))
    losses = {}
    for lib in (minidl, torch):
        net = nets[lib]
        opt = getattr(lib.optim, name)(net.parameters(), **kwargs)
        xs, ys = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())
        losses[lib] = []
        for _ in range(20):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(xs), ys)
            loss.backward()
            opt.step()
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[minidl], losses[torch], rtol=1e-4, atol=1e-6)
    assert losses[minidl][-1] < losses[minidl][0]
    for pm, pt in zip(nets[minidl].parameters(), nets[torch].parameters()):
        np.testing.assert_allclose(pm.detach().numpy(), pt.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_differentiable_steps_are_refused_not_ignored():
    import pytest as _pytest

    import minidl as _md
    p = _md.zeros(2, requires_grad=True)
    with _pytest.raises(NotImplementedError, match="differentiable=True"):
        _md.optim.Adam([p], differentiable=True)
