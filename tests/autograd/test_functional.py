"""minidl.autograd.functional against torch.autograd.functional: values, layouts, errors."""
import numpy as np
import pytest
import torch

import minidl

rng = np.random.default_rng(0)
A, B = rng.standard_normal((3,)), rng.standard_normal((3, 2))


def _pair(lib):
    return lib.tensor(A), lib.tensor(B)


def _vec(lib):      # R^3 x R^(3x2) -> R^2
    return lambda x, w: lib.tanh(x @ w)


def _two_out(lib):  # two outputs
    return lambda x, w: (lib.sin(x @ w), (x * x).sum())


def _scalar(lib):
    return lambda x, w: (lib.sin(x @ w) ** 2).sum() + (x ** 3).sum()


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [y for x in r for y in _flat(x)]
    return [r]


def _same(got, want):
    g, w = _flat(got), _flat(want)
    assert len(g) == len(w)
    assert [tuple(x.shape) for x in g] == [tuple(x.shape) for x in w]
    for x, y in zip(g, w):
        np.testing.assert_allclose(np.asarray(x.detach()), y.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert type(got) is type(want) or (isinstance(got, minidl.Tensor) and
                                       isinstance(want, torch.Tensor))


@pytest.mark.parametrize("fn", [_vec, _two_out, _scalar])
@pytest.mark.parametrize("single", [True, False])
def test_jacobian(fn, single):
    def call(lib):
        f = fn(lib)
        x, w = _pair(lib)
        if single:
            return lib.autograd.functional.jacobian(lambda x: f(x, w), x)
        return lib.autograd.functional.jacobian(f, (x, w))
    _same(call(minidl), call(torch))


def test_jacobian_forward_mode_equals_reverse_mode():
    f = _two_out(minidl)
    rev = minidl.autograd.functional.jacobian(f, _pair(minidl))
    fwd = minidl.autograd.functional.jacobian(f, _pair(minidl), vectorize=True,
                                              strategy="forward-mode")
    for a, b in zip(_flat(rev), _flat(fwd)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@pytest.mark.parametrize("single", [True, False])
def test_hessian(single):
    def call(lib):
        f = _scalar(lib)
        x, w = _pair(lib)
        if single:
            return lib.autograd.functional.hessian(lambda x: f(x, w), x)
        return lib.autograd.functional.hessian(f, (x, w))
    _same(call(minidl), call(torch))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_products(name):
    def call(lib):
        x, w = _pair(lib)
        if name == "vjp":
            return lib.autograd.functional.vjp(_vec(lib), (x, w), lib.tensor(np.arange(2.0)))
        v = (lib.tensor(np.arange(3.0)), lib.tensor(np.ones((3, 2))))
        f = _vec(lib) if name == "jvp" else _scalar(lib)
        return getattr(lib.autograd.functional, name)(f, (x, w), v)
    _same(call(minidl), call(torch))


def test_create_graph_results_differentiate_again():
    """d/dx of sum(H v) (a third derivative) through create_graph=True, against torch."""
    def call(lib):
        x, w = (t.requires_grad_() for t in _pair(lib))
        v = (lib.tensor(np.ones(3)), lib.tensor(np.ones((3, 2))))
        _, hv = lib.autograd.functional.hvp(_scalar(lib), (x, w), v, create_graph=True)
        return lib.autograd.grad(sum(h.sum() for h in hv), (x, w))
    _same(call(minidl), call(torch))


def test_independent_input_gives_zeros_or_strict_error():
    f = lambda x, w: x.sin()  # noqa: E731  (w unused)
    for lib in (minidl, torch):
        jac = lib.autograd.functional.jacobian(f, _pair(lib))
        assert not np.any(np.asarray(jac[1]))
        with pytest.raises(RuntimeError, match="independent of input 1"):
            lib.autograd.functional.jacobian(f, _pair(lib), strict=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda lib: lib.autograd.functional.vjp(_vec(lib), _pair(lib)), RuntimeError,
     "v can only be None"),
    (lambda lib: lib.autograd.functional.vjp(_vec(lib), _pair(lib), lib.ones(3)), RuntimeError,
     "invalid size"),
    (lambda lib: lib.autograd.functional.jvp(_vec(lib), _pair(lib), (lib.ones(3),)),
     RuntimeError, "invalid length"),
    (lambda lib: lib.autograd.functional.jacobian(_vec(lib), (lib.ones(3), 2)), TypeError,
     "index 1"),
    (lambda lib: lib.autograd.functional.hessian(_vec(lib), _pair(lib)), RuntimeError,
     "single element"),
    (lambda lib: lib.autograd.functional.jacobian(_vec(lib), _pair(lib),
                                                  strategy="forward-mode"),
     NotImplementedError, "vectorize=True"),
    (lambda lib: lib.autograd.functional.jacobian(_vec(lib), _pair(lib), strategy="sideways"),
     AssertionError, "strategy"),
    (lambda lib: lib.autograd.functional.jacobian(_vec(lib), _pair(lib), strict=True,
                                                  vectorize=True), RuntimeError, "strict"),
])
def test_errors_match_torch(call, error, match):
    for lib in (minidl, torch):
        with pytest.raises(error, match=match):
            call(lib)


def test_newton_method_on_rosenbrock_converges():
    """Newton's method x <- x - H^-1 g via the Hessian finds Rosenbrock's minimum (1, 1)."""
    def rosenbrock(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    x = minidl.tensor([-1.2, 1.0], dtype=minidl.float64)
    for _ in range(20):
        g = minidl.autograd.functional.jacobian(rosenbrock, x)
        h = minidl.autograd.functional.hessian(rosenbrock, x)
        x = x - minidl.tensor(np.linalg.solve(h.numpy(), g.numpy()))
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-10)
