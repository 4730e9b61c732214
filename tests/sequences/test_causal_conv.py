"""nn.CausalConv1d: causal (output t sees inputs <= t), equal to torch's conv1d on the
left-padded input (values and gradients), dilation, Conv1d-compatible state, errors."""
import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from tests.reference.harness import assert_close

TOL = dict(rtol=1e-10, atol=1e-12)


def _pair(in_ch, out_ch, k, dilation, bias, seed=0):
    """A float64 CausalConv1d and torch's Conv1d with the same weights."""
    torch.manual_seed(seed)
    ref = torch.nn.Conv1d(in_ch, out_ch, k, dilation=dilation, bias=bias).double()
    ours = nn.CausalConv1d(in_ch, out_ch, k, dilation=dilation, bias=bias, dtype=minidl.float64)
    ours.load_state_dict({n: minidl.from_numpy(p.detach().numpy().copy())
                          for n, p in ref.state_dict().items()})
    return ours, ref


@pytest.mark.parametrize("k, dilation, bias, shape", [
    (3, 1, True, (2, 3, 10)), (2, 4, False, (2, 3, 9)), (5, 2, True, (3, 7)),
    (1, 3, True, (1, 3, 4)), (3, 3, True, (2, 3, 2))])  # the last: padding beyond the input
def test_equals_torch_conv1d_on_left_padded_input(k, dilation, bias, shape):
    ours, ref = _pair(3, 4, k, dilation, bias)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    mx, tx = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours(mx)
    ty = ref(torch.nn.functional.pad(tx, ((k - 1) * dilation, 0)))
    assert tuple(y.shape) == shape[:-2] + (4, shape[-1])  # same length as the input
    assert_close(y, ty, **TOL)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(minidl.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(mx.grad, tx.grad, **TOL, what="input grad")
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        assert_close(p.grad, q.grad, **TOL, what=f"{name} grad")


def test_second_derivative_matches_torch():
    ours, ref = _pair(2, 3, 3, 2, True)
    x = np.random.default_rng(2).standard_normal((2, 2, 8))
    results = []
    for lib, conv, pad in ((minidl, ours, lambda t: t),
                           (torch, ref, lambda t: torch.nn.functional.pad(t, (4, 0)))):
        t = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad((conv(pad(t)) ** 2).sum(), t, create_graph=True)
        (ggx,) = lib.autograd.grad((gx ** 2).sum(), t)
        results.append((gx, ggx))
    assert_close(results[0][0], results[1][0], **TOL, what="first derivative")
    assert_close(results[0][1], results[1][1], **TOL, what="second derivative")


def test_output_at_t_does_not_see_the_future():
    conv = nn.CausalConv1d(2, 3, 4, dilation=2)
    x = minidl.randn(1, 2, 20)
    y = conv(x).detach().numpy()
    for t in (0, 5, 13):
        later = x.clone()
        later[..., t + 1:] = minidl.randn(1, 2, 19 - t) * 10
        y2 = conv(later).detach().numpy()
        np.testing.assert_array_equal(y2[..., :t + 1], y[..., :t + 1])
        assert not np.allclose(y2[..., t + 1:], y[..., t + 1:])


def test_gradient_reaches_exactly_the_receptive_field():
    conv = nn.CausalConv1d(1, 1, 3, dilation=4, bias=False)
    assert conv.causal_padding == 8 and conv.receptive_field == 9
    x = minidl.randn(1, 1, 30, requires_grad=True)
    conv(x)[0, 0, 20].backward()
    assert np.flatnonzero(x.grad.numpy()[0, 0]).tolist() == [12, 16, 20]


def test_stacked_dilations_grow_the_receptive_field_exponentially():
    stack = nn.Sequential(*[nn.CausalConv1d(1, 1, 2, dilation=2 ** i) for i in range(4)])
    x = minidl.randn(1, 1, 40, requires_grad=True)
    stack(x)[0, 0, 30].backward()
    reached = np.flatnonzero(x.grad.numpy()[0, 0])
    assert reached.min() == 30 - (2 ** 4 - 1) and reached.max() == 30  # 1 + 1 + 2 + 4 + 8


def test_is_a_conv1d_with_its_state_and_init():
    minidl.manual_seed(0)
    ours = nn.CausalConv1d(3, 5, 4, dilation=2)
    minidl.manual_seed(0)
    plain = nn.Conv1d(3, 5, 4, dilation=2)
    assert isinstance(ours, nn.Conv1d)
    for (n, a), (m, b) in zip(ours.state_dict().items(), plain.state_dict().items()):
        assert n == m and np.array_equal(a.numpy(), b.numpy())
    assert repr(ours) == "CausalConv1d(3, 5, kernel_size=(4,), dilation=(2,))"
    assert repr(nn.CausalConv1d(1, 1, 2, bias=False)) == \
        "CausalConv1d(1, 1, kernel_size=(2,), bias=False)"


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((3, 4, 0), {}, ValueError, "kernel_size"),
    ((3, 4, 2.5), {}, TypeError, "kernel_size"),
    ((3, 4, (2, 2)), {}, TypeError, "kernel_size"),
    ((3, 4, 3), {"dilation": 0}, ValueError, "dilation"),
    ((0, 4, 3), {}, ValueError, "in_channels"),
    ((3, True, 3), {}, TypeError, "out_channels"),
])
def test_bad_arguments_are_refused_by_name(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.CausalConv1d(*args, **kwargs)


@pytest.mark.parametrize("x, error, match", [
    (minidl.randn(8), RuntimeError, r"2D \(C, L\) or 3D"),
    (minidl.randn(2, 5, 8), RuntimeError, "expected input.* to have 3 channels"),
    (minidl.randn(2, 3, 0), RuntimeError, "no time steps"),
    ([[1.0] * 4] * 3, TypeError, "must be Tensor"),
])
def test_bad_inputs_are_refused_clearly(x, error, match):
    with pytest.raises(error, match=match):
        nn.CausalConv1d(3, 4, 3)(x)
