"""Second derivatives of convolution, pooling, resampling and padding, against torch.

Convolutions are bilinear: their second derivatives mix x, w and the incoming gradient
(stride, padding incl. asymmetric 'same', dilation, groups, bias None, unbatched, one input
frozen, transposed with output_padding incl. output_padding >= stride). Pooling, resampling,
padding and unpooling are linear in x (max pooling piecewise), so what is tested is the
derivative of the backward with respect to the incoming gradient. The "penalty" cases
differentiate a first gradient taken with create_graph (a gradient penalty): third order.
"""
import numpy as np
import pytest

import minidl
from minidl.ops.fft_conv import fft_convolve2d, frequency_filter
from tests.autograd.gradgrad.harness import Case, check

# torch's note that 'same' with an even kernel pads a copy (the asymmetric case is tested)
# and both libraries' deprecation of upsample_bilinear
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel"),
              pytest.mark.filterwarnings("ignore:`nn.functional.upsample_bilinear` is deprecated")]
rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def F(lib):
    return lib.nn.functional


def conv(name, **kw):
    return lambda lib, x, w, b=None: getattr(F(lib), name)(x, w, b, **kw)


CONV_CASES = [
    Case("conv1d_stride_pad_bias", conv("conv1d", stride=2, padding=1), (r(2, 2, 5), r(3, 2, 3),
                                                                        r(3))),
    Case("conv1d_unbatched_no_bias", conv("conv1d", dilation=2), (r(2, 6), r(2, 2, 2))),
    Case("conv2d_groups_same_even_kernel", conv("conv2d", padding="same", groups=2),
         (r(1, 4, 4, 3), r(4, 2, 2, 2), r(4))),
    Case("conv2d_same_dilation", conv("conv2d", padding="same", dilation=(2, 1)),
         (r(1, 2, 5, 3), r(2, 2, 2, 3))),
    Case("conv2d_stride_dilation_groups", conv("conv2d", stride=(2, 3), dilation=(1, 2),
                                               padding=(1, 0), groups=2),
         (r(2, 4, 5, 7), r(2, 2, 2, 2), r(2))),
    Case("conv2d_valid_x_frozen", conv("conv2d", padding="valid"), (r(1, 2, 4, 4), r(2, 2, 2, 2)),
         no_grad=(0,)),
    Case("conv2d_w_frozen_unbatched", conv("conv2d", stride=2, padding=1),
         (r(2, 4, 3), r(3, 2, 2, 2), r(3)), no_grad=(1,)),
    Case("conv3d_pad_bias", conv("conv3d", padding=(1, 0, 1), stride=(1, 2, 1)),
         (r(1, 2, 3, 3, 2), r(2, 2, 2, 2, 2), r(2))),
    Case("conv3d_unbatched_groups", conv("conv3d", groups=2, dilation=(1, 1, 2)),
         (r(2, 2, 2, 3), r(2, 1, 1, 2, 2))),
    Case("conv_transpose1d_output_padding", conv("conv_transpose1d", stride=2, padding=1,
                                                 output_padding=1),
         (r(2, 2, 3), r(2, 3, 3), r(3))),
    Case("conv_transpose1d_unbatched", conv("conv_transpose1d", dilation=2),
         (r(2, 3), r(2, 2, 2))),
    Case("conv_transpose2d_groups_stride", conv("conv_transpose2d", stride=(2, 1), padding=(0, 1),
                                                output_padding=(1, 0), groups=2),
         (r(1, 4, 2, 3), r(4, 1, 2, 3), r(2))),
    Case("conv_transpose2d_output_padding_over_stride",  # op >= stride: dX is cropped
         conv("conv_transpose2d", dilation=(2, 1), output_padding=(1, 0)),
         (r(1, 2, 3, 2), r(2, 2, 2, 2))),
    Case("conv_transpose3d_w_frozen", conv("conv_transpose3d", stride=2, groups=2),
         (r(1, 2, 2, 2, 1), r(2, 1, 2, 1, 2), r(2)), no_grad=(1,)),
    Case("conv_transpose3d_unbatched_x_frozen", conv("conv_transpose3d", padding=(0, 1, 0)),
         (r(2, 2, 2, 2), r(2, 1, 2, 3, 2)), no_grad=(0,)),
]


def conv_penalty(lib, x, w):
    """A gradient penalty: |d sum(conv(x, w)^2) / dx|, differentiable again."""
    y = F(lib).conv2d(x, w, stride=2, padding=1)
    gx, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    return gx * gx


def fft_conv(depthwise, mode):
    def fn(lib, x, k):
        if lib is minidl:
            return fft_convolve2d(x, k, mode=mode)
        kh, kw = k.shape[-2:]
        pad = {"full": (kh - 1, kw - 1), "valid": 0}[mode]
        w = k[:, None] if depthwise else k
        return F(lib).conv2d(x, w, padding=pad, groups=x.shape[1] if depthwise else 1)
    return fn


RESPONSE = np.exp(-np.add.outer(np.fft.fftfreq(4) ** 2, np.fft.rfftfreq(5) ** 2) * 4)


def freq_filter(lib, x):
    if lib is minidl:
        return frequency_filter(x, RESPONSE)
    spectrum = lib.fft.rfft2(x) * lib.tensor(RESPONSE)
    return lib.fft.irfft2(spectrum, s=tuple(x.shape[-2:]))


FFT_CASES = [
    Case("fft_conv2d_full_weight", fft_conv(False, "full"), (r(1, 2, 3, 4), r(2, 2, 2, 3))),
    Case("fft_conv2d_valid_depthwise", fft_conv(True, "valid"), (r(2, 2, 4, 3), r(2, 2, 2))),
    Case("frequency_filter", freq_filter, (r(2, 4, 5),)),
    Case("conv2d_penalty_third_order", conv_penalty, (r(1, 2, 4, 4), r(2, 2, 3, 3))),
]


def pool(name, *args, **kw):
    return lambda lib, x: getattr(F(lib), name)(x, *args, **kw)


# Distinct values keep every max strict, so finite differences never cross an argmax tie.
def distinct(*shape):
    return rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + 0.1


def pool_penalty(lib, x):
    """|d sum(avg_pool(x)^2 + max_pool(x)^3) / dx|: the backward's own backward, recorded."""
    y = F(lib).avg_pool2d(x, 2, stride=1)
    m = F(lib).max_pool2d(x, 2, stride=1)
    gx, = lib.autograd.grad((y * y).sum() + (m * m * m).sum(), x, create_graph=True)
    return gx * gx


POOL_CASES = [
    Case("max_pool1d_ceil_pad", pool("max_pool1d", 3, stride=2, padding=1, ceil_mode=True),
         (distinct(2, 2, 6),)),
    Case("max_pool2d_dilation_indices", lambda lib, x: F(lib).max_pool2d(
        x, 2, stride=1, dilation=2, return_indices=True)[0], (distinct(1, 2, 5, 4),)),
    Case("max_pool2d_unbatched_pad", pool("max_pool2d", (2, 3), stride=(2, 1), padding=1),
         (distinct(2, 4, 4),)),
    Case("max_pool3d", pool("max_pool3d", 2, stride=1), (distinct(1, 1, 3, 3, 2),)),
    Case("avg_pool1d_ceil_exclude_pad", pool("avg_pool1d", 3, stride=2, padding=1, ceil_mode=True,
                                             count_include_pad=False), (r(2, 2, 6),)),
    Case("avg_pool2d_divisor_override", pool("avg_pool2d", 2, stride=1, padding=1,
                                             divisor_override=3), (r(1, 2, 3, 3),)),
    Case("avg_pool2d_global", pool("avg_pool2d", (3, 4)), (r(2, 2, 3, 4),)),
    Case("avg_pool3d_ceil_include_pad", pool("avg_pool3d", 2, stride=2, padding=1,
                                             ceil_mode=True), (r(1, 1, 3, 2, 3),)),
    Case("adaptive_avg_pool1d_ragged", pool("adaptive_avg_pool1d", 3), (r(2, 2, 5),)),
    Case("adaptive_avg_pool2d_ragged", pool("adaptive_avg_pool2d", (2, None)), (r(1, 2, 5, 3),)),
    Case("adaptive_avg_pool2d_tiles", pool("adaptive_avg_pool2d", 2), (r(1, 2, 4, 4),)),
    Case("adaptive_avg_pool3d_ragged", pool("adaptive_avg_pool3d", (2, 1, 2)),
         (r(1, 1, 3, 2, 3),)),
    Case("adaptive_max_pool1d_ragged", pool("adaptive_max_pool1d", 3), (distinct(2, 2, 5),)),
    Case("adaptive_max_pool2d_ragged_indices", lambda lib, x: F(lib).adaptive_max_pool2d(
        x, (2, 3), return_indices=True)[0], (distinct(1, 2, 3, 5),)),
    Case("adaptive_max_pool2d_tiles", pool("adaptive_max_pool2d", 2), (distinct(1, 2, 4, 4),)),
    Case("adaptive_max_pool3d_ragged", pool("adaptive_max_pool3d", 2), (distinct(1, 1, 3, 3, 3),)),
    Case("pool_penalty_third_order", pool_penalty, (distinct(1, 1, 4, 4),)),
]


def interp(**kw):
    return lambda lib, x: F(lib).interpolate(x, **kw)


RESAMPLE_CASES = [
    Case("nearest_integer_factor", interp(scale_factor=2), (r(1, 2, 3),)),
    Case("nearest_2d_ragged", interp(size=(5, 2)), (r(1, 2, 3, 3),)),
    Case("nearest_exact_3d", interp(size=(3, 2, 3), mode="nearest-exact"), (r(1, 1, 2, 3, 2),)),
    Case("linear", interp(size=5, mode="linear"), (r(2, 2, 3),)),
    Case("linear_align_corners", interp(scale_factor=1.5, mode="linear", align_corners=True),
         (r(1, 2, 4),)),
    Case("bilinear_downsample", interp(size=(2, 3), mode="bilinear"), (r(1, 2, 4, 5),)),
    Case("bicubic", interp(size=(4, 3), mode="bicubic"), (r(1, 1, 3, 3),)),
    Case("bicubic_align_corners", interp(scale_factor=(1.5, 1.0), mode="bicubic",
                                         align_corners=True), (r(1, 1, 2, 3),)),
    Case("trilinear", interp(size=(3, 2, 3), mode="trilinear"), (r(1, 1, 2, 3, 2),)),
    Case("area_ragged", interp(size=(2, 2), mode="area"), (r(1, 2, 3, 5),)),
    Case("upsample_bilinear", lambda lib, x: F(lib).upsample_bilinear(x, scale_factor=2),
         (r(1, 1, 2, 3),)),
]


def pad(pads, mode="constant", **kw):
    return lambda lib, x: F(lib).pad(x, pads, mode=mode, **kw)


def unpool(lib, x, idx):
    return F(lib).max_unpool2d(x, idx, 2, stride=1)


_, UNPOOL_INDICES = minidl.nn.functional.max_pool2d(minidl.tensor(distinct(1, 2, 3, 3)), 2,
                                                    stride=1, return_indices=True)

PAD_CASES = [
    Case("pad_constant_value", pad((1, 2, 0, 1), value=1.5), (r(2, 2, 3),)),
    Case("pad_constant_negative", pad((-1, 1, 2, -2)), (r(1, 3, 4),)),
    Case("pad_reflect", pad((2, 1), "reflect"), (r(2, 2, 4),)),
    Case("pad_replicate_2d", pad((1, 2, 2, 0), "replicate"), (r(1, 2, 3, 2),)),
    Case("pad_replicate_negative", pad((-1, 2, 1, -1), "replicate"), (r(1, 1, 3, 4),)),
    Case("pad_circular_3d", pad((1, 1, 0, 2, 1, 0), "circular"), (r(1, 1, 2, 3, 2),)),
    Case("pad_circular_negative", pad((-1, 2), "circular"), (r(2, 4),)),
    Case("max_unpool2d", unpool, (r(1, 2, 2, 2), UNPOOL_INDICES.numpy())),
    Case("pixel_shuffle_unshuffle", lambda lib, x: F(lib).pixel_unshuffle(
        F(lib).pixel_shuffle(x, 2) * 2, 2), (r(1, 4, 2, 1),)),
]

CASES = CONV_CASES + FFT_CASES + POOL_CASES + RESAMPLE_CASES + PAD_CASES


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
