"""Module semantics against torch.nn.Module: registration, traversal order, state_dict keys and
loading (with torch's error messages), hooks, modes, dtype moves, printing."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import minidl
import minidl.nn as nn


def build(lib_nn):
    """The same architecture written once, for either library."""
    class Block(lib_nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = lib_nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn = lib_nn.BatchNorm2d(c)
            self.act = lib_nn.ReLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x))) + x

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = lib_nn.Conv2d(1, 4, 3, padding=1)
            self.blocks = lib_nn.Sequential(Block(4), Block(4))
            self.scale = lib_nn.Parameter(lib_nn.init.ones_(lib_nn.Linear(1, 1).weight))
            self.register_buffer("steps", (lib_nn.Linear(1, 1).weight * 0).detach())
            self.register_buffer("cache", (lib_nn.Linear(1, 1).weight * 0).detach(),
                                 persistent=False)
            self.heads = lib_nn.ModuleDict({"cls": lib_nn.Linear(4, 3), "aux": lib_nn.Linear(4, 2)})
            self.extra = lib_nn.ModuleList([lib_nn.LayerNorm(4), lib_nn.Dropout(0.1)])
            self.tied = self.heads["cls"]  # shared module: listed once by named_parameters

        def forward(self, x):
            h = self.blocks(self.stem(x)).mean((2, 3)) * self.scale.reshape(())
            h = self.extra[1](self.extra[0](h))
            return self.heads["cls"](h), self.heads["aux"](h)

    return Net()


@pytest.fixture
def nets():
    return build(nn), build(tnn)


def test_named_parameters_buffers_modules_order_equals_torch(nets):
    m, t = nets
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in m.named_parameters(prefix="net", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="net", recurse=False)]
    assert len(list(m.parameters())) == len(list(t.parameters()))
    assert len(list(m.modules())) == len(list(t.modules()))


def test_state_dict_keys_and_loading_from_torch(nets):
    m, t = nets
    assert list(m.state_dict()) == list(t.state_dict())
    assert "cache" not in m.state_dict()
    sd = m.state_dict()
    assert not sd["stem.weight"].requires_grad
    assert m.state_dict(keep_vars=True)["stem.weight"] is m.stem.weight
    assert list(m.state_dict(prefix="model.")) == ["model." + k for k in t.state_dict()]
    # a torch checkpoint converted to NumPy loads, and both models then agree
    result = m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert repr(result) == "<All keys matched successfully>"
    m.eval()
    t.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    for mo, to in zip(m(minidl.tensor(x)), t(torch.tensor(x))):
        np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    # and torch tensors / minidl tensors load too
    m.load_state_dict(t.state_dict())
    m.load_state_dict(m.state_dict())


def test_load_state_dict_error_messages_equal_torch(nets):
    m, t = nets
    sd_t = t.state_dict()
    bad = {k: v for k, v in sd_t.items() if k != "stem.bias"}
    bad["foo.weight"] = torch.ones(1)
    bad["heads.aux.weight"] = torch.ones(5, 5)
    with pytest.raises(RuntimeError) as t_err:
        t.load_state_dict(bad)
    with pytest.raises(RuntimeError) as m_err:
        m.load_state_dict({k: v.numpy() for k, v in bad.items()})
    assert str(m_err.value) == str(t_err.value).replace("torch.Size", "minidl.Size")
    assert "size mismatch for heads.aux.weight: copying a param with shape minidl.Size([5, 5]) " \
           "from checkpoint, the shape in current model is minidl.Size([2, 4])." in str(m_err.value)
    # strict=False reports, but a size mismatch is still an error
    ok = {k: v.numpy() for k, v in sd_t.items() if k != "stem.bias"}
    ok["foo"] = np.ones(1)
    t_res = t.load_state_dict({k: torch.tensor(v) for k, v in ok.items()}, strict=False)
    m_res = m.load_state_dict(ok, strict=False)
    assert m_res.missing_keys == t_res.missing_keys == ["stem.bias"]
    assert m_res.unexpected_keys == t_res.unexpected_keys == ["foo"]
    assert repr(m_res) == repr(t_res)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1])
    with pytest.raises(RuntimeError, match='While copying the parameter named "stem.weight"'):
        m.load_state_dict({**ok, "stem.weight": 3}, strict=False)


def test_load_state_dict_casts_and_copies_in_place():
    m = nn.Linear(3, 2)
    w = m.weight
    m.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    assert m.weight is w and w.dtype == minidl.float32 and w._version > 0
    np.testing.assert_array_equal(w.detach().numpy(), 1)
    m.load_state_dict({"weight": np.full((2, 3), 2.0), "bias": np.zeros(2)}, assign=True)
    assert m.weight is not w and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), 2)


def _registration_errors(lib, ones):
    """(type, message) of the error each misuse of ``lib.Linear``'s registration raises."""
    m = lib.Linear(2, 2)
    errors = []
    for action in [lambda: setattr(m, "weight", ones(2, 2)),
                   lambda: m.register_buffer("weight", ones(1)),
                   lambda: m.register_buffer("a.b", ones(1)),
                   lambda: m.register_buffer("", ones(1)),
                   lambda: m.register_buffer(1, ones(1)),
                   lambda: m.register_buffer("c", 3),
                   lambda: m.register_parameter("c", ones(1)),
                   lambda: m.add_module("e", 3),
                   lambda: m.add_module("weight", lib.ReLU()),
                   lambda: m.foo,
                   lambda: m.train("yes")]:
        with pytest.raises(Exception) as e:
            action()
        errors.append((type(e.value), str(e.value).replace("torch.", "")))
    return errors


def test_registration_rules_and_errors_equal_torch():
    m_errors = _registration_errors(nn, minidl.ones)
    t_errors = _registration_errors(tnn, torch.ones)
    assert [e[0] for e in m_errors] == [e[0] for e in t_errors]
    for (_, me), (_, te) in zip(m_errors, t_errors):
        assert me.replace("minidl.", "") == te


def test_setattr_registers_and_reassigns():
    m = nn.Module()
    m.w = nn.Parameter(minidl.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("b", minidl.zeros(1))
    m.b = minidl.ones(1)  # re-assigning a buffer keeps it a buffer
    m.plain = 3
    m.buf = nn.Buffer(minidl.ones(3))
    m.tmp = nn.Buffer(minidl.ones(1), persistent=False)
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["b", "buf", "tmp"] and m.plain == 3
    assert list(m.state_dict()) == ["w", "b", "buf", "sub.weight", "sub.bias"]
    m.w = None
    assert m.w is None and list(dict(m.named_parameters())) == ["sub.weight", "sub.bias"]
    m.sub = nn.ReLU()
    assert isinstance(m.sub, nn.ReLU)
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        _ = m.sub
    m.w = nn.Parameter(minidl.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'Linear' as parameter 'w'"):
        m.w = nn.Linear(1, 1)  # as in torch, only a Parameter or None may replace one
    m.p1, m.p2 = nn.Parameter(minidl.ones(1)), nn.Parameter(minidl.ones(1))
    m.p1 = nn.Parameter(minidl.zeros(1))  # re-assignment keeps the registration order
    assert list(m._parameters) == ["w", "p1", "p2"]
    assert {"w", "b", "buf"} <= set(dir(m))


def test_module_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.x = nn.Parameter(minidl.ones(1))
    with pytest.raises(AttributeError,
                       match=r"cannot assign parameters before Module.__init__\(\)"):
        Bad()
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  r'"forward" function'):
        nn.Module()(1)


def test_get_submodule_parameter_buffer(nets):
    m, t = nets
    assert m.get_submodule("blocks.1.bn") is m.blocks[1].bn
    assert m.get_parameter("blocks.0.conv.weight") is m.blocks[0].conv.weight
    assert m.get_buffer("blocks.0.bn.running_mean") is m.blocks[0].bn.running_mean
    for target, getter in [("blocks.0.foo", "get_submodule"), ("stem.weight", "get_submodule"),
                           ("stem.foo", "get_parameter"), ("stem", "get_parameter"),
                           ("blocks.0.act.weight", "get_parameter")]:
        with pytest.raises(AttributeError) as te:
            getattr(t, getter)(target)
        with pytest.raises(AttributeError) as me:
            getattr(m, getter)(target)
        assert str(me.value) == str(te.value)


def test_train_eval_requires_grad_zero_grad(nets):
    m, _ = nets
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m.blocks.eval()
    assert m.training and not m.blocks[0].bn.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("no")

    class FrozenBN(nn.BatchNorm1d):
        def train(self, mode=True):  # an override is honoured when the parent switches mode
            return super().train(False)
    net = nn.Sequential(nn.Linear(2, 2), FrozenBN(2))
    net.train()
    assert net.training and net[0].training and not net[1].training
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    lin = nn.Linear(3, 2)
    lin(minidl.randn(4, 3)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is not None and not lin.weight.grad.numpy().any()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_dtype_moves_keep_parameter_identity():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    w = m[0].weight
    m(minidl.randn(4, 2)).sum().backward()
    assert m.double() is m
    assert m[0].weight is w and w.dtype == minidl.float64 and w.grad.dtype == minidl.float64
    assert m[1].running_var.dtype == minidl.float64
    assert m[1].num_batches_tracked.dtype == minidl.int64  # integer buffers keep their dtype
    m.to(minidl.float32)
    assert w.dtype == minidl.float32
    m.to("cpu", minidl.float64)
    assert w.dtype == minidl.float64
    m.to(minidl.zeros(1, dtype=minidl.float16))
    assert w.dtype == minidl.float16
    m.float()
    assert m.cpu() is m and w.dtype == minidl.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        m.to(minidl.int64)


def test_apply_visits_children_first():
    seen = []
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]

    def init_weights(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
    m.apply(init_weights)
    assert m[0].weight.item() == 0.5


def test_forward_hooks_equal_torch_semantics():
    calls = []
    lin = nn.Linear(2, 2)

    def pre(mod, args):
        calls.append(("pre", len(args)))
        return args[0] * 0  # a single value replaces the args

    def post(mod, args, out):
        calls.append(("post", tuple(args[0].shape)))
        return out + 1

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(minidl.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [("pre", 1), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    calls.clear()
    lin(minidl.ones(3, 2))
    assert calls == []

    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("second"))
    lin.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    lin.register_forward_pre_hook(lambda m, a, kw: (a, kw), with_kwargs=True)
    lin.register_forward_hook(lambda m, a, kw, o: order.append("kw"), with_kwargs=True)
    lin(minidl.ones(1, 2))
    assert order == ["first", "second", "kw"]


def test_full_backward_hooks_equal_torch():
    results = {}
    for lib, name in ((nn, "m"), (tnn, "t")):
        ten = minidl.tensor if lib is nn else torch.tensor

        class Two(lib.Module):
            def forward(self, a, b):
                return a * b, a + b
        mod = Two()
        rec = {}

        def hook(m, gi, go, rec=rec):
            rec["gi"] = [g.numpy().copy() for g in gi]
            rec["go"] = [g.numpy().copy() for g in go]
            return (gi[0] * 2, gi[1])
        mod.register_full_backward_hook(hook)
        a = ten([1.0, 2.0], requires_grad=True)
        b = ten([3.0, 4.0], requires_grad=True)
        o1, o2 = mod(a, b)
        (o1.sum() * 2 + o2.sum()).backward()
        results[name] = (rec, a.grad.numpy(), b.grad.numpy())
    (mr, ma, mb), (tr, ta, tb) = results["m"], results["t"]
    for k in ("gi", "go"):
        for x, y in zip(mr[k], tr[k]):
            np.testing.assert_allclose(x, y)
    np.testing.assert_allclose(ma, ta)
    np.testing.assert_allclose(mb, tb)

    lin = nn.Linear(2, 2)
    seen = {}
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
    lin.register_full_backward_hook(lambda m, gi, go: seen.update(gi=gi, go=go))
    x = minidl.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 10)
    np.testing.assert_allclose(seen["go"][0].numpy(), 10)
    lin2 = nn.Linear(2, 2)
    got = {}
    lin2.register_full_backward_hook(lambda m, gi, go: got.update(gi=gi))
    lin2(minidl.ones(1, 2)).sum().backward()  # no input requires grad: grad_input is (None,)
    assert got["gi"] == (None,)


def test_repr_equals_torch():
    def make(lib):
        return lib.Sequential(lib.Linear(3, 4), lib.ReLU(), lib.Conv2d(3, 8, 3, padding=1),
                              lib.BatchNorm2d(8), lib.Dropout(),
                              lib.Sequential(lib.Tanh(), lib.Linear(2, 2, bias=False)),
                              lib.ModuleList([lib.Linear(2, 2) for _ in range(3)] + [lib.ReLU()]),
                              lib.ModuleDict({"a": lib.ReLU(), "b": lib.Linear(1, 1)}),
                              lib.ModuleList())
    assert repr(make(nn)) == repr(make(tnn))
    m, t = build(nn), build(tnn)
    assert repr(m) == repr(t)


def test_deepcopy_and_parameter_basics():
    m = nn.Sequential(nn.Linear(2, 2))
    c = copy.deepcopy(m)
    assert c[0].weight is not m[0].weight and isinstance(c[0].weight, nn.Parameter)
    np.testing.assert_array_equal(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    c[0].weight.detach().numpy()[:] = 7
    assert not (m[0].weight.detach().numpy() == 7).any()
    p = nn.Parameter(minidl.ones(2))
    assert p.requires_grad and isinstance(p, minidl.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(nn.Parameter(minidl.ones(2, dtype=minidl.float64))) == \
        repr(tnn.Parameter(torch.ones(2, dtype=torch.float64))).replace("torch.", "minidl.")
    assert nn.Parameter().shape == (0,)
    assert not nn.Parameter(minidl.ones(1), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(minidl.tensor([1, 2]))
    assert type(copy.deepcopy(p)) is nn.Parameter
    t = minidl.ones(3)
    assert nn.Parameter(t)._data is t._data  # shares memory
    assert type(p * 2) is minidl.Tensor


# ---------------------------------------------------------------- containers
def test_sequential_container():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    assert isinstance(s[1:], nn.Sequential) and list(s[1:]) == [b, c]
    assert list(s[1:]._modules) == ["1", "2"]  # slices keep their keys, like torch
    del s[1]
    assert list(s._modules) == ["0", "1"] and s[1] is c
    s.insert(1, b)
    assert list(s) == [a, b, c]
    s.append(nn.ELU())
    s.extend([nn.SiLU()])
    assert len(s) == 5 and list(s._modules) == [str(i) for i in range(5)]
    assert isinstance(s.pop(0), nn.ReLU) and len(s) == 4
    s[0] = nn.GELU()
    assert isinstance(s[0], nn.GELU)
    with pytest.raises(IndexError, match="index 10 is out of range"):
        s[10]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert named.fc is named[0] and list(dict(named.named_parameters())) == ["fc.weight", "fc.bias"]
    x = minidl.randn(4, 2)
    np.testing.assert_allclose(named(x).detach().numpy(),
                               named.act(named.fc(x)).detach().numpy())
    assert len(s + nn.Sequential(nn.ReLU())) == 5
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        nn.Sequential(1)


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(0, nn.ELU())
    assert [type(x).__name__ for x in ml] == ["ELU", "Linear", "ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"] and isinstance(ml[0], nn.Linear)
    assert len(list(ml.parameters())) == 2
    ml += [nn.ReLU()]
    assert len(ml) == 5 and isinstance(ml[-1], nn.ReLU)
    with pytest.raises(IndexError, match="index 9 is out of range"):
        ml[9]
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Tanh()
    md.update([("d", nn.ELU())])
    assert list(md) == ["b", "a", "c", "d"]
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c", "d"]
    assert [k for k, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        nn.ModuleDict({"b": 1})


def test_parameter_list_and_dict():
    pl = nn.ParameterList([minidl.ones(2), nn.Parameter(minidl.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(minidl.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    tl = tnn.ParameterList([torch.ones(2), tnn.Parameter(torch.zeros(3)), torch.ones(1)])
    assert repr(pl) == repr(tl).replace("torch.", "minidl.")
    pd = nn.ParameterDict({"a": minidl.ones(2), "b": minidl.ones(3, 3, dtype=minidl.float64)})
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["a"], nn.Parameter)
    td = tnn.ParameterDict({"a": torch.ones(2), "b": torch.ones(3, 3, dtype=torch.float64)})
    assert repr(pd) == repr(td).replace("torch.", "minidl.")
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    del pd["a"]
    assert list(pd) == ["b"] and "a" not in pd


def test_training_step_equals_torch():
    """A few SGD steps of a small classifier give the same losses in both libraries."""
    def make(lib):
        return lib.Sequential(lib.Linear(4, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Linear(8, 3))
    m, t = make(nn), make(tnn)
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    m_losses, t_losses = [], []
    for _ in range(5):
        lm = nn.CrossEntropyLoss()(m(minidl.tensor(x)), minidl.tensor(y))
        lt = tnn.CrossEntropyLoss()(t(torch.tensor(x)), torch.tensor(y))
        m.zero_grad()
        t.zero_grad()
        lm.backward()
        lt.backward()
        with minidl.no_grad():
            for p in m.parameters():
                p._set_data_(p.detach().numpy() - 0.1 * p.grad.numpy())
        with torch.no_grad():
            for p in t.parameters():
                p -= 0.1 * p.grad
        m_losses.append(lm.item())
        t_losses.append(lt.item())
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    assert m_losses[-1] < m_losses[0]


def test_torch_module_paths_resolve():
    from minidl.nn.modules.conv import Conv2d
    from minidl.nn.modules.loss import _Loss
    from minidl.nn.modules.module import Module
    from minidl.nn.modules.utils import _pair
    from minidl.nn.parameter import Parameter
    assert Conv2d is nn.Conv2d and Module is nn.Module and Parameter is nn.Parameter
    assert issubclass(nn.MSELoss, _Loss) and _pair(3) == (3, 3)
    assert nn.modules.Linear is nn.Linear
