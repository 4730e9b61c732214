"""RoI pooling of torchvision's ``ops``: ``roi_align`` / ``RoIAlign`` (Mask R-CNN, He et al.
2017) and ``roi_pool`` / ``RoIPool`` (Fast R-CNN, Girshick 2015), with torchvision's CPU
kernel rules.

``boxes`` is a Tensor[K, 5] of (batch index, x1, y1, x2, y2) or a list of Tensor[L, 4], one
per image. Both ops are (piecewise) linear in ``input``; the boxes get no gradient.

RoIAlign: a box scaled by ``spatial_scale`` (minus 0.5 when ``aligned``) is cut into
PH x PW bins; each bin averages gh x gw bilinear samples at
start + bin * (p + (i + 0.5) / g), g = ``sampling_ratio`` or ceil(roi size / pooled size).
A sample outside [-1, size] adds 0, others are clamped into the map. Bilinear weights and
the in-range test factor into a y part and an x part, so an RoI's output is
Ay x[b] Ax^T with Ay (PH, H) and Ax (PW, W) holding each pixel row's / column's summed
sample weights divided by the grid size: two matrix products per image, the backward their
transposes (linear in the gradient, so it is recorded again for higher orders).

RoIPool: box corners rounded (half away from zero) after scaling, size end - start + 1
(at least 1); bin ph spans rows [floor(ph * bin_h), ceil((ph + 1) * bin_h)) + start, clipped
to the map; the output is the bin's maximum (0 for an empty bin), the gradient goes to the
first maximum in a row-major scan. As in torchvision a value must exceed -FLT_MAX to be a
maximum (NaN never is); a non-empty bin with none gives -FLT_MAX and no gradient.

The readable versions -- a loop over RoIs, bins and samples calling the bilinear rule per
point -- are ``ref_roi_align`` and ``ref_roi_pool`` in ``tests/vision/test_roi.py``, which
these kernels are checked against.
"""
import numpy as np

from ... import nn
from ...autograd import Kernel
from ...ops._util import check_tensor
from ...ops.indexing import put_at
from ...tensor import Tensor

__all__ = ["roi_align", "RoIAlign", "roi_pool", "RoIPool"]

FLT_MAX = float(np.finfo(np.float32).max)
# roi_pool gathers each bin's window for a chunk of RoIs at once: at most this many values.
POOL_CHUNK_VALUES = 1 << 22


def _pair(output_size, fn):
    """``output_size`` as (height, width) of positive ints (torch's ``_pair``)."""
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in size):
        raise ValueError(f"{fn}(): 'output_size' must be a positive int or a pair of them, "
                         f"got {output_size!r}")
    return int(size[0]), int(size[1])


def convert_boxes_to_roi_format(boxes):
    """A list of Tensor[L, 4] (one per image) as one (K, 5) array: image index, x1, y1, x2, y2."""
    arrays = [b._data for b in boxes]
    ids = [np.full((len(a), 1), i, a.dtype) for i, a in enumerate(arrays)]
    return np.concatenate([np.concatenate(ids), np.concatenate(arrays)], axis=1)


def _check(input, boxes, fn):
    """The RoIs of ``boxes`` as a (K, 5) array in input's dtype and their image indices,
    after torchvision's shape checks (``check_roi_boxes_shape``, AssertionError)."""
    check_tensor(input, fn)
    if isinstance(boxes, (list, tuple)):
        for b in boxes:
            check_tensor(b, fn, "boxes")
            if b.ndim != 2 or b.shape[1] != 4:
                raise AssertionError("The shape of the tensor in the boxes list is not correct "
                                     "as List[Tensor[L, 4]]")
        if not boxes:
            raise ValueError(f"{fn}(): 'boxes' is an empty list (one Tensor[L, 4] per image)")
        rois = convert_boxes_to_roi_format(boxes)
    elif isinstance(boxes, Tensor):
        if boxes.ndim != 2 or boxes.shape[1] != 5:
            raise AssertionError("The boxes tensor shape is not correct as Tensor[K, 5]")
        rois = boxes._data
    else:
        raise AssertionError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")
    x = input._data
    if x.ndim != 4:
        raise ValueError(f"{fn}(): 'input' must be a 4-D Tensor[N, C, H, W], got shape "
                         f"{tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}(): 'input' must be a floating-point tensor, got {input.dtype}")
    if rois.dtype != x.dtype:
        raise TypeError(f"{fn}(): 'input' ({x.dtype}) and 'boxes' ({rois.dtype}) must have the "
                        "same dtype")
    batch = rois[:, 0].astype(np.int64)
    if batch.size and (batch.min() < 0 or batch.max() >= x.shape[0]):
        raise ValueError(f"{fn}(): the batch indices of 'boxes' must lie in [0, {x.shape[0]}), "
                         f"got {int(batch.min() if batch.min() < 0 else batch.max())}")
    return rois, batch


def _groups(batch):
    """(image, indices of its RoIs) for every image that has RoIs."""
    return [(int(n), np.flatnonzero(batch == n)) for n in np.unique(batch)]


# ----------------------------------------------------------------------------- RoIAlign

def _axis_weights(start, end, pooled, size, sampling_ratio, aligned):
    """(K, pooled, size): for each RoI and bin along one axis, each pixel's summed bilinear
    weight over the bin's samples, divided by their number (torchvision's
    ``bilinear_interpolate`` rules, factored per axis)."""
    dtype, k = start.dtype, len(start)
    length = end - start
    if not aligned:
        length = np.maximum(length, dtype.type(1))
    bin_size = length / dtype.type(pooled)
    if sampling_ratio > 0:
        grid = np.full(k, sampling_ratio, np.int64)
    else:
        grid = np.ceil(length / dtype.type(pooled)).astype(np.int64)
    i = np.arange(max(int(grid.max(initial=0)), 0))
    safe = np.maximum(grid, 1).astype(dtype)[:, None, None]
    pos = (start[:, None, None] + np.arange(pooled, dtype=dtype)[None, :, None]
           * bin_size[:, None, None]
           + (i + 0.5).astype(dtype)[None, None, :] * bin_size[:, None, None] / safe)
    weight = np.where((pos >= -1) & (pos <= size) & (i < grid[:, None, None]), 1 / safe, 0)
    pos = np.where(weight > 0, np.maximum(pos, 0), 0)   # skipped samples (NaN, far): pixel 0
    low = pos.astype(np.int64)
    at_end = low >= size - 1
    low = np.where(at_end, size - 1, low)
    high = np.where(at_end, size - 1, low + 1)   # at the end both weights go to one pixel
    frac = (pos - low).astype(dtype)
    out = np.zeros((k, pooled, size), dtype)
    if size > 0:
        rk, rp = np.arange(k)[:, None, None], np.arange(pooled)[None, :, None]
        np.add.at(out, (rk, rp, low), (1 - frac) * weight)
        np.add.at(out, (rk, rp, high), frac * weight)
    return out


class RoIAlignKernel(Kernel):
    """y[k] = Ay[k] x[batch[k]] Ax[k]^T per channel; dx[n] = sum over the RoIs k of image n
    of Ay[k]^T dy[k] Ax[k] (linear in dy, so the recorded backward is its own form)."""

    graph_constants = ("ay", "ax")   # from the boxes, which get no gradient

    @staticmethod
    def forward(ctx, x, batch, ay, ax):
        _, c, h, w = x.shape
        k, ph, pw = len(batch), ay.shape[1], ax.shape[1]
        out = np.zeros((k, c, ph, pw), x.dtype)
        for n, idx in _groups(batch):
            rows = ay[idx].reshape(-1, h) @ x[n].transpose(1, 0, 2).reshape(h, c * w)
            rows = rows.reshape(len(idx), ph, c, w) @ ax[idx][:, None].transpose(0, 1, 3, 2)
            out[idx] = rows.transpose(0, 2, 1, 3)
        ctx.in_shape, ctx.batch, ctx.ay, ctx.ax = x.shape, batch, ay, ax
        return out

    @staticmethod
    def backward(ctx, g):
        n_images, c, h, w = ctx.in_shape
        ph = ctx.ay.shape[1]
        parts = [np.zeros((c, h, w), g.dtype)] * n_images
        for n, idx in _groups(ctx.batch):
            cols = g[idx].transpose(0, 2, 1, 3) @ ctx.ax[idx][:, None]
            rows = ctx.ay[idx].reshape(-1, h).T @ cols.reshape(len(idx) * ph, c * w)
            parts[n] = rows.reshape(h, c, w).transpose(1, 0, 2)
        return np.stack(parts)


def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """RoIAlign (Mask R-CNN): the average of bilinear samples per output bin, Tensor[K, C,
    output_size[0], output_size[1]]; torchvision's ``ops.roi_align``."""
    rois, batch = _check(input, boxes, "roi_align")
    ph, pw = _pair(output_size, "roi_align")
    _, _, h, w = input.shape
    dtype = input._data.dtype
    coords = rois[:, 1:] * dtype.type(spatial_scale) - dtype.type(0.5 if aligned else 0.0)
    sampling_ratio, aligned = int(sampling_ratio), bool(aligned)
    ay = _axis_weights(coords[:, 1], coords[:, 3], ph, h, sampling_ratio, aligned)
    ax = _axis_weights(coords[:, 0], coords[:, 2], pw, w, sampling_ratio, aligned)
    return RoIAlignKernel.apply(input, batch=batch, ay=ay, ax=ax)


class RoIAlign(nn.Module):
    """See :func:`roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio, aligned=False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        return roi_align(input, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
                f"aligned={self.aligned})")


# ------------------------------------------------------------------------------ RoIPool

def _round_half_away(v):
    """C's ``round``: the nearest integer, halves away from zero."""
    t = np.trunc(v)
    return (t + np.sign(v) * (np.abs(v - t) >= 0.5)).astype(np.int64)


def _bin_bounds(start, end, pooled, size, dtype):
    """(K, pooled) first and end row (or column) of each bin, clipped to [0, size]."""
    length = np.maximum(end - start + 1, 1).astype(dtype)
    bin_size = length / dtype.type(pooled)
    p = np.arange(pooled, dtype=dtype)
    lo = np.floor(p[None, :] * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = np.ceil((p[None, :] + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    return np.clip(lo, 0, size), np.clip(hi, 0, size)


def _pool_argmax(x, batch, hs, he, ws, we):
    """(K, C, PH, PW) outputs and flat indices into x of each bin's first maximum (-1: none)."""
    n_images, c, h, w = x.shape
    k, ph, pw = len(batch), hs.shape[1], ws.shape[1]
    out = np.zeros((k, c, ph, pw), x.dtype)
    arg = np.full((k, c, ph, pw), -1, np.int64)
    mh = max(int((he - hs).max(initial=0)), 0)
    mw = max(int((we - ws).max(initial=0)), 0)
    if k == 0 or mh == 0 or mw == 0:
        return out, arg
    xt = x.reshape(n_images, c, h * w).transpose(0, 2, 1)
    step = max(POOL_CHUNK_VALUES // (ph * pw * mh * mw * c), 1)
    for lo in range(0, k, step):
        sl = slice(lo, lo + step)
        rows = hs[sl, :, None] + np.arange(mh)                        # (k, PH, mh)
        cols = ws[sl, :, None] + np.arange(mw)                        # (k, PW, mw)
        inside = ((rows < he[sl, :, None])[:, :, None, :, None]
                  & (cols < we[sl, :, None])[:, None, :, None, :])    # (k, PH, PW, mh, mw)
        spot = (np.minimum(rows, h - 1)[:, :, None, :, None] * w
                + np.minimum(cols, w - 1)[:, None, :, None, :])
        spot = spot.reshape(*spot.shape[:3], -1)
        vals = xt[batch[sl, None, None, None], spot]                  # (k, PH, PW, mh*mw, C)
        keep = inside.reshape(spot.shape)[..., None] & (vals > -FLT_MAX)
        vals = np.where(keep, vals, -np.inf)
        best = vals.argmax(axis=3)                                    # first maximum
        top = np.take_along_axis(vals, best[:, :, :, None], 3)[:, :, :, 0]
        found = top > -np.inf
        empty = ~inside.any(axis=(3, 4))[..., None]
        chosen = np.take_along_axis(spot[..., None], best[:, :, :, None], 3)[:, :, :, 0]
        flat = (batch[sl, None, None, None] * c + np.arange(c)) * (h * w) + chosen
        out[sl] = np.where(found, top, np.where(empty, 0, -FLT_MAX)).transpose(0, 3, 1, 2)
        arg[sl] = np.where(found, flat, -1).transpose(0, 3, 1, 2)
    return out, arg


class RoIPoolKernel(Kernel):
    """y = each bin's maximum; dx[argmax] += dy (linear in dy)."""

    @staticmethod
    def forward(ctx, x, batch, hs, he, ws, we):
        out, arg = _pool_argmax(x, batch, hs, he, ws, we)
        ctx.in_shape, ctx.arg = x.shape, arg
        return out

    @staticmethod
    def backward(ctx, g):
        found = ctx.arg >= 0
        flat = np.zeros(int(np.prod(ctx.in_shape)), g.dtype)
        return put_at(flat, (None, (ctx.arg[found],)), g[found], True).reshape(ctx.in_shape)


def roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """RoIPool (Fast R-CNN): the maximum per output bin of each rounded box, Tensor[K, C,
    output_size[0], output_size[1]]; torchvision's ``ops.roi_pool``."""
    rois, batch = _check(input, boxes, "roi_pool")
    ph, pw = _pair(output_size, "roi_pool")
    _, _, h, w = input.shape
    dtype = input._data.dtype
    corners = _round_half_away(rois[:, 1:] * dtype.type(spatial_scale))
    hs, he = _bin_bounds(corners[:, 1], corners[:, 3], ph, h, dtype)
    ws, we = _bin_bounds(corners[:, 0], corners[:, 2], pw, w, dtype)
    return RoIPoolKernel.apply(input, batch=batch, hs=hs, he=he, ws=ws, we=we)


class RoIPool(nn.Module):
    """See :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
