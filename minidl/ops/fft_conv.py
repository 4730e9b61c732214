"""2-D convolution and filtering through the FFT (``numpy.fft``), as differentiable kernels.

By the convolution theorem a convolution is a product of spectra: for x and k zero-padded to
s >= (H + kh - 1, W + kw - 1), so that the DFT's circular convolution does not wrap around,

    DFT(x * k) = DFT(x) DFT(k)          y = IDFT(X K), cropped to the output wanted,

and the gradients are correlations, products with the conjugate spectra. A filter given as
a frequency response H is the circular convolution IDFT(DFT(x) H). ``minidl.vision.filters``
(``fft_conv2d``, ``lowpass``, ``highpass``) is the user-facing side; this module has no
torch-level names, so it is not a family.
"""
import numpy as np

from ..autograd import Kernel
from .conv import ConvNd

__all__ = ["fft_convolve2d", "frequency_filter"]


def _fast_len(n):
    """The smallest 2^a 3^b 5^c >= n: lengths numpy's FFT transforms quickly."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


class FFTConv2d(Kernel):
    """Full 2-D convolution (with the kernel flipped, as in mathematics) by the convolution
    theorem: zero-pad x and k to s >= (H + kh - 1, W + kw - 1) so the circular convolution
    of the DFT has no wrap-around, Y = X K (depthwise: y[n, c] = x[n, c] * k[c]) or
    Y[n, o] = sum_c X[n, c] K[o, c], y = IDFT(Y) cropped to the full size. The backward
    is the adjoint, correlation with the other operand: dx = IDFT(G conj(K)) cropped to x's
    size, dk = IDFT(conj(X) G) summed over the batch (and over o / n) cropped to k's size."""

    @staticmethod
    def forward(ctx, x, k, depthwise):
        H, W = x.shape[-2:]
        kh, kw = k.shape[-2:]
        full = (H + kh - 1, W + kw - 1)
        s = (_fast_len(full[0]), _fast_len(full[1]))
        X, K = np.fft.rfft2(x, s), np.fft.rfft2(k, s)
        Y = X * K if depthwise else np.einsum("nchw,ochw->nohw", X, K)
        ctx.save_for_backward(X, K)
        ctx.s, ctx.depthwise, ctx.sizes = s, depthwise, ((H, W), (kh, kw))
        return np.fft.irfft2(Y, s)[..., :full[0], :full[1]].astype(x.dtype, copy=False)

    @staticmethod
    def reference(x, k, depthwise):
        """The same full convolution computed directly, for higher-order gradients: the
        cross-correlation with the flipped kernel, zero-padded by k - 1 on every side."""
        kh, kw = k.shape[-2:]
        w = k.flip((-2, -1))
        return ConvNd.apply(x, w.unsqueeze(1) if depthwise else w, None, stride=(1, 1),
                            padding=((kh - 1, kh - 1), (kw - 1, kw - 1)), dilation=(1, 1),
                            groups=x.shape[1] if depthwise else 1)

    @staticmethod
    def backward(ctx, g):
        X, K = ctx.saved_tensors
        (H, W), (kh, kw) = ctx.sizes
        G = np.fft.rfft2(g, ctx.s)
        dx = dk = None
        if ctx.needs_input_grad[0]:
            DX = G * K.conj() if ctx.depthwise else np.einsum("nohw,ochw->nchw", G, K.conj())
            dx = np.fft.irfft2(DX, ctx.s)[..., :H, :W].astype(g.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            DK = (X.conj() * G).sum(0) if ctx.depthwise else \
                np.einsum("nchw,nohw->ochw", X.conj(), G)
            dk = np.fft.irfft2(DK, ctx.s)[..., :kh, :kw].astype(g.dtype, copy=False)
        return dx, dk, None


def _crop(n, k, mode, correlate):
    """(start, length) of the ``mode`` output inside the full result, per dim. 'same' keeps n
    outputs centred as F.conv2d(padding='same') (correlation) or scipy (convolution); they
    differ only for even kernels."""
    if mode == "full":
        return 0, n + k - 1
    if mode == "same":
        return (k // 2 if correlate else (k - 1) // 2), n
    return k - 1, n - k + 1


def fft_convolve2d(x, k, mode="full", correlate=True):
    """The ``mode`` part ('full', 'same', 'valid') of the 2-D convolution of (N, C, H, W)
    tensor ``x`` with ``k`` -- (C, kh, kw), one kernel per channel, or (O, C, kh, kw), a conv
    weight -- through the FFT; with ``correlate`` the cross-correlation ``F.conv2d``
    computes (the convolution with k flipped)."""
    if correlate:
        k = k.flip((-2, -1))
    y = FFTConv2d.apply(x, k, depthwise=k.ndim < 4)
    (i, h), (j, w) = (_crop(n, kn, mode, correlate) for n, kn in zip(x.shape[-2:], k.shape[-2:]))
    return y[..., i:i + h, j:j + w]


class FrequencyFilter(Kernel):
    """y = IDFT(DFT(x) H) over the last two dims, for a real response H with H(-f) = H(f):
    a circular convolution with a real, even kernel, so the map is self-adjoint and
    dx = IDFT(DFT(g) H) -- the filter again, so recorded (create_graph) it is this kernel."""

    graph_constants = ("response",)   # a given filter, not computed from the input

    @staticmethod
    def forward(ctx, x, response):
        ctx.response = response
        return np.fft.irfft2(np.fft.rfft2(x) * response, x.shape[-2:]).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        if not isinstance(g, np.ndarray):
            return FrequencyFilter.apply(g.t, response=ctx.response)
        return np.fft.irfft2(np.fft.rfft2(g) * ctx.response, g.shape[-2:]).astype(g.dtype,
                                                                                   copy=False)


def frequency_filter(x, response):
    """IDFT(DFT(x) H) over the last two dims of tensor ``x`` for a real, even ``response`` H
    laid out as ``rfft2``'s (H, W // 2 + 1) array."""
    return FrequencyFilter.apply(x, response=response)
