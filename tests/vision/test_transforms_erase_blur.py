"""``erase`` / ``RandomErasing`` and ``gaussian_blur`` / ``GaussianBlur``.

References: hand-written erasures (NumPy slicing); the blur against torch's reflect ``pad``
and grouped ``conv2d`` with a kernel built in torch from the Gaussian formula.
"""
import math
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import minidl
from minidl.backend import rng
from minidl.vision import transforms as T
from minidl.vision.transforms import functional as F

RNG = np.random.default_rng(0)


def test_erase_sets_the_box_and_copies_unless_inplace():
    x = RNG.random((2, 3, 6, 7)).astype(np.float32)
    t = minidl.tensor(x)
    out = F.erase(t, 1, 2, 3, 4, minidl.tensor(np.float32([[[5.0]], [[6.0]], [[7.0]]])))
    ref = x.copy()
    ref[..., 1:4, 2:6] = np.float32([5, 6, 7]).reshape(3, 1, 1)
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(t.numpy(), x)
    same = F.erase(t, 0, 0, 2, 2, 0.0, inplace=True)
    assert same is t and (t.numpy()[..., :2, :2] == 0).all()
    with pytest.raises(TypeError, match="Tensor"):
        F.erase(Image.new("RGB", (4, 4)), 0, 0, 1, 1, 0)


def test_random_erasing_params():
    img = minidl.rand(3, 20, 30)
    minidl.manual_seed(0)
    for _ in range(100):
        i, j, h, w, v = T.RandomErasing.get_params(img, (0.02, 0.33), (0.3, 3.3), [1.0])
        assert 0 < h < 20 and 0 < w < 30 and i + h <= 20 and j + w <= 30
        assert 0.3 / 1.5 <= h / w <= 3.3 * 1.5
        assert 0.02 * 600 * 0.5 <= h * w <= 0.33 * 600 * 1.5
        assert tuple(v.shape) == (1, 1, 1)
    *_, h, w, v = T.RandomErasing.get_params(img, (0.1, 0.2), (1.0, 1.0))
    assert tuple(v.shape) == (3, h, w) and v.dtype == minidl.float32
    # a box that never fits strictly inside: the whole image is "erased" with itself
    assert T.RandomErasing.get_params(img, (1.0, 1.0), (1.0, 1.0))[:4] == (0, 0, 20, 30)


@pytest.mark.parametrize("value", [0.5, (0.1, 0.2, 0.3), "random"])
def test_random_erasing_forward_matches_its_params(value):
    x = minidl.rand(3, 12, 16)
    t = T.RandomErasing(p=1.0, value=value)
    minidl.manual_seed(7)
    out = t(x).numpy()
    minidl.manual_seed(7)
    rng().random()
    spec = None if value == "random" else [float(v) for v in np.atleast_1d(value)]
    i, j, h, w, v = T.RandomErasing.get_params(x, t.scale, t.ratio, spec)
    ref = x.numpy().copy()
    ref[:, i:i + h, j:j + w] = v.numpy()
    np.testing.assert_array_equal(out, ref)
    assert T.RandomErasing(p=0.0)(x) is x


def test_random_erasing_errors():
    with pytest.raises(ValueError, match="random"):
        T.RandomErasing(value="noise")
    with pytest.raises(TypeError, match="value"):
        T.RandomErasing(value=None)
    with pytest.raises(ValueError, match="Scale"):
        T.RandomErasing(scale=(0.1, 1.2))
    with pytest.raises(ValueError, match="probability"):
        T.RandomErasing(p=1.5)
    with pytest.warns(UserWarning, match="min, max"):
        T.RandomErasing(ratio=(3.0, 0.3))
    with pytest.raises(ValueError, match="number of input channels"):
        T.RandomErasing(p=1.0, value=(1, 2))(minidl.rand(3, 8, 8))
    with pytest.raises(TypeError, match="Tensor"):
        T.RandomErasing(p=1.0)(Image.new("RGB", (8, 8)))


def _torch_blur(x, kernel_size, sigma):
    kernels = []
    for k, s in zip(kernel_size, sigma):
        pos = torch.arange(k, dtype=x.dtype) - (k - 1) / 2
        pdf = torch.exp(-pos ** 2 / (2 * s * s))
        kernels.append(pdf / pdf.sum())
    kernel = kernels[1][:, None] * kernels[0][None, :]
    c = x.shape[1]
    pad = [kernel_size[0] // 2] * 2 + [kernel_size[1] // 2] * 2
    padded = torch.nn.functional.pad(x, pad, mode="reflect")
    return torch.nn.functional.conv2d(padded, kernel.expand(c, 1, *kernel.shape), groups=c)


@pytest.mark.parametrize("kernel_size,sigma", [(3, 1.0), ((5, 3), (1.5, 0.7)), (7, None)])
def test_gaussian_blur_matches_torch_conv2d(kernel_size, sigma):
    x = RNG.random((2, 3, 9, 10))
    out = F.gaussian_blur(minidl.tensor(x), kernel_size, sigma).numpy()
    ks = [kernel_size] * 2 if isinstance(kernel_size, int) else list(kernel_size)
    sg = [0.15 * k + 0.35 for k in ks] if sigma is None else \
        ([sigma] * 2 if isinstance(sigma, float) else list(sigma))
    ref = _torch_blur(torch.from_numpy(x), ks, sg).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_gaussian_blur_uint8_rounds_and_pil_agrees():
    x = RNG.integers(0, 256, (3, 8, 8), dtype=np.uint8)
    out = F.gaussian_blur(minidl.tensor(x), 5, 1.2)
    assert out.dtype == minidl.uint8
    ref = _torch_blur(torch.from_numpy(x[None]).float(), [5, 5], [1.2, 1.2]).round()[0]
    assert np.abs(out.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1
    pil = F.gaussian_blur(Image.fromarray(x.transpose(1, 2, 0)), 5, 1.2)
    assert isinstance(pil, Image.Image) and pil.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(pil).transpose(2, 0, 1), out.numpy())


def test_gaussian_blur_keeps_the_gradient():
    x = minidl.rand(1, 2, 6, 6, requires_grad=True)
    F.gaussian_blur(x, 3, 1.0).sum().backward()
    # each kernel sums to 1: interior pixels pass a gradient of exactly 1
    np.testing.assert_allclose(x.grad.numpy()[..., 2:4, 2:4], 1.0, rtol=1e-6)


def test_gaussian_blur_errors():
    x = minidl.rand(3, 8, 8)
    with pytest.raises(ValueError, match="odd and positive"):
        F.gaussian_blur(x, 4)
    with pytest.raises(TypeError, match="kernel_size"):
        F.gaussian_blur(x, 3.0)
    with pytest.raises(ValueError, match="positive"):
        F.gaussian_blur(x, 3, -1.0)
    with pytest.raises(TypeError, match="sigma"):
        F.gaussian_blur(x, 3, "1")
    with pytest.raises(ValueError, match="padding"):
        F.gaussian_blur(minidl.rand(3, 2, 2), 5)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="min, max"):
        T.GaussianBlur(3, (2.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        T.GaussianBlur(3, 0)


def test_gaussian_blur_transform_sigma_range():
    minidl.manual_seed(0)
    draws = [T.GaussianBlur.get_params(0.5, 1.5) for _ in range(200)]
    assert 0.5 <= min(draws) and max(draws) <= 1.5 and np.std(draws) > 0.2
    t = T.GaussianBlur(3)
    assert t.kernel_size == (3, 3) and t.sigma == (0.1, 2.0)
    x = minidl.rand(3, 8, 8)
    minidl.manual_seed(4)
    out = t(x).numpy()
    minidl.manual_seed(4)
    s = T.GaussianBlur.get_params(0.1, 2.0)
    np.testing.assert_array_equal(out, F.gaussian_blur(x, 3, s).numpy())
    assert repr(t) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isclose(T.GaussianBlur(5, 1.0).sigma[0], 1.0)
