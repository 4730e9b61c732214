"""Augmentation transforms: torchvision's semantics on PIL images and tensors, minidl's RNG,
and the per-sample batched versions in ``transforms.batch``.

References: NumPy (np.pad, np.rot90, flips), Pillow, torch's ``interpolate`` / ``grid_sample``
(torchvision resizes and rotates tensors with them), ``colorsys`` for the hue.
"""
import colorsys
import itertools
import math

import numpy as np
import pytest
import torch
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.transforms import _functional_core
from minidl.vision.transforms import batch as B
from minidl.vision.transforms import functional as F

IM = F.InterpolationMode
RNG = np.random.default_rng(0)


def _tensor(shape, dtype=np.float32):
    if dtype == np.uint8:
        return minidl.tensor(RNG.integers(0, 256, shape, dtype=np.uint8))
    return minidl.tensor(RNG.random(shape).astype(dtype))


def _pil(h, w, mode="RGB"):
    shape = (h, w, 3) if mode == "RGB" else (h, w)
    return Image.fromarray(RNG.integers(0, 256, shape, dtype=np.uint8))


def _chw(img):
    """A PIL image's pixels as a uint8 array C x H x W."""
    a = np.asarray(img)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


# ------------------------------------------------------------------- flips and crops
@pytest.mark.parametrize("shape", [(5, 7), (3, 5, 7), (2, 3, 4, 6)])
def test_flips_reverse_the_last_axes(shape):
    x = _tensor(shape)
    np.testing.assert_array_equal(F.hflip(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(F.vflip(x).numpy(), x.numpy()[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(),
                                  x.numpy()[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x and T.RandomVerticalFlip(p=0.0)(x) is x


def test_flips_pil_match_tensor():
    img = _pil(5, 6)
    t = F.pil_to_tensor(img)
    np.testing.assert_array_equal(_chw(T.RandomHorizontalFlip(1.0)(img)), F.hflip(t).numpy())
    np.testing.assert_array_equal(_chw(T.RandomVerticalFlip(1.0)(img)), F.vflip(t).numpy())


def test_flip_probability_uses_minidl_rng():
    x = _tensor((1, 4, 4))
    flip = T.RandomHorizontalFlip(p=0.3)
    minidl.manual_seed(0)
    flips = [flip(x) is not x for _ in range(400)]
    assert 0.2 < np.mean(flips) < 0.4
    minidl.manual_seed(0)
    assert [flip(x) is not x for _ in range(400)] == flips


@pytest.mark.parametrize("box", [(1, 2, 3, 4), (-2, -1, 4, 5), (3, 4, 5, 6), (-1, 0, 8, 9)])
def test_crop_tensor_pil_agree_zero_outside(box):
    img = _pil(5, 6)
    t = F.pil_to_tensor(img)
    top, left, h, w = box
    out = F.crop(t, top, left, h, w).numpy()
    assert out.shape == (3, h, w)
    np.testing.assert_array_equal(out, _chw(F.crop(img, top, left, h, w)))
    padded = np.pad(t.numpy(), ((0, 0), (5, 5), (5, 5)))
    np.testing.assert_array_equal(out, padded[:, top + 5:top + 5 + h, left + 5:left + 5 + w])


@pytest.mark.parametrize("h, th, top", [(6, 1, 2), (4, 1, 2), (3, 2, 0), (7, 4, 2), (5, 2, 2),
                                        (8, 8, 0)])
def test_center_crop_offsets_round_half_even(h, th, top):
    # torchvision's corner is int(round((h - th) / 2.0)): Python rounds halves to even
    assert int(round((h - th) / 2.0)) == top
    a = np.arange(h * h, dtype=np.float32).reshape(1, h, h)
    out = T.CenterCrop(th)(minidl.tensor(a)).numpy()
    np.testing.assert_array_equal(out, a[:, top:top + th, top:top + th])
    pil = T.CenterCrop(th)(Image.fromarray(a[0].astype(np.uint8)))
    np.testing.assert_array_equal(np.asarray(pil), a[0, top:top + th, top:top + th])


def test_center_crop_pads_smaller_images():
    a = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    out = T.CenterCrop((6, 5))(minidl.tensor(a)).numpy()
    expected = np.zeros((1, 6, 5), np.uint8)
    expected[:, 1:4, 1:4] = a            # left/top get (size - 3) // 2, right/bottom the rest
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop((6, 5))(Image.fromarray(a[0]))),
                                  expected[0])
    out = T.CenterCrop((2, 7))(minidl.tensor(a)).numpy()   # padded in width, cropped in height
    assert out.shape == (1, 2, 7)
    np.testing.assert_array_equal(out[:, :, 2:5], a[:, 0:2])


# ---------------------------------------------------------------------------- padding
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [2, (1, 3), (1, 0, 2, 3), [3]])
def test_pad_modes_tensor_and_pil(mode, padding):
    img = _pil(4, 5)
    t = F.pil_to_tensor(img)
    ltrb = _functional_core._parse_padding(padding)
    widths = ((0, 0), (ltrb[1], ltrb[3]), (ltrb[0], ltrb[2]))
    kw = {"constant_values": 7} if mode == "constant" else {}
    expected = np.pad(t.numpy(), widths, mode=mode, **kw)
    fill = 7 if mode == "constant" else 0
    out = T.Pad(padding, fill=fill, padding_mode=mode)(t)
    assert out.dtype == minidl.uint8
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(_chw(T.Pad(padding, fill, mode)(img)), expected)
    batched = F.pad(t[None].float(), padding, fill, mode).numpy()
    np.testing.assert_array_equal(batched[0], expected)


def test_pad_documented_examples_and_negative_padding():
    row = minidl.tensor(np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    assert F.pad(row, [2, 0], padding_mode="reflect").numpy().ravel().tolist() == \
        [3, 2, 1, 2, 3, 4, 3, 2]
    assert F.pad(row, [2, 0], padding_mode="symmetric").numpy().ravel().tolist() == \
        [2, 1, 1, 2, 3, 4, 4, 3]
    x = _tensor((2, 5, 6))
    for mode in ("constant", "edge", "reflect", "symmetric"):
        out = F.pad(x, [-1, 2, 1, -2], padding_mode=mode).numpy()   # crop left / bottom
        ref = np.pad(x.numpy()[:, :-2, 1:], ((0, 0), (2, 0), (0, 1)), mode=mode)
        np.testing.assert_array_equal(out, ref)


def test_pad_errors():
    x = _tensor((1, 3, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, "
                                         "reflect or symmetric, got 'wrap'"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3 element tuple"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(TypeError, match="inappropriate padding arg"):
        T.Pad("1")
    with pytest.raises(TypeError, match="tensor image takes one number"):
        F.pad(x, 1, fill=(1, 2, 3))
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor. Got <class 'list'>"):
        F.pad([[1.0]], 1)


# ----------------------------------------------------------------------------- resize
@pytest.mark.parametrize("hw, size, out", [((20, 30), 10, (10, 15)), ((30, 20), 10, (15, 10)),
                                           ((7, 10), 5, (5, 7)), ((10, 7), [5], (7, 5)),
                                           ((20, 30), (4, 9), (4, 9)), ((9, 9), 4, (4, 4))])
def test_resize_int_is_shorter_side(hw, size, out):
    img = _pil(*hw)
    assert F.get_image_size(T.Resize(size)(img)) == [out[1], out[0]]
    assert tuple(T.Resize(size)(_tensor((3,) + hw)).shape) == (3,) + out


def test_resize_max_size_and_noop():
    x = _tensor((1, 10, 40))
    assert tuple(T.Resize(8, max_size=20)(x).shape) == (1, 5, 20)   # 8 x 32 capped at 20
    assert tuple(T.Resize(8, max_size=40)(x).shape) == (1, 8, 32)
    assert T.Resize(10)(x) is x
    with pytest.raises(ValueError, match="max_size = 8 must be strictly greater"):
        T.Resize(8, max_size=8)(x)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        T.Resize((8, 8), max_size=20)(x)


@pytest.mark.parametrize("shape, size", [((2, 3, 17, 23), (7, 9)), ((3, 10, 12), (25, 31)),
                                         ((9, 40), (4, 13)), ((1, 8, 8), (8, 3))])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "nearest-exact"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_tensor_matches_torch_interpolate(shape, size, mode, antialias):
    # torchvision resizes tensors with interpolate(align_corners=False, antialias=antialias)
    x = RNG.random(shape).astype(np.float32)
    out = F.resize(minidl.tensor(x), list(size), IM(mode), antialias=antialias).numpy()
    t = torch.from_numpy(x).reshape((-1, 1) + shape[-2:])
    kw = {"align_corners": False, "antialias": antialias} if mode in ("bilinear", "bicubic") \
        else {}
    ref = torch.nn.functional.interpolate(t, size=size, mode=mode, **kw)
    np.testing.assert_allclose(out, ref.reshape(out.shape).numpy(), rtol=1e-5, atol=2e-6)


def test_resize_uint8_rounds_and_pil_agrees():
    a = RNG.integers(0, 256, (3, 20, 30), dtype=np.uint8)
    out = F.resize(minidl.tensor(a), 10)
    assert out.dtype == minidl.uint8 and tuple(out.shape) == (3, 10, 15)
    ref = torch.nn.functional.interpolate(torch.from_numpy(a)[None].float(), size=(10, 15),
                                          mode="bilinear", align_corners=False, antialias=True)
    as_float = F.resize(minidl.tensor(a).float(), 10).numpy()
    np.testing.assert_allclose(as_float, ref[0].numpy(), atol=1e-4)
    np.testing.assert_array_equal(out.numpy(), np.rint(as_float))   # rounded, not truncated
    pil = _chw(F.resize(Image.fromarray(a.transpose(1, 2, 0)), 10))
    assert np.abs(pil.astype(int) - out.numpy()).max() <= 1    # Pillow: 8-bit fixed point
    bicubic = F.resize(minidl.tensor(a), [31, 47], IM.BICUBIC, antialias=False).numpy()
    assert bicubic.dtype == np.uint8     # clamped to [0, 255] before the cast


def test_resize_errors():
    with pytest.raises(ValueError, match="size must hold positive integers, got 0"):
        T.Resize(0)
    with pytest.raises(ValueError, match=r"positive integers, got \(4, -1\)"):
        F.resize(_tensor((1, 4, 4)), (4, -1))
    with pytest.raises(ValueError, match="it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(TypeError, match="InterpolationMode or a corresponding Pillow integer"):
        T.Resize(4, interpolation="bilinear")
    with pytest.raises(ValueError, match="'box' is unsupported with Tensor input"):
        F.resize(_tensor((1, 8, 8)), 4, IM.BOX)
    with pytest.raises(TypeError, match="Tensor is not a torch image"):
        F.resize(minidl.ones(5), 3)


def test_interpolation_mode_accepts_pillow_constants():
    assert IM("bilinear") is IM.BILINEAR
    assert T.Resize(4, interpolation=Image.Resampling.BICUBIC).interpolation is IM.BICUBIC
    assert T.Resize(4, interpolation=0).interpolation is IM.NEAREST


# --------------------------------------------------------------------------- rotation
def _torchvision_rotate(img, angle, mode, expand, fill, nudge=(0.0, 0.0)):
    """torchvision's tensor rotation spelled out with torch: the output pixel centres relative
    to the centre, the inverse rotation, normalization by the input half-size, grid_sample
    (zeros, align_corners=False) and the fill mask. ``nudge`` shifts every source coordinate
    by that many pixels in x and y (to resolve nearest-neighbour ties one way or the other)."""
    h, w = img.shape[-2:]
    a = math.radians(angle)
    m = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    if expand:
        corners = torch.tensor([[-w / 2, -h / 2, 1.0], [-w / 2, h / 2, 1.0],
                                [w / 2, h / 2, 1.0], [w / 2, -h / 2, 1.0]]) @ m.T
        lo = torch.floor(((corners.min(0).values + torch.tensor([w / 2, h / 2])) / 1e-4)
                         .trunc() * 1e-4)
        hi = torch.ceil(((corners.max(0).values + torch.tensor([w / 2, h / 2])) / 1e-4)
                        .trunc() * 1e-4)
        ow, oh = (int(v) for v in hi - lo)
    else:
        ow, oh = w, h
    xs = torch.linspace(-ow / 2 + 0.5, ow / 2 - 0.5, ow)
    ys = torch.linspace(-oh / 2 + 0.5, oh / 2 - 0.5, oh)
    base = torch.stack([xs.expand(oh, ow), ys[:, None].expand(oh, ow), torch.ones(oh, ow)], -1)
    grid = (base.reshape(-1, 3) @ (m.T / torch.tensor([w / 2, h / 2]))).reshape(1, oh, ow, 2)
    grid = grid + torch.tensor(nudge) * 2 / torch.tensor([w, h])
    x = img.reshape((-1,) + tuple(img.shape[-3:]))
    x = torch.cat([x, torch.ones_like(x[:, :1])], 1)
    y = torch.nn.functional.grid_sample(x, grid.expand(x.shape[0], -1, -1, -1), mode=mode,
                                        padding_mode="zeros", align_corners=False)
    y, mask = y[:, :-1], y[:, -1:].expand_as(y[:, :-1])
    fill = torch.tensor(fill).reshape(1, -1, 1, 1).expand_as(y)
    y = torch.where(mask < 0.5, fill, y) if mode == "nearest" else y * mask + (1 - mask) * fill
    return y.reshape(tuple(img.shape[:-2]) + (oh, ow))


@pytest.mark.parametrize("shape", [(3, 9, 9), (2, 3, 8, 11), (1, 12, 7)])
@pytest.mark.parametrize("angle", [90, 30, -45, 12.5])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("expand", [False, True])
def test_rotate_tensor_matches_torchvision_grid(shape, angle, mode, expand):
    x = RNG.random(shape).astype(np.float32)
    fill = [0.25] * shape[-3]
    out = F.rotate(minidl.tensor(x), angle, IM(mode), expand, fill=fill).numpy()
    ref = _torchvision_rotate(torch.from_numpy(x), angle, mode, expand, fill).numpy()
    assert out.shape == ref.shape
    if mode == "nearest":
        # A source coordinate halfway between two pixels (every pixel of a 90-degree turn of
        # an odd x even image) rounds either way on the last bit of float32 arithmetic: each
        # output pixel must be one of the (up to four) roundings of such a tie.
        ok = np.zeros(out.shape, bool)
        for nudge in itertools.product((-1e-3, 1e-3), repeat=2):
            near = _torchvision_rotate(torch.from_numpy(x), angle, mode, expand, fill, nudge)
            ok |= np.isclose(out, near.numpy(), atol=1e-5)
        assert ok.all(), f"{np.count_nonzero(~ok)} pixels are neither neighbour of the tie"
        assert np.isclose(out, ref, atol=1e-5).mean() > 0.4
    else:
        np.testing.assert_allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("n", [8, 9])
def test_rotate_90_is_rot90(n):
    x = _tensor((3, n, n))
    np.testing.assert_array_equal(F.rotate(x, 90).numpy(), np.rot90(x.numpy(), 1, (1, 2)))
    np.testing.assert_array_equal(F.rotate(x, -90).numpy(), np.rot90(x.numpy(), -1, (1, 2)))
    rot = T.RandomRotation((90, 90))
    np.testing.assert_array_equal(rot(x).numpy(), np.rot90(x.numpy(), 1, (1, 2)))
    img = _pil(n, n)
    np.testing.assert_array_equal(_chw(rot(img)), np.rot90(_chw(img), 1, (1, 2)))


def test_rotate_expand_size_like_pillow_and_fill():
    img = _pil(10, 16)
    t = F.pil_to_tensor(img)
    for angle in (30, 45, 90, 135):
        pil = F.rotate(img, angle, expand=True)
        assert F.get_image_size(pil) == F.get_image_size(F.rotate(t, angle, expand=True))
    out = F.rotate(t, 45, fill=[255, 0, 10]).numpy()
    assert out.dtype == np.uint8 and out[:, 0, 0].tolist() == [255, 0, 10]   # a corner
    pil = np.asarray(F.rotate(img, 45, fill=(255, 0, 10)))
    assert pil[0, 0].tolist() == [255, 0, 10]
    rotated = T.RandomRotation(0, center=(0, 0))(t)
    np.testing.assert_array_equal(rotated.numpy(), t.numpy())


def test_rotation_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive"):
        T.RandomRotation(-10)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2"):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(ValueError, match="center should be a sequence of length 2"):
        T.RandomRotation(10, center=(1, 2, 3))
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number"):
        T.RandomRotation(10, fill={1})
    with pytest.raises(ValueError, match="'bicubic' is unsupported with Tensor input"):
        F.rotate(_tensor((1, 4, 4)), 10, IM.BICUBIC)
    with pytest.raises(ValueError, match=r"cannot broadcast .* \(2 != 3\)"):
        F.rotate(_tensor((3, 4, 4)), 10, fill=[1.0, 2.0])
    with pytest.raises(TypeError, match="angle should be int or float"):
        F.rotate(_tensor((1, 4, 4)), "10")


def test_random_rotation_angle_range():
    minidl.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 30.0]) for _ in range(300)]
    assert min(angles) >= -10 and max(angles) <= 30 and np.std(angles) > 5


# ----------------------------------------------------------------------- random crops
def test_random_crop_is_a_window_of_the_padded_image():
    x = _tensor((2, 6, 7))
    crop = T.RandomCrop((4, 5), padding=2)
    minidl.manual_seed(11)
    out = crop(x).numpy()
    minidl.manual_seed(11)
    padded = F.pad(x, 2)
    i, j, h, w = T.RandomCrop.get_params(padded, (4, 5))
    np.testing.assert_array_equal(out, padded.numpy()[:, i:i + 4, j:j + 5])
    np.testing.assert_array_equal(out, F.crop(padded, i, j, h, w).numpy())
    assert (h, w) == (4, 5) and 0 <= i <= 6 and 0 <= j <= 6


def test_random_crop_params_cover_all_positions_and_pil_agrees():
    img = _pil(5, 5)
    t = F.pil_to_tensor(img)
    crop = T.RandomCrop(3, padding=1, padding_mode="reflect")
    seen = set()
    for seed in range(60):
        minidl.manual_seed(seed)
        a = _chw(crop(img))
        minidl.manual_seed(seed)
        np.testing.assert_array_equal(crop(t).numpy(), a)
        minidl.manual_seed(seed)
        seen.add(T.RandomCrop.get_params(t, (3, 3))[:2])
    assert seen == {(i, j) for i in range(3) for j in range(3)}


def test_random_crop_pad_if_needed_and_errors():
    x = _tensor((1, 3, 4))
    minidl.manual_seed(0)
    out = T.RandomCrop((5, 6), pad_if_needed=True, fill=-1.0)(x)
    # torchvision pads the width by (6 - 4) on both sides, then the height by (5 - 3)
    padded = F.pad(F.pad(x, [2, 0], fill=-1.0), [0, 2], fill=-1.0)
    assert tuple(padded.shape) == (1, 7, 8)
    minidl.manual_seed(0)
    i, j, _, _ = T.RandomCrop.get_params(padded, (5, 6))
    np.testing.assert_array_equal(out.numpy(), padded.numpy()[:, i:i + 5, j:j + 6])
    with pytest.raises(ValueError, match=r"Required crop size \(5, 6\) is larger than input "
                                         r"image size \(3, 4\)"):
        T.RandomCrop((5, 6))(x)
    with pytest.raises(ValueError, match=r"size must hold positive integers, got \(0, 0\)"):
        T.RandomCrop(0)
    with pytest.raises(ValueError, match=r"size must hold positive integers, got \(3, -2\)"):
        T.RandomCrop((3, -2))
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        T.RandomCrop((1, 2, 3))
    with pytest.raises(TypeError, match="Tensor is not a torch image"):
        T.RandomCrop(1)(minidl.ones(4))


def test_random_resized_crop_params_within_bounds():
    img = _tensor((1, 40, 60))
    scale, ratio = (0.2, 0.9), (0.5, 2.0)
    minidl.manual_seed(0)
    for _ in range(200):
        i, j, h, w = T.RandomResizedCrop.get_params(img, scale, ratio)
        assert 0 <= i <= 40 - h and 0 <= j <= 60 - w and h > 0 and w > 0
        # w, h are sqrt(A * r), sqrt(A / r) rounded, for an area A in scale * 2400 and an
        # aspect ratio r in ratio: within half a pixel of sizes that meet both bounds
        assert (w + 0.5) * (h + 0.5) >= scale[0] * 2400 and (w - 0.5) * (h - 0.5) <= scale[1] * 2400
        assert (w - 0.5) / (h + 0.5) <= ratio[1] and (w + 0.5) / (h - 0.5) >= ratio[0]


@pytest.mark.parametrize("hw, expected", [((10, 100), (0, 43, 10, 13)),
                                          ((100, 10), (43, 0, 13, 10)),
                                          ((30, 32), (0, 0, 30, 32))])
def test_random_resized_crop_fallback_central(hw, expected):
    # an impossible area (> the image) forces the fallback: the central crop with the aspect
    # ratio clamped into ``ratio``
    img = _tensor((1,) + hw)
    assert T.RandomResizedCrop.get_params(img, (2.0, 3.0), (3 / 4, 4 / 3)) == expected


def test_random_resized_crop_output_and_repr():
    t = T.RandomResizedCrop(12, scale=(0.3, 1.0))
    minidl.manual_seed(1)
    out = t(_tensor((3, 30, 40)))
    assert tuple(out.shape) == (3, 12, 12)
    assert F.get_image_size(t(_pil(30, 40))) == [12, 12]
    assert repr(t) == ("RandomResizedCrop(size=(12, 12), scale=(0.3, 1.0), ratio=(0.75, 1.3333), "
                       "interpolation=bilinear, antialias=True)")
    minidl.manual_seed(1)
    i, j, h, w = T.RandomResizedCrop.get_params(_tensor((3, 30, 40)), (0.3, 1.0), (3 / 4, 4 / 3))
    x = _tensor((3, 30, 40))
    minidl.manual_seed(1)
    np.testing.assert_array_equal(t(x).numpy(),
                                  F.resize(F.crop(x, i, j, h, w), [12, 12]).numpy())
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomResizedCrop(8, scale=0.5)
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind"):
        T.RandomResizedCrop(8, scale=(1.0, 0.5))


# ---------------------------------------------------------------------------- colour
def _blend_ref(img, other, f):
    bound = 255.0 if img.dtype == torch.uint8 else 1.0
    return (f * img + (1.0 - f) * other).clamp(0, bound).to(img.dtype)


def _gray_ref(img):
    r, g, b = img.unbind(-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("factor", [0.0, 0.6, 1.7])
def test_brightness_contrast_saturation_match_torchvision_formulas(dtype, factor):
    x = _tensor((2, 3, 5, 6), dtype)
    t = torch.from_numpy(x.numpy())
    fdt = t.dtype if t.is_floating_point() else torch.float32
    mean = _gray_ref(t).to(fdt).mean(dim=(-3, -2, -1), keepdim=True)
    refs = {F.adjust_brightness: _blend_ref(t, torch.zeros_like(t), factor),
            F.adjust_contrast: _blend_ref(t, mean, factor),
            F.adjust_saturation: _blend_ref(t, _gray_ref(t), factor)}
    for fn, ref in refs.items():
        out = fn(x, factor)
        assert out.dtype == x.dtype
        np.testing.assert_allclose(out.numpy().astype(float), ref.numpy().astype(float),
                                   atol=1.0 if dtype == np.uint8 else 1e-6)


def test_hue_matches_colorsys():
    x = _tensor((3, 4, 5))
    out = F.adjust_hue(x, 0.2).numpy()
    a = x.numpy()
    for r in range(4):
        for c in range(5):
            h, s, v = colorsys.rgb_to_hsv(*a[:, r, c].astype(float))
            np.testing.assert_allclose(out[:, r, c], colorsys.hsv_to_rgb((h + 0.2) % 1, s, v),
                                       atol=1e-5)
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).numpy(), a, atol=1e-6)
    u = _tensor((3, 4, 5), np.uint8)
    assert F.adjust_hue(u, -0.3).dtype == minidl.uint8
    gray = _tensor((1, 4, 5))
    assert F.adjust_hue(gray, 0.3) is gray


def test_color_pil_paths_and_grayscale():
    img = _pil(6, 7)
    t = F.pil_to_tensor(img)
    for fn in (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation):
        pil = _chw(fn(img, 1.3)).astype(int)
        assert np.abs(pil - fn(t, 1.3).numpy().astype(int)).max() <= 2
        np.testing.assert_array_equal(_chw(fn(img, 1.0)), t.numpy())
    for hue in (0.0, 0.25, -0.4):   # Pillow shifts an 8-bit HSV image: close, not equal
        pil = F.adjust_hue(img, hue)
        assert pil.mode == "RGB"
        assert np.abs(_chw(pil).astype(int) - F.adjust_hue(t, hue).numpy()).mean() < 3
    gray_pil, gray_t = T.Grayscale()(img), T.Grayscale()(t)
    assert np.abs(_chw(gray_pil).astype(int) - gray_t.numpy().astype(int)).max() <= 1
    assert tuple(T.Grayscale(3)(t).shape) == (3, 6, 7) and T.Grayscale(3)(img).mode == "RGB"
    assert T.RandomGrayscale(p=1.0)(t).shape == t.shape


def test_color_jitter_params_identity_and_errors():
    cj = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.4), hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.contrast == (0.2, 0.4)
    assert cj.saturation is None and cj.hue == (-0.1, 0.1)
    minidl.manual_seed(0)
    order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, None, cj.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and s is None
    assert 0.5 <= b <= 1.5 and 0.2 <= c <= 0.4 and -0.1 <= h <= 0.1
    x = _tensor((3, 4, 4))
    assert T.ColorJitter()(x) is x
    minidl.manual_seed(3)
    out = cj(x)
    minidl.manual_seed(3)
    np.testing.assert_array_equal(cj(x).numpy(), out.numpy())
    assert cj(_pil(4, 4)).size == (4, 4)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non "
                                         "negative"):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\)"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(TypeError, match="saturation should be a single number or a list"):
        T.ColorJitter(saturation=(1, 2, 3))
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]"):
        F.adjust_hue(x, 0.6)
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative"):
        F.adjust_brightness(x, -1)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        F.adjust_saturation(_tensor((2, 4, 4)), 0.5)


# ------------------------------------------------------------ containers, reprs, seeds
def test_random_apply_choice_order():
    x = _tensor((1, 3, 3))
    flip = T.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(T.RandomApply([flip], p=1.0)(x).numpy(), x.numpy()[..., ::-1])
    assert T.RandomApply([flip], p=0.0)(x) is x
    minidl.manual_seed(0)
    picks = [T.RandomChoice([T.Lambda(lambda v: 0), T.Lambda(lambda v: 1)], p=[1, 3])(x)
             for _ in range(400)]
    assert 0.65 < np.mean(picks) < 0.85
    calls = []
    order = T.RandomOrder([T.Lambda(lambda v, k=k: calls.append(k) or v) for k in range(4)])
    order(x)
    assert sorted(calls) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomChoice(flip)


def test_reprs_follow_torchvision():
    assert repr(T.RandomCrop(28, padding=4)) == "RandomCrop(size=(28, 28), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.2)) == "RandomVerticalFlip(p=0.2)"
    assert repr(T.Resize(32)) == ("Resize(size=32, interpolation=bilinear, max_size=None, "
                                  "antialias=True)")
    assert repr(T.CenterCrop(5)) == "CenterCrop(size=(5, 5))"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.RandomRotation(30)) == ("RandomRotation(degrees=[-30.0, 30.0], "
                                          "interpolation=nearest, expand=False, fill=0)")
    assert repr(T.ColorJitter(0.4)) == ("ColorJitter(brightness=(0.6, 1.4), contrast=None, "
                                        "saturation=None, hue=None)")
    assert repr(T.RandomApply([T.RandomVerticalFlip()], p=0.3)) == \
        "RandomApply(\n    p=0.3\n    RandomVerticalFlip(p=0.5)\n)"
    assert isinstance(T.RandomCrop(3), minidl.nn.Module)


def test_pipeline_reproducible_under_manual_seed():
    pipeline = T.Compose([T.RandomResizedCrop(16), T.RandomHorizontalFlip(),
                          T.RandomRotation(20), T.ColorJitter(0.3, 0.3, 0.3, 0.05),
                          T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)])
    img = _pil(24, 30)
    runs = []
    for seed in (5, 5, 6):
        minidl.manual_seed(seed)
        runs.append(np.concatenate([pipeline(img).numpy() for _ in range(3)]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert runs[0].shape == (9, 16, 16)


def test_tensor_batch_gets_one_parameter_set():
    x = _tensor((4, 1, 6, 6))
    minidl.manual_seed(2)
    out = T.RandomCrop(3)(x).numpy()
    minidl.manual_seed(2)
    i, j, _, _ = T.RandomCrop.get_params(x, (3, 3))
    np.testing.assert_array_equal(out, x.numpy()[:, :, i:i + 3, j:j + 3])


def test_transforms_keep_gradients_for_tensor_ops():
    x = minidl.tensor(RNG.random((1, 6, 8)).astype(np.float32), requires_grad=True)
    y = F.resize(F.pad(F.hflip(F.crop(x, 1, 1, 4, 6)), 1, padding_mode="reflect"), [3, 4])
    y.sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (1, 6, 8)
    assert float(x.grad.sum()) == pytest.approx(12.0, rel=1e-5)   # each output row sums to 1


# --------------------------------------------------------------- per-sample batches
@pytest.mark.parametrize("shape, size, kw", [
    ((6, 3, 8, 8), 8, {"padding": 2}),
    ((5, 1, 7, 9), (5, 4), {}),
    ((4, 2, 5, 5), 6, {"pad_if_needed": True, "padding_mode": "reflect"}),
    ((3, 6, 6), 4, {"padding": (1, 2), "fill": 0.5}),
    ((2, 2, 3, 6, 6), 5, {"padding": [1, 0, 2, 1], "padding_mode": "symmetric"}),
])
def test_batch_random_crop_equals_per_sample_reference(shape, size, kw):
    x = _tensor(shape)
    crop = B.RandomCrop(size, **kw)
    minidl.manual_seed(7)
    out = crop(x)
    minidl.manual_seed(7)
    ltrb = crop._pads(shape[-2], shape[-1])
    padded = F.pad(x, list(ltrb), kw.get("fill", 0), kw.get("padding_mode", "constant"))
    i, j, th, tw = B.RandomCrop.get_params(shape[0], padded.shape[-2], padded.shape[-1],
                                           crop.size)
    ref = np.stack([F.crop(padded[n], int(i[n]), int(j[n]), th, tw).numpy()
                    for n in range(shape[0])])
    assert isinstance(out, minidl.Tensor)
    np.testing.assert_array_equal(out.numpy(), ref)
    assert tuple(out.shape) == shape[:-2] + crop.size


def test_batch_random_crop_samples_differ_and_ndarray_input():
    x = np.broadcast_to(np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6), (64, 1, 6, 6))
    out = B.RandomCrop(4, generator=minidl.Generator().manual_seed(0))(x)
    assert isinstance(out, np.ndarray) and out.shape == (64, 1, 4, 4)
    corners = {float(v) for v in out[:, 0, 0, 0]}
    assert corners == {float(6 * i + j) for i in range(3) for j in range(3)}
    again = B.RandomCrop(4, generator=minidl.Generator().manual_seed(0))(x)
    np.testing.assert_array_equal(out, again)


@pytest.mark.parametrize("cls, axis", [(B.RandomHorizontalFlip, -1), (B.RandomVerticalFlip, -2)])
def test_batch_flips_equal_per_sample_reference(cls, axis):
    x = _tensor((50, 2, 3, 4))
    flip = cls(p=0.5)
    minidl.manual_seed(4)
    out = flip(x).numpy()
    minidl.manual_seed(4)
    mask = flip.get_params(50)
    assert 5 < mask.sum() < 45
    ref = np.stack([np.flip(s, axis) if m else s for s, m in zip(x.numpy(), mask)])
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(cls(p=1.0)(x).numpy(), np.flip(x.numpy(), axis))
    np.testing.assert_array_equal(cls(p=0.0)(x).numpy(), x.numpy())


def test_batch_compose_and_errors():
    augment = T.Compose([B.RandomCrop(5, padding=1), B.RandomHorizontalFlip()])
    assert tuple(augment(_tensor((8, 1, 5, 5))).shape) == (8, 1, 5, 5)
    assert "batch.RandomCrop(size=(5, 5), padding=[1, 1, 1, 1]" in repr(augment)
    with pytest.raises(ValueError, match=r"at least 3 dimensions, got shape \(5, 5\)"):
        B.RandomCrop(3)(_tensor((5, 5)))
    with pytest.raises(TypeError, match="expects a batch tensor or ndarray"):
        B.RandomHorizontalFlip()([1, 2, 3])
    with pytest.raises(ValueError, match=r"Required crop size \(6, 6\) is larger"):
        B.RandomCrop(6)(_tensor((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        B.RandomVerticalFlip(1.5)
    with pytest.raises(ValueError, match="does not fit inside the 5 x 5 images"):
        B.crop_batch(_tensor((2, 1, 5, 5)), [0, 3], [0, 0], 3, 3)
