"""nn.RNN / LSTM / GRU and the cells against torch's: torch's state_dict loaded into the
minidl layer, the same inputs and initial states; outputs, h_n / c_n and the gradients of the
input, the initial states and every parameter compared (float32 and float64), over
batch_first, bidirectional, stacked layers, projections, unbatched and packed input; the
constructor's parameters, init, repr and refusals, the input checks' errors."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import minidl
import minidl.nn.utils.rnn as mrnn
from minidl.ops.recurrent import RecurrentLayer, layer_reference
from tests.reference.harness import TOL, assert_close, gradcheck

# torch's oneDNN path says it falls back for projections
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

KINDS = {"RNN": {}, "RNN_relu": {"nonlinearity": "relu"}, "LSTM": {}, "GRU": {}}


def _pair(kind, dtype="float64", **kw):
    """(minidl layer, torch layer) with torch's weights loaded into minidl."""
    name, extra = kind.split("_")[0], KINDS.get(kind, {})
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(**extra, **kw).to(getattr(torch, dtype))
    m = getattr(minidl.nn, name)(**extra, **kw).to(getattr(minidl, dtype))
    result = m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    return m, t


def _leaf(a, lib):
    return lib.tensor(a.copy(), requires_grad=True)


def _states(kind, shape, hshape, rng, dtype):
    """None, or arrays for h_0 (and c_0)."""
    if shape is None:
        return None
    h = rng.standard_normal(shape).astype(dtype)
    return (h, rng.standard_normal(hshape).astype(dtype)) if kind == "LSTM" else (h,)


def run_both(kind, x, states=None, lengths=None, dtype="float64", train=False, **kw):
    """Run both layers; compare outputs, final states and every gradient."""
    m, t = _pair(kind, dtype, **kw)
    m.train(train)
    t.train(train)
    tol = TOL[dtype]
    results, leaves = [], []
    for lib, layer in ((minidl, m), (torch, t)):
        xs = _leaf(x.astype(dtype), lib)
        hs = None if states is None else [_leaf(s, lib) for s in states]
        inp = xs
        if lengths is not None:
            pack = mrnn if lib is minidl else trnn
            inp = pack.pack_padded_sequence(xs, lengths, batch_first=kw.get("batch_first", False),
                                            enforce_sorted=False)
        hx = None if hs is None else (tuple(hs) if kind == "LSTM" else hs[0])
        out, final = layer(inp, hx)
        if lengths is not None:
            assert isinstance(out, mrnn.PackedSequence if lib is minidl else trnn.PackedSequence)
            out = out.data
        outs = [out] + (list(final) if kind == "LSTM" else [final])
        results.append(outs)
        leaves.append([xs] + (hs or []) + list(layer.parameters()))
    rng = np.random.default_rng(5)
    cotangents = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in results[1]]
    for i, (mo, to) in enumerate(zip(*results)):
        assert_close(mo, to, what=f"output {i}", **tol)
    minidl.autograd.backward(results[0], [minidl.tensor(g) for g in cotangents])
    torch.autograd.backward(results[1], [torch.tensor(g) for g in cotangents])
    names = ["input"] + [f"state {i}" for i in range(len(states or ()))] + \
        [n for n, _ in t.named_parameters()]
    for name, ml, tl in zip(names, *leaves):
        assert_close(ml.grad, tl.grad, what=f"grad of {name}", **tol)
    return m, t


def _sizes(kw, batch, h=5):
    """(h_0 shape, c_0 shape) for a layer with the keywords ``kw``."""
    n = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    lead = (n,) if batch is None else (n, batch)
    return lead + (kw.get("proj_size") or h,), lead + (h,)


CONFIGS = [
    dict(),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, bidirectional=True),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", range(len(CONFIGS)))
@pytest.mark.parametrize("kind", list(KINDS))
def test_layers_match_torch(kind, config, dtype):
    kw = dict(input_size=3, hidden_size=5, **CONFIGS[config])
    rng = np.random.default_rng(config)
    x = rng.standard_normal((3, 4, 3) if kw.get("batch_first") else (4, 3, 3))
    run_both(kind, x, _states(kind.split("_")[0], *_sizes(kw, 3), rng, dtype), dtype=dtype,
             **kw)


@pytest.mark.parametrize("kind", list(KINDS))
def test_without_initial_state(kind):
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    run_both(kind, x, None, input_size=3, hidden_size=5, num_layers=2)


@pytest.mark.parametrize("kind", list(KINDS))
def test_unbatched(kind):
    kw = dict(input_size=3, hidden_size=5, bidirectional=True)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    run_both(kind, x, _states(kind.split("_")[0], *_sizes(kw, None), rng, "float64"), **kw)
    run_both(kind, x, None, batch_first=True, **kw)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", list(KINDS))
def test_packed_unsorted_lengths(kind, batch_first):
    """h_n at each sequence's true last step, in the batch's original order."""
    kw = dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True,
              batch_first=batch_first)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 3) if batch_first else (6, 4, 3))
    states = _states(kind.split("_")[0], *_sizes(kw, 4), rng, "float64")
    run_both(kind, x, states, lengths=[3, 6, 1, 4], **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_projections(dtype):
    kw = dict(input_size=3, hidden_size=5, proj_size=2, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(4)
    states = _states("LSTM", *_sizes(kw, 3), rng, dtype)
    run_both("LSTM", rng.standard_normal((4, 3, 3)), states, dtype=dtype, **kw)
    run_both("LSTM", rng.standard_normal((5, 3, 3)), states, lengths=[2, 5, 4], dtype=dtype, **kw)
    m, _ = run_both("LSTM", rng.standard_normal((4, 3)), None, **kw)
    assert m.weight_hr_l1_reverse.shape == (2, 5) and m.weight_hh_l0.shape == (20, 2)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_dropout_between_layers(kind):
    """Eval mode ignores dropout; in training p = 1 zeroes the second layer's input in both."""
    x = np.random.default_rng(6).standard_normal((4, 2, 3))
    kw = dict(input_size=3, hidden_size=5, num_layers=2, dropout=0.5)
    run_both(kind, x, None, **kw)
    m, _ = run_both(kind, x, None, train=True, **dict(kw, dropout=1.0))
    assert m.training


@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind, unbatched):
    rng = np.random.default_rng(7)
    shape, hshape = ((3,), (5,)) if unbatched else ((4, 3), (4, 5))
    for with_state in (False, True):
        m, t = _pair(kind, "float64", input_size=3, hidden_size=5)
        x = rng.standard_normal(shape)
        states = [rng.standard_normal(hshape) for _ in range(2 if kind == "LSTMCell" else 1)]
        outs, leaves = [], []
        for lib, layer in ((minidl, m), (torch, t)):
            xs, hs = _leaf(x, lib), [_leaf(s, lib) for s in states]
            hx = None if not with_state else (tuple(hs) if kind == "LSTMCell" else hs[0])
            out = layer(xs, hx)
            outs.append(list(out) if kind == "LSTMCell" else [out])
            leaves.append([xs] + (hs if with_state else []) + list(layer.parameters()))
        for mo, to in zip(*outs):
            assert_close(mo, to, **TOL["float64"])
        g = [rng.standard_normal(tuple(o.shape)) for o in outs[1]]
        minidl.autograd.backward(outs[0], [minidl.tensor(a) for a in g])
        torch.autograd.backward(outs[1], [torch.tensor(a) for a in g])
        for i, (ml, tl) in enumerate(zip(*leaves)):
            assert_close(ml.grad, tl.grad, what=f"grad {i}", **TOL["float64"])


def test_relu_cell_and_bias_free_cell():
    x = np.random.default_rng(8).standard_normal((2, 3))
    for kw in (dict(nonlinearity="relu"), dict(bias=False)):
        m, t = _pair("RNNCell", input_size=3, hidden_size=4, **kw)
        assert_close(m(minidl.tensor(x)), t(torch.tensor(x)), **TOL["float64"])
        assert repr(m) == repr(t)


def test_fused_kernel_equals_reference():
    """The fused recurrence and its composed reference agree, packed and in reverse too."""
    rng = np.random.default_rng(9)
    steps = (3, 3, 2, 1)
    for mode, gates, proj in (("LSTM", 4, 2), ("LSTM", 4, None), ("GRU", 3, None),
                              ("RNN_TANH", 1, None), ("RNN_RELU", 1, None)):
        hr = proj or 4
        arrays = [rng.standard_normal((sum(steps), gates * 4)),
                  rng.standard_normal((gates * 4, hr)), rng.standard_normal(gates * 4),
                  rng.standard_normal((3, hr)),
                  rng.standard_normal((3, 4)) if mode == "LSTM" else None,
                  rng.standard_normal((hr, 4)) if proj else None]
        for reverse in (False, True):
            results = []
            for fn in (RecurrentLayer.apply, layer_reference):
                ins = [None if a is None else minidl.tensor(a, requires_grad=True)
                       for a in arrays]
                outs = fn(*ins, mode=mode, batch_sizes=steps, reverse=reverse)
                sum(o.sum() * (k + 1) for k, o in enumerate(outs)).backward()
                results.append([o._data for o in outs] +
                               [t.grad._data for t in ins if t is not None])
            for a, b in zip(*results):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=mode)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradcheck(kind):
    layer = getattr(minidl.nn, kind)(2, 3, bidirectional=True, dtype=minidl.float64)
    h_shape = (2, 2, 3)

    def fn(x, h0, *cell):
        hx = (h0, cell[0]) if kind == "LSTM" else h0
        out, final = layer(x, hx)
        return (out,) + (tuple(final) if kind == "LSTM" else (final,))
    rng = np.random.default_rng(10)
    inputs = [rng.standard_normal((3, 2, 2)), rng.standard_normal(h_shape)]
    gradcheck(fn, inputs + ([rng.standard_normal(h_shape)] if kind == "LSTM" else []))


# ----------------------------------------------------------------------- construction
@pytest.mark.parametrize("kind", list(KINDS))
def test_parameters_init_and_repr(kind):
    kw = dict(input_size=3, hidden_size=16, num_layers=2, bidirectional=True, batch_first=True)
    if kind == "LSTM":
        kw["proj_size"] = 4
    m, t = _pair(kind, **kw)
    fresh = getattr(minidl.nn, kind.split("_")[0])(**KINDS[kind], **kw)
    assert [(n, tuple(p.shape)) for n, p in fresh.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.detach().numpy().ravel() for p in fresh.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 2
    assert repr(m) == repr(t)
    assert m._flat_weights_names == t._flat_weights_names
    assert m._all_weights == t._all_weights
    assert all(a is b for row, names in zip(m.all_weights, m._all_weights)
               for a, b in zip(row, (getattr(m, n) for n in names)))
    assert m.flatten_parameters() is None


def test_cell_parameters():
    for kind, chunks in (("RNNCell", 1), ("LSTMCell", 4), ("GRUCell", 3)):
        m = getattr(minidl.nn, kind)(3, 4, bias=False, dtype=minidl.float64)
        assert [(n, tuple(p.shape), p.dtype) for n, p in m.named_parameters()] == [
            ("weight_ih", (4 * chunks, 3), minidl.float64),
            ("weight_hh", (4 * chunks, 4), minidl.float64)]
        assert m.bias_ih is None and m.bias_hh is None


def _raises_like_torch(make, call, names=()):
    """The same exception type in both libraries, minidl's message naming ``names``."""
    errors = []
    for lib in (minidl, torch):
        with pytest.raises(Exception) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(lib, make(lib))
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]), f"minidl {errors[0]!r}, torch {errors[1]!r}"
    for name in names:
        assert name in str(errors[0]), f"{name!r} not in {errors[0]}"


def _lstm(lib):
    return lib.nn.LSTM(3, 4)


def _gru(lib):
    return lib.nn.GRU(3, 4, num_layers=2)


def _run(shape, state=None, dtype=None):
    def call(lib, layer):
        x = lib.zeros(*shape, dtype=None if dtype is None else getattr(lib, dtype))
        if state is None:
            return layer(x)
        states = tuple(lib.zeros(*s) for s in state)
        return layer(x, states if len(states) == 2 else states[0])
    return call


@pytest.mark.parametrize("make, call, names", [
    (_lstm, _run((5, 2, 7)), ("input_size", "3", "7")),
    (_lstm, _run((5, 2, 3, 1)), ("4D",)),
    (_lstm, _run((5, 2, 3), [(1, 3, 4), (1, 2, 4)]), ("(1, 2, 4)", "[1, 3, 4]")),
    (_lstm, _run((5, 2, 3), [(1, 2, 4), (1, 2, 5)]), ("hidden[1]", "[1, 2, 5]")),
    (_lstm, _run((5, 2, 3), [(1, 2, 4), (2, 4)]), ("3-D",)),
    (_lstm, _run((5, 3), [(1, 2, 4), (1, 2, 4)]), ("2-D",)),
    (_lstm, _run((5, 2, 3), dtype="float64"), ("float64", "float32")),
    (_lstm, _run((0, 2, 3)), ("sequence length",)),
    (_gru, _run((5, 2, 3), [(1, 2, 4)]), ("(2, 2, 4)", "[1, 2, 4]")),
    (_gru, _run((5, 2, 3), [(2, 4)]), ("3-D",)),
    (lambda lib: lib.nn.GRUCell(3, 4), _run((2, 5)), ("input_size", "5")),
    (lambda lib: lib.nn.GRUCell(3, 4), _run((2, 3), [(3, 4)]), ("batch size",)),
    (lambda lib: lib.nn.LSTMCell(3, 4), _run((2, 3), [(2, 4), (2, 5)]), ("hidden1", "5")),
    (lambda lib: lib.nn.RNNCell(3, 4), _run((2, 2, 3)), ("3D",)),
    (lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="sine"), _run((2, 3)), ("sine",)),
])
def test_input_errors(make, call, names):
    _raises_like_torch(make, call, names)


@pytest.mark.parametrize("ctor, names", [
    (lambda nn: nn.GRU(3, 4, proj_size=2), ("proj_size",)),
    (lambda nn: nn.RNN(3, 4, proj_size=2), ("proj_size",)),
    (lambda nn: nn.RNN(3, 4, 2, "sigmoid"), ("sigmoid",)),
    (lambda nn: nn.LSTM(3, 4, proj_size=4), ("proj_size",)),
    (lambda nn: nn.LSTM(3, 4, proj_size=-1), ("proj_size",)),
    (lambda nn: nn.LSTM(3, 4, dropout=1.5), ("dropout",)),
    (lambda nn: nn.LSTM(3, 4, bias=1), ("bias",)),
    (lambda nn: nn.LSTM(3, 4, batch_first=None), ("batch_first",)),
    (lambda nn: nn.LSTM(3.0, 4), ("input_size",)),
    (lambda nn: nn.LSTM(3, 0), ("hidden_size",)),
    (lambda nn: nn.LSTM(3, 4, num_layers=0), ("num_layers",)),
])
def test_constructor_refusals(ctor, names):
    _raises_like_torch(lambda lib: lib.nn, lambda lib, nn: ctor(nn), names)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        minidl.nn.GRU(3, 4, dropout=0.3)
