"""Max / average / adaptive pooling (1-D, 2-D, 3-D) against torch: outputs, indices, gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck


def check(name, shape, *args, dtype="float64", data=None, noncontiguous=True, **kw):
    x = np.random.default_rng(sum(shape)).standard_normal(shape) if data is None else data
    compare(lambda a: getattr(F, name)(a, *args, **kw),
            lambda a: getattr(TF, name)(a, *args, **kw), [x], dtype=dtype,
            noncontiguous=noncontiguous)


MAX2D = [
    (2, {}),
    (3, dict(stride=2, padding=1)),
    (3, dict(stride=2, padding=1, ceil_mode=True)),
    ((3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(2, 1))),
    (2, dict(stride=1)),
    (2, dict(ceil_mode=True)),
    ((2, 3), dict(stride=(3, 2), padding=(1, 1), ceil_mode=True)),
    (3, dict(stride=3)),                                          # tiles with a remainder
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("indices", [False, True])
@pytest.mark.parametrize("k, kw", MAX2D, ids=str)
def test_max_pool2d(k, kw, indices, dtype):
    check("max_pool2d", (2, 3, 9, 8), k, dtype=dtype, return_indices=indices, **kw)


@pytest.mark.parametrize("shape", [(3, 9, 8), (1, 1, 4, 4), (2, 2, 5, 5)])
def test_max_pool2d_shapes(shape):
    check("max_pool2d", shape, 2, padding=1, return_indices=True)


@pytest.mark.parametrize("kw", [dict(stride=1), dict(stride=2, padding=1)], ids=str)
def test_max_pool_ties_route_gradient_to_first_max(kw):
    # ReLU-like input: many zeros, so most windows have tied maxima.
    x = np.maximum(np.random.default_rng(0).integers(-3, 3, (2, 2, 7, 6)), 0).astype(float)
    check("max_pool2d", x.shape, 3, data=x, return_indices=True, **kw)
    check("max_pool1d", (2, 3, 8), 2, data=np.ones((2, 3, 8)), stride=1, return_indices=True)


def test_max_pool_nan_and_all_minus_inf_windows():
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = np.nan
    x[0, 1, :3, :3] = -np.inf
    x[0, 1, 4, 4] = -np.inf
    check("max_pool2d", x.shape, 3, data=x, stride=2, padding=1, return_indices=True,
          noncontiguous=False)
    check("max_pool2d", x.shape, 2, data=x, return_indices=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape, k, kw", [
    ("max_pool1d", (2, 3, 11), 3, dict(stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("max_pool1d", (3, 10), 2, {}),
    ("max_pool3d", (2, 2, 5, 6, 7), 2, dict(padding=1, ceil_mode=True)),
    ("max_pool3d", (2, 4, 4, 6), (2, 2, 3), dict(stride=(1, 2, 3), dilation=(1, 2, 1))),
], ids=str)
def test_max_pool_1d_3d(name, shape, k, kw, dtype):
    check(name, shape, k, dtype=dtype, return_indices=True, **kw)


AVG2D = [
    (2, {}),
    (3, dict(stride=2, padding=1)),
    (3, dict(stride=2, padding=1, count_include_pad=False)),
    (3, dict(stride=2, padding=1, ceil_mode=True)),
    (3, dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (2, dict(stride=2, padding=1, ceil_mode=True)),
    ((3, 2), dict(stride=(1, 2), padding=(1, 1))),
    (2, dict(ceil_mode=True)),
    (3, dict(stride=2, padding=1, divisor_override=5)),
    (3, dict(stride=3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k, kw", AVG2D, ids=str)
def test_avg_pool2d(k, kw, dtype):
    check("avg_pool2d", (2, 3, 9, 8), k, dtype=dtype, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape, k, kw", [
    ("avg_pool1d", (2, 3, 11), 3, dict(stride=2, padding=1, ceil_mode=True,
                                        count_include_pad=False)),
    ("avg_pool1d", (3, 10), 2, {}),
    ("avg_pool2d", (3, 7, 7), 3, dict(padding=1)),
    ("avg_pool3d", (2, 2, 5, 6, 7), 2, dict(padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool3d", (2, 2, 4, 4, 4), 2, dict(divisor_override=3)),
], ids=str)
def test_avg_pool_other(name, shape, k, kw, dtype):
    check(name, shape, k, dtype=dtype, **kw)


def test_integer_pooling_forward():
    x = np.random.default_rng(2).integers(-20, 20, (2, 3, 7, 7))
    for name, kw in [("max_pool2d", dict(padding=1)), ("avg_pool2d", dict(padding=1)),
                     ("avg_pool2d", dict(count_include_pad=False, padding=1))]:
        compare(lambda a, name=name, kw=kw: getattr(F, name)(a, 3, 2, **kw),
                lambda a, name=name, kw=kw: getattr(TF, name)(a, 3, 2, **kw), [x], grad=False)


ADAPTIVE = [
    ("adaptive_avg_pool2d", (2, 3, 9, 8), (4, 5)),
    ("adaptive_avg_pool2d", (2, 3, 9, 8), (3, 4)),        # tiles: ordinary pooling
    ("adaptive_avg_pool2d", (2, 3, 9, 8), 1),
    ("adaptive_avg_pool2d", (2, 3, 9, 8), (None, 3)),
    ("adaptive_avg_pool2d", (3, 5, 7), (7, 9)),            # upsampling bins overlap
    ("adaptive_avg_pool1d", (2, 3, 10), 4),
    ("adaptive_avg_pool1d", (3, 10), 5),
    ("adaptive_avg_pool3d", (2, 2, 5, 6, 7), (2, 4, None)),
    ("adaptive_max_pool2d", (2, 3, 9, 8), (4, 5)),
    ("adaptive_max_pool2d", (2, 3, 9, 8), (3, 4)),
    ("adaptive_max_pool2d", (3, 5, 7), (7, 9)),
    ("adaptive_max_pool2d", (2, 3, 9, 8), (1, None)),
    ("adaptive_max_pool1d", (2, 3, 10), 4),
    ("adaptive_max_pool3d", (2, 2, 5, 6, 7), (2, 4, 3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape, out", ADAPTIVE, ids=str)
def test_adaptive(name, shape, out, dtype):
    kw = dict(return_indices=True) if "max" in name else {}
    check(name, shape, out, dtype=dtype, **kw)


def test_adaptive_zero_output_and_torch_level_names():
    x = minidl.randn(2, 3, 4, 4, requires_grad=True)
    for fn in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
        y = fn(x, 0)
        assert tuple(y.shape) == (2, 3, 0, 0)
    assert minidl.max_pool2d is F.max_pool2d and minidl.avg_pool1d is F.avg_pool1d
    assert minidl.adaptive_avg_pool1d is F.adaptive_avg_pool1d


def test_pool_of_relu_zero_windows_matches_torch_after_chain():
    # max_pool2d after a ReLU-like op with requires_grad leaves: gradients through a chain
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8))
    compare(lambda a: F.avg_pool2d(F.max_pool2d(a * a, 2), 2, stride=1),
            lambda a: TF.avg_pool2d(TF.max_pool2d(a * a, 2), 2, stride=1), [x], dtype="float32")


@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.max_pool2d(x, 3, stride=2, padding=1, dilation=1, ceil_mode=True), (1, 2, 6, 5)),
    (lambda x: F.max_pool2d(x, 2, dilation=2), (1, 1, 5, 5)),
    (lambda x: F.max_pool1d(x, 2), (2, 6)),
    (lambda x: F.max_pool3d(x, 2, padding=1), (1, 1, 3, 3, 3)),
    (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                            count_include_pad=False), (1, 2, 6, 5)),
    (lambda x: F.avg_pool1d(x, 3, stride=1, padding=1), (2, 2, 5)),
    (lambda x: F.avg_pool3d(x, 2, divisor_override=3), (1, 1, 2, 4, 4)),
    (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (1, 2, 5, 5)),
    (lambda x: F.adaptive_avg_pool1d(x, 2), (1, 2, 4)),
    (lambda x: F.adaptive_max_pool2d(x, (3, 2)), (1, 2, 5, 5)),
    (lambda x: F.adaptive_max_pool1d(x, 3), (1, 2, 4)),
], ids=range(11))
def test_gradcheck(fn, shape):
    # distinct values so that the max is never tied within finite-difference steps
    x = np.random.default_rng(5).permutation(np.prod(shape)).reshape(shape) / 7.0
    gradcheck(fn, [x])


BAD = [
    ("max_pool2d", (2, 3, 8, 8), (3,), dict(padding=2), RuntimeError,
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=3"),
    ("avg_pool2d", (2, 3, 8, 8), (3,), dict(padding=2), RuntimeError,
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=3"),
    ("max_pool2d", (2, 3, 8, 8), (9,), {}, RuntimeError,
     r"Given input size: \(3x8x8\). Calculated output size: \(3x0x0\). Output size is too small"),
    ("avg_pool1d", (2, 3, 8), (9,), {}, RuntimeError, r"Output size is too small"),
    ("max_pool2d", (2, 3, 8, 8), (3,), dict(stride=0), RuntimeError, r"stride"),
    ("max_pool2d", (2, 3, 8, 8), ((2, 2, 2),), {}, RuntimeError,
     r"kernel_size to be a single integer value or a list of 2 values"),
    ("max_pool2d", (2, 3, 8, 8), (2,), dict(padding=-1), RuntimeError,
     r"padding must be non-negative"),
    ("max_pool2d", (2, 3, 8, 8), (2,), dict(dilation=0), RuntimeError,
     r"dilation must be greater than zero"),
    ("max_pool2d", (8, 8), (2,), {}, RuntimeError, r"Expected 3D or 4D \(batch mode\) tensor "
     r"for input, but got input of size: \[8, 8\]"),
    ("max_pool2d", (2, 0, 4, 4), (2,), {}, RuntimeError, r"non-zero size for non-batch"),
    ("avg_pool2d", (2, 3, 8, 8), (2,), dict(divisor_override=0), RuntimeError,
     r"divisor must be not zero"),
    ("adaptive_avg_pool2d", (2, 3, 8, 8), ((3, 4, 5),), {}, RuntimeError,
     r"output_size must be an int or a tuple of 2 ints"),
    ("adaptive_avg_pool2d", (2, 3, 0, 4), (2,), {}, RuntimeError, r"non-zero size"),
]


@pytest.mark.parametrize("name, shape, args, kw, exc, match", BAD,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_arguments(name, shape, args, kw, exc, match):
    x = np.zeros(shape, np.float32)
    with pytest.raises(exc):
        getattr(TF, name)(torch.from_numpy(x), *args, **kw)
    with pytest.raises(exc, match=match):
        getattr(F, name)(minidl.from_numpy(x), *args, **kw)


def test_bool_input_is_not_implemented():
    with pytest.raises(NotImplementedError, match="bool"):
        F.max_pool2d(minidl.zeros(1, 1, 4, 4, dtype=minidl.bool), 2)


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("shape, k, kw", [
    ((1, 3, 2, 2), 3, dict(stride=2)),   # window larger than the map: one ceil-mode window
    ((2, 2, 1, 1), 2, dict(stride=2)),
    ((1, 2, 1, 1), 3, dict(stride=2, padding=1)),
])
def test_ceil_mode_keeps_a_window_larger_than_the_input(name, shape, k, kw):
    """torch's output size: floor((size + 2p - d(k-1) - 1 + (s-1)) / s) + 1 in ceil mode, so
    a 2 x 2 map pooled by 3 x 3 windows still gives one output; floor mode refuses it."""
    check(name, shape, k, ceil_mode=True, **kw)
    if kw.get("padding", 0) == 0:
        with pytest.raises(RuntimeError, match="Output size is too small"):
            getattr(F, name)(minidl.randn(*shape), k, **kw)
