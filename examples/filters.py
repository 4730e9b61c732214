"""Convolution as image filtering, on a real photo (offline).

Loads the Grace Hopper portrait that matplotlib ships, runs every filter of
``minidl.vision.filters`` on it and writes two figures into --out:

* ``filters.png``: mean, Gaussian, median (on a salt-and-pepper copy next to the mean),
  sharpen, Sobel x / y / magnitude, 4- and 8-neighbour Laplacian, and the Gaussian blur done
  by FFT convolution;
* ``frequency_split.png``: the Gaussian low-pass / high-pass split in the frequency domain,
  with the log-magnitude spectra, the filter's frequency response and a slice showing that
  the DFT of the spatial Gaussian kernel is the Gaussian exp(-2 pi^2 sigma^2 f^2).

It also prints the checks the figures rest on (separable == 2-D, FFT == direct, low + high
== image).

    python examples/filters.py --out runs/filters --sigma 3
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.cbook  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import minidl  # noqa: E402
from minidl.vision import filters  # noqa: E402
from minidl.vision.transforms import functional as TF  # noqa: E402


def load_photo(max_side):
    """The sample photo as a float32 tensor (3, H, W) in [0, 1], at most ``max_side`` tall."""
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        im = im.convert("RGB")
        if max(im.size) > max_side:
            scale = max_side / max(im.size)
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BILINEAR)
        return TF.to_tensor(im)


def salt_and_pepper(img, amount, seed=0):
    """A copy with a fraction ``amount`` of pixels set to 0 or 1 (all channels)."""
    rng = np.random.default_rng(seed)
    a = img.numpy().copy()
    hit = rng.random(a.shape[1:])
    a[:, hit < amount / 2] = 0.0
    a[:, hit > 1 - amount / 2] = 1.0
    return minidl.from_numpy(a)


def rgb(t):
    return np.clip(t.detach().numpy().transpose(1, 2, 0), 0, 1)


def gray(t):
    a = t.detach().numpy()
    return a[0] if a.ndim == 3 else a


def signed(ax, a, title, pct=99.5):
    """A signed response on a symmetric grey scale (0 is mid grey, the pct-th percentile of
    |a| black / white)."""
    m = np.percentile(np.abs(a), pct) or 1.0
    ax.imshow(a, cmap="gray", vmin=-m, vmax=m)
    ax.set_title(title, fontsize=9)


def small_kernels(ax, kernels):
    """3 x 3 kernels side by side with their values written in."""
    a = np.full((3, 4 * len(kernels) - 1), np.nan)
    for i, k in enumerate(kernels.values()):
        a[:, 4 * i:4 * i + 3] = k.numpy()
        for (r, c), v in np.ndenumerate(k.numpy()):
            ax.text(4 * i + c, r, f"{v:g}", ha="center", va="center", fontsize=9)
    m = np.nanmax(np.abs(a))
    ax.imshow(a, cmap="coolwarm", vmin=-m, vmax=m)
    for i, name in enumerate(kernels):
        ax.text(4 * i + 1, -0.9, name, ha="center", fontsize=9)
    ax.set_title("3x3 kernels (cross-correlated, as F.conv2d)", fontsize=9, pad=18)
    ax.axis("off")


def filters_figure(img, sigma, path):
    lum = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])  # (H, W) luminance
    noisy = salt_and_pepper(img, 0.08)
    k = filters.gaussian_kernel2d(sigma=sigma)
    blur = filters.gaussian_blur(img, sigma=sigma)
    fft_blur = filters.fft_conv2d(img, k, "same")
    panels = [
        ("original", rgb(img), None),
        ("mean (box 7x7)", rgb(filters.box_blur(img, 7)), None),
        (f"Gaussian sigma={sigma} ({k.shape[0]}x{k.shape[1]}, separable)", rgb(blur), None),
        ("sharpen (amount 1.5)", rgb(filters.sharpen(img, 1.5)), None),
        ("salt & pepper 8%", rgb(noisy), None),
        ("mean 3x3 of noisy", rgb(filters.box_blur(noisy, 3)), None),
        ("median 3x3 of noisy", rgb(filters.median_blur(noisy, 3)), None),
        ("Gaussian by FFT conv (zeros border)", rgb(fft_blur), None),
        ("Sobel x (d/dx)", gray(filters.sobel(lum, "x")), "signed"),
        ("Sobel y (d/dy)", gray(filters.sobel(lum, "y")), "signed"),
        ("Sobel magnitude", gray(filters.sobel(lum)), "mag"),
        ("Laplacian, 4 neighbours", gray(filters.laplacian(lum, 4)), "laplacian"),
        ("Laplacian, 8 neighbours", gray(filters.laplacian(lum, 8)), "laplacian"),
        (f"Gaussian kernel {k.shape[0]}x{k.shape[1]}", k.numpy(), "gaussian"),
        ("Sobel magnitude after a sigma=1 Gaussian", gray(filters.sobel(
            filters.gaussian_blur(lum, sigma=1.0))), "mag"),
    ]
    fig, axes = plt.subplots(4, 4, figsize=(16, 19.5))
    for ax, (title, a, kind) in zip(axes.flat, panels):
        if kind == "signed":
            signed(ax, a, title)
        elif kind == "laplacian":
            signed(ax, a, title, pct=98)
        elif kind == "gaussian":
            ax.imshow(a, cmap="viridis", interpolation="nearest")
            ax.set_title(title, fontsize=9)
        elif kind == "mag":
            ax.imshow(a, cmap="gray", vmin=0, vmax=np.percentile(a, 99.5))
            ax.set_title(title, fontsize=9)
        else:
            ax.imshow(a)
            ax.set_title(title, fontsize=9)
        ax.axis("off")
    small_kernels(axes.flat[-1], {"Sobel x (x 8)": 8 * filters.sobel_kernel("x"),
                                  "Laplacian 8": filters.laplacian_kernel(8),
                                  "sharpen 1.5": filters.sharpen_kernel(1.5)})
    fig.suptitle("minidl.vision.filters: depthwise F.conv2d (reflect padding) on every channel")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=80)
    plt.close(fig)

    sep_vs_2d = float((blur - filters.filter2d(img, k)).abs().max())
    interior = (slice(None), slice(k.shape[0], -k.shape[0]), slice(k.shape[1], -k.shape[1]))
    fft_vs_direct = float((fft_blur - filters.gaussian_blur(img, sigma=sigma,
                                                            padding_mode="zeros")).abs().max())
    print(f"separable vs 2-D Gaussian: max |diff| = {sep_vs_2d:.2e}")
    print(f"FFT conv vs direct conv (zeros border): max |diff| = {fft_vs_direct:.2e}")
    print(f"Gaussian blur: reflect vs zeros border agree inside: max |diff| = "
          f"{float((blur - fft_blur)[interior].abs().max()):.2e}")
    noisy_err = {name: float(((fn(noisy, 3) - img) ** 2).mean())
                 for name, fn in (("mean", filters.box_blur), ("median", filters.median_blur))}
    print(f"salt & pepper MSE after 3x3 mean {noisy_err['mean']:.4f}, "
          f"after 3x3 median {noisy_err['median']:.4f}")


def spectrum(t):
    return gray(filters.magnitude_spectrum(t))


def frequency_figure(img, sigma, path):
    lum = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])
    low, high = filters.frequency_split(lum, sigma)
    H, W = lum.shape
    response = filters.gaussian_frequency_response((H, W), sigma, onesided=False)
    print(f"low + high == image: max |diff| = {float((low + high - lum).abs().max()):.2e}")

    # The DFT of the spatial kernel (centred circularly) against the analytic Gaussian.
    n = 256
    f = np.fft.fftshift(np.fft.fftfreq(n))
    analytic = np.exp(-2 * np.pi ** 2 * sigma ** 2 * f ** 2)
    for width in (3, 8):  # the default +-3 sigma kernel, and one wide enough to hold it all
        size = 2 * int(np.ceil(width * sigma)) + 1
        k = filters.gaussian_kernel1d(size, sigma, dtype=minidl.float64).numpy()
        g = np.roll(np.pad(k, (0, n - size)), -(size // 2))
        dft = np.fft.fftshift(np.fft.fft(g).real)
        print(f"DFT of the {size}-tap Gaussian (+-{width} sigma) vs exp(-2 pi^2 sigma^2 f^2): "
              f"max |diff| = {np.abs(dft - analytic).max():.2e}")

    fig, axes = plt.subplots(2, 4, figsize=(17, 9.5))
    images = [(gray(lum), "image", (0, 1)), (gray(low), f"low-pass (sigma={sigma} px)", (0, 1)),
              (gray(high), "high-pass = image - low-pass", None)]
    for ax, (a, title, lim) in zip(axes[0], images):
        if lim is None:
            signed(ax, a, title)
        else:
            ax.imshow(a, cmap="gray", vmin=lim[0], vmax=lim[1])
            ax.set_title(title, fontsize=10)
        ax.axis("off")
    axes[0, 3].imshow(gray(low + high), cmap="gray", vmin=0, vmax=1)
    axes[0, 3].set_title("low + high (== image)", fontsize=10)
    axes[0, 3].axis("off")

    spectra = [spectrum(lum), spectrum(low), spectrum(high)]
    top = max(s.max() for s in spectra)
    extent = (-0.5, 0.5, 0.5, -0.5)
    for ax, s, title in zip(axes[1], spectra, ["log |DFT| of image", "log |DFT| of low-pass",
                                               "log |DFT| of high-pass"]):
        ax.imshow(s, cmap="magma", vmin=0, vmax=top, extent=extent)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("cycles / pixel")
    ax = axes[1, 3]
    ax.plot(f, analytic, lw=3, alpha=0.5, label=r"$H(f) = e^{-2\pi^2\sigma^2 f^2}$")
    ax.plot(f, dft, "k--", lw=1, label=f"DFT of {size}-tap kernel")
    ax.plot(f, 1 - analytic, lw=1.5, label="high-pass $1 - H(f)$")
    inset = ax.inset_axes([0.64, 0.12, 0.33, 0.33])
    inset.imshow(np.fft.fftshift(response.numpy()), cmap="viridis", extent=extent)
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title("H(u, v)", fontsize=8)
    ax.set_xlabel("frequency (cycles / pixel)")
    ax.set_title("the Gaussian's frequency response is a Gaussian", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.93))
    fig.suptitle("Gaussian low-pass / high-pass split in the frequency domain")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/filters", help="folder for the PNGs")
    parser.add_argument("--sigma", type=float, default=3.0, help="Gaussian std in pixels")
    parser.add_argument("--max-side", type=int, default=600, help="resize the photo to this")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    img = load_photo(args.max_side)
    print(f"photo: {tuple(img.shape)} {img.dtype}")
    paths = [os.path.join(args.out, "filters.png"), os.path.join(args.out, "frequency_split.png")]
    filters_figure(img, args.sigma, paths[0])
    frequency_figure(img, args.sigma, paths[1])
    for p in paths:
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
