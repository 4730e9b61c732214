"""minidl.vision.filters: kernels, depthwise filtering, median, Sobel, Laplacian, FFT."""
import math

import numpy as np
import pytest
import torch

import minidl
import minidl.nn.functional as F
from minidl.vision import filters as f

MODES = ["reflect", "zeros", "replicate", "circular"]
TORCH_MODE = {"reflect": "reflect", "zeros": "constant", "replicate": "replicate",
              "circular": "circular"}


def t64(a):
    return minidl.from_numpy(np.asarray(a, dtype=np.float64))


def rand(*shape, seed=0):
    return t64(np.random.default_rng(seed).standard_normal(shape))


def plane(H, W, a, b, c=0.0):
    """The image a * x + b * y + c (x = column, y = row)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    return a * x + b * y + c


def interior(t, m):
    return t.numpy()[..., m:-m, m:-m]


# ------------------------------------------------------------------ kernels
@pytest.mark.parametrize("kernel", [
    f.box_kernel(3), f.box_kernel((5, 3)), f.gaussian_kernel1d(sigma=0.7),
    f.gaussian_kernel1d(9, 2.5), f.gaussian_kernel2d((3, 7), (0.8, 2.0)),
    f.gaussian_kernel2d(sigma=1.5), f.sharpen_kernel(), f.sharpen_kernel(2.5)])
def test_smoothing_kernels_sum_to_one(kernel):
    assert kernel.dtype == minidl.float32
    assert abs(float(kernel.sum()) - 1.0) < 1e-6


@pytest.mark.parametrize("kernel", [f.sobel_kernel("x"), f.sobel_kernel("y", normalized=False),
                                    f.laplacian_kernel(4), f.laplacian_kernel(8)])
def test_derivative_kernels_sum_to_zero(kernel):
    assert float(kernel.sum()) == 0.0


def test_kernel_layouts():
    assert f.box_kernel((5, 3)).shape == (3, 5)  # (x, y) sizes, (height, width) tensors
    assert f.gaussian_kernel2d((3, 7), 1.0).shape == (7, 3)
    np.testing.assert_allclose(f.box_kernel(3).numpy(), np.full((3, 3), 1 / 9), rtol=1e-6)
    assert f.gaussian_kernel1d(5, 1.0, dtype=minidl.float64).dtype == minidl.float64


def test_gaussian_matches_torchvision_formula():
    # torchvision: x = linspace(-(k-1)/2, (k-1)/2, k); pdf = exp(-x^2 / (2 sigma^2)); pdf / sum
    np.testing.assert_allclose(f.gaussian_kernel1d(5, 1.0).numpy(),
                               [0.05448868, 0.24420134, 0.40261995, 0.24420134, 0.05448868],
                               atol=1e-7)
    # kernel_size 3 without sigma: sigma = 0.3 ((k - 1) / 2 - 1) + 0.8 = 0.8
    np.testing.assert_allclose(f.gaussian_kernel1d(3).numpy(),
                               [0.23899427, 0.52201147, 0.23899427], atol=1e-7)
    np.testing.assert_allclose(
        f.gaussian_kernel1d(7, 1.2).numpy(),
        [0.01464626, 0.08312087, 0.23555925, 0.33334724, 0.23555925, 0.08312087, 0.01464626],
        atol=1e-7)


@pytest.mark.parametrize("sigma,size", [(0.5, 5), (1.0, 7), (1.2, 9), (2.0, 13)])
def test_gaussian_size_from_sigma(sigma, size):
    assert f.gaussian_kernel1d(sigma=sigma).shape == (size,)  # 2 ceil(3 sigma) + 1


def test_gaussian_2d_is_outer_product_and_sobel_is_separable():
    g2 = f.gaussian_kernel2d((5, 3), (1.0, 0.6)).numpy()
    np.testing.assert_allclose(g2, np.outer(f.gaussian_kernel1d(3, 0.6).numpy(),
                                            f.gaussian_kernel1d(5, 1.0).numpy()), rtol=1e-6)
    s, d = (k.numpy() for k in f.sobel_kernel1d(normalized=False))
    np.testing.assert_array_equal(f.sobel_kernel("x", normalized=False).numpy(),
                                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(f.sobel_kernel("x", normalized=False).numpy(), np.outer(s, d))
    np.testing.assert_array_equal(f.sobel_kernel("y", normalized=False).numpy(), np.outer(d, s))
    np.testing.assert_array_equal(f.sharpen_kernel().numpy(),
                                  [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


# ------------------------------------------------------------------ applying kernels
@pytest.mark.parametrize("mode", MODES)
def test_filter2d_matches_torch_pad_and_conv(mode):
    x, k = rand(2, 3, 7, 9), rand(3, 5, seed=1)
    got = f.filter2d(x, k, padding_mode=mode)
    xt = torch.nn.functional.pad(torch.from_numpy(x.numpy()), (2, 2, 1, 1), mode=TORCH_MODE[mode])
    want = torch.nn.functional.conv2d(xt, torch.from_numpy(k.numpy()).expand(3, 1, 3, 5),
                                      groups=3)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_separable_gaussian_equals_2d_gaussian(mode):
    x = rand(2, 3, 10, 12)
    for ks, sigma in [(5, 1.0), ((3, 7), (0.8, 1.7)), (None, 0.9)]:
        sep = f.gaussian_blur(x, ks, sigma, padding_mode=mode)
        full = f.filter2d(x, f.gaussian_kernel2d(ks, sigma, dtype=minidl.float64), mode)
        np.testing.assert_allclose(sep.numpy(), full.numpy(), rtol=1e-12, atol=1e-12)


def test_gaussian_blur_matches_torchvision_computation():
    """torchvision: reflect-pad by k // 2, then conv2d with the 2-D kernel, groups=C."""
    x = rand(1, 3, 9, 8)
    k = f.gaussian_kernel2d((5, 3), (1.1, 0.7), dtype=minidl.float64)
    xt = torch.nn.functional.pad(torch.from_numpy(x.numpy()), (2, 2, 1, 1), mode="reflect")
    want = torch.nn.functional.conv2d(xt, torch.from_numpy(k.numpy()).expand(3, 1, 3, 5), groups=3)
    got = f.gaussian_blur(x, (5, 3), (1.1, 0.7))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_separable_filters_equal_their_2d_kernels(mode):
    x = rand(1, 2, 8, 9)
    np.testing.assert_allclose(f.box_blur(x, (3, 5), mode).numpy(),
                               f.filter2d(x, f.box_kernel((3, 5), dtype=minidl.float64),
                                          mode).numpy(), atol=1e-12)
    for d in "xy":
        np.testing.assert_allclose(f.sobel(x, d, padding_mode=mode).numpy(),
                                   f.filter2d(x, f.sobel_kernel(d), mode).numpy(), atol=1e-7)
    kx, ky = rand(5, seed=3), rand(3, seed=4)
    np.testing.assert_allclose(f.separable_filter2d(x, kx, ky, mode).numpy(),
                               f.filter2d(x, t64(np.outer(ky.numpy(), kx.numpy())), mode).numpy(),
                               atol=1e-12)


def test_image_layouts_and_dtype():
    x = minidl.rand(2, 3, 8, 8)
    y = f.gaussian_blur(x, 3)
    assert y.shape == x.shape and y.dtype == minidl.float32
    np.testing.assert_allclose(f.gaussian_blur(x[0], 3).numpy(), y[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(f.gaussian_blur(x[0, 1], 3).numpy(), y[0, 1].numpy(), rtol=1e-6)
    for fn in (f.box_blur, f.median_blur, f.sobel, f.laplacian, f.sharpen,
               lambda im: f.lowpass(im, 1.0)):
        for im in (x, x[0], x[0, 0]):
            out = fn(im)
            assert out.shape == im.shape and out.dtype == minidl.float32


def test_per_channel_kernels():
    x = rand(2, 2, 6, 7)
    k = t64(np.stack([f.box_kernel(3).numpy(), f.laplacian_kernel().numpy()]))
    y = f.filter2d(x, k)
    np.testing.assert_allclose(y[:, 0].numpy(), f.box_blur(x[:, :1], 3)[:, 0].numpy(), atol=1e-7)
    np.testing.assert_allclose(y[:, 1].numpy(), f.laplacian(x[:, 1:])[:, 0].numpy(), atol=1e-6)


# ------------------------------------------------------------------ Sobel, Laplacian, sharpen
@pytest.mark.parametrize("mode", MODES)
def test_sobel_on_a_ramp_gives_the_slope(mode):
    img = t64(plane(9, 11, 0.5, -1.25, 3.0))
    np.testing.assert_allclose(interior(f.sobel(img, "x", padding_mode=mode), 1), 0.5)
    np.testing.assert_allclose(interior(f.sobel(img, "y", padding_mode=mode), 1), -1.25)
    np.testing.assert_allclose(interior(f.sobel(img, padding_mode=mode), 1),
                               math.hypot(0.5, 1.25), rtol=1e-9)
    raw = f.sobel(img, "x", normalized=False, padding_mode=mode)
    np.testing.assert_allclose(interior(raw, 1), 8 * 0.5)


def test_sobel_finds_a_vertical_edge():
    img = t64(np.repeat([[0.0] * 5 + [1.0] * 5], 6, axis=0))
    mag = f.sobel(img).numpy()
    assert np.all(mag[:, 4:6] > 0.4) and np.allclose(mag[:, [0, 1, 2, 7, 8, 9]], 0, atol=1e-5)
    np.testing.assert_allclose(f.sobel(img, "y").numpy(), 0, atol=1e-12)


@pytest.mark.parametrize("neighbours", [4, 8])
@pytest.mark.parametrize("mode", MODES)
def test_laplacian_of_linear_image_is_zero_inside(neighbours, mode):
    img = t64(plane(8, 10, 0.7, -0.3, 2.0))
    np.testing.assert_allclose(interior(f.laplacian(img, neighbours, mode), 1), 0, atol=1e-12)


def test_laplacian_of_a_paraboloid():
    y, x = np.mgrid[0:8, 0:8].astype(np.float64)
    img = t64(x ** 2 + y ** 2)  # f_xx + f_yy = 4
    np.testing.assert_allclose(interior(f.laplacian(img, 4), 1), 4.0)
    np.testing.assert_allclose(interior(f.laplacian(img, 8), 1), 12.0)


def test_sharpen_is_image_minus_laplacian():
    x = rand(1, 3, 7, 7)
    np.testing.assert_allclose(f.sharpen(x, 0.5).numpy(),
                               (x - 0.5 * f.laplacian(x)).numpy(), atol=1e-12)
    flat = t64(np.full((5, 6), 0.3))
    np.testing.assert_allclose(f.sharpen(flat, 2.0).numpy(), 0.3, atol=1e-12)


# ------------------------------------------------------------------ median
def test_median_blur_matches_numpy():
    a = np.random.default_rng(5).standard_normal((2, 2, 6, 7))
    got = f.median_blur(t64(a), (3, 5), padding_mode="replicate").numpy()
    p = np.pad(a, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="edge")  # (x, y) = 3 wide, 5 tall
    win = np.lib.stride_tricks.sliding_window_view(p, (5, 3), axis=(2, 3))
    np.testing.assert_array_equal(got, np.median(win.reshape(2, 2, 6, 7, 15), axis=-1))


def test_median_beats_mean_on_salt_and_pepper():
    rng = np.random.default_rng(0)
    clean = 0.25 + 0.5 * plane(32, 32, 1 / 31, 0) * plane(32, 32, 0, 1 / 31)
    noisy = clean.copy()
    hit = rng.random(clean.shape)
    noisy[hit < 0.05], noisy[hit > 0.95] = 0.0, 1.0
    mse = lambda out: float(np.mean((out.numpy() - clean) ** 2))  # noqa: E731
    med, mean = mse(f.median_blur(t64(noisy), 3)), mse(f.box_blur(t64(noisy), 3))
    assert med < 0.1 * mean and med < 1e-3, (med, mean)


# ------------------------------------------------------------------ FFT convolution
def _weight(k, C):
    """The F.conv2d weight and groups for a fft_conv2d kernel."""
    kh, kw = k.shape[-2:]
    if k.ndim == 2:
        return k.reshape(1, 1, kh, kw).expand(C, 1, kh, kw), C
    if k.ndim == 3:
        return k.reshape(C, 1, kh, kw), C
    return k, 1


@pytest.mark.parametrize("size", [(1, 1), (3, 3), (2, 5), (4, 4), (5, 2), (7, 9)])
@pytest.mark.parametrize("kdim", [2, 3, 4])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fft_conv_equals_conv2d(size, kdim, mode):
    x = rand(2, 3, 9, 10, seed=sum(size))
    kh, kw = size
    k = rand(*{2: (kh, kw), 3: (3, kh, kw), 4: (4, 3, kh, kw)}[kdim], seed=kdim)
    w, groups = _weight(k, 3)
    padding = {"full": (kh - 1, kw - 1), "same": "same", "valid": 0}[mode]
    want = F.conv2d(x, w, padding=padding, groups=groups)
    got = f.fft_conv2d(x, k, mode)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-10)


def test_fft_conv_float32_and_grads_match_conv2d():
    rng = np.random.default_rng(2)
    xa, ka = rng.standard_normal((2, 3, 12, 11)), rng.standard_normal((4, 3, 5, 3))
    outs = []
    for fn in (lambda x, k: f.fft_conv2d(x, k, "same"),
               lambda x, k: F.conv2d(x, k, padding="same")):
        x = minidl.from_numpy(xa.astype(np.float32)).requires_grad_(True)
        k = minidl.from_numpy(ka.astype(np.float32)).requires_grad_(True)
        y = fn(x, k)
        (y * y).sum().backward()
        outs.append((y, x.grad, k.grad))
    for a, b in zip(*outs):
        assert a.dtype == minidl.float32
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_true_convolution_flips_the_kernel(mode):
    x, k = rand(8, 9), rand(4, 3, seed=1)
    conv = f.fft_conv2d(x, k, mode, correlate=False).numpy()
    full = np.zeros((11, 11))  # out[i, j] = sum_{u,v} x[i - u, j - v] k[u, v]
    for u in range(4):
        for v in range(3):
            full[u:u + 8, v:v + 9] += k.numpy()[u, v] * x.numpy()
    want = {"full": full, "same": full[1:9, 1:10], "valid": full[3:8, 2:9]}[mode]
    np.testing.assert_allclose(conv, want, atol=1e-10)
    if mode != "same":  # even kernels centre 'same' differently for the two (torch vs scipy)
        np.testing.assert_allclose(f.fft_conv2d(x, k.flip((0, 1)), mode).numpy(), conv,
                                   atol=1e-10)


@pytest.mark.parametrize("kdim", [2, 4])
def test_fft_conv_gradcheck(kdim):
    x = rand(1, 2, 4, 5).requires_grad_(True)
    k = rand(*((2, 3) if kdim == 2 else (2, 2, 2, 3)), seed=1).requires_grad_(True)
    assert minidl.autograd.gradcheck(lambda a, b: f.fft_conv2d(a, b, "same"), (x, k))


# ------------------------------------------------------------------ frequency domain
def test_lowpass_plus_highpass_is_the_image():
    x = minidl.rand(2, 3, 16, 15)
    low, high = f.frequency_split(x, 2.0)
    assert low.dtype == minidl.float32
    np.testing.assert_allclose((low + high).numpy(), x.numpy(), atol=1e-6)
    np.testing.assert_allclose((f.lowpass(x, 2.0) + f.highpass(x, 2.0)).numpy(), x.numpy(),
                               atol=1e-6)
    flat = t64(np.full((6, 8), 0.7))  # the zero frequency passes untouched
    np.testing.assert_allclose(f.lowpass(flat, 3.0).numpy(), 0.7, atol=1e-12)
    np.testing.assert_allclose(f.highpass(flat, 3.0).numpy(), 0, atol=1e-12)


def test_frequency_response_of_gaussian_is_gaussian():
    sigma, n = 2.0, 64
    g = np.zeros((n, n))  # the spatial kernel centred on pixel (0, 0), circularly
    g[:41, :41] = f.gaussian_kernel2d(41, sigma, dtype=minidl.float64).numpy()
    g = np.roll(g, (-20, -20), axis=(0, 1))
    spectrum = np.fft.fft2(g)
    np.testing.assert_allclose(spectrum.imag, 0, atol=1e-12)
    H = f.gaussian_frequency_response((n, n), sigma, onesided=False, dtype=minidl.float64)
    # equal up to the alias of the neighbouring period, H(1 - 0.5) = exp(-pi^2 sigma^2 / 2) ~ 3e-9
    np.testing.assert_allclose(spectrum.real, H.numpy(), rtol=0, atol=5e-9)
    u = np.fft.fftfreq(n)  # a Gaussian of std 1 / (2 pi sigma) in frequency
    np.testing.assert_allclose(H.numpy()[0], np.exp(-u ** 2 / (2 * (1 / (2 * np.pi * sigma)) ** 2)))
    assert f.gaussian_frequency_response((n, n), sigma).shape == (n, n // 2 + 1)


def test_lowpass_is_a_circular_gaussian_blur():
    x = rand(1, 2, 32, 30)
    blur = f.gaussian_blur(x, 29, 2.0, padding_mode="circular")
    np.testing.assert_allclose(f.lowpass(x, 2.0).numpy(), blur.numpy(), atol=1e-8)


def test_magnitude_spectrum():
    img = t64(np.cos(2 * np.pi * 2 * np.arange(16) / 16)[None, :].repeat(8, 0))
    spec = f.magnitude_spectrum(img, log=False).numpy()
    assert spec.shape == (8, 16)
    peaks = sorted(zip(*np.nonzero(spec > 1e-9)))
    assert peaks == [(4, 6), (4, 10)]  # +-2 cycles around the centre (4, 8)
    np.testing.assert_allclose(f.magnitude_spectrum(img).numpy(), np.log1p(spec))


# ------------------------------------------------------------------ gradients
def test_gradients_flow_through_filters():
    gc = minidl.autograd.gradcheck
    x = rand(1, 2, 5, 6).requires_grad_(True)
    for mode in MODES:
        assert gc(lambda a, mode=mode: f.gaussian_blur(a, 3, 0.8, padding_mode=mode), (x,))
    assert gc(lambda a: f.gaussian_blur(a[0, 0], (5, 3), (1.0, 0.6)), (x,))
    assert gc(lambda a: f.sobel(a), (x,))
    assert gc(lambda a: f.median_blur(a, 3), (x,))
    assert gc(lambda a: f.lowpass(a, 1.0), (x,))
    k = rand(3, 3, seed=2).requires_grad_(True)
    assert gc(lambda a, b: f.filter2d(a, b, "replicate"), (x, k))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call,exc,match", [
    (lambda x: f.gaussian_blur(x, 4), ValueError, "kernel_size should have odd and positive"),
    (lambda x: f.gaussian_blur(x, (3, 0)), ValueError, r"kernel_size .*\(3, 0\)"),
    (lambda x: f.gaussian_blur(x, 3, 0.0), ValueError, "sigma should have positive"),
    (lambda x: f.gaussian_blur(x, 3, -1.0), ValueError, "sigma"),
    (lambda x: f.gaussian_blur(x), ValueError, "kernel_size, sigma or both"),
    (lambda x: f.gaussian_blur(x, 2.5), TypeError, "kernel_size should be a int"),
    (lambda x: f.gaussian_blur(x, 3, "1"), TypeError, "sigma"),
    (lambda x: f.gaussian_kernel1d((3, 5)), TypeError, "single number"),
    (lambda x: f.box_blur(x, (3, 3, 3)), TypeError, "kernel_size"),
    (lambda x: f.median_blur(x, 2), ValueError, "odd"),
    (lambda x: f.box_blur(x, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda x: f.gaussian_blur(x, 17), ValueError, r"reflect padding .* 8 x 9"),
    (lambda x: f.laplacian(x, 6), ValueError, "neighbours must be 4 or 8"),
    (lambda x: f.sobel(x, "z"), ValueError, "direction"),
    (lambda x: f.sharpen(x, "lots"), TypeError, "amount"),
    (lambda x: f.filter2d(x, minidl.ones(2, 2)), ValueError, "odd"),
    (lambda x: f.filter2d(x, minidl.ones(3)), ValueError, "must have 2 or 3 dims"),
    (lambda x: f.filter2d(x, minidl.ones(4, 3, 3)), ValueError, "does not match 3 channels"),
    (lambda x: f.filter2d(x, np.ones((3, 3))), TypeError, "kernel must be a Tensor"),
    (lambda x: f.fft_conv2d(x, minidl.ones(3, 3), "circular"), ValueError, "mode must be"),
    (lambda x: f.fft_conv2d(x, minidl.ones(9, 9), "valid"), ValueError, r"9 x 9.*8 x 9"),
    (lambda x: f.fft_conv2d(x, minidl.ones(2, 2, 3, 3)), ValueError, "does not match the 3"),
    (lambda x: f.fft_conv2d(x[0, 0], minidl.ones(1, 1, 3, 3)), ValueError, "O, C, kh, kw"),
    (lambda x: f.lowpass(x, 0), ValueError, "sigma"),
    (lambda x: f.gaussian_frequency_response((4,), 1.0), ValueError, r"\(H, W\)"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call(minidl.rand(2, 3, 8, 9))


@pytest.mark.parametrize("img,exc,match", [
    (minidl.rand(5), ValueError, r"\(N, C, H, W\), \(C, H, W\) or \(H, W\), got shape \(5,\)"),
    (minidl.rand(1, 1, 1, 4, 4), ValueError, "got shape"),
    (minidl.zeros(4, 4, dtype=minidl.uint8), TypeError, "floating point tensor, got minidl.uint8"),
    (np.zeros((4, 4)), TypeError, "img must be a Tensor, got ndarray"),
])
def test_bad_images(img, exc, match):
    for fn in (f.box_blur, f.median_blur, f.sobel, lambda im: f.lowpass(im, 1.0),
               lambda im: f.fft_conv2d(im, minidl.ones(3, 3))):
        with pytest.raises(exc, match=match):
            fn(img)
