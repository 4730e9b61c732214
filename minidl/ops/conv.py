"""Convolution over 1, 2 or 3 spatial dimensions: ``conv{1,2,3}d``, ``conv_transpose{1,2,3}d``.

A convolution (cross-correlation, as in torch) of (N, C, *S) x with (F, C/G, *K) w, read
at stride s, dilation d and padding p, has along each axis

    out = floor((S + 2p - d (k - 1) - 1) / s) + 1

positions, y[n, f, o] = sum_{c, j} w[f, c, j] xp[n, c, o s + j d] + b[f], and

    dW = sum_n dY_n cols_n^T      db = sum_{n, o} dY      dX = W^T * dY (transposed conv)

with cols_n the im2col columns of image n. The kernels below are written with those
three products; ``conv_gemm`` computes them fast (blocked im2col, col2im), and
``conv_reference`` is the textbook im2col version the tests hold it against.

Higher-order gradients (``create_graph``): the backward keeps the GEMM code for arrays and,
given traced gradients, states dX and dW with these same two kernels -- dX of a convolution
is a transposed convolution of dY and vice versa, and dW is a convolution of x's channels
over the batch with dY as the kernel (stride and dilation swapped). Each recorded node is
then one fast kernel whose own backward is again GEMMs, so a gradient penalty through a conv
net costs a few convolutions per layer rather than a traced im2col.
"""
import numpy as np

from ..autograd import Kernel
from .conv_args import conv_args, conv_transpose_args
from .conv_depthwise import depthwise_backward, depthwise_forward, serves_depthwise
from .conv_gemm import Geometry, conv_columns, from_columns, input_grad, to_columns, weight_grad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]


class ConvNd(Kernel):
    """y = w * x + b (cross-correlation) as a GEMM of the weights with the im2col windows."""

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups):
        batched = x.ndim == w.ndim
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        if not batched:
            x = x[None]
        geo = Geometry(x.shape, w.shape[2:], stride, dilation, padding, groups, x.itemsize)
        ctx.geo, ctx.batched, ctx.w_shape = geo, batched, w.shape
        if serves_depthwise(geo, w.shape):
            res = depthwise_forward(x, w, b, geo)
        else:
            res = from_columns(conv_columns(x, w.reshape(groups, w.shape[0] // groups, -1), geo),
                               geo, b)
        return res if batched else res[0]

    @staticmethod
    def backward(ctx, g):
        """dW = sum_n dY_n cols_n^T, db = sum dY, dX = W^T * dY (the transposed convolution)."""
        x, w = ctx.saved_tensors
        geo = ctx.geo
        if not isinstance(g, np.ndarray):
            return recorded_grads(ctx, x, g, w, transposed=False)
        if not ctx.batched:
            g, x = g[None], None if x is None else x[None]
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = channel_sum(g)
        if serves_depthwise(geo, ctx.w_shape):
            gx, gw = depthwise_backward(x, w, g, geo, *ctx.needs_input_grad[:2])
        else:
            if ctx.needs_input_grad[1]:
                gw = weight_grad(x, to_columns(g, geo), geo, ctx.w_shape)
            if ctx.needs_input_grad[0]:
                gx = input_grad(g, w, geo)
        if gx is not None and not ctx.batched:
            gx = gx[0]
        return gx, gw, gb


def channel_sum(g):
    """Sum of (N, F, *O) over everything but F (the bias gradient), by contiguous reductions."""
    return g.reshape(g.shape[0], g.shape[1], -1).sum(axis=2).sum(axis=0)


class ConvTransposeNd(Kernel):
    """y = W^T x + b: the adjoint (input gradient) of the convolution whose weight is w."""

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups, out):
        batched = x.ndim == w.ndim
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        if not batched:
            x = x[None]
        # the convolution whose input gradient this is: (N, C_out, *out) -> x's shape
        geo = Geometry((x.shape[0], w.shape[1] * groups) + tuple(out), w.shape[2:], stride,
                       dilation, padding, groups, x.itemsize, out=x.shape[2:])
        y = input_grad(x, w, geo)
        if b is not None:
            y += b.reshape((-1,) + (1,) * len(out))
        ctx.geo, ctx.batched, ctx.w_shape = geo, batched, w.shape
        return y if batched else y[0]

    @staticmethod
    def backward(ctx, g):
        """dX = W * dY (the convolution), dW = sum_n x_n (dY's columns)_n^T, db = sum dY."""
        x, w = ctx.saved_tensors
        geo = ctx.geo
        if not isinstance(g, np.ndarray):
            return recorded_grads(ctx, g, x, w, transposed=True)
        if not ctx.batched:
            g, x = g[None], None if x is None else x[None]
        gx = gw = gb = None
        if ctx.needs_input_grad[2]:
            gb = channel_sum(g)
        if ctx.needs_input_grad[1]:
            gw = weight_grad(g, to_columns(x, geo), geo, ctx.w_shape)
        if ctx.needs_input_grad[0]:
            wg = w.reshape(geo.groups, w.shape[0] // geo.groups, -1)
            gx = from_columns(conv_columns(g, wg, geo), geo)
            if not ctx.batched:
                gx = gx[0]
        return gx, gw, gb


def recorded_grads(ctx, x, dy, w, transposed):
    """The gradients of a convolution y = w * x (x (N, C, *S), w (F, C/G, *K), dy (N, F, *O),
    Traced or None) in differentiable kernels, for ``create_graph``. A transposed
    convolution is that convolution read backwards: its input is ``dy``, its output ``x``,
    and the gradient ``g`` it receives is the convolution's input x; so it passes
    (x=g, dy=its x), and its input gradient is the convolution of g."""
    geo, needs = ctx.geo, ctx.needs_input_grad
    x, dy, w = (None if v is None else v.t for v in (x, dy, w))
    if not ctx.batched:
        x, dy = (None if v is None else v.unsqueeze(0) for v in (x, dy))
    n = geo.n
    args = dict(stride=geo.stride, padding=geo.pads, dilation=geo.dilation, groups=geo.groups)
    g_in = x if transposed else dy          # the gradient this node received, batched
    gx = gw = gb = None
    if needs[2]:
        gb = g_in.sum(dim=(0,) + tuple(range(2, n + 2)))
    if needs[1]:
        gw = conv_weight_grad(x, dy, geo.kernel, **args)
    if needs[0]:
        if transposed:    # dX of a transposed convolution: the convolution of its gradient
            gx = crop(ConvNd.apply(x, w, None, **args), geo.out)
        else:
            gx = ConvTransposeNd.apply(dy, w, None, out=geo.sizes, **args)
        if not ctx.batched:
            gx = gx.squeeze(0)
    return gx, gw, gb


def conv_weight_grad(x, dy, kernel, stride, padding, dilation, groups):
    """dW[f, c, j] = sum_{n, o} dy[n, f, o] xp[n, c, o s + j d] as a (differentiable)
    convolution: x's channels are the batch, its images the input channels (per group), dY
    the kernel, stride and dilation swapped; the output is cropped to the kernel size."""
    N, C, F, G = x.shape[0], x.shape[1], dy.shape[1], groups
    n = len(kernel)
    spatial = tuple(range(3, 3 + n))
    xt = x.reshape((N, G, C // G) + x.shape[2:]).permute((2, 1, 0) + spatial)
    wt = dy.reshape((N, G, F // G) + dy.shape[2:]).permute((1, 2, 0) + spatial)
    out = ConvNd.apply(xt.reshape((C // G, G * N) + x.shape[2:]),
                       wt.reshape((F, N) + dy.shape[2:]), None, stride=dilation,
                       padding=padding, dilation=stride, groups=G)
    return crop(out, kernel).transpose(0, 1)


def crop(t, sizes):
    """The leading ``sizes`` of (N, C, *S) Tensor ``t``'s spatial dims (``t`` itself if equal)."""
    if tuple(t.shape[2:]) == tuple(sizes):
        return t
    return t[(slice(None), slice(None)) + tuple(slice(0, s) for s in sizes)]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, L) or (C, L) ``input`` with (F, C/groups, K) ``weight``."""
    return ConvNd.apply(input, weight, bias, **conv_args(
        "conv1d", 1, input, weight, bias, stride, padding, dilation, groups))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) ``input`` with (F, C/groups, kH, kW)
    ``weight``; ``padding`` is an int, a pair, 'valid' or 'same' (stride 1 only). The fast
    path of ``minidl.ops.conv_reference.conv2d``."""
    return ConvNd.apply(input, weight, bias, **conv_args(
        "conv2d", 2, input, weight, bias, stride, padding, dilation, groups))


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of (N, C, D, H, W) or (C, D, H, W) ``input``."""
    return ConvNd.apply(input, weight, bias, **conv_args(
        "conv3d", 3, input, weight, bias, stride, padding, dilation, groups))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of (N, C_in, L) ``input`` with (C_in, C_out/groups, K)
    ``weight``: output length (L - 1) * stride - 2 * padding + dilation * (K - 1) +
    output_padding + 1."""
    return ConvTransposeNd.apply(input, weight, bias, **conv_transpose_args(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
        dilation))


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution") of (N, C_in, H, W) ``input`` with
    (C_in, C_out/groups, kH, kW) ``weight``: the gradient of conv2d with respect to its input."""
    return ConvTransposeNd.apply(input, weight, bias, **conv_transpose_args(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
        dilation))


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution of (N, C_in, D, H, W) ``input``."""
    return ConvTransposeNd.apply(input, weight, bias, **conv_transpose_args(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
        dilation))
