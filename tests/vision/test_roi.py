"""``roi_align`` / ``roi_pool`` of ``minidl.vision.ops`` against slow loop references written
here from torchvision's CPU kernel rules (torchvision itself cannot be imported): values in
float64 for aligned / legacy, fixed and adaptive sampling, spatial_scale 0.5, boxes partly
outside the map, tiny and inverted boxes, both box forms, several images and channels;
gradients against the references' adjoints and by gradcheck; hand-computed cases; the
-FLT_MAX rule of roi_pool; the modules; the errors."""
import math

import numpy as np
import pytest

import minidl
from minidl.vision import ops
from minidl.vision.ops import roi

FLT_MAX = float(np.finfo(np.float32).max)


# ------------------------------------------------------------------ loop references

def bilinear_terms(y, x, height, width):
    """[(row, col, weight)] of one sample (torchvision's ``bilinear_interpolate``)."""
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return []
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return [(y_low, x_low, hy * hx), (y_low, x_high, hy * lx),
            (y_high, x_low, ly * hx), (y_high, x_high, ly * lx)]


def align_terms(rois, shape, pooled, scale, sampling_ratio, aligned):
    """{(k, ph, pw): [(n, row, col, weight)]}: the linear map of roi_align, loop by loop."""
    _, _, height, width = shape
    ph_n, pw_n = pooled
    offset = 0.5 if aligned else 0.0
    terms = {}
    for k, (n, x1, y1, x2, y2) in enumerate(rois):
        sw, sh, ew, eh = (v * scale - offset for v in (x1, y1, x2, y2))
        rw, rh = ew - sw, eh - sh
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / ph_n, rw / pw_n
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / ph_n)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / pw_n)
        count = max(gh * gw, 1)
        for ph in range(ph_n):
            for pw in range(pw_n):
                cell = terms.setdefault((k, ph, pw), [])
                for iy in range(gh):
                    y = sh + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        x = sw + pw * bw + (ix + 0.5) * bw / gw
                        for row, col, w in bilinear_terms(y, x, height, width):
                            cell.append((int(n), row, col, w / count))
    return terms


def ref_roi_align(x, rois, pooled, scale=1.0, sampling_ratio=-1, aligned=False):
    out = np.zeros((len(rois), x.shape[1]) + pooled)
    for (k, ph, pw), cell in align_terms(rois, x.shape, pooled, scale, sampling_ratio,
                                         aligned).items():
        for n, row, col, w in cell:
            out[k, :, ph, pw] += w * x[n, :, row, col]
    return out


def ref_roi_align_adjoint(g, rois, shape, pooled, scale=1.0, sampling_ratio=-1, aligned=False):
    gx = np.zeros(shape)
    for (k, ph, pw), cell in align_terms(rois, shape, pooled, scale, sampling_ratio,
                                         aligned).items():
        for n, row, col, w in cell:
            gx[n, :, row, col] += w * g[k, :, ph, pw]
    return gx


def c_round(v):
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


def ref_roi_pool(x, rois, pooled, scale=1.0):
    """(output, argmax as (n, c, row, col) or None), torchvision's roi_pool loops."""
    _, channels, height, width = x.shape
    ph_n, pw_n = pooled
    out = np.zeros((len(rois), channels) + pooled)
    arg = {}
    for k, (n, x1, y1, x2, y2) in enumerate(rois):
        sw, sh, ew, eh = (c_round(v * scale) for v in (x1, y1, x2, y2))
        bh, bw = max(eh - sh + 1, 1) / ph_n, max(ew - sw + 1, 1) / pw_n
        for ph in range(ph_n):
            hs = min(max(math.floor(ph * bh) + sh, 0), height)
            he = min(max(math.ceil((ph + 1) * bh) + sh, 0), height)
            for pw in range(pw_n):
                ws = min(max(math.floor(pw * bw) + sw, 0), width)
                we = min(max(math.ceil((pw + 1) * bw) + sw, 0), width)
                empty = he <= hs or we <= ws
                for c in range(channels):
                    best, where = (0.0 if empty else -FLT_MAX), None
                    for row in range(hs, he):
                        for col in range(ws, we):
                            if x[int(n), c, row, col] > best:
                                best, where = x[int(n), c, row, col], (int(n), c, row, col)
                    out[k, c, ph, pw], arg[k, c, ph, pw] = best, where
    return out, arg


# ------------------------------------------------------------------------ fixtures

def feature_map(seed=0, shape=(2, 3, 6, 7)):
    return np.random.default_rng(seed).standard_normal(shape)


# image index, x1, y1, x2, y2 on a 7-wide, 6-high map (scale 1) or its double (scale 0.5)
ROIS = np.array([
    [0, 0.0, 0.0, 6.0, 5.0],      # the whole map
    [1, 1.3, 0.7, 4.9, 3.2],      # inside, fractional
    [0, -2.5, -1.7, 3.1, 2.4],    # partly outside, top left
    [1, 4.2, 3.3, 9.8, 8.6],      # partly outside, bottom right
    [1, 2.2, 2.1, 2.4, 2.35],     # tiny
    [0, 3.0, 4.0, 2.0, 3.5],      # inverted (x2 < x1, y2 < y1)
    [0, -6.0, -5.0, -3.0, -2.5],  # wholly outside
    [1, 2.5, 1.5, 5.5, 4.5],      # halves (roi_pool's rounding)
])


def to_tensor_boxes(rois):
    return minidl.tensor(rois)


def to_list_boxes(rois, n_images=2):
    return [minidl.tensor(rois[rois[:, 0] == i, 1:]) for i in range(n_images)]


def in_list_order(rois, n_images=2):
    return np.concatenate([rois[rois[:, 0] == i] for i in range(n_images)])


# ---------------------------------------------------------------------- roi_align

def test_roi_align_hand_computed():
    x = minidl.tensor(np.arange(16.0).reshape(1, 1, 4, 4))       # value 4 y + x
    box = minidl.tensor(np.array([[0.0, 0.0, 0.0, 4.0, 4.0]]))
    # legacy: samples at 0.5, 1.5 | 2.5, 3.5 (-> clamped to 3): means 1 and 2.75 per axis
    got = ops.roi_align(x, box, 2).numpy()
    np.testing.assert_allclose(got[0, 0], [[5.0, 6.75], [12.0, 13.75]], atol=1e-12)
    # aligned: shifted by -0.5, samples at 0, 1 | 2, 3: means 0.5 and 2.5
    got = ops.roi_align(x, box, 2, aligned=True).numpy()
    np.testing.assert_allclose(got[0, 0], [[2.5, 4.5], [10.5, 12.5]], atol=1e-12)
    # one sample per bin at its centre, spatial_scale 0.5 of an 8x8 box
    got = ops.roi_align(x, minidl.tensor(np.array([[0.0, 0.0, 0.0, 8.0, 8.0]])), (1, 2),
                        spatial_scale=0.5, sampling_ratio=1, aligned=True).numpy()
    np.testing.assert_allclose(got[0, 0], [[1.5 * 4 + 0.5, 1.5 * 4 + 2.5]], atol=1e-12)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_align_matches_reference(aligned, sampling_ratio, scale):
    x = feature_map()
    rois = ROIS.copy()
    rois[:, 1:] /= scale
    kw = dict(spatial_scale=scale, sampling_ratio=sampling_ratio, aligned=aligned)
    want = ref_roi_align(x, rois, (3, 2), scale, sampling_ratio, aligned)
    got = ops.roi_align(minidl.tensor(x), to_tensor_boxes(rois), (3, 2), **kw).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.abs(want).max() > 0.1
    listed = ops.roi_align(minidl.tensor(x), to_list_boxes(rois), (3, 2), **kw).numpy()
    np.testing.assert_allclose(listed, ref_roi_align(x, in_list_order(rois), (3, 2), scale,
                                                     sampling_ratio, aligned), atol=1e-12)


@pytest.mark.parametrize("aligned,sampling_ratio", [(False, -1), (True, 2), (True, -1)])
def test_roi_align_backward_is_reference_adjoint(aligned, sampling_ratio):
    x = minidl.tensor(feature_map(1), requires_grad=True)
    y = ops.roi_align(x, to_tensor_boxes(ROIS), 3, 1.0, sampling_ratio, aligned)
    g = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(minidl.tensor(g))
    want = ref_roi_align_adjoint(g, ROIS, x.shape, (3, 3), 1.0, sampling_ratio, aligned)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-12)


def test_roi_align_gradcheck():
    x = minidl.tensor(feature_map(3, (2, 2, 4, 5)), requires_grad=True)
    boxes = [minidl.tensor(np.array([[0.3, -0.6, 3.9, 2.2]])),
             minidl.tensor(np.array([[1.0, 1.0, 4.5, 3.7], [2.1, 0.2, 2.3, 0.4]]))]
    assert minidl.autograd.gradcheck(
        lambda t: ops.roi_align(t, boxes, (2, 3), 1.0, -1, True), (x,))
    assert minidl.autograd.gradcheck(
        lambda t: ops.roi_align(t, boxes, 2, 0.5, 2, False), (x,))


def test_roi_align_float32_and_no_rois():
    x = feature_map(4)
    got = ops.roi_align(minidl.tensor(x.astype(np.float32)),
                        minidl.tensor(ROIS.astype(np.float32)), 2, sampling_ratio=2)
    assert got.dtype == minidl.float32
    np.testing.assert_allclose(got.numpy(), ref_roi_align(x, ROIS, (2, 2), 1.0, 2), atol=1e-5)
    empty = ops.roi_align(minidl.tensor(x), minidl.tensor(np.zeros((0, 5))), (2, 4))
    assert tuple(empty.shape) == (0, 3, 2, 4)


# ----------------------------------------------------------------------- roi_pool

def test_roi_pool_hand_computed():
    x = minidl.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    # box 0..4: size 5, bins of 2.5 -> rows/cols [0, 3) and [2, 4)
    got = ops.roi_pool(x, minidl.tensor(np.array([[0.0, 0.0, 0.0, 4.0, 4.0]])), 2).numpy()
    np.testing.assert_array_equal(got[0, 0], [[10.0, 11.0], [14.0, 15.0]])
    # box 0..3: size 4, bins [0, 2) and [2, 4)
    got = ops.roi_pool(x, minidl.tensor(np.array([[0.0, 0.0, 0.0, 3.0, 3.0]])), 2).numpy()
    np.testing.assert_array_equal(got[0, 0], [[5.0, 7.0], [13.0, 15.0]])
    # x: 1.5 * 0.5 = 0.75 -> 1, 4.9 * 0.5 = 2.45 -> 2; y: 1.25 -> 1, 5 (rows 1..5, clipped to 3)
    box = minidl.tensor(np.array([[0.0, 1.5, 2.5, 4.9, 10.0]]))
    got = ops.roi_pool(x, box, (1, 1), 0.5).numpy()
    assert got[0, 0, 0, 0] == 4 * 3 + 2


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_pool_matches_reference(scale):
    x = feature_map(5)
    rois = ROIS.copy()
    rois[:, 1:] /= scale
    want, _ = ref_roi_pool(x, rois, (3, 2), scale)
    got = ops.roi_pool(minidl.tensor(x), to_tensor_boxes(rois), (3, 2), scale).numpy()
    np.testing.assert_array_equal(got, want)
    assert (want == 0).any() and (want != 0).mean() > 0.5      # empty bins and full ones
    listed = ops.roi_pool(minidl.tensor(x), to_list_boxes(rois), (3, 2), scale).numpy()
    np.testing.assert_array_equal(listed, ref_roi_pool(x, in_list_order(rois), (3, 2),
                                                       scale)[0])


def test_roi_pool_in_chunks_of_rois(monkeypatch):
    monkeypatch.setattr(roi, "POOL_CHUNK_VALUES", 1)             # one RoI per chunk
    x = feature_map(12)
    t = minidl.tensor(x, requires_grad=True)
    y = ops.roi_pool(t, to_tensor_boxes(ROIS), 2)
    np.testing.assert_array_equal(y.detach().numpy(), ref_roi_pool(x, ROIS, (2, 2))[0])
    y.sum().backward()
    assert t.grad.numpy().sum() == np.count_nonzero(y.detach().numpy())


def test_roi_pool_rounds_half_away_from_zero():
    x = feature_map(6, (1, 1, 6, 7))
    for v in (0.5, 1.5, 2.5, -0.5, -1.5):
        rois = np.array([[0, v, v + 1.0, v + 3.0, v + 2.0]])
        want, _ = ref_roi_pool(x, rois, (2, 2))
        np.testing.assert_array_equal(ops.roi_pool(minidl.tensor(x), minidl.tensor(rois),
                                                   2).numpy(), want)


def test_roi_pool_gradient_goes_to_first_maximum():
    x = feature_map(7)
    x[0, 1, :3, :3] = 2.0                                        # ties: first in row-major order
    t = minidl.tensor(x, requires_grad=True)
    y = ops.roi_pool(t, to_tensor_boxes(ROIS), (3, 2))
    g = np.random.default_rng(8).standard_normal(y.shape)
    y.backward(minidl.tensor(g))
    _, arg = ref_roi_pool(x, ROIS, (3, 2))
    want = np.zeros_like(x)
    for (k, c, ph, pw), where in arg.items():
        if where is not None:
            want[where] += g[k, c, ph, pw]
    np.testing.assert_allclose(t.grad.numpy(), want, atol=1e-12)
    flat = minidl.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    ops.roi_pool(flat, minidl.tensor(np.array([[0, 0.0, 0.0, 2.0, 2.0]])), 1).sum().backward()
    np.testing.assert_array_equal(flat.grad.numpy().ravel(), [1, 0, 0, 0, 0, 0, 0, 0, 0])


def test_roi_pool_gradcheck():
    x = np.random.default_rng(9).permutation(40).reshape(1, 2, 4, 5) / 40.0  # distinct values
    t = minidl.tensor(x, requires_grad=True)
    boxes = minidl.tensor(np.array([[0, 0.0, 0.0, 4.0, 3.0], [0, 1.4, 0.6, 3.2, 2.5]]))
    assert minidl.autograd.gradcheck(lambda a: ops.roi_pool(a, boxes, (2, 3)), (t,))


def test_roi_pool_needs_values_above_minus_flt_max():
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 0, 0], x[0, 0, 1, 1] = np.nan, -1.0
    t = minidl.tensor(x, requires_grad=True)
    # all of it (NaN is never a maximum) | the last row (no value above -FLT_MAX) | outside
    boxes = minidl.tensor(np.array([[0, 0.0, 0.0, 2.0, 2.0], [0, 0.0, 2.0, 2.0, 2.0],
                                    [0, 5.0, 5.0, 6.0, 6.0]]))
    y = ops.roi_pool(t, boxes, 1)
    np.testing.assert_array_equal(y.detach().numpy().ravel(), [-1.0, -FLT_MAX, 0.0])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy().ravel(), [0, 0, 0, 0, 1, 0, 0, 0, 0])


# -------------------------------------------------------------- modules and errors

def test_modules_repr_and_forward():
    x = minidl.tensor(feature_map(10))
    boxes = to_list_boxes(ROIS)
    align = ops.RoIAlign((3, 2), 0.5, 2, aligned=True)
    assert repr(align) == "RoIAlign(output_size=(3, 2), spatial_scale=0.5, sampling_ratio=2, " \
                          "aligned=True)"
    np.testing.assert_array_equal(align(x, boxes).numpy(),
                                  ops.roi_align(x, boxes, (3, 2), 0.5, 2, True).numpy())
    pool = ops.RoIPool(2, 1.0)
    assert repr(pool) == "RoIPool(output_size=2, spatial_scale=1.0)"
    np.testing.assert_array_equal(pool(x, boxes).numpy(), ops.roi_pool(x, boxes, 2).numpy())


@pytest.mark.parametrize("fn", [ops.roi_align, ops.roi_pool])
def test_errors(fn):
    x = minidl.tensor(feature_map(11))
    with pytest.raises(AssertionError, match="Tensor\\[K, 5\\]"):
        fn(x, minidl.tensor(np.zeros((2, 4))), 2)
    with pytest.raises(AssertionError, match="List\\[Tensor\\[L, 4\\]\\]"):
        fn(x, [minidl.tensor(np.zeros((2, 5)))], 2)
    with pytest.raises(AssertionError, match="boxes is expected"):
        fn(x, np.zeros((2, 5)), 2)
    with pytest.raises(ValueError, match="4-D"):
        fn(minidl.tensor(np.zeros((3, 6, 7))), minidl.tensor(np.zeros((1, 5))), 2)
    with pytest.raises(TypeError, match="same dtype"):
        fn(x, minidl.tensor(np.zeros((1, 5), np.float32)), 2)
    with pytest.raises(ValueError, match="batch indices"):
        fn(x, minidl.tensor(np.array([[2.0, 0, 0, 1, 1]])), 2)
    with pytest.raises(ValueError, match="output_size"):
        fn(x, minidl.tensor(np.array([[0.0, 0, 0, 1, 1]])), (2, 0))
