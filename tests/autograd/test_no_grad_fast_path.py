"""The unrecorded path of ``Function.apply`` (grad off, or no input requiring grad) and the
operators' fast path for two tensors of one float dtype: same results as the recorded path,
no graph left behind, no ctx state carried from one call to the next."""
import numpy as np
import pytest

import minidl
from minidl.autograd import Function
from minidl.ops.unary import Exp

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "add alpha": lambda a, b: minidl.add(a, b, alpha=2.0),
    "add scalar": lambda a, b: a + 1.5,
    "exp": lambda a, b: minidl.exp(a),
    "sum": lambda a, b: a.sum(),
    "reshape": lambda a, b: a.reshape(-1, 1),
    "index": lambda a, b: a[0],
    "matmul": lambda a, b: a @ b.t(),
    "max dim": lambda a, b: a.max(1)[0],
}


def pair(requires_grad):
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    return (minidl.tensor(x, requires_grad=requires_grad),
            minidl.tensor(y + 2.0, requires_grad=requires_grad))


@pytest.mark.parametrize("name", OPS)
def test_unrecorded_results_equal_the_recorded_ones_and_carry_no_graph(name):
    op = OPS[name]
    recorded = op(*pair(True))
    assert recorded.requires_grad and recorded.grad_fn is not None
    with minidl.no_grad():
        under_no_grad = op(*pair(True))
    without_grad = op(*pair(False))
    for out in (under_no_grad, without_grad):
        assert out.grad_fn is None and not out.requires_grad and out.is_leaf
        assert out.dtype == recorded.dtype and out.shape == recorded.shape
        np.testing.assert_array_equal(out.numpy(), recorded.detach().numpy())


def test_an_unrecorded_view_shares_the_version_counter_and_base_of_its_input():
    a, _ = pair(False)
    v = a.reshape(-1)
    assert v._base is a and v.grad_fn is None
    v.add_(1.0)
    assert a._version == v._version == 1


def test_each_unrecorded_call_gets_a_fresh_ctx(monkeypatch):
    ctxs, forward = [], Exp.forward

    def spy(ctx, x):  # Exp's forward, refusing a ctx that carries an earlier call's state
        assert not hasattr(ctx, "mark") and ctx.saved_tensors == ()
        ctx.mark = len(ctxs)
        ctxs.append(ctx)
        return forward(ctx, x)

    monkeypatch.setattr(Exp, "forward", staticmethod(spy))
    a, _ = pair(True)
    with minidl.no_grad():
        first, second = minidl.exp(a), minidl.exp(a)
    third = minidl.exp(a.detach())
    assert len({id(c) for c in ctxs}) == 3
    assert all(c.needs_input_grad == (False,) for c in ctxs)
    for out in (first, second, third):
        assert out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), np.exp(a.detach().numpy()))
    recorded = minidl.exp(a)  # the recorded path after them: its own ctx, which it keeps
    assert recorded.grad_fn is ctxs[-1] and recorded.grad_fn.mark == 3
    assert recorded.grad_fn.needs_input_grad == (True,)
    recorded.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-6)


def test_an_unrecorded_user_function_sees_tensors_and_leaves_no_graph():
    seen = []

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append((type(x), minidl.is_grad_enabled(), ctx.needs_input_grad))
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a, _ = pair(False)
    out = Double.apply(a)
    assert seen == [(minidl.Tensor, False, (False,))]
    assert out.grad_fn is None and not out.requires_grad


def test_the_float_fast_path_keeps_promotion_and_broadcasting_errors():
    a32 = minidl.ones(2, 3)
    a64 = minidl.ones(2, 3, dtype=minidl.float64)
    assert (a32 + a64).dtype == minidl.float64
    assert (a32 * minidl.ones(3, dtype=minidl.int64)).dtype == minidl.float32
    assert (minidl.ones(3, dtype=minidl.int64) / minidl.ones(3, dtype=minidl.int64)).dtype \
        == minidl.float32
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 1"):
        a32 + minidl.ones(2, 4)
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool"):
        minidl.ones(2, dtype=minidl.bool) - minidl.ones(2, dtype=minidl.bool)


def test_operators_and_out_still_agree():
    a, b = pair(False)
    out = minidl.empty(2, 3)
    assert minidl.add(a, b, out=out) is out
    np.testing.assert_array_equal(out.numpy(), (a + b).numpy())
    assert minidl.mul(a, b, out=out) is out
    np.testing.assert_array_equal(out.numpy(), (a * b).numpy())
    np.testing.assert_array_equal((2.0 - a).numpy(), 2.0 - a.numpy())
    c = a.clone()
    c += b
    np.testing.assert_array_equal(c.numpy(), (a + b).numpy())


def test_a_recorded_graph_through_the_fast_paths_backpropagates():
    a, b = pair(True)
    ((a * b + a) / b - b).sum().backward()
    x, y = a.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(a.grad.numpy(), 1 + 1 / y, rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), -x / y ** 2 - 1, rtol=1e-5)
