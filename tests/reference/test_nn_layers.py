"""Every nn layer against torch's: the torch layer's state_dict (as NumPy arrays) is loaded into
the minidl layer, both run on the same input, and the outputs and the gradients of the input
and of every parameter are compared (float32 and float64, train and eval mode). Default
initialisations are checked against torch's shapes, bounds and spreads."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from tests.reference.harness import TOL, as_pair, assert_close, compare, gradcheck

DTYPES = ["float32", "float64"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def compare_layer(md, tl, inputs, dtype="float32", train=True, seed=0, rtol=None):
    """Load ``tl``'s state into ``md``, run both on ``inputs``; compare outputs, buffers and the
    gradients of the float inputs and of every parameter."""
    tol = dict(TOL[dtype])
    if rtol is not None:
        tol["rtol"] = rtol
    tl = tl.to(getattr(torch, dtype))
    md.to(getattr(minidl, dtype))
    result = md.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    md.train(train)
    tl.train(train)
    pairs = [as_pair(x, dtype, True, False) for x in inputs]
    m_out = md(*[p[0] for p in pairs])
    t_out = tl(*[p[1] for p in pairs])
    m_outs = list(m_out) if isinstance(m_out, tuple) else [m_out]
    t_outs = list(t_out) if isinstance(t_out, tuple) else [t_out]
    for i, (m, t) in enumerate(zip(m_outs, t_outs)):
        assert_close(m, t, what=f"output {i}", **tol)
    for (name, mb), (tname, tb) in zip(md.named_buffers(), tl.named_buffers()):
        assert name == tname
        assert_close(mb, tb, what=f"buffer {name}", **tol)
    rng = np.random.default_rng(seed)
    m_roots, t_roots, m_gs, t_gs = [], [], [], []
    for m, t in zip(m_outs, t_outs):
        if t.requires_grad:
            g = rng.standard_normal(tuple(t.shape)).astype(dtype)
            m_roots.append(m)
            t_roots.append(t)
            m_gs.append(minidl.tensor(g))
            t_gs.append(torch.tensor(g))
    if not t_roots:
        return m_outs, t_outs
    minidl.autograd.backward(m_roots, m_gs)
    torch.autograd.backward(t_roots, t_gs)
    for i, (m, t) in enumerate(pairs):
        if isinstance(t, torch.Tensor) and t.grad is not None:
            assert m.grad is not None, f"no gradient for input {i}"
            assert_close(m.grad, t.grad, what=f"grad of input {i}", **tol)
    m_params = dict(md.named_parameters())
    for name, tp in tl.named_parameters():
        mp = m_params.pop(name)
        if tp.grad is None:
            assert mp.grad is None or not np.any(mp.grad.numpy()), name
        else:
            assert mp.grad is not None, f"no gradient for {name}"
            assert_close(mp.grad, tp.grad, what=f"grad of {name}", **tol)
    assert not m_params, f"parameters torch lacks: {list(m_params)}"
    return m_outs, t_outs


def _both(name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)


# ------------------------------------------------------------------ layers
LAYERS = [
    ("Linear", (5, 3), {}, [(4, 5)]),
    ("Linear", (5, 3), {"bias": False}, [(2, 3, 5)]),
    ("Bilinear", (3, 4, 2), {}, [(5, 3), (5, 4)]),
    ("Identity", (3,), {"foo": 1}, [(2, 3)]),
    ("Conv1d", (3, 4, 3), {}, [(2, 3, 9)]),
    ("Conv1d", (4, 6, 2), {"stride": 2, "padding": 1, "groups": 2, "bias": False}, [(2, 4, 8)]),
    ("Conv1d", (3, 2, 3), {"padding": "same", "dilation": 2, "padding_mode": "circular"},
     [(2, 3, 7)]),
    ("Conv2d", (3, 4, 3), {}, [(2, 3, 6, 6)]),
    ("Conv2d", (4, 4, (3, 2)), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2),
                               "groups": 4}, [(2, 4, 7, 6)]),
    ("Conv2d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect"}, [(1, 2, 5, 5)]),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "replicate"}, [(1, 2, 4, 5)]),
    ("Conv2d", (2, 3, 4), {"padding": "same"}, [(1, 2, 5, 6)]),
    ("Conv2d", (2, 3, 3), {"padding": "valid"}, [(2, 5, 5)]),
    ("Conv3d", (2, 2, 2), {"padding": 1}, [(1, 2, 3, 3, 3)]),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2}, [(2, 3, 5)]),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2}, [(2, 4, 4, 4)]),
    ("ConvTranspose2d", (2, 3, (2, 3)), {"dilation": 2, "bias": False}, [(1, 2, 3, 3)]),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2}, [(1, 2, 2, 2, 2)]),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 9)]),
    ("MaxPool2d", (2,), {}, [(2, 3, 6, 6)]),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [(1, 2, 7, 7)]),
    ("AvgPool1d", (2,), {}, [(2, 3, 8)]),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [(2, 2, 7, 7)]),
    ("AvgPool2d", (2,), {"divisor_override": 3}, [(1, 2, 4, 4)]),
    ("AdaptiveAvgPool1d", (3,), {}, [(2, 3, 7)]),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, [(2, 3, 5, 7)]),
    ("AdaptiveAvgPool2d", (1,), {}, [(2, 3, 5, 5)]),
    ("AdaptiveMaxPool2d", (2,), {}, [(2, 3, 5, 5)]),
    ("Embedding", (10, 4), {"padding_idx": 2}, [np.array([[1, 2, 3], [9, 2, 2]])]),
    ("Embedding", (10, 4), {"padding_idx": -1}, [np.array([4, 9, 4])]),
    ("Embedding", (10, 4), {"max_norm": 1.0}, [np.array([[1, 2], [1, 5]])]),
    ("LayerNorm", (4,), {}, [(3, 5, 4)]),
    ("LayerNorm", ((3, 4),), {"elementwise_affine": False}, [(2, 3, 4)]),
    ("LayerNorm", (4,), {"bias": False, "eps": 1e-3}, [(3, 4)]),
    ("GroupNorm", (2, 4), {}, [(3, 4, 5)]),
    ("GroupNorm", (1, 3), {"affine": False}, [(2, 3, 2, 2)]),
    ("RMSNorm", (4,), {}, [(3, 4)]),
    ("InstanceNorm1d", (3,), {}, [(2, 3, 5)]),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 4, 4)]),
    ("InstanceNorm1d", (3,), {"affine": True}, [(3, 6)]),
    ("Flatten", (), {}, [(2, 3, 4)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 3)), {}, [(4, 6)]),
    ("PReLU", (), {}, [(3, 4)]),
    ("PReLU", (3,), {"init": 0.1}, [(2, 3, 4)]),
    ("ZeroPad2d", ((1, 2, 0, 3),), {}, [(2, 3, 4, 4)]),
    ("ZeroPad1d", (2,), {}, [(2, 3, 4)]),
    ("ConstantPad2d", (1, 0.5), {}, [(1, 2, 3, 3)]),
    ("ConstantPad1d", ((0, 2), -1.0), {}, [(2, 5)]),
    ("ReflectionPad2d", ((2, 1, 1, 2),), {}, [(1, 2, 4, 5)]),
    ("ReflectionPad1d", (2,), {}, [(2, 3, 5)]),
    ("ReplicationPad2d", (2,), {}, [(1, 2, 3, 3)]),
    ("ReplicationPad1d", ((1, 3),), {}, [(2, 2, 4)]),
    ("CircularPad2d", (1,), {}, [(1, 2, 3, 4)]),
    ("CircularPad1d", ((2, 1),), {}, [(2, 3, 4)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("name,args,kwargs,inputs", LAYERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYERS)])
def test_layer_matches_torch(dtype, name, args, kwargs, inputs):
    md, tl = _both(name, *args, **kwargs)
    arrays = [x if isinstance(x, np.ndarray) else _rand(x, i) for i, x in enumerate(inputs)]
    for train in (True, False):
        compare_layer(md, tl, arrays, dtype, train)


ACTIVATIONS = [("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
               ("GELU", (), {}), ("GELU", ("tanh",), {}), ("Softmax", (1,), {}),
               ("LogSoftmax", (-1,), {}), ("Softmin", (1,), {}), ("ELU", (0.5,), {}),
               ("SELU", (), {}), ("CELU", (0.7,), {}), ("SiLU", (), {}), ("Mish", (), {}),
               ("Softplus", (2.0, 3.0), {}), ("Hardtanh", (-0.5, 0.8), {}), ("ReLU6", (), {}),
               ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("LogSigmoid", (), {}),
               ("Softsign", (), {}), ("Tanhshrink", (), {}), ("Threshold", (0.1, -2.0), {}),
               ("Hardshrink", (0.4,), {}), ("Softshrink", (0.4,), {}), ("GLU", (1,), {}),
               ("Softmax2d", (), {})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS,
                         ids=[a[0] + str(a[1]) for a in ACTIVATIONS])
def test_activation_layers_match_torch(dtype, name, args, kwargs):
    md, tl = _both(name, *args, **kwargs)
    # torch's float64 hardsigmoid / celu backward use float32 constants (1/6, 1/alpha)
    rtol = 1e-6 if name in ("Hardsigmoid", "CELU") and dtype == "float64" else None
    compare_layer(md, tl, [_rand((2, 4, 3, 3)) * 3], dtype, rtol=rtol)


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU", "SiLU", "Hardtanh", "ReLU6",
                                  "SELU", "CELU", "Mish", "Hardswish", "Hardsigmoid"])
def test_inplace_activations(name):
    x = _rand((3, 4))
    m = getattr(nn, name)(inplace=True)
    t = getattr(tnn, name)(inplace=True)
    mx, tx = minidl.tensor(x), torch.tensor(x)
    out = m(mx)
    t(tx)
    assert out is mx
    np.testing.assert_allclose(mx.numpy(), tx.numpy(), rtol=1e-12)
    # inside a graph, in place on a non-leaf: gradients still match
    compare(lambda a: m(a * 1.0), lambda a: t(a * 1.0), [x * 3], dtype="float64",
            rtol=1e-7 if name == "Hardsigmoid" else None)


ACT_FUNCTIONS = [("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("gelu", {}),
                 ("gelu", {"approximate": "tanh"}), ("elu", {"alpha": 0.7}), ("selu", {}),
                 ("celu", {"alpha": 0.5}), ("silu", {}), ("mish", {}),
                 ("softplus", {"beta": 2, "threshold": 1}), ("hardtanh", {}),
                 ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}),
                 ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}), ("softsign", {}),
                 ("tanhshrink", {}), ("hardshrink", {}), ("softshrink", {"lambd": 0.3}),
                 ("threshold", {"threshold": 0.2, "value": 1.5})]


@pytest.mark.parametrize("name,kw", ACT_FUNCTIONS, ids=[f"{a[0]}{a[1]}" for a in ACT_FUNCTIONS])
def test_activation_functions(name, kw):
    x = _rand((4, 3, 5)) * 3
    for dtype in DTYPES:
        rtol = 1e-7 if name == "hardsigmoid" and dtype == "float64" else None
        compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x],
                dtype=dtype, noncontiguous=True, rtol=rtol)
    gradcheck(lambda a: getattr(F, name)(a, **kw), [x[:2, :2, :2] + 0.01])


def test_activation_boundaries_match_torch():
    """Gradients exactly at the kinks follow torch's conventions."""
    x = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])
    for name, kw in [("relu6", {}), ("hardtanh", {}), ("hardsigmoid", {}), ("hardswish", {}),
                     ("leaky_relu", {}), ("elu", {"alpha": 2.0}), ("selu", {}),
                     ("celu", {"alpha": 2.0}), ("hardshrink", {"lambd": 0.5}),
                     ("softshrink", {"lambd": 0.5}),
                     ("threshold", {"threshold": 1.0, "value": 0.0}),
                     ("softplus", {"beta": 1.0, "threshold": 0.0})]:
        compare(lambda a, name=name, kw=kw: getattr(F, name)(a, **kw),
                lambda a, name=name, kw=kw: getattr(TF, name)(a, **kw), [x], dtype="float32")


def test_activation_errors():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(minidl.randn(3), approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(minidl.randn(3), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.leaky_relu(minidl.randn(3, requires_grad=True), inplace=True)
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(minidl.randn(2, 3), minidl.ones(2))


def test_prelu_gradcheck():
    gradcheck(lambda x, w: F.prelu(x, w), [_rand((2, 3, 2)), np.array([0.1, 0.2, 0.3])])
    gradcheck(lambda x, w: F.prelu(x, w), [_rand((2, 3)), np.array([0.25])])


# ---------------------------------------------------------------- batch norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (3, 3, 4, 4)),
                                        ("BatchNorm3d", (2, 3, 2, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False}, {"bias": False},
                                    {"momentum": 0.5, "eps": 1e-3}])
def test_batch_norm_layers(dtype, name, shape, kwargs):
    md, tl = _both(name, 3, **kwargs)
    for step in range(3):  # running statistics accumulate over several training steps
        compare_layer(md, tl, [_rand(shape, step) * 2 + 1], dtype, train=True, seed=step)
    compare_layer(md, tl, [_rand(shape, 9)], dtype, train=False)
    assert md.num_batches_tracked is None or md.num_batches_tracked.item() == 3


def test_batch_norm_layer_checks_input_dim():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(minidl.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(minidl.randn(2, 3, 4))


def test_batch_norm_loads_state_dict_without_num_batches_tracked():
    sd = {k: v.numpy() for k, v in tnn.BatchNorm2d(3).state_dict().items()
          if k != "num_batches_tracked"}
    assert nn.BatchNorm2d(3).load_state_dict(sd).missing_keys == []


# ------------------------------------------------------------------- dropout
def test_dropout_layer_train_and_eval():
    minidl.manual_seed(0)
    d = nn.Dropout(0.25)
    x = minidl.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # dx = mask / (1 - p)
    d.eval()
    assert d(x) is x


def test_dropout_is_seeded_and_validated():
    minidl.manual_seed(3)
    a = F.dropout(minidl.ones(50), 0.5).numpy()
    minidl.manual_seed(3)
    b = F.dropout(minidl.ones(50), 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert F.dropout(minidl.ones(5), 1.0).numpy().sum() == 0
    x = minidl.ones(4)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)


def test_dropout_inplace_and_dtype():
    x = minidl.ones(10, 10, dtype=minidl.float64)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and out.dtype == minidl.float64
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("fn,shape,mask_shape", [("dropout1d", (4, 6, 5), (4, 6)),
                                                 ("dropout1d", (6, 5), (6,)),
                                                 ("dropout2d", (4, 6, 3, 3), (4, 6)),
                                                 ("dropout2d", (4, 6, 5), (4, 6)),
                                                 ("dropout3d", (2, 6, 2, 2, 2), (2, 6))])
def test_channel_dropout_zeroes_whole_channels(fn, shape, mask_shape):
    minidl.manual_seed(1)
    x = minidl.ones(*shape, requires_grad=True)
    y = getattr(F, fn)(x, 0.5).detach().numpy()
    per_channel = y.reshape(mask_shape + (-1,))
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel == 0).all(-1).mean() < 1


def test_alpha_dropout_keeps_selu_statistics():
    minidl.manual_seed(0)
    x = minidl.randn(200000, dtype=minidl.float64)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    xt = minidl.randn(3, 4)
    assert F.alpha_dropout(xt, 0.5) is xt  # training=False by default, as torch


# ------------------------------------------------------------ loss modules
def test_loss_modules_match_torch():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    idx = np.array([0, 2, 1, 2])
    p, t01 = rng.random((4, 3)) * 0.9 + 0.05, rng.random((4, 3))
    w = rng.random(3) + 0.5
    cases = [("MSELoss", {}, [x, y]), ("L1Loss", {"reduction": "sum"}, [x, y]),
             ("SmoothL1Loss", {"beta": 0.5}, [x, y]), ("HuberLoss", {"delta": 0.5}, [x, y]),
             ("CrossEntropyLoss", {"label_smoothing": 0.1}, [x, idx]),
             ("CrossEntropyLoss", {"ignore_index": 2, "reduction": "none"}, [x, idx]),
             ("NLLLoss", {}, [x, idx]), ("BCELoss", {}, [p, t01]),
             ("BCEWithLogitsLoss", {}, [x, t01]),
             ("KLDivLoss", {"reduction": "batchmean"}, [x, p])]
    for name, kw, inputs in cases:
        for dtype in DTYPES:
            md, tl = _both(name, **kw)
            compare_layer(md, tl, inputs, dtype)
    for dtype in DTYPES:  # weight buffers travel through the state_dict
        md = nn.CrossEntropyLoss(weight=minidl.ones(3))
        tl = tnn.CrossEntropyLoss(weight=torch.tensor(w))
        compare_layer(md, tl, [x, idx], dtype)
        md = nn.BCEWithLogitsLoss(weight=minidl.ones(3), pos_weight=minidl.ones(3))
        tl = tnn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w[::-1].copy()))
        compare_layer(md, tl, [x, t01], dtype)
    assert list(nn.CrossEntropyLoss(weight=minidl.ones(3)).state_dict()) == ["weight"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nn.MSELoss(size_average=False).reduction == "sum"
        assert tnn.MSELoss(size_average=False).reduction == "sum"


# -------------------------------------------------------- default initialisation
def _u(bound):
    return ("uniform", bound)


INIT_LAYERS = [  # layer, args, kwargs, {parameter: expected distribution (torch's rule)}
    ("Linear", (300, 200), {}, {"weight": _u(1 / math.sqrt(300)), "bias": _u(1 / math.sqrt(300))}),
    ("Linear", (10, 3), {}, {"weight": _u(1 / math.sqrt(10)), "bias": _u(1 / math.sqrt(10))}),
    ("Conv2d", (16, 32, 3), {}, {"weight": _u(1 / math.sqrt(144)), "bias": _u(1 / 12)}),
    ("Conv1d", (6, 40, 5), {}, {"weight": _u(1 / math.sqrt(30)), "bias": _u(1 / math.sqrt(30))}),
    ("Conv2d", (8, 16, 3), {"groups": 4},
     {"weight": _u(1 / math.sqrt(18)), "bias": _u(1 / math.sqrt(18))}),
    ("Bilinear", (20, 30, 40), {},
     {"weight": _u(1 / math.sqrt(20)), "bias": _u(1 / math.sqrt(20))}),
    ("ConvTranspose2d", (16, 32, 3), {}, {"weight": _u(1 / math.sqrt(288)),
                                          "bias": _u(1 / math.sqrt(288))}),
    ("Embedding", (500, 64), {}, {"weight": ("normal", 1.0)}),
    ("PReLU", (5,), {}, {"weight": ("const", 0.25)}),
    ("BatchNorm2d", (7,), {}, {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    ("LayerNorm", (9,), {}, {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    ("GroupNorm", (2, 6), {}, {"weight": ("const", 1.0), "bias": ("const", 0.0)}),
    ("RMSNorm", (5,), {}, {"weight": ("const", 1.0)}),
]


def _check_distribution(a, kind, value, what):
    a = a.astype(np.float64).ravel()
    n = a.size
    if kind == "const":
        np.testing.assert_array_equal(a, value, err_msg=what)
        return
    std = value / math.sqrt(3) if kind == "uniform" else value
    if kind == "uniform":
        assert np.abs(a).max() <= value * (1 + 1e-6), what
        if n >= 30:
            assert np.abs(a).max() > 0.8 * value, what
    assert abs(a.mean()) < 5 * std / math.sqrt(n), what
    assert abs(a.std() - std) < 5 * std / math.sqrt(n) + 0.05 * std, what


@pytest.mark.parametrize("spec", INIT_LAYERS, ids=[s[0] + str(s[1]) for s in INIT_LAYERS])
def test_default_init_matches_torch(spec):
    """Same parameter names, shapes, dtypes and distributions as torch's reset_parameters."""
    name, args, kwargs, expected = spec
    minidl.manual_seed(0)
    torch.manual_seed(0)
    md, tl = _both(name, *args, **kwargs)
    m_named = dict(md.named_parameters())
    assert list(m_named) == [n for n, _ in tl.named_parameters()] == list(expected)
    for n, tp in tl.named_parameters():
        mp = m_named[n]
        assert mp.dtype == minidl.float32 and mp.requires_grad
        assert tuple(mp.shape) == tuple(tp.shape), n
        kind, value = expected[n]
        _check_distribution(tp.detach().numpy(), kind, value, f"torch {name}.{n}")
        _check_distribution(mp.detach().numpy(), kind, value, f"minidl {name}.{n}")
    for n, tb in tl.named_buffers():
        np.testing.assert_array_equal(md.get_buffer(n).numpy(), tb.numpy())


def test_init_is_seeded():
    minidl.manual_seed(5)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    minidl.manual_seed(5)
    b = nn.Linear(4, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_embedding_padding_row_and_from_pretrained():
    e = nn.Embedding(6, 3, padding_idx=1)
    assert not np.any(e.weight.detach().numpy()[1])
    out = e(minidl.tensor([[1, 2], [1, 1]]))
    out.sum().backward()
    assert not np.any(e.weight.grad.numpy()[1])
    w = minidl.randn(4, 2)
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and frozen.num_embeddings == 4
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(frozen(minidl.tensor([3])).numpy(), w.numpy()[[3]])
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    assert nn.Embedding(5, 2, padding_idx=-2).padding_idx == 3


def test_layer_reprs_match_torch():
    specs = [("Linear", (3, 4), {"bias": False}), ("Bilinear", (2, 3, 4), {}),
             ("Conv1d", (3, 4, 3), {}),
             ("Conv2d", (3, 4, (3, 5)), {"stride": 2, "padding": (1, 2), "dilation": 2,
                                         "bias": False, "padding_mode": "reflect"}),
             ("Conv2d", (4, 4, 3), {"padding": "same", "groups": 2}),
             ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                             "groups": 2}),
             ("ConvTranspose1d", (4, 6, 3), {"bias": False}),
             ("MaxPool2d", (2,), {}), ("MaxPool1d", (3, 1, 1), {}), ("AvgPool2d", (2,), {}),
             ("AvgPool1d", (2,), {}), ("AdaptiveAvgPool2d", ((1, 1),), {}),
             ("AdaptiveMaxPool2d", (2,), {}), ("LeakyReLU", (0.2, True), {}), ("GELU", (), {}),
             ("Softmax", (), {}), ("Softmax", (1,), {}), ("ELU", (), {}), ("SiLU", (True,), {}),
             ("Softplus", (), {}), ("Hardtanh", (), {}), ("ReLU6", (True,), {}),
             ("PReLU", (), {}), ("Threshold", (0.1, 20), {}), ("Hardshrink", (), {}),
             ("Dropout", (), {}), ("Dropout2d", (0.3,), {}), ("Embedding", (10, 3), {}),
             ("Embedding", (10, 3), {"padding_idx": 0, "max_norm": 1.0}),
             ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
             ("BatchNorm2d", (3,), {"bias": False}), ("LayerNorm", (4,), {}),
             ("LayerNorm", ((3, 4),), {"elementwise_affine": False}), ("GroupNorm", (2, 4), {}),
             ("InstanceNorm2d", (3,), {}), ("RMSNorm", (4,), {}), ("Flatten", (), {}),
             ("Unflatten", (1, (2, 5)), {}), ("Identity", (), {}), ("CrossEntropyLoss", (), {}),
             ("MSELoss", (), {}), ("ReLU", (), {}), ("Tanh", (), {}), ("GLU", (), {}),
             ("Softshrink", (), {}), ("ZeroPad2d", (1,), {}), ("ZeroPad1d", (2,), {}),
             ("ConstantPad2d", (1, 0.5), {}), ("ReflectionPad1d", (2,), {}),
             ("ReplicationPad2d", ((1, 0, 2, 0),), {}), ("CircularPad1d", (1,), {})]
    for name, args, kwargs in specs:
        md, tl = _both(name, *args, **kwargs)
        assert repr(md) == repr(tl), name


def test_conv_padding_validation():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_dropout_kernels_gradcheck_with_fixed_masks():
    from minidl.ops.dropout import AlphaDropout, Dropout
    rng = np.random.default_rng(0)
    mask = (rng.random((3, 4)) > 0.5) * 2.0
    gradcheck(lambda x: Dropout.apply(x, mask), [rng.standard_normal((3, 4))])
    keep = rng.random((3, 4)) > 0.3
    gradcheck(lambda x: AlphaDropout.apply(x, keep, a=1.2, b=0.1, fill=-1.7),
              [rng.standard_normal((3, 4))])


def test_conv_transpose_output_size():
    md, tl = _both("ConvTranspose2d", 2, 3, 3, stride=2, padding=1)
    md.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    x = _rand((1, 2, 4, 4)).astype(np.float32)
    for size in ([8, 8], [1, 3, 7, 8]):
        mo = md(minidl.tensor(x), output_size=size)
        to = tl(torch.tensor(x), output_size=size)
        assert_close(mo, to, **TOL["float32"])
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        md(minidl.tensor(x), output_size=[10, 10])
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
