"""Transforms against torchvision's documented semantics (expected values built with torch)."""
import numpy as np
import pytest
import torch
from PIL import Image

import minidl
from minidl.vision import transforms as T
from minidl.vision.transforms import functional as F

RNG = np.random.default_rng(0)


def _torchvision_to_tensor(hwc):
    """torchvision's ToTensor for a uint8 H x W x C array: permute, to float, divide by 255."""
    chw = torch.from_numpy(hwc).permute(2, 0, 1).contiguous()
    return chw.to(torch.get_default_dtype()).div(255)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (4, 6, 3), (3, 2, 4)])
def test_to_tensor_uint8_array(shape):
    a = RNG.integers(0, 256, shape, dtype=np.uint8)
    out = T.ToTensor()(a)
    hwc = a if a.ndim == 3 else a[:, :, None]
    expected = _torchvision_to_tensor(hwc).numpy()
    assert out.dtype == minidl.float32 and tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("mode, channels", [("L", 1), ("RGB", 3), ("RGBA", 4)])
def test_to_tensor_pil(mode, channels):
    a = RNG.integers(0, 256, (6, 9, channels), dtype=np.uint8)
    img = Image.fromarray(a[:, :, 0] if channels == 1 else a, mode=None)
    assert img.mode == mode
    out = T.ToTensor()(img)
    assert tuple(out.shape) == (channels, 6, 9)
    np.testing.assert_array_equal(out.numpy(), _torchvision_to_tensor(a).numpy())
    pil = T.PILToTensor()(img)
    assert pil.dtype == minidl.uint8
    np.testing.assert_array_equal(pil.numpy(), a.transpose(2, 0, 1))


def test_to_tensor_keeps_other_dtypes_and_modes():
    f = RNG.standard_normal((3, 4, 2))
    out = T.ToTensor()(f)  # float64 array: transposed, not scaled, dtype kept
    assert out.dtype == minidl.float64
    np.testing.assert_array_equal(out.numpy(), f.transpose(2, 0, 1))
    img = Image.fromarray(np.array([[0, 70000], [5, -3]], np.int32), mode=None)
    assert img.mode == "I"
    out = T.ToTensor()(img)
    assert out.dtype == minidl.int32 and out.numpy().tolist() == [[[0, 70000], [5, -3]]]
    binary = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(binary).numpy(), [[[0.0, 1.0], [1.0, 0.0]]])


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(np.zeros((2, 2), np.uint8))


@pytest.mark.parametrize("shape, mean, std", [
    ((1, 5, 5), (0.1307,), (0.3081,)),
    ((3, 4, 6), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ((2, 3, 4, 6), [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]),   # a batch (..., C, H, W)
    ((3, 4, 6), 0.5, 0.5),                                 # scalars broadcast
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize(shape, mean, std, dtype):
    a = RNG.random(shape).astype(dtype)
    t = torch.from_numpy(a)
    m = torch.as_tensor(mean, dtype=t.dtype)
    s = torch.as_tensor(std, dtype=t.dtype)
    if m.ndim == 1:
        m, s = m.view(-1, 1, 1), s.view(-1, 1, 1)
    expected = t.sub(m).div(s).numpy()  # torchvision's normalize
    x = minidl.from_numpy(a.copy())
    out = T.Normalize(mean, std)(x)
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(x.numpy(), a)  # not in place
    same = T.Normalize(mean, std, inplace=True)(x)
    assert same is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got minidl.uint8"):
        T.Normalize((0.5,), (0.5,))(minidl.zeros(1, 2, 2, dtype=minidl.uint8))
    with pytest.raises(ValueError, match=r"tensor image of size \(..., C, H, W\). Got "
                                         r"tensor.size\(\) = \(2, 2\)"):
        T.Normalize((0.5,), (0.5,))(minidl.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5, 0.5), (0.5, 0.0))(minidl.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(np.zeros((1, 2, 2), np.float32), (0.5,), (0.5,))


def test_compose_and_lambda():
    a = RNG.integers(0, 256, (4, 4), dtype=np.uint8)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda x: x * 2)])
    out = pipeline(Image.fromarray(a))
    expected = (_torchvision_to_tensor(a[:, :, None]) - 0.5) / 0.5 * 2
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    assert "ToTensor()" in repr(pipeline) and "Normalize(mean=(0.5,), std=(0.5,))" in repr(pipeline)
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


@pytest.mark.parametrize("src, dst, values, expected", [
    (minidl.uint8, minidl.float32, [0, 128, 255], [0.0, 128 / 255, 1.0]),
    (minidl.float32, minidl.uint8, [0.0, 0.5, 1.0], [0, 127, 255]),
    (minidl.uint8, minidl.int16, [0, 1, 255], [0, 128, 32640]),
    (minidl.int16, minidl.uint8, [0, 256, 32767], [0, 2, 255]),
    (minidl.float64, minidl.float32, [0.25, 1.0, 0.0], [0.25, 1.0, 0.0]),
])
def test_convert_image_dtype(src, dst, values, expected):
    x = minidl.tensor(values, dtype=src)
    out = T.ConvertImageDtype(dst)(x)
    assert out.dtype == dst
    np.testing.assert_allclose(out.numpy(), np.array(expected, dtype=dst.np), rtol=1e-6)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(minidl.zeros(2), minidl.int32)


def test_to_pil_image_roundtrip():
    a = RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    img = T.ToPILImage()(T.ToTensor()(a))
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), a)
    gray = T.ToPILImage()(minidl.from_numpy(a[:, :, :1].transpose(2, 0, 1).copy()))
    assert gray.mode == "L"
    np.testing.assert_array_equal(np.asarray(gray), a[:, :, 0])
