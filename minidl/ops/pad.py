"""Padding the last dims: constant (negative pads crop), reflect, replicate, circular."""
import numpy as np

from ..autograd import Kernel
from ._adjoint import linear_backward
from ._shape_args import along, int_tuple
from ._util import check_tensor
from .view import View

__all__ = []


class ConstantPad(Kernel):
    """y = x surrounded by ``value`` (negative pads crop); dx = the matching part of dy."""

    @staticmethod
    def forward(ctx, x, pads, value):
        lead = x.ndim - len(pads)
        src, dst, shape = [slice(None)] * lead, [slice(None)] * lead, list(x.shape[:lead])
        for n, (lo, hi) in zip(x.shape[lead:], pads):
            a, b = max(-lo, 0), n - max(-hi, 0)
            src.append(slice(a, b))
            dst.append(slice(max(lo, 0), max(lo, 0) + b - a))
            shape.append(n + lo + hi)
        ctx.in_shape, ctx.src, ctx.dst, ctx.pads = x.shape, tuple(src), tuple(dst), pads
        out = np.full(shape, value, x.dtype)
        out[ctx.dst] = x[ctx.src]
        return out

    @staticmethod
    def backward(ctx, g):
        """dx = dy's middle (zero where x was cropped); its own gradient is the zero padding."""
        in_shape, src, dst, pads = ctx.in_shape, ctx.src, ctx.dst, ctx.pads

        def transpose(g):
            if g[dst].shape == in_shape:  # nothing was cropped
                return g[dst]
            gx = np.zeros(in_shape, g.dtype)
            gx[src] = g[dst]
            return gx

        return linear_backward(g, transpose, lambda t: ConstantPad.apply(t, pads=pads, value=0))


def _pad_index(n, lo, hi, mode):
    """Source position in [0, n) for every output position of one padded dim."""
    if mode == "circular":
        a, b = max(-lo, 0), n - max(-hi, 0)
        m = b - a
        return a + (np.arange(max(lo, 0) + m + max(hi, 0)) - max(lo, 0)) % m
    p = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    p = np.abs(p)  # reflect about 0 and about n - 1
    return np.where(p > n - 1, 2 * (n - 1) - p, p)


def _add_runs(gx, g, idx, axis):
    """``gx[.., idx[j], ..] += g[.., j, ..]`` along ``axis``, slab by slab over the runs of
    +-1 steps in ``idx`` (a pad / reflection map has only a few)."""
    j, m = 0, len(idx)
    while j < m:
        step = int(idx[j + 1] - idx[j]) if j + 1 < m else 1
        step = step if step in (1, -1) else 1
        k = j + 1
        while k < m and idx[k] - idx[k - 1] == step:
            k += 1
        piece = g[along(axis, slice(j, k))]
        if step == 1:
            gx[along(axis, slice(idx[j], idx[k - 1] + 1))] += piece
        else:
            gx[along(axis, slice(idx[k - 1], idx[j] + 1))] += np.flip(piece, axis)
        j = k


_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class IndexPad(Kernel):
    """Reflect / replicate / circular padding: y = x read through a position map per dim
    (the middle of the map is the identity); dx adds dy back through the same maps."""

    @staticmethod
    def forward(ctx, x, maps, mode):
        ctx.in_shape, ctx.maps, ctx.mode = x.shape, maps, mode
        if all(lo >= 0 and len(idx) - lo - x.shape[axis] >= 0 for axis, idx, lo in maps):
            widths = [(0, 0)] * x.ndim
            for axis, idx, lo in maps:
                widths[axis] = (lo, len(idx) - lo - x.shape[axis])
            return np.pad(x, widths, mode=_NP_PAD_MODE[mode])
        for axis, idx, _ in maps:
            x = np.take(x, idx, axis=axis)
        return x

    @staticmethod
    def backward(ctx, g):
        """dx = dy added back through the maps; its own gradient is this padding again."""
        in_shape, maps, mode = ctx.in_shape, ctx.maps, ctx.mode
        return linear_backward(g, lambda g: _index_pad_transpose(g, in_shape, maps),
                               lambda t: IndexPad.apply(t, maps=maps, mode=mode))


def _index_pad_transpose(g, in_shape, maps):
    """dy added back onto x's positions through each dim's position map, last dim first."""
    for axis, idx, lo in reversed(maps):
        n = in_shape[axis]
        if lo >= 0 and lo + n <= len(idx):  # the middle maps onto x unchanged: copy it
            gx = g[along(axis, slice(lo, lo + n))].copy()
            _add_runs(gx, g[along(axis, slice(0, lo))], idx[:lo], axis)
            _add_runs(gx, g[along(axis, slice(lo + n, None))], idx[lo + n:], axis)
        else:
            gx = np.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], g.dtype)
            _add_runs(gx, g, idx, axis)
        g = gx
    return g


_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (last_lo, last_hi, prev_lo, prev_hi, ...)``."""
    check_tensor(input, "pad")
    pad = int_tuple((pad,), "pad", "pad")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]  # first padded dim first
    lead = input.ndim - k
    shape = input.shape
    if mode == "constant":
        for i, (lo, hi) in enumerate(pairs):
            n = shape[lead + i]
            if max(-lo, 0) > n or max(-hi, 0) > n or n + lo + hi < 0:
                raise RuntimeError(f"pad: negative padding ({lo}, {hi}) crops more than the "
                                   f"input size {n} of dimension {lead + i}")
        return ConstantPad.apply(input, pads=tuple(pairs), value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D "
                                  f"input tensor.\n{_PAD_HELP}")
    maps = []
    for i, (lo, hi) in enumerate(pairs):
        axis, n = lead + i, shape[lead + i]
        if n == 0:
            raise RuntimeError(f"pad: input dimension {axis} of shape {list(shape)} is empty, "
                               f"which {mode} padding cannot pad")
        if mode == "reflect" and (abs(lo) >= n or abs(hi) >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{axis} of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi <= 0 or (mode == "circular" and n - max(-lo, 0) - max(-hi, 0) <= 0):
            raise RuntimeError(f"input (size {n} at dimension {axis}) is too small for padding "
                               f"({lo}, {hi}). Calculated output size: {n + lo + hi}")
        if lo or hi:
            maps.append((axis, _pad_index(n, lo, hi, mode), lo))
    if not maps:
        return View.apply(input, shape=input._data.shape)
    return IndexPad.apply(input, maps=tuple(maps), mode=mode)
