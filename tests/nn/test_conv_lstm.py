"""nn.ConvLSTMCell / nn.ConvLSTM (Shi et al. 2015): shapes, the equations in NumPy and in
torch ops (forward and gradients), nn.LSTMCell / nn.LSTM as the 1x1 case, gradcheck,
batch_first, states, dropout, errors, and a tiny model that learns."""
import warnings

import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from minidl.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(0)


def md(a, grad=False):
    return minidl.from_numpy(np.array(a, dtype=np.float64)).requires_grad_(grad)


def close(got, want, rtol=1e-12, atol=1e-12, **kw):
    """Values equal up to rounding; tensors of either library or arrays."""
    arrays = [t.detach().numpy() if hasattr(t, "detach") else np.asarray(t) for t in (got, want)]
    np.testing.assert_allclose(*arrays, rtol=rtol, atol=atol, **kw)


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_conv_same(x, w):
    """'same' cross-correlation, (N, C, H, W) x (F, C, kh, kw) -> (N, F, H, W), by offsets."""
    kh, kw = w.shape[2:]
    h, wd = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    return sum(np.einsum("nchw,fc->nfhw", xp[:, :, a:a + h, b:b + wd], w[:, :, a, b])
               for a in range(kh) for b in range(kw))


def np_conv_lstm(x, layers, hx=None):
    """The paper's equations, one layer after another; x (T, N, C, H, W); layers: dicts of
    NumPy weights (w_ih, w_hh, b_ih, b_hh, optional ci/cf/co)."""
    finals = []
    for k, p in enumerate(layers):
        hid = p["w_hh"].shape[1]
        shape = (x.shape[1], hid) + x.shape[3:]
        h, c = (np.zeros(shape), np.zeros(shape)) if hx is None else (hx[0][k], hx[1][k])
        outs = []
        for xt in x:
            z = (np_conv_same(xt, p["w_ih"]) + np_conv_same(h, p["w_hh"])
                 + (p["b_ih"] + p["b_hh"])[:, None, None])
            zi, zf, zg, zo = np.split(z, 4, axis=1)
            if "ci" in p:
                zi, zf = zi + p["ci"] * c, zf + p["cf"] * c
            c = np_sigmoid(zf) * c + np_sigmoid(zi) * np.tanh(zg)
            if "co" in p:
                zo = zo + p["co"] * c
            h = np_sigmoid(zo) * np.tanh(c)
            outs.append(h)
        x = np.stack(outs)
        finals.append((h, c))
    return x, finals


def numpy_layers(module):
    sd = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    names = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh",
             "weight_ci": "ci", "weight_cf": "cf", "weight_co": "co"}
    return [{short: sd[f"{name}_l{k}"] for name, short in names.items() if f"{name}_l{k}" in sd}
            for k in range(module.num_layers)]


def torch_conv_lstm(x, params, num_layers, kernel):
    """The same equations in torch ops (for torch's autograd as the gradient oracle)."""
    pad = (kernel[0] // 2, kernel[1] // 2)
    conv = torch.nn.functional.conv2d
    for k in range(num_layers):
        p = {name[:-3]: v for name, v in params.items() if name.endswith(f"_l{k}")}
        h = c = None
        outs = []
        for xt in x:
            z = conv(xt, p["weight_ih"], p["bias_ih"] + p["bias_hh"], padding=pad)
            if h is not None:
                z = z + conv(h, p["weight_hh"], padding=pad)
            zi, zf, zg, zo = z.chunk(4, 1)
            c_prev = torch.zeros_like(zi) if c is None else c
            if "weight_ci" in p:
                zi, zf = zi + p["weight_ci"] * c_prev, zf + p["weight_cf"] * c_prev
            c = zf.sigmoid() * c_prev + zi.sigmoid() * zg.tanh()
            if "weight_co" in p:
                zo = zo + p["weight_co"] * c
            h = zo.sigmoid() * c.tanh()
            outs.append(h)
        x = torch.stack(outs)
    return x


# -------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("hidden, layers", [(4, 1), (4, 2), ([3, 5], 2)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kernel, peephole, bias", [
    (3, False, True), ((3, 5), True, False), (1, (5, 6), True)])
def test_shapes_and_parameters(hidden, layers, batch_first, kernel, peephole, bias):
    m = nn.ConvLSTM(2, hidden, kernel, num_layers=layers, bias=bias, batch_first=batch_first,
                    peephole=peephole)
    sizes = hidden if isinstance(hidden, list) else [hidden] * layers
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    expected = {}
    for k, hid in enumerate(sizes):
        cin = 2 if k == 0 else sizes[k - 1]
        expected[f"weight_ih_l{k}"] = (4 * hid, cin, kh, kw)
        expected[f"weight_hh_l{k}"] = (4 * hid, hid, kh, kw)
        if bias:
            expected[f"bias_ih_l{k}"] = expected[f"bias_hh_l{k}"] = (4 * hid,)
        if peephole is not False:
            for g in "ifo":
                expected[f"weight_c{g}_l{k}"] = (hid, 1, 1) if peephole is True else (hid, 5, 6)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == expected
    x = minidl.randn(*((3, 4) if batch_first else (4, 3)), 2, 5, 6)
    out, (h_n, c_n) = m(x)
    assert tuple(out.shape) == x.shape[:2] + (sizes[-1], 5, 6)
    if isinstance(hidden, list):
        assert [tuple(t.shape) for t in h_n] == [(3, s, 5, 6) for s in sizes]
        assert [tuple(t.shape) for t in c_n] == [(3, s, 5, 6) for s in sizes]
    else:
        assert tuple(h_n.shape) == tuple(c_n.shape) == (layers, 3, hidden, 5, 6)
    unbatched, (h1, _) = m(x[0] if batch_first else x[:, 0])
    close(unbatched, out[0] if batch_first else out[:, 0], rtol=1e-5, atol=1e-6)
    assert tuple(h1[-1].shape) == (sizes[-1], 5, 6)


def test_cell_shapes_unbatched_and_init_bound():
    minidl.manual_seed(0)
    cell = nn.ConvLSTMCell(3, 4, 3, peephole=True)
    x = minidl.randn(2, 3, 5, 7)
    h, c = cell(x)
    assert tuple(h.shape) == tuple(c.shape) == (2, 4, 5, 7)
    h2, c2 = cell(x[1], (h[1], c[1]))
    assert tuple(h2.shape) == (4, 5, 7)
    bound = 1 / np.sqrt(4 * 3 * 3)
    for name, p in cell.named_parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound, name
        if a.size >= 100:  # the 4-element peephole weights are too few for a spread check
            assert a.std() > bound / 4, name
    assert repr(cell) == "ConvLSTMCell(3, 4, kernel_size=(3, 3), peephole=True)"


# ------------------------------------------------------------------- against references
@pytest.mark.parametrize("peephole", [False, (4, 5)])
def test_equals_numpy_equations(peephole):
    minidl.manual_seed(0)
    m = nn.ConvLSTM(2, [3, 2], (3, 5), num_layers=2, peephole=peephole).double()
    x = R.standard_normal((4, 2, 2, 4, 5))
    hx = ([R.standard_normal((2, 3, 4, 5)), R.standard_normal((2, 2, 4, 5))],
          [R.standard_normal((2, 3, 4, 5)), R.standard_normal((2, 2, 4, 5))])
    for state in (None, hx):
        arg = None if state is None else tuple(tuple(md(a) for a in part) for part in state)
        out, (h_n, c_n) = m(md(x), arg)
        ref, finals = np_conv_lstm(x, numpy_layers(m), state)
        close(out, ref)
        for k, (h, c) in enumerate(finals):
            close(h_n[k], h)
            close(c_n[k], c)


@pytest.mark.parametrize("peephole", [False, True, (4, 5)])
def test_output_and_gradients_equal_torch_ops(peephole):
    """Forward and every gradient against the same equations run through torch's autograd."""
    minidl.manual_seed(1)
    m = nn.ConvLSTM(2, 3, (3, 5), num_layers=2, peephole=peephole).double()
    x = R.standard_normal((3, 2, 2, 4, 5))
    up = R.standard_normal((3, 2, 3, 4, 5))
    xm = md(x, grad=True)
    out, _ = m(xm)
    (out * md(up)).sum().backward()
    params = {k: torch.tensor(v.detach().numpy(), requires_grad=True)
              for k, v in m.named_parameters()}
    xt = torch.tensor(x, requires_grad=True)
    ref = torch_conv_lstm(xt, params, 2, m.kernel_size)
    (ref * torch.tensor(up)).sum().backward()
    close(out, ref)
    close(xm.grad, xt.grad, rtol=1e-10)
    for name, p in m.named_parameters():
        close(p.grad, params[name].grad, rtol=1e-10, err_msg=name)


def _copy_lstm_weights(target, source, suffix):
    """nn.LSTM / nn.LSTMCell weights (4h, in) into the 1x1 kernels (4h, in, 1, 1)."""
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        a = getattr(source, name + suffix).detach().numpy()
        getattr(target, name + suffix).data = minidl.from_numpy(
            a.reshape(a.shape + (1, 1) if a.ndim == 2 else a.shape).copy())


def test_1x1_cell_is_torch_lstm_cell():
    torch.manual_seed(0)
    ref = torch.nn.LSTMCell(3, 5).double()
    cell = nn.ConvLSTMCell(3, 5, 1).double()
    _copy_lstm_weights(cell, ref, "")
    x, h, c = (R.standard_normal(s) for s in ((4, 3), (4, 5), (4, 5)))
    for state in (None, (h, c)):
        want = ref(torch.tensor(x), None if state is None else tuple(map(torch.tensor, state)))
        got = cell(md(x)[..., None, None],
                   None if state is None else tuple(md(a)[..., None, None] for a in state))
        for g, w in zip(got, want):
            close(g[..., 0, 0], w)


def test_1x1_conv_lstm_is_torch_lstm_with_gradients():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True).double()
    m = nn.ConvLSTM(3, 4, 1, num_layers=2, batch_first=True).double()
    for k in range(2):
        _copy_lstm_weights(m, ref, f"_l{k}")
    x = R.standard_normal((2, 5, 3))
    hx = (R.standard_normal((2, 2, 4)), R.standard_normal((2, 2, 4)))
    xt = torch.tensor(x, requires_grad=True)
    want, (wh, wc) = ref(xt, tuple(map(torch.tensor, hx)))
    xm = md(x[..., None, None], grad=True)
    got, (gh, gc) = m(xm, tuple(md(a[..., None, None]) for a in hx))
    for g, w in ((got, want), (gh, wh), (gc, wc)):
        close(g[..., 0, 0], w)
    (want.sum() + wc.sum()).backward()
    (got.sum() + gc.sum()).backward()
    close(xm.grad[..., 0, 0], xt.grad, rtol=1e-10)
    for name, p in m.named_parameters():
        close(p.grad.reshape(-1), getattr(ref, name).grad.reshape(-1), rtol=1e-10,
              err_msg=name)


def test_cell_equals_one_layer_step_by_step():
    """The cell's one convolution of [x, h] and the layer's precomputed input convolution
    give the same states."""
    minidl.manual_seed(2)
    layer = nn.ConvLSTM(2, 3, 3, peephole=True).double()
    cell = nn.ConvLSTMCell(2, 3, 3, peephole=True).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = md(R.standard_normal((4, 2, 2, 5, 5)))
    out, (h_n, c_n) = layer(x)
    state = None
    for t in range(4):
        state = cell(x[t], state)
        close(state[0], out[t])
    close(state[1], c_n[0])


@pytest.mark.parametrize("peephole", [False, (3, 3)])
def test_gradcheck(peephole):
    minidl.manual_seed(3)
    cell = nn.ConvLSTMCell(2, 2, 3, peephole=peephole).double()
    x, h, c = (md(R.standard_normal(s), grad=True) for s in ((2, 2, 3, 3),) * 3)
    assert gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))
    m = nn.ConvLSTM(2, 2, 3, num_layers=2, peephole=peephole).double()
    seq = md(R.standard_normal((3, 1, 2, 3, 3)), grad=True)
    h0, c0 = (md(R.standard_normal((2, 1, 2, 3, 3)), grad=True) for _ in range(2))
    assert gradcheck(lambda s, h, c: m(s, (h, c))[0], (seq, h0, c0))


def test_second_derivatives():
    minidl.manual_seed(4)
    cell = nn.ConvLSTMCell(1, 1, 3, peephole=True).double()
    x, h, c = (md(R.standard_normal((1, 1, 2, 2)), grad=True) for _ in range(3))
    assert gradgradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))


# ------------------------------------------------------------------ options and states
def test_batch_first_is_the_transposed_layout():
    m = nn.ConvLSTM(2, 3, 3, num_layers=2)
    mb = nn.ConvLSTM(2, 3, 3, num_layers=2, batch_first=True)
    mb.load_state_dict(m.state_dict())
    x = minidl.randn(4, 2, 2, 5, 5)
    out, (h, c) = m(x)
    outb, (hb, cb) = mb(x.transpose(0, 1))
    close(outb, out.transpose(0, 1), rtol=1e-6)
    close(hb, h, rtol=1e-6)
    close(cb, c, rtol=1e-6)


def test_state_carries_over_split_sequences():
    m = nn.ConvLSTM(2, [3, 4], 3, num_layers=2)
    x = minidl.randn(6, 2, 2, 5, 5)
    out, (h, c) = m(x)
    first, state = m(x[:2])
    second, (h2, c2) = m(x[2:], state)
    close(minidl.cat([first, second]), out, rtol=1e-5, atol=1e-6)
    for a, b in zip(h2 + c2, h + c):
        close(a, b, rtol=1e-5, atol=1e-6)


def test_bias_false_and_peephole_matter():
    x = minidl.randn(2, 1, 2, 4, 4)
    assert m_out(bias=False, x=x).shape == m_out(x=x).shape
    assert not np.allclose(m_out(x=x), m_out(bias=False, x=x))
    assert not np.allclose(m_out(x=x), m_out(peephole=True, x=x))


def m_out(x, **kw):
    minidl.manual_seed(0)
    return nn.ConvLSTM(2, 3, 3, **kw)(x)[0].detach().numpy()


def test_dropout_between_layers_in_training_only():
    m = nn.ConvLSTM(2, 3, 3, num_layers=2, dropout=0.5)
    x = minidl.randn(3, 2, 2, 4, 4)
    minidl.manual_seed(0)
    a = m(x)[0].detach().numpy()
    minidl.manual_seed(1)
    assert not np.allclose(a, m(x)[0].detach().numpy())
    m.eval()
    e = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(e, m(x)[0].detach().numpy())
    m.train()
    m.dropout = 0.0
    np.testing.assert_array_equal(e, m(x)[0].detach().numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.ConvLSTM(2, 3, 3, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.ConvLSTM(2, 3, 3, num_layers=2, dropout=0.5)


def test_dtype_argument_and_double():
    m = nn.ConvLSTM(1, 2, 3, dtype=minidl.float64)
    assert all(p.dtype == minidl.float64 for p in m.parameters())
    out, _ = m(minidl.randn(2, 1, 1, 3, 3, dtype=minidl.float64))
    assert out.dtype == minidl.float64


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make, call, error, match", [
    (lambda: nn.ConvLSTMCell(3, 4, 3), lambda m: m(minidl.randn(2, 2, 5, 5)), ValueError,
     r"input has 2 channels .*in_channels=3"),
    (lambda: nn.ConvLSTM(3, 4, 3), lambda m: m(minidl.randn(2, 1, 2, 5, 5)), ValueError,
     r"input has 2 channels .*in_channels=3"),
    (lambda: nn.ConvLSTMCell(3, 4, 3), lambda m: m(minidl.randn(2, 5, 5)), ValueError,
     "in_channels=3"),
    (lambda: nn.ConvLSTMCell(3, 4, 3), lambda m: m(minidl.randn(1, 2, 3, 5, 5)), ValueError,
     "expected input to be 3D or 4D, got 5D"),
    (lambda: nn.ConvLSTM(3, 4, 3), lambda m: m(minidl.randn(3, 5, 5)), ValueError,
     "expected input to be 4D or 5D, got 3D"),
    (lambda: nn.ConvLSTMCell(3, 4, 3), lambda m: m(np.zeros((1, 3, 5, 5))), TypeError,
     "input must be a Tensor"),
    (lambda: nn.ConvLSTMCell(3, 4, 3),
     lambda m: m(minidl.randn(2, 3, 5, 5), (minidl.zeros(2, 4, 5, 4), minidl.zeros(2, 4, 5, 5))),
     ValueError, r"hx\[0\] \(h_0\) of shape \(2, 4, 5, 5\), got \(2, 4, 5, 4\)"),
    (lambda: nn.ConvLSTMCell(3, 4, 3),
     lambda m: m(minidl.randn(2, 3, 5, 5), (minidl.zeros(2, 4, 5, 5), minidl.zeros(1, 4, 5, 5))),
     ValueError, r"hx\[1\] \(c_0\) of shape \(2, 4, 5, 5\)"),
    (lambda: nn.ConvLSTMCell(3, 4, 3), lambda m: m(minidl.randn(2, 3, 5, 5), minidl.zeros(2)),
     ValueError, r"hx must be a pair \(h_0, c_0\)"),
    (lambda: nn.ConvLSTM(3, 4, 3, num_layers=2),
     lambda m: m(minidl.randn(2, 1, 3, 5, 5), (minidl.zeros(1, 1, 4, 5, 5),) * 2),
     ValueError, r"hx\[0\] \(h_0\) of shape \(2, 1, 4, 5, 5\)"),
    (lambda: nn.ConvLSTM(3, [4, 2], 3, num_layers=2),
     lambda m: m(minidl.randn(2, 1, 3, 5, 5), (minidl.zeros(2, 1, 4, 5, 5),) * 2),
     ValueError, "must be a tuple of 2 tensors, one per layer"),
    (lambda: nn.ConvLSTM(3, [4, 2], 3, num_layers=2),
     lambda m: m(minidl.randn(2, 1, 3, 5, 5), ([minidl.zeros(1, 4, 5, 5)] * 2,) * 2),
     ValueError, r"layer 1: expected hx\[0\] \(h_0\) of shape \(1, 2, 5, 5\)"),
    (lambda: nn.ConvLSTMCell(3, 4, 3, peephole=(5, 5)), lambda m: m(minidl.randn(1, 3, 6, 5)),
     ValueError, r"peepholes were made for spatial size \(5, 5\), but the input is \(6, 5\)"),
    (lambda: nn.ConvLSTM(3, 4, 3), lambda m: m(minidl.randn(0, 1, 3, 5, 5)), ValueError,
     "empty"),
])
def test_bad_inputs_are_named(make, call, error, match):
    with pytest.raises(error, match=match):
        call(make())


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel_size=4), "kernel_size must be odd"),
    (dict(kernel_size=(3, 2)), "kernel_size must be odd"),
    (dict(kernel_size=(3, 3, 3)), "kernel_size must be an int or a pair"),
    (dict(kernel_size=0), "kernel_size must be a positive integer"),
    (dict(hidden_channels=0), "hidden_channels must be a positive integer"),
    (dict(in_channels=2.5), "in_channels must be a positive integer"),
    (dict(peephole="yes"), "peephole must be False, True"),
    (dict(peephole=(4, 0)), "peephole must be a positive integer"),
    (dict(num_layers=0), "num_layers must be a positive integer"),
    (dict(hidden_channels=[3, 4]), r"hidden_channels lists 2 layers but num_layers=1"),
    (dict(dropout=1.5), "dropout should be a number in range"),
])
def test_bad_constructor_arguments_are_named(kwargs, match):
    args = {**dict(in_channels=2, hidden_channels=3, kernel_size=3), **kwargs}
    with pytest.raises(ValueError, match=match):
        nn.ConvLSTM(**args)
    if not {"num_layers", "dropout"} & kwargs.keys() and not isinstance(
            args["hidden_channels"], list):
        with pytest.raises(ValueError, match=match):
            nn.ConvLSTMCell(**args)


# ---------------------------------------------------------------------------- learning
def test_a_tiny_model_learns_to_predict_a_moving_dot():
    """A dot moving one pixel right per frame: the next-frame loss falls well below its start."""
    frames = np.zeros((8, 6, 1, 6, 6), np.float32)  # (T, N, C, H, W)
    for n in range(6):
        for t in range(8):
            frames[t, n, 0, n % 6, (t + n) % 6] = 1
    x, y = minidl.from_numpy(frames[:-1]), minidl.from_numpy(frames[1:])
    minidl.manual_seed(0)
    lstm, head = nn.ConvLSTM(1, 6, 3), nn.Conv2d(6, 1, 1)
    opt = minidl.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.03)
    losses = []
    for _ in range(40):
        out, _ = lstm(x)
        logits = head(out.reshape(-1, 6, 6, 6)).reshape(y.shape)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
