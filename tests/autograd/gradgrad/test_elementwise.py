"""Second derivatives of the elementwise kernels -- unary math, trigonometric and inverse
hyperbolic functions, binary math and selection, arithmetic, powers, rounding, logit and
every activation -- each backward branch (tensor / scalar operands, broadcasting, integer
operands, options) at least once, against torch (see harness.py)."""
import numpy as np
import pytest

import minidl
from tests.autograd.gradgrad.harness import Case, check, second_derivatives

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def away_from_zero(*shape, low=0.3, high=1.5):
    """Values with |x| in [low, high] and random signs (no kink of abs / relu / ... near)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def positive(*shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)


def inside_unit(*shape):
    return rng.uniform(-0.8, 0.8, shape)


def _unary(name, fn, x):
    return Case(name, lambda lib, a: fn(lib, a), (x,))


UNARY = [
    _unary("neg", lambda lib, x: -x * x, normal(2, 3)),
    _unary("abs", lambda lib, x: lib.abs(x) * x, away_from_zero(2, 3)),
    _unary("exp", lambda lib, x: lib.exp(x), normal(2, 3)),
    _unary("exp2", lambda lib, x: lib.exp2(x), normal(2, 3)),
    _unary("expm1", lambda lib, x: lib.expm1(x), normal(2, 3)),
    _unary("log", lambda lib, x: lib.log(x), positive(2, 3)),
    _unary("log2", lambda lib, x: lib.log2(x), positive(2, 3)),
    _unary("log10", lambda lib, x: lib.log10(x), positive(2, 3)),
    _unary("log1p", lambda lib, x: lib.log1p(x), positive(2, 3)),
    _unary("sqrt", lambda lib, x: lib.sqrt(x), positive(2, 3)),
    _unary("rsqrt", lambda lib, x: lib.rsqrt(x), positive(2, 3)),
    _unary("square", lambda lib, x: lib.square(x) * x, normal(2, 3)),
    _unary("reciprocal", lambda lib, x: lib.reciprocal(x), away_from_zero(2, 3)),
    _unary("erf", lambda lib, x: lib.erf(x), normal(2, 3)),
    _unary("erfc", lambda lib, x: lib.erfc(x), normal(2, 3)),
    _unary("sin", lambda lib, x: lib.sin(x), normal(2, 3)),
    _unary("cos", lambda lib, x: lib.cos(x), normal(2, 3)),
    _unary("tan", lambda lib, x: lib.tan(x), inside_unit(2, 3)),
    _unary("asin", lambda lib, x: lib.asin(x), inside_unit(2, 3)),
    _unary("acos", lambda lib, x: lib.acos(x), inside_unit(2, 3)),
    _unary("atan", lambda lib, x: lib.atan(x), normal(2, 3)),
    _unary("sinh", lambda lib, x: lib.sinh(x), normal(2, 3)),
    _unary("cosh", lambda lib, x: lib.cosh(x), normal(2, 3)),
    _unary("deg2rad", lambda lib, x: lib.deg2rad(x) * x, normal(2, 3)),
    _unary("rad2deg", lambda lib, x: lib.rad2deg(x) * x, normal(2, 3)),
    _unary("asinh", lambda lib, x: lib.asinh(x), normal(2, 3)),
    _unary("acosh", lambda lib, x: lib.acosh(x), positive(2, 3, low=1.2, high=3.0)),
    _unary("atanh", lambda lib, x: lib.atanh(x), inside_unit(2, 3)),
    _unary("frac", lambda lib, x: lib.frac(x) * x, positive(2, 3, low=0.1, high=0.9) + 1.0),
    _unary("floor ceil round trunc sign (zero gradient)",
           lambda lib, x: (lib.floor(x) + lib.ceil(x) + lib.round(x) + lib.trunc(x)
                           + lib.sign(x) + lib.round(x, decimals=1)) * x,
           np.array([[-1.33, 0.41, 2.62], [0.77, -2.21, 1.12]])),
    _unary("logit", lambda lib, x: lib.logit(x), rng.uniform(0.1, 0.9, (2, 3))),
    _unary("logit eps (clamped entries have zero gradient)", lambda lib, x: lib.logit(x, eps=0.2),
           np.array([[0.05, 0.3, 0.5], [0.7, 0.95, 0.45]])),
]


BINARY = [
    Case("atan2 broadcast", lambda lib, y, x: lib.atan2(y, x),
         (normal(2, 3), away_from_zero(3))),
    Case("atan2 only x", lambda lib, y, x: lib.atan2(y, x), (normal(2, 3), normal(2, 3)),
         no_grad=(0,)),
    Case("hypot broadcast", lambda lib, x, y: lib.hypot(x, y), (normal(2, 3), normal(2, 1))),
    Case("logaddexp broadcast", lambda lib, x, y: lib.logaddexp(x, y),
         (normal(2, 3), normal(3))),
    Case("xlogy", lambda lib, x, y: lib.xlogy(x, y), (away_from_zero(2, 3), positive(2, 3))),
    Case("xlogy broadcast y", lambda lib, x, y: lib.xlogy(x, y), (normal(2, 3), positive(3))),
    Case("xlogy scalar x", lambda lib, y: lib.xlogy(2.0, y), (positive(2, 3),)),
    Case("maximum broadcast", lambda lib, x, y: lib.maximum(x, y) ** 2,
         (normal(2, 3), normal(3))),
    Case("minimum", lambda lib, x, y: lib.minimum(x, y) ** 2, (normal(2, 3), normal(2, 3))),
    Case("fmax fmin", lambda lib, x, y: lib.fmax(x, y) * lib.fmin(x, y),
         (normal(2, 3), normal(2, 3))),
    Case("clamp scalars", lambda lib, x: lib.clamp(x, -0.5, 0.5) ** 2,
         (away_from_zero(2, 4, low=0.1, high=1.0),)),
    Case("clamp min only", lambda lib, x: lib.clamp(x, min=0.2) ** 2, (normal(2, 4),)),
    Case("clamp max only", lambda lib, x: lib.clamp(x, max=0.2) ** 2, (normal(2, 4),)),
    Case("clamp tensor bounds broadcast", lambda lib, x, lo, hi: lib.clamp(x, lo, hi) ** 2,
         (np.array([[-2.0, -0.1, 0.3, 2.5], [0.05, 1.7, -1.2, 0.6]]),
          np.array([-1.0, -0.5, 0.0, 0.5]), np.array([[1.5], [0.4]]))),
    Case("clamp tensor min only", lambda lib, x, lo: lib.clamp(x, min=lo) ** 2,
         (normal(2, 3), normal(2, 3))),
    Case("clamp tensor max only", lambda lib, x, hi: lib.clamp(x, max=hi) ** 2,
         (normal(2, 3), normal(2, 3))),
    Case("where broadcast", lambda lib, c, x, y: lib.where(c, x * x, y * y),
         (rng.random((2, 3)) > 0.5, normal(2, 3), normal(3))),
    Case("where scalar other", lambda lib, c, x: lib.where(c, x * x, 0.5),
         (rng.random((2, 3)) > 0.5, normal(2, 3))),
    Case("lerp scalar weight", lambda lib, a, b: lib.lerp(a, b, 0.3) ** 2,
         (normal(2, 3), normal(2, 3))),
    Case("lerp tensor weight broadcast", lambda lib, a, b, w: lib.lerp(a, b, w) ** 2,
         (normal(2, 3), normal(3), rng.uniform(0, 1, (2, 1)))),
    Case("nan_to_num", lambda lib, x: lib.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-3.0) ** 2,
         (np.array([[0.3, np.nan, -1.2], [np.inf, 0.8, -np.inf]]),)),
]


ARITHMETIC = [
    Case("add broadcast alpha", lambda lib, x, y: lib.add(x, y, alpha=2.5) ** 2,
         (normal(2, 3), normal(3))),
    Case("add scalar", lambda lib, x: (x + 1.5) * x, (normal(2, 3),)),
    Case("sub broadcast alpha", lambda lib, x, y: lib.sub(x, y, alpha=0.5) ** 2,
         (normal(2, 3), normal(2, 1))),
    Case("rsub scalar", lambda lib, x: (1.5 - x) * x, (normal(2, 3),)),
    Case("mul broadcast", lambda lib, x, y: x * y * y, (normal(2, 3), normal(3))),
    Case("mul scalar", lambda lib, x: (x * 2.5) * x, (normal(2, 3),)),
    Case("mul integer tensor", lambda lib, x, n: (x * n) * x,
         (normal(2, 3), np.array([[1, -2, 3], [0, 4, -1]]))),
    Case("mul 0-d", lambda lib, x, s: x * s * s, (normal(2, 3), np.array(1.3))),
    Case("div broadcast", lambda lib, x, y: x / y, (normal(2, 3), away_from_zero(3))),
    Case("div scalar denominator", lambda lib, x: (x / 2.5) * x, (normal(2, 3),)),
    Case("rdiv scalar numerator", lambda lib, x: 2.0 / x, (away_from_zero(2, 3),)),
    Case("div integer numerator", lambda lib, n, y: n / y,
         (np.array([[1, -2, 3], [5, 4, -1]]), away_from_zero(2, 3))),
    Case("floor and trunc division (zero gradient)",
         lambda lib, x, y: (lib.div(x, y, rounding_mode="floor")
                            + lib.div(x, y, rounding_mode="trunc")) * x * y,
         (np.array([[1.3, -2.6, 3.2], [5.1, 4.7, -1.4]]), np.array([0.7, -1.1, 1.9]))),
    Case("remainder", lambda lib, x, y: lib.remainder(x, y) * y,
         (np.array([[1.3, -2.6, 3.2], [5.1, 4.7, -1.4]]), np.array([0.7, -1.1, 1.9]))),
    Case("remainder scalar", lambda lib, x: lib.remainder(x, 0.7) * x,
         (np.array([[1.3, -2.6, 3.2], [5.1, 4.7, -1.5]]),)),
    Case("fmod", lambda lib, x, y: lib.fmod(x, y) * y,
         (np.array([[1.3, -2.6, 3.2], [5.1, 4.7, -1.4]]), np.array([0.7, -1.1, 1.9]))),
    Case("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5) ** 2,
         (normal(2, 3), normal(2, 3), normal(3))),
    Case("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2.0),
         (normal(2, 3), normal(2, 3), away_from_zero(3))),
]


POWERS = [
    Case("pow scalar exponent", lambda lib, x: x ** 3.0, (normal(2, 3),)),
    Case("pow exponent 2", lambda lib, x: x ** 2 * x, (normal(2, 3),)),
    Case("pow exponent 0", lambda lib, x: x ** 0 * x * x, (normal(2, 3),)),
    Case("pow negative fractional exponent", lambda lib, x: x ** -1.5, (positive(2, 3),)),
    Case("rpow scalar base", lambda lib, x: 2.0 ** x, (normal(2, 3),)),
    Case("pow tensor exponent broadcast", lambda lib, x, y: lib.pow(x, y),
         (positive(2, 3), normal(3))),
    Case("pow tensor exponent only", lambda lib, x, y: lib.pow(x, y), (positive(2, 3),
                                                                       normal(2, 3)),
         no_grad=(0,)),
    Case("float_power", lambda lib, x, y: lib.float_power(x, y), (positive(2, 3), normal(2, 3))),
]


ACTIVATIONS = [
    _unary("tanh", lambda lib, x: lib.tanh(x), normal(2, 3)),
    _unary("sigmoid", lambda lib, x: lib.sigmoid(x), normal(2, 3)),
    _unary("relu", lambda lib, x: lib.relu(x) * x, away_from_zero(2, 3)),
    Case("softmax dim -1", lambda lib, x: lib.softmax(x, -1), (normal(2, 3),)),
    Case("softmax dim 0", lambda lib, x: lib.softmax(x, 0), (normal(3, 2),)),
    Case("log_softmax dim 1", lambda lib, x: lib.log_softmax(x, 1), (normal(2, 3, 2),)),
    Case("log_softmax dim 0", lambda lib, x: lib.log_softmax(x, 0), (normal(3, 2),)),
    Case("softmin", lambda lib, x: lib.nn.functional.softmin(x, dim=1), (normal(2, 3),)),
]


def _f(name, x, **kwargs):
    """An ``nn.functional`` activation with keyword options."""
    return Case(f"{name} {kwargs}" if kwargs else name,
                lambda lib, a: getattr(lib.nn.functional, name)(a, **kwargs), (x,))


POINTWISE = [
    _f("gelu", normal(2, 3)),
    _f("gelu", normal(2, 3), approximate="tanh"),
    _f("silu", normal(2, 3)),
    _f("mish", normal(2, 3)),
    _f("softplus", normal(2, 3)),
    _f("softplus", np.array([[-1.0, 0.5, 2.5], [3.5, -0.2, 1.2]]), beta=2.0, threshold=4.0),
    _f("hardswish", np.array([[-4.0, -1.0, 0.5], [2.0, 3.5, -2.5]])),
    _f("logsigmoid", normal(2, 3)),
    _f("softsign", away_from_zero(2, 3)),
    _f("tanhshrink", normal(2, 3)),
    _f("hardshrink", away_from_zero(2, 3, low=0.1, high=1.5), lambd=0.4),
    _f("softshrink", away_from_zero(2, 3, low=0.1, high=1.5), lambd=0.4),
    _f("leaky_relu", away_from_zero(2, 3), negative_slope=0.2),
    _f("elu", away_from_zero(2, 3), alpha=1.5),
    _f("selu", away_from_zero(2, 3)),
    _f("celu", away_from_zero(2, 3), alpha=0.7),
    _f("hardtanh", np.array([[-1.7, -0.4, 0.3], [1.2, 0.9, -0.8]]), min_val=-1.0, max_val=1.0),
    _f("relu6", np.array([[-1.7, 2.4, 5.3], [6.5, 0.9, -0.8]])),
    _f("threshold", np.array([[-1.7, 0.4, 0.8], [1.2, 0.1, -0.8]]), threshold=0.3, value=-2.0),
    Case("prelu per channel", lambda lib, x, a: lib.nn.functional.prelu(x, a) * x,
         (away_from_zero(2, 3, 2), np.array([0.2, -0.3, 0.5]))),
    Case("prelu shared", lambda lib, x, a: lib.nn.functional.prelu(x, a) * x,
         (away_from_zero(2, 3), np.array([0.25]))),
    Case("inplace elu of a non-leaf", lambda lib, x: lib.nn.functional.elu(x * 1.0, inplace=True),
         (away_from_zero(2, 3),)),
    Case("inplace silu of a non-leaf",
         lambda lib, x: lib.nn.functional.silu(x * 1.0, inplace=True), (normal(2, 3),)),
    Case("inplace relu of a non-leaf",
         lambda lib, x: lib.nn.functional.relu(x * x - 0.5, inplace=True), (normal(2, 3),)),
    Case("sin_ of a non-leaf (the saved input is its old value)",
         lambda lib, x: (x * 1.0).sin_() * x, (normal(2, 3),)),
]


def _hooked_tanh(lib, x):
    """tanh through a module whose full backward pre-hook scales the output gradient by 3 and
    whose backward hook scales the input gradient by 2 (the second backward bypasses them)."""
    module = lib.nn.Tanh()
    module.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 3.0,))
    module.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 2.0,))
    return module(x * x)


HOOKS = [Case("module full backward hook", _hooked_tanh, (normal(2, 3),))]

TORCH_CASES = UNARY + BINARY + ARITHMETIC + POWERS + ACTIVATIONS + POINTWISE + HOOKS

# torch has no second derivative of these (its backward raises "derivative for
# aten::hardsigmoid_backward / floor_divide / remainder(Scalar, Tensor) is not implemented",
# or gives NaN for 0 ** x); minidl's is zero with respect to the inputs, the derivative of a
# piecewise-constant first derivative, and checked by finite differences.
ZERO_SECOND = [
    _f("hardsigmoid", np.array([[-4.0, -1.0, 0.5], [2.0, 3.5, -2.5]])),
    Case("floor_divide", lambda lib, x, y: lib.floor_divide(x, y) * 1.0,
         (np.array([[1.3, -2.6, 3.2], [5.1, 4.7, -1.4]]), np.array([0.7, -1.1, 1.9]))),
    Case("rmod", lambda lib, y: 2.3 % y, (np.array([[0.7, -1.1, 1.9]]),)),
    Case("rpow base 0", lambda lib, x: lib.pow(0.0, x), (positive(2, 3),)),
]

CASES = TORCH_CASES + ZERO_SECOND


@pytest.mark.parametrize("case", TORCH_CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)


@pytest.mark.parametrize("case", ZERO_SECOND, ids=repr)
def test_second_derivatives_without_torch_are_zero(case):
    args = [minidl.tensor(x.copy(), requires_grad=True) for x in case.inputs]
    assert minidl.autograd.gradgradcheck(lambda *a: case.fn(minidl, *a), args)
    seconds, firsts = second_derivatives(minidl, case)
    assert all(f is not None for f in firsts)
    assert all(s is None or not np.any(s) for s in seconds[:len(args)])
