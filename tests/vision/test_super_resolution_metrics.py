"""PSNR and SSIM against direct references written from their definitions."""
import numpy as np
import pytest

import minidl
from minidl.vision.image_quality import gaussian_window, psnr, rgb_to_y, ssim


def ssim_reference(x, y, data_range=1.0):
    """Wang et al. 2004 window by window: an explicit 11 x 11 Gaussian (sigma 1.5) of the
    squared distance to the centre, normalised; weighted means, variances, covariance at
    every position where the window fits; the mean of the map."""
    d = np.arange(11) - 5
    w = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * 1.5 ** 2))
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            a, b = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
            mu_a, mu_b = (w * a).sum(), (w * b).sum()
            var_a, var_b = (w * (a - mu_a) ** 2).sum(), (w * (b - mu_b) ** 2).sum()
            cov = (w * (a - mu_a) * (b - mu_b)).sum()
            values.append((2 * mu_a * mu_b + c1) * (2 * cov + c2)
                          / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return float(np.mean(values))


def noisy_pair(shape, noise, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(shape)
    return x, np.clip(x + noise * rng.standard_normal(shape), 0, 1)


def test_psnr_is_10_log10_of_peak_over_mse():
    x, y = noisy_pair((3, 12, 14), 0.05)
    assert psnr(x, y) == pytest.approx(10 * np.log10(1 / np.mean((x - y) ** 2)), rel=1e-12)
    assert psnr(255 * x, 255 * y, data_range=255) == pytest.approx(psnr(x, y), rel=1e-12)
    crop = 10 * np.log10(1 / np.mean((x[:, 2:-2, 2:-2] - y[:, 2:-2, 2:-2]) ** 2))
    assert psnr(x, y, border=2) == pytest.approx(crop, rel=1e-12)
    assert psnr(x, x) == float("inf")


def test_psnr_of_a_batch_is_per_image_and_takes_tensors():
    x, y = noisy_pair((4, 1, 10, 10), 0.1)
    batch = psnr(minidl.from_numpy(x.astype(np.float32)), y)
    assert batch.shape == (4,)
    np.testing.assert_allclose(batch, [psnr(a[0], b[0]) for a, b in zip(x, y)], rtol=1e-6)


def test_y_channel_is_matlab_bt601():
    rgb = np.zeros((3, 2, 2))
    rgb[0, 0, 0] = 1.0                     # red
    rgb[:, 1, 1] = 1.0                     # white
    y = rgb_to_y(rgb)[0]
    assert y[0, 0] == pytest.approx((16 + 65.481) / 255)
    assert y[1, 1] == pytest.approx(235 / 255)
    assert y[0, 1] == pytest.approx(16 / 255)
    x, z = noisy_pair((2, 3, 16, 16), 0.05)
    np.testing.assert_allclose(psnr(x, z, y_channel=True, border=3),
                               psnr(rgb_to_y(x), rgb_to_y(z), border=3), rtol=1e-12)


@pytest.mark.parametrize("shape, noise", [((20, 23), 0.1), ((16, 16), 0.3), ((11, 12), 0.02)])
def test_ssim_equals_the_window_by_window_reference(shape, noise):
    x, y = noisy_pair(shape, noise, seed=shape[1])
    assert ssim(x, y) == pytest.approx(ssim_reference(x, y), rel=1e-10)
    assert ssim(255 * x, 255 * y, data_range=255) == pytest.approx(
        ssim_reference(255 * x, 255 * y, 255), rel=1e-10)


def test_ssim_means_channels_and_crops_borders():
    x, y = noisy_pair((3, 17, 18), 0.1)
    assert ssim(x, y) == pytest.approx(np.mean([ssim_reference(a, b) for a, b in zip(x, y)]),
                                       rel=1e-10)
    assert ssim(x, y, border=2) == pytest.approx(
        np.mean([ssim_reference(a[2:-2, 2:-2], b[2:-2, 2:-2]) for a, b in zip(x, y)]),
        rel=1e-10)
    assert ssim(x, x) == pytest.approx(1.0)
    assert ssim(x[None], y[None]).shape == (1,)
    window = gaussian_window()
    assert window.shape == (11, 11) and window.sum() == pytest.approx(1.0)


def test_bad_input_is_refused_by_name():
    x = np.zeros((8, 8))
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(x, np.zeros((8, 9)))
    with pytest.raises(ValueError, match="smaller than the 11 x 11 window"):
        ssim(x, x)
    with pytest.raises(ValueError, match="border 4 leaves nothing"):
        psnr(x, x, border=4)
    with pytest.raises(ValueError, match="data_range must be positive"):
        psnr(x, x, data_range=0)
    with pytest.raises(ValueError, match="3 channels"):
        psnr(np.zeros((2, 8, 8)), np.zeros((2, 8, 8)), y_channel=True)
    with pytest.raises(ValueError, match="expected images"):
        psnr(np.zeros(5), np.zeros(5))
    with pytest.raises(TypeError, match="must hold numbers"):
        psnr(np.array([["a"]]), np.array([["b"]]))
