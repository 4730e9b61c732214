"""The textbook 2-D convolution: im2col and one matrix product, on NumPy arrays.

A convolution layer (cross-correlation, as in torch) of an (N, C, H, W) input with an
(F, C/G, kh, kw) weight, zero padding p, stride s and dilation d has along each axis

    out = floor((H + 2p - d(k - 1) - 1) / s) + 1

outputs. im2col lays every window of the padded input xp out as a column,

    cols[n, (c, u, v), (i, j)] = xp[n, c, i*s + u*d, j*s + v*d],

so that the layer is one matrix product per group (G groups of C/G input and F/G output
channels):  y[n, f, (i, j)] = sum_{(c, u, v)} W[f, (c, u, v)] cols[n, (c, u, v), (i, j)] + b[f].
Its gradients are two more products and col2im, the adjoint of im2col (every column entry
added back where it was read from):

    dW = sum_n dY_n cols_n^T      db = sum_{n, i, j} dY      dX = col2im(W^T dY)  (cropped)

This is the reference, short and slow: it builds one column matrix for the whole batch.
``minidl.nn.functional.conv2d`` (``minidl.ops.conv``) is the fast one -- blocked, cache-
sized columns -- and the tests hold its output and gradients against these.
"""
import numpy as np

__all__ = ["out_size", "im2col", "col2im", "conv2d", "conv2d_backward"]


def _pair(v):
    return (v, v) if np.ndim(v) == 0 else tuple(v)


def out_size(size, k, stride=1, dilation=1, padding=0):
    """out = floor((size + 2 padding - dilation (k - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _taps(shape, kernel, stride, dilation):
    """For each kernel offset (u, v): the slice of the padded input it reads at every output."""
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel), _pair(stride), _pair(dilation)
    oh, ow = out_size(shape[2], kh, sh, dh), out_size(shape[3], kw, sw, dw)
    return oh, ow, [(u, v, (Ellipsis, slice(u * dh, u * dh + (oh - 1) * sh + 1, sh),
                            slice(v * dw, v * dw + (ow - 1) * sw + 1, sw)))
                    for u in range(kh) for v in range(kw)]


def im2col(x, kernel, stride=1, dilation=1):
    """The (N, C*kh*kw, out_h*out_w) column matrix of an already padded (N, C, H, W) array:
    cols[n, (c, u, v), (i, j)] = x[n, c, i*s + u*d, j*s + v*d], with
    out = floor((H - d(k-1) - 1)/s) + 1 (H counting the padding)."""
    N, C = x.shape[:2]
    kh, kw = _pair(kernel)
    oh, ow, taps = _taps(x.shape, kernel, stride, dilation)
    cols = np.empty((N, C, kh, kw, oh, ow), x.dtype)
    for u, v, window in taps:
        cols[:, :, u, v] = x[window]
    return cols.reshape(N, C * kh * kw, oh * ow)


def col2im(cols, shape, kernel, stride=1, dilation=1):
    """The adjoint of ``im2col``: an array of the padded input ``shape`` holding the sum of
    every column entry at the position it was read from."""
    N, C = shape[:2]
    kh, kw = _pair(kernel)
    oh, ow, taps = _taps(shape, kernel, stride, dilation)
    cols = cols.reshape(N, C, kh, kw, oh, ow)
    x = np.zeros(shape, cols.dtype)
    for u, v, window in taps:
        x[window] += cols[:, :, u, v]
    return x


def _pad(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y = W cols + b per group: pad, im2col, weight.reshape(F, -1) @ cols (one product per
    group), add the bias, reshape to (N, F, out_h, out_w) with
    out = floor((H + 2p - d(k-1) - 1)/s) + 1. ``F.conv2d`` is the fast one."""
    N, G, F = x.shape[0], groups, weight.shape[0]
    xp = _pad(x, padding)
    cols = im2col(xp, weight.shape[2:], stride, dilation)                  # (N, C*kh*kw, L)
    oh, ow, _ = _taps(xp.shape, weight.shape[2:], stride, dilation)
    w = weight.reshape(G, F // G, -1)                                      # (G, F/G, C/G*kh*kw)
    y = w @ cols.reshape(N, G, -1, oh * ow)                                # (N, G, F/G, L)
    y = y.reshape(N, F, oh, ow)
    return y if bias is None else y + bias.reshape(1, F, 1, 1)


def conv2d_backward(x, weight, grad, stride=1, padding=0, dilation=1, groups=1):
    """(dX, dW, db) of ``conv2d`` for the output gradient ``grad`` (N, F, out_h, out_w):
    dW = sum_n dY_n cols_n^T, db = sum dY, dX = col2im(W^T dY) without the padding."""
    N, G, F = x.shape[0], groups, weight.shape[0]
    xp = _pad(x, padding)
    cols = im2col(xp, weight.shape[2:], stride, dilation)
    cols = cols.reshape(N, G, -1, cols.shape[-1])                          # (N, G, C/G*kh*kw, L)
    g = grad.reshape(N, G, F // G, -1)                                     # (N, G, F/G, L)
    dw = (g @ cols.swapaxes(-1, -2)).sum(axis=0).reshape(weight.shape)
    dcols = weight.reshape(G, F // G, -1).swapaxes(-1, -2) @ g             # (N, G, C/G*kh*kw, L)
    dxp = col2im(dcols, xp.shape, weight.shape[2:], stride, dilation)
    ph, pw = _pair(padding)
    return dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dw, grad.sum(axis=(0, 2, 3))
