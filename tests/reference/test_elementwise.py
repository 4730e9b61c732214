"""Elementwise ops against PyTorch: outputs, gradients, dtype promotion, broadcasting."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]
SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


def sample(domain, shape, rng):
    """Random inputs from a domain where the op and its derivative are well defined."""
    return np.asarray(_sample(domain, shape, rng))


def _sample(domain, shape, rng):
    if domain == "any":
        return rng.standard_normal(shape)
    if domain == "pos":
        return rng.uniform(0.2, 3.0, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "small":
        return rng.uniform(-1.2, 1.2, shape)
    if domain == "away":  # |x| >= 0.5: safe divisor
        x = rng.standard_normal(shape)
        return x + 0.5 * np.where(x >= 0, 1.0, -1.0)
    if domain == "round":  # integer-valued floats: ties for comparisons and extrema
        return np.round(rng.uniform(-2, 2, shape))
    raise ValueError(domain)


def both(name):
    """(minidl fn, torch fn) for a torch-level name."""
    return getattr(minidl, name), getattr(torch, name)


UNARY = {  # name: (minidl fn, torch fn, domain)
    **{n: (*both(n), d) for n, d in [
        ("neg", "any"), ("abs", "any"), ("exp", "any"), ("exp2", "any"), ("expm1", "any"),
        ("log", "pos"), ("log2", "pos"), ("log10", "pos"), ("log1p", "pos"), ("sqrt", "pos"),
        ("rsqrt", "pos"), ("square", "any"), ("reciprocal", "away"), ("sin", "any"),
        ("cos", "any"), ("tan", "small"), ("asin", "unit"), ("acos", "unit"), ("atan", "any"),
        ("sinh", "any"), ("cosh", "any"), ("tanh", "any"), ("sigmoid", "any"), ("relu", "any"),
        ("erf", "any"), ("erfc", "any"), ("sign", "any"), ("floor", "any"),
        ("ceil", "any"), ("round", "any"), ("trunc", "any"), ("fix", "any"), ("frac", "any"),
        ("nan_to_num", "any"), ("negative", "any"), ("absolute", "any"), ("positive", "any")]},
    "round_decimals": (lambda x: minidl.round(x, decimals=2),
                       lambda x: torch.round(x, decimals=2), "any"),
    "clamp": (lambda x: minidl.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), "any"),
    "clamp_min": (lambda x: x.clamp(min=-0.2), lambda x: x.clamp(min=-0.2), "any"),
    "clamp_max": (lambda x: minidl.clamp_max(x, 0.3), lambda x: torch.clamp_max(x, 0.3), "any"),
    "clip": (lambda x: x.clip(-1, 1), lambda x: x.clip(-1, 1), "any"),
    "pow2": (lambda x: x ** 2, lambda x: x ** 2, "any"),
    "pow3": (lambda x: minidl.pow(x, 3), lambda x: torch.pow(x, 3), "any"),
    "pow_half": (lambda x: x ** 0.5, lambda x: x ** 0.5, "pos"),
    "pow_neg": (lambda x: x ** -1.5, lambda x: x ** -1.5, "pos"),
    "pow0": (lambda x: x ** 0, lambda x: x ** 0, "any"),
    "rpow": (lambda x: 2 ** x, lambda x: 2 ** x, "any"),
    "rpow_float": (lambda x: 0.5 ** x, lambda x: 0.5 ** x, "any"),
    "float_power": (lambda x: minidl.float_power(x, 2), lambda x: torch.float_power(x, 2), "any"),
    "F.relu": (F.relu, torch.nn.functional.relu, "any"),
    "F.sigmoid": (F.sigmoid, torch.nn.functional.sigmoid, "any"),
    "F.tanh": (F.tanh, torch.nn.functional.tanh, "any"),
    "unary_minus": (lambda x: -x, lambda x: -x, "any"),
    "abs_op": (lambda x: builtin_abs(x), lambda x: builtin_abs(x), "any"),
    "method_chain": (lambda x: x.exp().log1p().sqrt(), lambda x: x.exp().log1p().sqrt(), "any"),
}
builtin_abs = abs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape, dtype):
    md, th, domain = UNARY[name]
    x = sample(domain, shape, np.random.default_rng(len(name)))
    compare(md, th, [x], dtype=dtype, noncontiguous=True)


NO_GRADCHECK = {"sign", "floor", "ceil", "round", "trunc", "fix", "round_decimals",
                "pow0"}


@pytest.mark.parametrize("name", [n for n in UNARY if n not in NO_GRADCHECK])
def test_unary_gradcheck(name):
    md, _, domain = UNARY[name]
    x = sample(domain, (2, 3), np.random.default_rng(1))
    if name.startswith(("clamp", "clip")) or name in ("relu", "F.relu", "abs", "absolute",
                                                     "abs_op", "frac"):
        x = x + 0.05 * (np.abs(x) < 0.05)  # keep finite differences off the kinks
    gradcheck(md, [x])


@pytest.mark.parametrize("name", sorted(NO_GRADCHECK))
def test_step_functions_have_zero_gradient(name):
    md, th, domain = UNARY[name]
    compare(md, th, [sample(domain, (3, 4), np.random.default_rng(2))])


def test_sgn_is_sign_for_real_tensors():
    x = sample("any", (3, 4), np.random.default_rng(2))
    compare(minidl.sgn, torch.sgn, [x], grad=False)  # torch's gradient here is a ZeroTensor
    assert minidl.sgn is minidl.sign


BINARY = {  # name: (minidl fn, torch fn, domain of x, domain of y, compare gradients)
    "add": (minidl.add, torch.add, "any", "any", True),
    "add_alpha": (lambda x, y: x.add(y, alpha=2), lambda x, y: x.add(y, alpha=2), "any", "any",
                  True),
    "sub": (minidl.sub, torch.sub, "any", "any", True),
    "sub_alpha": (lambda x, y: minidl.sub(x, y, alpha=0.5), lambda x, y: torch.sub(x, y, alpha=0.5),
                  "any", "any", True),
    "subtract": (minidl.subtract, torch.subtract, "any", "any", True),
    "mul": (minidl.mul, torch.mul, "any", "any", True),
    "multiply": (minidl.multiply, torch.multiply, "any", "any", True),
    "div": (minidl.div, torch.div, "any", "away", True),
    "true_divide": (minidl.true_divide, torch.true_divide, "any", "away", True),
    "div_floor": (lambda x, y: minidl.div(x, y, rounding_mode="floor"),
                  lambda x, y: torch.div(x, y, rounding_mode="floor"), "any", "away", True),
    "div_trunc": (lambda x, y: x.div(y, rounding_mode="trunc"),
                  lambda x, y: x.div(y, rounding_mode="trunc"), "any", "away", True),
    "floor_divide": (minidl.floor_divide, torch.floor_divide, "any", "away", False),
    "remainder": (minidl.remainder, torch.remainder, "any", "away", True),
    "fmod": (minidl.fmod, torch.fmod, "any", "away", True),
    "pow": (minidl.pow, torch.pow, "pos", "any", True),
    "atan2": (minidl.atan2, torch.atan2, "any", "away", True),
    "hypot": (minidl.hypot, torch.hypot, "away", "away", True),
    "logaddexp": (minidl.logaddexp, torch.logaddexp, "any", "any", True),
    "xlogy": (minidl.xlogy, torch.xlogy, "any", "pos", True),
    "maximum": (minidl.maximum, torch.maximum, "round", "round", True),
    "minimum": (minidl.minimum, torch.minimum, "round", "round", True),
    "fmax": (minidl.fmax, torch.fmax, "any", "any", True),
    "fmin": (minidl.fmin, torch.fmin, "any", "any", True),
    "max_pair": (minidl.max, torch.max, "round", "round", True),
    "min_pair": (minidl.min, torch.min, "round", "round", True),
    "clamp_tensor_min": (lambda x, lo: minidl.clamp(x, min=lo),
                         lambda x, lo: torch.clamp(x, min=lo), "any", "any", True),
    "clamp_tensor_max": (lambda x, hi: x.clamp(max=hi), lambda x, hi: x.clamp(max=hi), "any",
                         "any", True),
    "op_add": (lambda x, y: x + y, lambda x, y: x + y, "any", "any", True),
    "op_sub": (lambda x, y: x - y, lambda x, y: x - y, "any", "any", True),
    "op_mul": (lambda x, y: x * y, lambda x, y: x * y, "any", "any", True),
    "op_div": (lambda x, y: x / y, lambda x, y: x / y, "any", "away", True),
    "op_floordiv": (lambda x, y: x // y, lambda x, y: x // y, "any", "away", False),
    "op_mod": (lambda x, y: x % y, lambda x, y: x % y, "any", "away", True),
    "op_pow": (lambda x, y: x ** y, lambda x, y: x ** y, "pos", "any", True),
}
BROADCAST = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (3,)), ((4,), ()),
             ((2, 1, 4), (3, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, shapes, dtype):
    md, th, dx, dy, grad = BINARY[name]
    rng = np.random.default_rng(len(name))
    x, y = sample(dx, shapes[0], rng), sample(dy, shapes[1], rng)
    compare(md, th, [x, y], dtype=dtype, grad=grad, noncontiguous=True)


@pytest.mark.parametrize("name", [n for n, v in BINARY.items() if v[4] and not
                                  n.startswith(("div_", "max", "min", "op_"))])
def test_binary_gradcheck(name):
    md, _, dx, dy, _ = BINARY[name]
    rng = np.random.default_rng(3)
    gradcheck(md, [sample(dx, (2, 3), rng), sample(dy, (3,), rng)])


@pytest.mark.parametrize("fn", [minidl.maximum, minidl.minimum, minidl.fmax, minidl.fmin])
def test_extremum_gradcheck_without_ties(fn):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3))
    gradcheck(fn, [x, x[0] + 0.3])


SCALAR_OPS = {
    "add": (lambda x: x + 2, lambda x: x + 2),
    "radd": (lambda x: 2.5 + x, lambda x: 2.5 + x),
    "rsub": (lambda x: 1 - x, lambda x: 1 - x),
    "rmul": (lambda x: 3 * x, lambda x: 3 * x),
    "rdiv": (lambda x: 3 / x, lambda x: 3 / x),
    "div": (lambda x: x / 4, lambda x: x / 4),
    "rfloordiv": (lambda x: 5 // x, lambda x: 5 // x),
    "mod": (lambda x: x % 1.5, lambda x: x % 1.5),
    "rmod_no_grad": (lambda x: 2 % x, lambda x: 2 % x),
    "sub_scalar_other": (lambda x: minidl.sub(2.0, x), lambda x: torch.sub(2.0, x)),
    "where_scalars": (lambda x: minidl.where(x > 0, x, 0.5), lambda x: torch.where(x > 0, x, 0.5)),
    "where_scalar_first": (lambda x: minidl.where(x > 0, 1.0, x),
                           lambda x: torch.where(x > 0, 1.0, x)),
    "tensor_where": (lambda x: x.where(x < 0, -x), lambda x: x.where(x < 0, -x)),
    "lerp_scalar": (lambda x: minidl.lerp(x, x * 2 + 1, 0.3),
                    lambda x: torch.lerp(x, x * 2 + 1, 0.3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SCALAR_OPS))
def test_scalar_operands(name, dtype):
    md, th = SCALAR_OPS[name]
    x = sample("away", (3, 4), np.random.default_rng(5))
    compare(md, th, [x], dtype=dtype, grad="floordiv" not in name and "no_grad" not in name,
            noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), ()),
                                    ((4, 1), (1, 3), (4, 3))], ids=str)
def test_three_operand_ops(shapes, dtype):
    rng = np.random.default_rng(6)
    a, b, w = (rng.standard_normal(s) for s in shapes)
    compare(minidl.lerp, torch.lerp, [a, b, w], dtype=dtype, noncontiguous=True)
    cond = np.asarray(rng.random(shapes[2]) > 0.5)
    compare(minidl.where, torch.where, [cond, a, b], dtype=dtype, noncontiguous=True)
    lo, hi = np.asarray(-np.abs(b) - 0.1), np.asarray(np.abs(w) + 0.1)
    compare(minidl.clamp, torch.clamp, [a, lo, hi], dtype=dtype, noncontiguous=True)
    compare(minidl.clamp, torch.clamp, [a, hi, lo], dtype=dtype)  # min > max: max wins


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv(name):
    rng = np.random.default_rng(10)
    a, b, c = rng.standard_normal((3, 4)), rng.standard_normal(4), sample("away", (3, 1), rng)

    def fn(x, y, z):
        return getattr(x, name)(y, z, value=0.5)

    def fn_inplace(x, y, z):
        return getattr(x * 1.0, name + "_")(y, z, value=-2)
    for dtype in DTYPES:
        compare(fn, fn, [a, b, c], dtype=dtype, noncontiguous=True)
        compare(fn_inplace, fn_inplace, [a, b, c], dtype=dtype)
    gradcheck(getattr(minidl, name), [a, b, c])


def test_where_with_condition_only_gives_indices():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    compare(lambda t: (minidl if isinstance(t, minidl.Tensor) else torch).where(t != 0),
            lambda t: torch.where(t != 0), [x], grad=False)


def test_three_operand_gradcheck():
    rng = np.random.default_rng(7)
    a, b, w = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(())
    gradcheck(minidl.lerp, [a, b, w])
    cond = rng.random((2, 3)) > 0.5
    gradcheck(lambda x, y: minidl.where(minidl.from_numpy(cond), x, y), [a, b])
    gradcheck(minidl.clamp, [a, b - 2.0, b + 2.0])
    gradcheck(minidl.clamp, [a * 3, b - 0.5, b + 0.5])


EDGE_GRADS = {  # gradient conventions at special points (inf / nan / 0 where torch gives them)
    "sqrt_at_0": (lambda x: x.sqrt(), [0.0, 1.0, 4.0]),
    "rsqrt_at_0": (lambda x: x.rsqrt(), [0.0, 1.0]),
    "log_at_0": (lambda x: x.log(), [0.0, 1.0]),
    "abs_at_0": (lambda x: x.abs(), [0.0, -1.0, 2.0]),
    "relu_at_0": (lambda x: x.relu(), [0.0, -1.0, 2.0]),
    "pow_half_at_0": (lambda x: x ** 0.5, [0.0, 1.0]),
    "pow_neg_at_0": (lambda x: x ** -1, [0.0, 2.0]),
    "pow_zero": (lambda x: x ** 0, [0.0, 2.0]),
    "rpow_zero_base": (lambda x: 0 ** x, [0.0, 1.0, -1.0]),
    "clamp_at_bounds": (lambda x: x.clamp(1, 2), [0.0, 1.0, 1.5, 2.0, 3.0]),
    "clamp_inverted": (lambda x: x.clamp(2, 1), [0.0, 1.5, 3.0]),
    "maximum_ties": (lambda x: minidl.maximum(x, x.detach() * 0 + 1) if isinstance(x, minidl.Tensor)
                     else torch.maximum(x, x.detach() * 0 + 1), [1.0, 0.0, 2.0]),
    "nan_to_num": (lambda x: x.nan_to_num(posinf=5.0), [1.0, np.nan, np.inf, -np.inf]),
    "sigmoid_extreme": (lambda x: x.sigmoid(), [-100.0, 0.0, 100.0]),
    "tanh_extreme": (lambda x: x.tanh(), [-30.0, 30.0]),
    "exp_overflow": (lambda x: x.exp(), [100.0, -1000.0]),
}


@pytest.mark.parametrize("name", list(EDGE_GRADS))
def test_gradient_conventions_at_special_points(name):
    fn, values = EDGE_GRADS[name]
    compare(fn, fn, [np.array(values)], dtype="float64")


def test_pow_tensor_exponent_special_points():
    x = np.array([0.0, 0.0, 0.0, 2.0, 3.0])
    e = np.array([0.0, 1.0, -1.0, 0.5, 2.0])
    compare(minidl.pow, torch.pow, [x, e], dtype="float64")


# ------------------------------------------------------------------ comparisons
PREDICATES = {
    **{n: both(n) for n in ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
                            "less", "less_equal", "not_equal", "logical_and", "logical_or",
                            "logical_xor"]},
    "op_eq": (lambda x, y: x == y, lambda x, y: x == y),
    "op_ne": (lambda x, y: x != y, lambda x, y: x != y),
    "op_lt": (lambda x, y: x < y, lambda x, y: x < y),
    "op_le": (lambda x, y: x <= y, lambda x, y: x <= y),
    "op_gt": (lambda x, y: x > y, lambda x, y: x > y),
    "op_ge": (lambda x, y: x >= y, lambda x, y: x >= y),
    "isclose": (lambda x, y: minidl.isclose(x, y + 1e-9), lambda x, y: torch.isclose(x, y + 1e-9)),
}


@pytest.mark.parametrize("shapes", BROADCAST[:4], ids=str)
@pytest.mark.parametrize("name", list(PREDICATES))
def test_comparisons(name, shapes):
    md, th = PREDICATES[name]
    rng = np.random.default_rng(8)
    x, y = sample("round", shapes[0], rng), sample("round", shapes[1], rng)
    out, _ = compare(md, th, [x, y], grad=False, noncontiguous=True)
    assert out[0].dtype == minidl.bool and not out[0].requires_grad


def test_comparisons_with_scalars_and_mixed_dtypes():
    i = np.array([[1, 2], [3, 4]])
    f = np.array([1.0, 2.5])
    for op in [lambda a, b: a == b, lambda a, b: a < b, lambda a, b: a >= 2.5,
               lambda a, b: 2 < a, lambda a, b: a != 3]:
        compare(op, op, [i, f], grad=False)
    compare(lambda a: a.logical_not(), lambda a: a.logical_not(), [i], grad=False)


def test_float_predicates():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -0.0])
    for name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "signbit"]:
        compare(getattr(minidl, name), getattr(torch, name), [x], grad=False)
    ints = np.array([1, -2])
    for name in ["isnan", "isinf", "isfinite"]:
        compare(getattr(minidl, name), getattr(torch, name), [ints], grad=False)
    compare(lambda a: minidl.nan_to_num(a, 0.5, 9.0, -9.0),
            lambda a: torch.nan_to_num(a, 0.5, 9.0, -9.0), [x], dtype="float64")


def test_equal_allclose():
    a = minidl.tensor([1.0, 2.0])
    assert minidl.equal(a, minidl.tensor([1.0, 2.0])) is True
    assert minidl.equal(a, minidl.tensor([1.0, 2.0, 3.0])) is False
    assert minidl.allclose(a, a + 1e-7) is True
    assert minidl.allclose(a, a + 1e-3) is False
    assert a.allclose(a * 1.001, rtol=1e-2) is True
    nan = minidl.tensor([float("nan")])
    assert not minidl.allclose(nan, nan) and minidl.allclose(nan, nan, equal_nan=True)
    assert a.equal(a.clone())


BITWISE = {
    "and": (lambda a, b: a & b), "or": (lambda a, b: a | b), "xor": (lambda a, b: a ^ b),
    "invert": (lambda a, b: ~a), "lshift": (lambda a, b: a << 2), "rshift": (lambda a, b: a >> 1),
    "rand": (lambda a, b: 6 & a), "ror": (lambda a, b: 1 | a),
    "fn_and": (lambda a, b: a.bitwise_and(b)), "fn_not": (lambda a, b: a.bitwise_not()),
}


@pytest.mark.parametrize("kind", ["int", "bool", "mixed"])
@pytest.mark.parametrize("name", list(BITWISE))
def test_bitwise(name, kind):
    rng = np.random.default_rng(9)
    a = rng.integers(-8, 8, (3, 4))
    b = rng.integers(-8, 8, (4,))
    if kind in ("bool", "mixed"):
        a = a > 0
    if kind == "bool":
        b = b > 0
    if kind != "int" and name in ("lshift", "rshift"):
        a = a.astype(np.int64)
    op = BITWISE[name]
    compare(op, op, [a, b], grad=False)


# ------------------------------------------------------------ dtype promotion
PROMOTION_OPERANDS = {
    "int64": np.array([1, -2, 3]), "int32": np.array([4, 5, -6], np.int32),
    "bool": np.array([True, False, True]), "uint8": np.array([1, 2, 250], np.uint8),
    "float32": np.array([1.5, -2.0, 0.5], np.float32), "float64": np.array([0.25, 3.0, -1.0]),
    "int_0d": np.array(3), "float64_0d": np.array(2.5), "float32_0d": np.array(-1.5, np.float32),
    "bool_0d": np.array(True), "py_int": 2, "py_float": 2.5, "py_bool": True,
}
PROMOTION_OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "sub": lambda a, b: a - b, "eq": lambda a, b: a == b, "lt": lambda a, b: a < b,
    "where": lambda a, b: (minidl if isinstance(a, minidl.Tensor) else torch).where(a != 0, a, b),
    "pow": lambda a, b: a ** b, "floordiv": lambda a, b: a // b,
    "remainder": lambda a, b: a % b,
}


def _promotion_cases():
    for left in ["int64", "int32", "bool", "uint8", "float32", "float64", "int_0d", "float64_0d"]:
        for right in PROMOTION_OPERANDS:
            for op in PROMOTION_OPS:
                yield left, right, op


def _is_bool(name):
    return name.startswith(("bool", "py_bool"))


@pytest.mark.parametrize("left,right,op", [c for c in _promotion_cases()
                                           if not (c[2] == "pow" and _is_bool(c[1]))])
def test_type_promotion(left, right, op):
    """Result dtype and values match torch for tensor/0-d/scalar operand combinations;
    where torch refuses the combination, minidl raises the same exception type."""
    a, b = PROMOTION_OPERANDS[left], PROMOTION_OPERANDS[right]
    int_like = {"int64", "int32", "bool", "uint8", "int_0d", "bool_0d", "py_int", "py_bool"}
    if op == "pow" and left in int_like and right in int_like:
        b = np.abs(b) if isinstance(b, np.ndarray) else b
    if op in ("floordiv", "remainder") and right in int_like and left in int_like:
        b = b if not isinstance(b, np.ndarray) else np.where(b == 0, 1, b).astype(b.dtype)
        if right in ("bool", "bool_0d", "py_bool"):
            b = np.ones_like(b) if isinstance(b, np.ndarray) else True
    fn = PROMOTION_OPS[op]
    try:
        fn(torch.from_numpy(a), torch.from_numpy(b) if isinstance(b, np.ndarray) else b)
    except RuntimeError as e:  # NotImplementedError included
        with pytest.raises(type(e)):
            fn(minidl.from_numpy(a), minidl.from_numpy(b) if isinstance(b, np.ndarray) else b)
        return
    compare(fn, fn, [a, b], grad=False, dtype=_keep(a), rtol=1e-6, atol=1e-6)


def _keep(a):
    return "float64" if isinstance(a, np.ndarray) and a.dtype == np.float64 else "float32"


def test_int_tensor_times_float_and_true_division():
    i = minidl.tensor([1, 2, 3])
    assert (i * 2.5).dtype == minidl.float32 and (i * 2).dtype == minidl.int64
    assert (i / 2).dtype == minidl.float32 and (i // 2).dtype == minidl.int64
    assert (i + minidl.tensor(1.5, dtype=minidl.float64)).dtype == minidl.float64
    assert (minidl.ones(2) + minidl.tensor(1.5, dtype=minidl.float64)).dtype == minidl.float32
    assert (minidl.tensor([True]) + minidl.tensor([True])).dtype == minidl.bool
    assert minidl.tensor([True, False]).sum().dtype == minidl.int64
    assert (minidl.tensor([1.0]) + minidl.tensor(2.0, dtype=minidl.float64)).dtype == minidl.float32
    assert minidl.exp(i).dtype == minidl.float32 and minidl.abs(i).dtype == minidl.int64
    assert minidl.sqrt(minidl.tensor([True])).dtype == minidl.float32
    assert minidl.square(minidl.tensor([True])).dtype == minidl.int64
    x = minidl.tensor([1.0], dtype=minidl.float64, requires_grad=True)
    y = x * minidl.tensor(2.0, dtype=minidl.float32)
    assert y.dtype == minidl.float64
    y.backward(minidl.ones(1, dtype=minidl.float64))
    assert x.grad.dtype == minidl.float64


@pytest.mark.parametrize("expr", ["i ** 2", "2 ** i", "i ** i", "i // 2", "i % 2", "-7 % i",
                                  "i.div(2, rounding_mode='trunc')", "2 ** (-i)", "i ** (-j)",
                                  "(-i).div(2, rounding_mode='trunc')",
                                  "i.div(2, rounding_mode='floor')", "i.fmod(2)", "i ** 2.5",
                                  "2.5 ** i", "i.clamp(min=0)", "i.clamp(min=0.5)", "i.relu()",
                                  "i.sign()", "i.floor()", "i.round()", "i.reciprocal()",
                                  "i.sigmoid()", "i.erf()", "i.nan_to_num()", "i.square()",
                                  "b ** 2", "b * b", "b / b", "b.sign()", "i.abs()", "-i",
                                  "torch.where(b, i, 2.5)", "torch.where(b, 1, 2)",
                                  "torch.where(b, 1., 2)", "i.maximum(j)", "i.minimum(b)"])
def test_integer_and_bool_results(expr):
    values = {"i": [1, -2, 3], "b": [True, False, True], "j": [3, -2, 1]}
    expected = eval(expr, {"torch": torch}, {k: torch.tensor(v) for k, v in values.items()})
    md_env = {k: minidl.tensor(v) for k, v in values.items()}
    got = eval(expr, {"torch": minidl}, md_env)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], expr
    np.testing.assert_allclose(got._data, expected.numpy(), rtol=1e-6, err_msg=expr)


# -------------------------------------------------------------------- hypothesis
def _broadcastable_pair():
    """Two shapes that broadcast: drop leading dims and set some sizes to 1 on each side."""
    @st.composite
    def pair(draw):
        full = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
        def derive():
            n_drop = draw(st.integers(0, len(full)))
            s = full[n_drop:]
            return tuple(1 if draw(st.booleans()) else d for d in s)
        return derive(), derive()
    return pair()


BROADCAST_OPS = [("add", lambda a, b: a + b), ("mul", lambda a, b: a * b),
                 ("maximum", lambda a, b: a.maximum(b)), ("sub", lambda a, b: a - b),
                 ("div", lambda a, b: a / (b * b + 1)), ("pow", lambda a, b: (a * a + 1) ** b),
                 ("where", lambda a, b: (minidl if isinstance(a, minidl.Tensor) else torch).where(
                     a > b, a, b * 2))]


@settings(max_examples=40, deadline=None)
@given(_broadcastable_pair(), st.sampled_from(BROADCAST_OPS), st.sampled_from(DTYPES),
       st.integers(0, 2 ** 16))
def test_hypothesis_broadcasting(shapes, op, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    compare(op[1], op[1], [a, b], dtype=dtype, noncontiguous=True)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(st.integers(1, 4),
                                                                       min_size=1, max_size=3))
def test_hypothesis_non_broadcastable_shapes_raise(sa, sb):
    try:
        np.broadcast_shapes(tuple(sa), tuple(sb))
        broadcastable = True
    except ValueError:
        broadcastable = False
    a, b = minidl.zeros(*sa), minidl.ones(*sb)
    if broadcastable:
        assert (a + b).shape == torch.broadcast_shapes(tuple(sa), tuple(sb))
    else:
        with pytest.raises(RuntimeError, match=r"must match the size of tensor b"):
            a * b


def test_erf_matches_torch_across_range():
    x = np.linspace(-7, 7, 2001)
    compare(minidl.erf, torch.erf, [x], dtype="float64")
    compare(minidl.erfc, torch.erfc, [x], dtype="float64", rtol=1e-9, atol=1e-300)
    compare(minidl.erf, torch.erf, [x], dtype="float32")
