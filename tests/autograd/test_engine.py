"""Autograd semantics: accumulation, graph freeing, grad modes, hooks, custom Functions."""
import numpy as np
import pytest
import torch

import minidl
from minidl.autograd import Function, gradcheck


def leaf(values, lib=minidl):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).backward(minidl.ones(2, dtype=minidl.float64))
    (x * 3).backward(minidl.ones(2, dtype=minidl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_second_backward_through_freed_graph_raises_and_retain_graph_allows_it():
    x = leaf([1.0, 2.0])
    y = x * x
    g = minidl.ones(2, dtype=minidl.float64)
    y.backward(g, retain_graph=True)
    y.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(g)


def test_backward_of_non_scalar_without_gradient_names_the_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        y.backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minidl.ones(1).backward()


def test_ten_thousand_op_chain_backpropagates_iteratively():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward(minidl.ones(1, dtype=minidl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_diamond_graph_sums_both_paths():
    x = leaf([3.0])
    a = x * 2
    y = a * a + a   # dy/dx = (2a + 1) * 2
    y.backward(minidl.ones(1, dtype=minidl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [(2 * 6 + 1) * 2])


def test_no_grad_records_nothing_and_restores_mode():
    x = leaf([1.0])
    with minidl.no_grad():
        y = x * 2
        assert not minidl.is_grad_enabled()
    assert minidl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @minidl.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    with minidl.no_grad():
        with minidl.enable_grad():
            assert (x * 2).requires_grad
    minidl.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    minidl.set_grad_enabled(True)
    with minidl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x.detach()
    with minidl.no_grad():
        y.mul_(10) if hasattr(y, "mul_") else y._set_data_(y.numpy() * 10)
    np.testing.assert_allclose(x.detach().numpy(), [10.0, 20.0])


def _hooked_backward(lib):
    x = leaf([1.0, 2.0], lib)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
    x.register_hook(lambda g: seen.append(g.tolist()))
    y.retain_grad()
    (y * y).backward(lib.ones(2, dtype=lib.float64))
    return seen, x.grad.tolist(), y.grad.tolist()


def test_hooks_match_torch():
    assert _hooked_backward(minidl) == _hooked_backward(torch)


def test_hook_handle_removes_the_hook():
    x = leaf([1.0])
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 1).backward(minidl.ones(1, dtype=minidl.float64))
    assert x.grad.item() == 1.0


def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x * w
    gx, gw = minidl.autograd.grad(y, [x, w], minidl.ones(2, dtype=minidl.float64))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    z = leaf([1.0])
    with pytest.raises(RuntimeError, match="not have been used"):
        minidl.autograd.grad(x * 2, [z], minidl.ones(2, dtype=minidl.float64))
    (none,) = minidl.autograd.grad(x * 2, [z], minidl.ones(2, dtype=minidl.float64),
                                    allow_unused=True)
    assert none is None


def test_user_defined_function_like_torch():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * x * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return grad * 3 * x * x * ctx.k, None

    x = leaf([1.0, 2.0])
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward0"
    y.backward(minidl.ones(2, dtype=minidl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])
    assert gradcheck(lambda t: Cube.apply(t, 2.0), [leaf([0.5, -1.5])])


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be 2x * grad

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, [leaf([1.0, 2.0])])


def test_in_place_on_leaf_requiring_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x._inplace(minidl.mul, 2)


def test_modifying_a_saved_tensor_is_detected():
    x = leaf([1.0, 2.0])
    a = x * 1
    y = a * a          # saves a
    with minidl.no_grad():
        a._inplace(minidl.mul, 2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(minidl.ones(2, dtype=minidl.float64))


def test_requires_grad_flags_and_leafness():
    x = minidl.ones(2)
    assert x.is_leaf and not x.requires_grad
    x.requires_grad_()
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        minidl.tensor([1, 2]).requires_grad_()


def test_several_outputs_of_one_node_as_roots():
    x = leaf([[1.0, 2.0, 3.0, 4.0]])
    parts = x.split(2, 1)
    minidl.autograd.backward(list(parts), [minidl.ones(1, 2, dtype=minidl.float64),
                                           minidl.full((1, 2), 2.0, dtype=minidl.float64)])
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 1.0, 2.0, 2.0]])


def test_in_place_writes_land_in_shared_memory_and_keep_the_graph_right():
    results = []
    for lib in (minidl, torch):
        x = leaf([1.0, 2.0], lib)
        base = lib.zeros(2, dtype=lib.float64)
        alias = base.detach()
        alias.mul_(0)
        y = x * 1
        y.mul_(x)          # needs y's old values for x's gradient
        y.add_(1)
        y.backward(lib.ones(2, dtype=lib.float64))
        results.append((y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_in_place_on_a_view_in_the_graph_is_refused_not_silently_wrong():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = x * 1
    v = b[0]
    with pytest.raises(RuntimeError, match="view inside the autograd graph"):
        v.mul_(x[0])
