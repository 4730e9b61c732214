"""The engine with create_graph=True: recorded gradients, .grad with a graph, hooks,
backward(inputs=), grad() walking only what it needs, and clear refusals."""
import numpy as np
import pytest
import torch

import minidl
from minidl.ops._traced import NotTraceable, Traced


def _both(fn):
    return fn(minidl), fn(torch)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-10)


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_backward_create_graph_leaves_a_differentiable_grad():
    def run(lib):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        (x.exp() * x.sin()).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad and g.grad_fn is not None
        x.grad = None
        g.pow(2).sum().backward()
        return g, x.grad
    (mg, mgg), (tg, tgg) = _both(run)
    _close(mg, tg)
    _close(mgg, tgg)


def test_create_graph_retains_the_graph_by_default():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    minidl.autograd.grad(y, x, create_graph=True)
    minidl.autograd.grad(y, x)  # a second walk works: create_graph implied retain_graph


def test_double_backward_of_a_custom_function_with_differentiable_backward():
    class Cube(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2

    x = minidl.tensor([0.5, 2.0], dtype=minidl.float64, requires_grad=True)
    g, = minidl.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    gg, = minidl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.detach().numpy())


def test_tensor_hooks_see_recorded_gradients():
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * y)  # a hook that itself depends on x
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        return lib.autograd.grad(g.sum(), x)[0]
    m, t = _both(run)
    _close(m, t)


def test_backward_inputs_accumulates_only_into_them():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        (h * h).sum().backward(inputs=[w, h])
        return x.grad, w.grad, h.grad
    (mx, mw, mh), (tx, tw, th) = _both(run)
    assert mx is None and tx is None
    _close(mw, tw)
    _close(mh, th)


def test_backward_inputs_empty_is_refused():
    x = minidl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])


def test_grad_runs_only_the_nodes_between_outputs_and_inputs():
    class Boom(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("a branch that leads to no requested input ran")

    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    w = minidl.tensor([3.0], requires_grad=True)
    y = (x * 2).sum() + Boom.apply(w).sum()
    g, = minidl.autograd.grad(y, x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def test_gradgradcheck_signature_and_failure():
    x = minidl.randn(3, dtype=minidl.float64, requires_grad=True)
    assert minidl.autograd.gradgradcheck(lambda t: (t.sin() * t).sum(), (x,))

    class WrongSecond(minidl.autograd.Function):  # right first derivative, wrong second
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 2

        @staticmethod
        def backward(ctx, g):
            t, = ctx.saved_tensors
            return g * 2 * t.detach()

    assert minidl.autograd.gradcheck(WrongSecond.apply, (x,))
    assert not minidl.autograd.gradgradcheck(WrongSecond.apply, (x,), raise_exception=False)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        minidl.autograd.gradgradcheck(WrongSecond.apply, (x,), check_fwd_over_rev=True)


def test_traced_values_refuse_to_become_constants():
    t = Traced(minidl.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(NotTraceable, match="constant NumPy array"):
        np.asarray(t)
    buf = np.zeros(2)
    with pytest.raises(NotTraceable):
        buf[:] = t
    with pytest.raises(NotTraceable, match="in place"):
        np.add.at(buf, [0], t)
    with pytest.raises(NotTraceable, match="no recorded"):
        np.fft.fft(t)


def test_traced_values_record_numpy_expressions():
    x = minidl.tensor([0.5, 1.5], dtype=minidl.float64, requires_grad=True)
    t = Traced(x)
    y = np.where(np.asarray([True, False]), np.exp(t), t * 2).sum(axis=0, keepdims=True)
    g, = minidl.autograd.grad(y.t.sum(), x)
    np.testing.assert_allclose(g.numpy(), [np.exp(0.5), 2.0])
