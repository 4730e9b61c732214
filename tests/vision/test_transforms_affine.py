"""``affine`` / ``RandomAffine`` and ``perspective`` / ``RandomPerspective``.

References: the affine inverse against a numerically inverted forward matrix
``T(C + t) s R(a) SHy(sy) SHx(sx) T(-C)``; tensor warps against torch's ``affine_grid`` /
``grid_sample`` (zeros padding, ``align_corners=False``, the fill mask) with the same
inverse map; the perspective coefficients against ``torch.linalg.lstsq``.
"""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.transforms import _affine
from minidl.vision.transforms import functional as F

IM = F.InterpolationMode
RNG = np.random.default_rng(0)


def _forward_matrix(center, angle, translate, scale, shear):
    a, sx, sy = (math.radians(v) for v in (angle, *shear))
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    shx = np.array([[1, -math.tan(sx), 0], [0, 1, 0], [0, 0, 1]])
    shy = np.array([[1, 0, 0], [-math.tan(sy), 1, 0], [0, 0, 1]])
    (cx, cy), (tx, ty) = center, translate
    move = np.array([[1, 0, cx + tx], [0, 1, cy + ty], [0, 0, 1]])
    back = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    return move @ (scale * np.diag([1, 1, 0]) + np.diag([0, 0, 1])) @ rot @ shy @ shx @ back


@pytest.mark.parametrize("params", [((0, 0), 30, (0, 0), 1.0, (0, 0)),
                                    ((3.5, -2), -45, (2, -1), 1.3, (10, -20)),
                                    ((1, 1), 170, (-4, 3), 0.6, (-30, 5))])
def test_inverse_affine_matrix_inverts_the_forward_map(params):
    inv = np.array(_affine.inverse_affine_matrix(*params) + [0, 0, 1]).reshape(3, 3)
    np.testing.assert_allclose(inv, np.linalg.inv(_forward_matrix(*params)), atol=1e-12)


def _torch_warp(x, theta, mode, fill):
    """grid_sample of (N, C, H, W) ``x`` with the grid of ``theta`` plus torchvision's mask."""
    n, c, h, w = x.shape
    grid = torch.nn.functional.affine_grid(theta.expand(n, 2, 3), [n, c, h, w],
                                           align_corners=False)
    y = torch.nn.functional.grid_sample(torch.cat([x, torch.ones_like(x[:, :1])], 1), grid,
                                        mode=mode, padding_mode="zeros", align_corners=False)
    y, mask = y[:, :-1], y[:, -1:].expand(n, c, h, w)
    f = torch.tensor(fill, dtype=x.dtype).reshape(1, -1, 1, 1).expand_as(y)
    return torch.where(mask < 0.5, f, y) if mode == "nearest" else y * mask + (1 - mask) * f


def _theta(m, h, w):
    """torchvision's pixel-unit inverse map (centre origin) as affine_grid's normalized theta."""
    a, b, c, d, e, f = m
    return torch.tensor([[[a, b * h / w, 2 * c / w], [d * w / h, e, 2 * f / h]]],
                        dtype=torch.float64)


@pytest.mark.parametrize("shape", [(3, 9, 11), (2, 1, 8, 8)])
@pytest.mark.parametrize("params", [(25.0, [1, -2], 1.2, [8.0, -5.0], None),
                                    (-70.0, [0, 3], 0.8, [0.0, 15.0], [2, 3])])
def test_affine_tensor_matches_affine_grid(shape, params):
    angle, translate, scale, shear, center = params
    x = RNG.random(shape)
    h, w = shape[-2:]
    out = F.affine(minidl.tensor(x), angle, translate, scale, shear, IM.BILINEAR,
                   fill=[0.3] * shape[-3], center=center).numpy()
    c = (0.0, 0.0) if center is None else (center[0] - w / 2, center[1] - h / 2)
    m = _affine.inverse_affine_matrix(c, angle, translate, scale, shear)
    xt = torch.from_numpy(x.reshape((-1,) + shape[-3:]))
    ref = _torch_warp(xt, _theta(m, h, w), "bilinear", [0.3] * shape[-3]).reshape(shape)
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-10)


def test_affine_integer_translation_shifts_tensor_and_pil():
    x = RNG.integers(0, 256, (3, 6, 7), dtype=np.uint8)
    out = F.affine(minidl.tensor(x), 0, [2, -1], 1.0, 0, fill=9).numpy()
    ref = np.full_like(x, 9)
    ref[:, :5, 2:] = x[:, 1:, :5]
    np.testing.assert_array_equal(out, ref)
    img = Image.fromarray(x.transpose(1, 2, 0))
    pil = np.asarray(F.affine(img, 0, [2, -1], 1.0, 0, fill=9)).transpose(2, 0, 1)
    np.testing.assert_array_equal(pil, ref)


def test_affine_90_degrees_is_clockwise_rot90():
    x = RNG.random((2, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(F.affine(minidl.tensor(x), 90, [0, 0], 1.0, [0, 0]).numpy(),
                               np.rot90(x, -1, (1, 2)))


def test_affine_errors():
    x = minidl.rand(3, 5, 5)
    with pytest.raises(TypeError, match="angle"):
        F.affine(x, "30", [0, 0], 1.0, 0)
    with pytest.raises(ValueError, match="translate"):
        F.affine(x, 30, [0], 1.0, 0)
    with pytest.raises(ValueError, match="scale"):
        F.affine(x, 30, [0, 0], 0.0, 0)
    with pytest.raises(ValueError, match="Shear"):
        F.affine(x, 30, [0, 0], 1.0, [1, 2, 3])
    with pytest.raises(ValueError, match="unsupported"):
        F.affine(x, 30, [0, 0], 1.0, 0, interpolation=IM.BICUBIC)
    with pytest.raises(ValueError, match="fill"):
        F.affine(x, 30, [0, 0], 1.0, 0, fill=[1.0, 2.0])
    with pytest.raises(ValueError, match="translation"):
        T.RandomAffine(0, translate=(0.2, 1.5))
    with pytest.raises(ValueError, match="scale"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(TypeError, match="Fill"):
        T.RandomAffine(0, fill=object())


def test_random_affine_params_within_ranges():
    minidl.manual_seed(0)
    for _ in range(200):
        angle, (tx, ty), scale, (shx, shy) = T.RandomAffine.get_params(
            [-10.0, 20.0], [0.1, 0.3], [0.5, 1.5], [-5.0, 5.0, 10.0, 30.0], [40, 20])
        assert -10 <= angle <= 20 and 0.5 <= scale <= 1.5
        assert isinstance(tx, int) and abs(tx) <= 4 and abs(ty) <= 6
        assert -5 <= shx <= 5 and 10 <= shy <= 30
    angle, translations, scale, (shx, shy) = T.RandomAffine.get_params(
        [0, 0], None, None, [-5.0, 5.0], [8, 8])
    assert (angle, translations, scale, shy) == (0.0, (0, 0), 1.0, 0.0) and -5 <= shx <= 5
    t = T.RandomAffine(15, shear=7)
    assert t.degrees == [-15.0, 15.0] and t.shear == [-7.0, 7.0]
    assert repr(t) == "RandomAffine(degrees=[-15.0, 15.0], shear=[-7.0, 7.0])"


def test_random_affine_forward_uses_its_params():
    x = minidl.rand(3, 10, 12)
    t = T.RandomAffine(30, (0.2, 0.1), (0.7, 1.3), (-10, 10, -5, 5), IM.BILINEAR, fill=0.5)
    minidl.manual_seed(3)
    out = t(x).numpy()
    minidl.manual_seed(3)
    params = T.RandomAffine.get_params(t.degrees, t.translate, t.scale, t.shear, [12, 10])
    ref = F.affine(x, *params, interpolation=IM.BILINEAR, fill=[0.5] * 3).numpy()
    np.testing.assert_array_equal(out, ref)


# ------------------------------------------------------------------------- perspective
START = [[0, 0], [9, 0], [9, 7], [0, 7]]
END = [[1, 2], [8, 0], [9, 6], [2, 7]]


def test_perspective_coeffs_send_end_points_to_start_points():
    a, b, c, d, e, f, g, h = _affine.perspective_coeffs(START, END)
    for (x, y), (u, v) in zip(END, START):
        den = g * x + h * y + 1
        assert (a * x + b * y + c) / den == pytest.approx(u, abs=1e-4)
        assert (d * x + e * y + f) / den == pytest.approx(v, abs=1e-4)
    rows = []
    for (x, y), (u, v) in zip(END, START):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
    ref = torch.linalg.lstsq(torch.tensor(rows, dtype=torch.float64),
                             torch.tensor(START, dtype=torch.float64).reshape(8)).solution
    np.testing.assert_allclose(_affine.perspective_coeffs(START, END), ref.float().numpy(),
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="four corners"):
        _affine.perspective_coeffs(START[:3], END)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_perspective_tensor_matches_grid_sample(mode):
    x = RNG.random((2, 3, 8, 10))
    out = F.perspective(minidl.tensor(x), START, END, IM(mode), fill=[0.2, 0.4, 0.6]).numpy()
    k = torch.tensor(_affine.perspective_coeffs(START, END), dtype=torch.float64)
    xs, ys = torch.meshgrid(torch.arange(10, dtype=torch.float64) + 0.5,
                            torch.arange(8, dtype=torch.float64) + 0.5, indexing="xy")
    den = k[6] * xs + k[7] * ys + 1
    gx = (k[0] * xs + k[1] * ys + k[2]) / den / 5 - 1
    gy = (k[3] * xs + k[4] * ys + k[5]) / den / 4 - 1
    grid = torch.stack([gx, gy], -1)[None].expand(2, 8, 10, 2)
    xt = torch.from_numpy(x)
    y = torch.nn.functional.grid_sample(torch.cat([xt, torch.ones_like(xt[:, :1])], 1), grid,
                                        mode=mode, padding_mode="zeros", align_corners=False)
    y, mask = y[:, :-1], y[:, -1:].expand(2, 3, 8, 10)
    fill = torch.tensor([0.2, 0.4, 0.6], dtype=torch.float64).reshape(1, 3, 1, 1).expand_as(y)
    ref = torch.where(mask < 0.5, fill, y) if mode == "nearest" else \
        y * mask + (1 - mask) * fill
    close = np.isclose(out, ref.numpy(), atol=1e-9)
    assert close.all() if mode == "bilinear" else close.mean() > 0.97


def test_perspective_identity_keeps_tensor_and_pil():
    x = RNG.integers(0, 256, (3, 8, 10), dtype=np.uint8)
    out = F.perspective(minidl.tensor(x), START, START).numpy()
    np.testing.assert_array_equal(out, x)
    img = Image.fromarray(x.transpose(1, 2, 0))
    np.testing.assert_array_equal(np.asarray(F.perspective(img, START, START, IM.NEAREST)),
                                  x.transpose(1, 2, 0))


def test_random_perspective_params_and_probability():
    minidl.manual_seed(0)
    for _ in range(100):
        start, end = T.RandomPerspective.get_params(20, 11, 0.5)
        assert start == [[0, 0], [19, 0], [19, 10], [0, 10]]
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = end
        assert 0 <= x0 <= 5 and 0 <= y0 <= 2 and 14 <= x1 <= 19 and 0 <= y1 <= 2
        assert 14 <= x2 <= 19 and 8 <= y2 <= 10 and 0 <= x3 <= 5 and 8 <= y3 <= 10
    x = minidl.rand(3, 11, 20)
    assert T.RandomPerspective(p=0.0)(x) is x
    t = T.RandomPerspective(0.4, p=1.0, fill=1)
    minidl.manual_seed(5)
    out = t(x).numpy()
    minidl.manual_seed(5)
    minidl.backend.rng().random()
    start, end = T.RandomPerspective.get_params(20, 11, 0.4)
    np.testing.assert_array_equal(out, F.perspective(x, start, end, fill=[1.0] * 3).numpy())
    assert repr(t) == "RandomPerspective(p=1.0)"
    with pytest.raises(TypeError, match="Fill"):
        T.RandomPerspective(fill=object())
    assert T.RandomPerspective(interpolation=0).interpolation is IM.NEAREST


def test_affine_pil_agrees_with_tensor():
    a = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    args = (15, [1, 2], 1.1, [5, 3], IM.BILINEAR)
    pil = np.asarray(F.affine(Image.fromarray(a), *args)).transpose(2, 0, 1).astype(float)
    ten = F.affine(minidl.tensor(a.transpose(2, 0, 1).astype(np.float32)), *args).numpy()
    assert np.abs(pil - ten)[:, 2:-2, 2:-2].mean() < 1.5
