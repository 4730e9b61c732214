"""interpolate against torch: every mode, sizes and scale factors up and down, align_corners,
recompute_scale_factor -- outputs and input gradients in float32 and float64, gradchecks,
errors."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from minidl.ops import interpolate
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check_interp(shape, dtype="float64", noncontiguous=False, data=None, **kw):
    x = _rand(shape, sum(shape)) if data is None else data
    compare(lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), [x],
            dtype=dtype, noncontiguous=noncontiguous)


# Output sizes / scale factors, up and down, integer and not. Scale factors whose output
# keeps the input size (or doubles it) without being 1 (or 2) are left to the tests below
# that pin down where torch's backward is not the adjoint of its forward.
RESIZE_2D = [
    dict(scale_factor=2),
    dict(scale_factor=3.0),
    dict(scale_factor=0.5),
    dict(scale_factor=(1.5, 0.7)),
    dict(scale_factor=(2.5, 1.7), recompute_scale_factor=True),
    dict(scale_factor=0.45, recompute_scale_factor=False),
    dict(size=(11, 4)),
    dict(size=3),
    dict(size=(5, 13)),
    dict(size=(1, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", RESIZE_2D, ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
def test_interpolate_2d(mode, kw, dtype):
    aligns = [None] if mode.startswith("nearest") else [False, True]
    for align in aligns:
        check_interp((2, 3, 6, 7), dtype, noncontiguous=True, mode=mode, align_corners=align, **kw)


RESIZE_1D = [dict(scale_factor=2), dict(scale_factor=1.5), dict(scale_factor=0.6),
             dict(scale_factor=2.5, recompute_scale_factor=True), dict(size=13), dict(size=4),
             dict(size=1), dict(scale_factor=(3.0,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", RESIZE_1D, ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
def test_interpolate_1d(mode, kw, dtype):
    aligns = [None] if mode.startswith("nearest") else [False, True]
    for align in aligns:
        check_interp((2, 3, 7), dtype, noncontiguous=True, mode=mode, align_corners=align, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(scale_factor=(1.5, 0.6, 2.5)),
                                dict(size=(2, 7, 3)), dict(scale_factor=1.7,
                                                           recompute_scale_factor=True)], ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "trilinear"])
def test_interpolate_3d(mode, kw, dtype):
    aligns = [None] if mode.startswith("nearest") else [False, True]
    for align in aligns:
        check_interp((1, 2, 3, 4, 5), dtype, noncontiguous=True, mode=mode, align_corners=align,
                     **kw)


@pytest.mark.parametrize("shape", [(3, 1, 1, 1), (1, 1, 2, 9), (4, 2, 8, 1), (0, 2, 3, 3)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_edge_shapes(shape, mode):
    align = None if mode == "nearest" else True
    check_interp(shape, size=(3, 4), mode=mode, align_corners=align)
    check_interp(shape, scale_factor=3, mode=mode, align_corners=align)


@pytest.mark.parametrize("kw", [dict(size=(5, 40)), dict(scale_factor=1.5)], ids=str)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
def test_interpolate_long_axes_gather_route(mode, kw):
    # Axes longer than _DENSE_MAX gather their taps instead of a dense GEMM.
    assert 100 > interpolate._DENSE_MAX
    align = None if mode.startswith("nearest") else False
    for dtype in DTYPES:
        check_interp((1, 2, 3, 100), dtype, mode=mode, align_corners=align, **kw)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_interpolate_nan_reaches_only_its_taps(mode):
    x = _rand((1, 2, 6, 6))
    x[0, 0, 2, 3] = np.nan
    x[0, 1, 0, 0] = np.inf
    align = None if mode == "nearest" else False
    check_interp(x.shape, data=x, size=(9, 11), mode=mode, align_corners=align)
    y = F.interpolate(minidl.tensor(x), size=(9, 11), mode=mode, align_corners=align)
    assert 0 < np.isnan(y.numpy()[0, 0]).sum() < 9 * 11


def test_interpolate_float32_keeps_dtype_and_uint8_nearest():
    x = minidl.randn(1, 2, 4, 4)
    for mode in ["nearest", "bilinear", "bicubic", "nearest-exact", "area"]:
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype == minidl.float32
    img = np.random.default_rng(0).integers(0, 255, (1, 3, 5, 4)).astype(np.uint8)
    for mode in ["nearest", "nearest-exact"]:
        compare(lambda a, mode=mode: F.interpolate(a, size=(7, 9), mode=mode),
                lambda a, mode=mode: TF.interpolate(a, size=(7, 9), mode=mode), [img],
                grad=False)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(3, 7)), dict(size=(10, 5))],
                         ids=str)
def test_interpolate_area(kw):
    check_interp((2, 3, 6, 7), mode="area", **kw)


def test_interpolate_float16_computes_in_float32():
    x = _rand((1, 2, 4, 5)).astype(np.float16)
    for mode in ["bilinear", "nearest"]:
        m = F.interpolate(minidl.from_numpy(x), size=(7, 3), mode=mode)
        t = TF.interpolate(torch.from_numpy(x), size=(7, 3), mode=mode)
        assert m.dtype == minidl.float16
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-3, atol=1e-3)


def test_nearest_index_shortcuts_follow_torch_forward():
    # torch's 2-D nearest kernel copies an axis whose size is kept or doubled whatever the
    # scale factor; its 1-D / 3-D kernels use the scale factor. Forward matches torch in
    # both; the gradient is the adjoint of the forward (torch's 1-D backward takes the
    # shortcut its forward does not).
    x = _rand((1, 2, 5))
    m = F.interpolate(minidl.tensor(x), scale_factor=2.1).numpy()
    np.testing.assert_array_equal(m, TF.interpolate(torch.tensor(x), scale_factor=2.1).numpy())
    assert list(m[0, 0]) == list(x[0, 0][[0, 0, 0, 1, 1, 2, 2, 3, 3, 4]])
    gradcheck(lambda a: F.interpolate(a, scale_factor=2.1), [x])
    for sf in [(2.1, 1.2), (1.1, 2.05)]:
        check_interp((2, 2, 5, 4), scale_factor=sf)
    for sf in [2.1, 1.2]:      # bicubic forward uses the scale factor even when the size is kept
        m = F.interpolate(minidl.tensor(_rand((1, 1, 5, 5))), scale_factor=sf, mode="bicubic")
        t = TF.interpolate(torch.tensor(_rand((1, 1, 5, 5))), scale_factor=sf, mode="bicubic")
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_modes_copy_axes_that_keep_their_size():
    # (5 -> floor(5 * 1.1) = 5): torch copies the axis instead of using the scale 1 / 1.1.
    check_interp((2, 2, 5, 6), scale_factor=(1.1, 1.5), mode="bilinear")
    check_interp((2, 2, 5), scale_factor=1.1, mode="linear", align_corners=True)


def test_nearest_index_ties_2d_float64():
    # 23 * 14 / 46 = 7 exactly; torch's 2-D kernel works in float32 and reads sample 6.
    x = np.arange(14.0).reshape(1, 1, 1, 14)
    m = F.interpolate(minidl.from_numpy(x), size=(1, 46)).numpy()
    np.testing.assert_array_equal(m, TF.interpolate(torch.from_numpy(x), size=(1, 46)).numpy())
    assert m[0, 0, 0, 23] == 6


@pytest.mark.parametrize("n", [1, 2, 3])
def test_nearest_index_formulas_many_sizes(n):
    # Exhaustive forward check of the source indices over many size pairs (float32 and 64).
    rng = np.random.default_rng(n)
    for _ in range(40):
        ins = [int(v) for v in rng.integers(1, 30, n)]
        kw = dict(size=[int(v) for v in rng.integers(1, 45, n)]) if rng.random() < 0.5 else \
            dict(scale_factor=[round(float(v), 2) for v in rng.uniform(0.4, 3.5, n)])
        if "scale_factor" in kw and min(math.floor(s * f) for s, f in
                                        zip(ins, kw["scale_factor"])) < 1:
            continue
        for dtype in (np.float32, np.float64):
            x = np.arange(math.prod(ins), dtype=dtype).reshape([1, 1] + ins)
            for mode in ("nearest", "nearest-exact"):
                m = F.interpolate(minidl.from_numpy(x), mode=mode, **kw).numpy()
                t = TF.interpolate(torch.from_numpy(x), mode=mode, **kw).numpy()
                np.testing.assert_array_equal(m, t, err_msg=f"{mode} {ins} {kw} {dtype}")


@pytest.mark.parametrize("mode, shape, kw", [
    ("nearest", (1, 2, 3, 4), dict(scale_factor=(1.5, 0.75))),
    ("nearest", (1, 2, 3, 4), dict(scale_factor=2)),
    ("nearest-exact", (1, 1, 2, 3, 4), dict(size=(3, 2, 5))),
    ("linear", (2, 2, 4), dict(size=7, align_corners=False)),
    ("linear", (2, 2, 5), dict(size=3, align_corners=True)),
    ("bilinear", (1, 2, 3, 4), dict(size=(5, 3), align_corners=False)),
    ("bilinear", (1, 2, 3, 4), dict(scale_factor=1.7, align_corners=True)),
    ("bicubic", (1, 1, 4, 3), dict(size=(6, 5), align_corners=False)),
    ("bicubic", (1, 1, 4, 5), dict(scale_factor=0.6, align_corners=True)),
    ("trilinear", (1, 1, 2, 3, 2), dict(size=(3, 2, 4), align_corners=False)),
], ids=str)
def test_interpolate_gradcheck(mode, shape, kw):
    gradcheck(lambda a: F.interpolate(a, mode=mode, **kw), [_rand(shape)])


def test_interpolate_gather_route_gradcheck():
    # 100 samples along W: the forward gathers taps, the backward is still the dense A^T.
    gradcheck(lambda a: F.interpolate(a, size=(2, 3), mode="bicubic"), [_rand((1, 1, 1, 100))])
    gradcheck(lambda a: F.interpolate(a, size=(1, 7), mode="bilinear"), [_rand((1, 1, 1, 100))])


def test_interpolate_deprecated_aliases():
    x = _rand((1, 2, 3, 4))
    with pytest.warns(UserWarning, match="deprecated"):
        m = F.upsample(minidl.tensor(x), scale_factor=2, mode="bilinear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = TF.upsample(torch.tensor(x), scale_factor=2, mode="bilinear")
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-10)
        for name in ["upsample_nearest", "upsample_bilinear"]:
            m = getattr(F, name)(minidl.tensor(x), size=(5, 6))
            t = getattr(TF, name)(torch.tensor(x), size=(5, 6))
            np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-10)


def _both_raise(exc, match, fn_kwargs, shape=(1, 1, 3, 3), dtype=np.float32):
    x = np.zeros(shape, dtype)
    with pytest.raises(exc, match=match):
        F.interpolate(minidl.from_numpy(x), **fn_kwargs)
    with pytest.raises(exc):
        TF.interpolate(torch.from_numpy(x), **fn_kwargs)


@pytest.mark.parametrize("exc, match, kw, shape", [
    (ValueError, "only one of size or scale_factor", dict(size=4, scale_factor=2), (1, 1, 3, 3)),
    (ValueError, "either size or scale_factor", dict(), (1, 1, 3, 3)),
    (NotImplementedError, r"\(got foo\)", dict(size=4, mode="foo"), (1, 1, 3, 3)),
    (NotImplementedError, r"got 2D", dict(size=4), (3, 3)),
    (NotImplementedError, r"got 6D", dict(size=4), (1, 1, 1, 1, 1, 1)),
    (NotImplementedError, "Got 4D input, but linear mode needs 3D", dict(size=4, mode="linear"),
     (1, 1, 3, 3)),
    (NotImplementedError, "Got 3D input, but bilinear mode needs 4D",
     dict(size=4, mode="bilinear"), (1, 1, 3)),
    (NotImplementedError, r"got bicubic", dict(size=4, mode="bicubic"), (1, 1, 3)),
    (ValueError, r"output size of \(2, 3, 4\)", dict(size=(2, 3, 4), mode="bilinear"),
     (1, 1, 3, 3)),
    (ValueError, r"scale_factor of shape \(2, 3, 4\)", dict(scale_factor=(2, 3, 4)),
     (1, 1, 3, 3)),
    (RuntimeError, r"greater than 0.*output \(H: 0, W: 0\)", dict(size=0), (1, 1, 3, 3)),
    (RuntimeError, r"greater than 0.*output \(H: 0, W: 0\)", dict(scale_factor=0.1),
     (1, 1, 3, 3)),
    (RuntimeError, r"greater than 0.*input \(H: 0, W: 3\)", dict(size=5), (1, 1, 0, 3)),
    (RuntimeError, r"Non-empty 4D data tensor.*\[1, 0, 3, 3\]", dict(size=5), (1, 0, 3, 3)),
    (ValueError, "align_corners option can only be set", dict(size=4, align_corners=True),
     (1, 1, 3, 3)),
    (ValueError, "recompute_scale_factor is not meaningful", dict(size=4,
                                                                  recompute_scale_factor=True),
     (1, 1, 3, 3)),
    (ValueError, "Anti-alias option", dict(size=4, antialias=True), (1, 1, 3, 3)),
    (TypeError, "expected size to be one of int", dict(size=(2.5, 3)), (1, 1, 3, 3)),
], ids=lambda v: v if isinstance(v, str) else None)
def test_interpolate_errors(exc, match, kw, shape):
    _both_raise(exc, match, kw, shape)


def test_interpolate_unsupported_options_are_clear():
    x = minidl.zeros(1, 1, 3, 3)
    with pytest.raises(NotImplementedError, match="antialias=True"):
        F.interpolate(x, size=4, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="bilinear.*int64"):
        F.interpolate(minidl.zeros(1, 1, 3, 3, dtype=minidl.int64), size=4, mode="bilinear")
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        F.interpolate(np.zeros((1, 1, 3, 3)), size=4)
