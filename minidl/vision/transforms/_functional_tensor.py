"""The tensor side of ``functional``: geometry and colour on image tensors (..., C, H, W).

Flips, crops, padding, resizing and the brightness / contrast / saturation blends are minidl
ops, so they keep the tensor's dtype and record gradients like any other op. Resizing with
``antialias=True`` (bilinear / bicubic) applies Pillow's separable filter as two matrix
products ``A_h @ x @ A_w^T``, where row ``o`` of ``A`` holds the normalized filter taps of
output sample ``o`` (support widened by the downscaling factor). Rotation and hue are data
operations in NumPy (no gradient): rotation samples the source point of every output pixel
(nearest or bilinear, torchvision's grid conventions); hue goes through HSV.
"""
import math

import numpy as np

from ...nn import functional as NF
from ...tensor import Tensor

_FLOATS = (np.float32, np.float64)


def assert_image_tensor(img):
    if img.ndim < 2:
        raise TypeError(f"Tensor is not a torch image: expected at least 2 dimensions "
                        f"(..., H, W), got shape {tuple(img.shape)}")


def get_dimensions(img):
    """``[channels, height, width]``; a 2-d tensor is one channel."""
    assert_image_tensor(img)
    return [1 if img.ndim == 2 else int(img.shape[-3]), int(img.shape[-2]), int(img.shape[-1])]


def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, but "
                        f"found {c}")


def max_value(np_dtype):
    return float(np.iinfo(np_dtype).max) if np_dtype.kind in "iu" else 1.0


def hflip(img):
    assert_image_tensor(img)
    return img.flip(-1)


def vflip(img):
    assert_image_tensor(img)
    return img.flip(-2)


def crop(img, top, left, height, width):
    """The box ``[top, top + height) x [left, left + width)``; outside the image reads 0."""
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        inside = img[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
        ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(inside, ltrb, 0, "constant")
    return img[..., top:bottom, left:right]


def _index_map(n, lo, hi, mode):
    """Source index of every padded position along an axis of ``n`` samples."""
    return np.pad(np.arange(n), (lo, hi), mode=mode)


def pad(img, ltrb, fill=0, padding_mode="constant"):
    """Pad the last two dims by ``ltrb = (left, top, right, bottom)``; negative amounts crop.

    'edge', 'reflect' and 'symmetric' read the source index of every padded row / column
    (``numpy.pad`` of ``arange``) and gather them with ``index_select``, so they work for
    any dtype and number of leading dims.
    """
    assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(fill, (int, float)):
        raise TypeError(f"Got inappropriate fill arg: a tensor image takes one number, got "
                        f"{fill!r}")
    left, top, right, bottom = ltrb
    if padding_mode == "constant":
        return NF.pad(img, (left, right, top, bottom), value=float(fill))
    h, w = img.shape[-2], img.shape[-1]
    if min(ltrb) < 0:   # crop first, then pad what is left
        img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(v, 0) for v in ltrb)
        h, w = img.shape[-2], img.shape[-1]
    if h == 0 or w == 0:
        raise RuntimeError(f"pad: cannot {padding_mode}-pad an empty image of size {h} x {w}")
    np_mode = "edge" if padding_mode == "edge" else padding_mode
    if top or bottom:
        img = img.index_select(-2, Tensor(_index_map(h, top, bottom, np_mode)))
    if left or right:
        img = img.index_select(-1, Tensor(_index_map(w, left, right, np_mode)))
    return img


# ---------------------------------------------------------------------------- resize
def _filter_bilinear(d):
    d = np.abs(d)
    return np.where(d < 1.0, 1.0 - d, 0.0)


def _filter_bicubic(d, a=-0.5):
    """Keys' cubic convolution kernel with a = -0.5, Pillow's (and torch's antialias) choice."""
    d = np.abs(d)
    near = ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0
    far = (((d - 5.0) * d + 8.0) * d - 4.0) * a
    return np.where(d < 1.0, near, np.where(d < 2.0, far, 0.0))


def antialias_matrix(n_in, n_out, mode):
    """(n_out, n_in) float64 resampling matrix of Pillow's antialiased filter.

    Output ``o`` is centred at ``c = (o + 0.5) * s`` (s = n_in / n_out) in the input; its taps
    are the inputs j with ``trunc(c - r + 0.5) <= j < trunc(c + r + 0.5)``, r = support *
    max(s, 1), weighted by ``filter((j + 0.5 - c) / max(s, 1))`` and normalized to sum 1.
    """
    support, kernel = (1.0, _filter_bilinear) if mode == "bilinear" else (2.0, _filter_bicubic)
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    center = scale * (np.arange(n_out) + 0.5)
    lo = np.maximum(np.trunc(center - support * stretch + 0.5), 0)
    hi = np.minimum(np.trunc(center + support * stretch + 0.5), n_in)
    j = np.arange(n_in)
    weight = kernel((j[None, :] + 0.5 - center[:, None]) / stretch)
    weight *= (j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None])
    total = weight.sum(1, keepdims=True)
    return weight / np.where(total == 0, 1.0, total)


def resize(img, size, interpolation="bilinear", antialias=True):
    """Resize the last two dims to ``size = [height, width]``.

    Non-float images are resized in float32 and rounded back (torchvision's rule).
    """
    assert_image_tensor(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input "
                         f"(use nearest, nearest-exact, bilinear or bicubic)")
    oh, ow = (int(v) for v in size)
    lead, (h, w) = tuple(img.shape[:-2]), tuple(img.shape[-2:])
    out_dtype = img.dtype
    x = img if out_dtype.np in _FLOATS else img.float()
    if antialias and interpolation in ("bilinear", "bicubic"):
        np_dtype = x.dtype.np
        if oh != h:
            x = Tensor(antialias_matrix(h, oh, interpolation).astype(np_dtype)) @ x
        if ow != w:
            x = x @ Tensor(np.ascontiguousarray(
                antialias_matrix(w, ow, interpolation).T.astype(np_dtype)))
    else:
        align = False if interpolation in ("bilinear", "bicubic") else None
        x = NF.interpolate(x.reshape(-1, 1, h, w), size=(oh, ow), mode=interpolation,
                           align_corners=align).reshape(lead + (oh, ow))
    if x.dtype != out_dtype:
        if interpolation == "bicubic" and out_dtype.np == np.uint8:
            x = x.clamp(0, 255)
        if out_dtype.np.kind in "iu":
            x = x.round()
        x = x.to(out_dtype)
    return x


# ---------------------------------------------------------------------------- rotate
def rotation_matrix(angle, center=(0.0, 0.0)):
    """The inverse map of a counter-clockwise rotation by ``angle`` degrees about ``center``.

    Coordinates are relative to the image centre (x right, y down). Returns the 6 numbers
    ``[a, b, c, d, e, f]`` of ``(x_src, y_src) = (a x + b y + c, d x + e y + f)``.
    """
    t = math.radians(angle)
    cos, sin = math.cos(t), math.sin(t)
    cx, cy = center
    return [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy]


def affine_output_size(matrix, w, h):
    """(width, height) holding the whole image after the map whose inverse is ``matrix``
    (the bounding box of the four corners, as Pillow's ``rotate(expand=True)``)."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], np.float32)
    pts = corners @ np.array(matrix, np.float32).reshape(2, 3).T
    half = np.array([0.5 * w, 0.5 * h], np.float32)
    tol = np.float32(1e-4)   # so that 1e-15 above an integer does not round up
    high = np.ceil(np.trunc((pts.max(0) + half) / tol) * tol)
    low = np.floor(np.trunc((pts.min(0) + half) / tol) * tol)
    size = high - low
    return int(size[0]), int(size[1])


def _source_coords(matrix, w, h, ow, oh, dt):
    """Source pixel coordinates (ix, iy), each (oh, ow), of every output pixel.

    Output pixel centres relative to the output centre are mapped by ``matrix``, scaled to
    [-1, 1] by the input half-size and turned into pixel indices with the
    ``align_corners=False`` convention, in ``dt`` arithmetic as torchvision does.
    """
    m = np.asarray(matrix, dt)
    bx = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=dt)[None, :]
    by = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=dt)[:, None]
    hw, hh = dt(0.5 * w), dt(0.5 * h)
    gx = bx * (m[0] / hw) + by * (m[1] / hw) + m[2] / hw
    gy = bx * (m[3] / hh) + by * (m[4] / hh) + m[5] / hh
    one, half = dt(1), dt(0.5)
    return ((gx + one) * dt(w) - one) * half, ((gy + one) * dt(h) - one) * half



def apply_fill(out, inside, fill, interpolation, dt):
    """``out`` with the pixels sampled from outside the image (``inside`` is each output
    pixel's weight of in-image samples) set to ``fill`` (a number or one per channel):
    replaced for ``'nearest'``, blended by ``inside`` otherwise (torchvision's fill mask)."""
    if fill is None:
        return out
    values = np.asarray(fill if isinstance(fill, (tuple, list)) else [fill], dt).reshape(-1, 1, 1)
    if interpolation == "nearest":
        return np.where(inside < 0.5, values, out).astype(dt, copy=False)
    return out * inside + (dt(1) - inside) * values

def _sample(x, ix, iy, mode):
    """Sample (B, h, w) images at (ix, iy) with zeros outside; also the in-bounds weight."""
    b, h, w = x.shape
    flat = x.reshape(b, h * w)
    if mode == "nearest":
        cx, cy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        ok = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        idx = (np.clip(cy, 0, h - 1) * w + np.clip(cx, 0, w - 1)).ravel()
        out = flat[:, idx].reshape((b,) + ix.shape) * ok
        return out, ok.astype(x.dtype)
    x0, y0 = np.floor(ix), np.floor(iy)
    fx, fy = ix - x0, iy - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = np.zeros((b,) + ix.shape, x.dtype)
    inside = np.zeros(ix.shape, x.dtype)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            cx, cy = x0 + dx, y0 + dy
            wgt = (wx * wy) * ((cx >= 0) & (cx < w) & (cy >= 0) & (cy < h))
            idx = (np.clip(cy, 0, h - 1) * w + np.clip(cx, 0, w - 1)).ravel()
            out += flat[:, idx].reshape(out.shape) * wgt
            inside += wgt
    return out, inside


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    """Warp by the inverse map ``matrix`` (see ``rotation_matrix``); outside pixels get
    ``fill`` (per channel or one value; None: 0). Bilinear fill blends by the in-bounds
    weight ``out * m + fill * (1 - m)``, nearest replaces pixels with m < 0.5 (torchvision)."""
    assert_image_tensor(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input "
                         f"(use nearest or bilinear)")
    c, h, w = get_dimensions(img)
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != c:
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the number "
                         f"of channels of the image ({len(fill)} != {c})")
    ow, oh = affine_output_size(matrix, w, h) if expand else (w, h)
    a = img.detach().numpy()
    dt = a.dtype.type if a.dtype in _FLOATS else np.float32
    ix, iy = _source_coords(matrix, w, h, ow, oh, dt)
    out, inside = _sample(a.astype(dt, copy=False).reshape(-1, h, w), ix, iy, interpolation)
    out = out.reshape((-1, c, oh, ow))
    out = apply_fill(out, inside, fill, interpolation, dt)
    out = out.reshape(a.shape[:-2] + (oh, ow))
    if out.dtype != a.dtype:
        out = np.rint(out) if a.dtype.kind in "iu" else out
        out = out.astype(a.dtype)
    return Tensor(np.ascontiguousarray(out))


# ---------------------------------------------------------------------------- colour
def rgb_to_grayscale(img, num_output_channels=1):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (in the image's dtype), 1 or 3 channels."""
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    _assert_channels(img, (1, 3))
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)
    else:
        gray = img.clone()
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def _blend(img1, img2, ratio):
    """``ratio * img1 + (1 - ratio) * img2`` clamped to the dtype's range, in img1's dtype."""
    ratio = float(ratio)
    bound = max_value(img1.dtype.np)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def adjust_brightness(img, factor):
    _assert_channels(img, (1, 3))
    return _blend(img, img.new_zeros(img.shape), factor)


def adjust_contrast(img, factor):
    _assert_channels(img, (1, 3))
    dtype = img.dtype if img.is_floating_point() else None
    gray = rgb_to_grayscale(img) if img.shape[-3] == 3 else img
    gray = gray.to(dtype) if dtype is not None else gray.float()
    return _blend(img, gray.mean(dim=(-3, -2, -1), keepdim=True), factor)


def adjust_saturation(img, factor):
    _assert_channels(img, (1, 3))
    if img.shape[-3] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), factor)


def _rgb_to_hsv(rgb):
    """(..., 3, H, W) floats in [0, 1] -> hue in [0, 1), saturation, value (channel axis -3)."""
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    v, low = rgb.max(-3), rgb.min(-3)
    chroma = v - low
    flat = chroma == 0
    s = chroma / np.where(flat, 1, v)
    c = np.where(flat, 1, chroma)
    h = np.where(v == r, (g - b) / c, np.where(v == g, 2.0 + (b - r) / c, 4.0 + (r - g) / c))
    h = np.where(flat, 0, (h / 6.0 + 1.0) % 1.0)
    return np.stack([h, s, v], -3).astype(rgb.dtype, copy=False)


def _hsv_to_rgb(hsv):
    """The inverse of ``_rgb_to_hsv`` (the six 60-degree sectors of the hue circle)."""
    h, s, v = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = np.stack([np.stack(ch) for ch in ((v, q, p, p, t, v), (t, v, v, q, p, p),
                                              (p, p, t, v, v, q))])   # (3, 6, ...)
    picked = np.take_along_axis(table, sector[None, None], axis=1)[:, 0]   # (3, ...)
    return np.moveaxis(picked, 0, -3).astype(hsv.dtype, copy=False)


def adjust_hue(img, hue_factor, convert_image_dtype):
    """Rotate the hue by ``hue_factor`` turns (computed in float32 HSV; no gradient)."""
    _assert_channels(img, (1, 3))
    if img.shape[-3] == 1:
        return img
    orig = img.dtype
    x = convert_image_dtype(img, np.float32).detach().numpy()
    hsv = _rgb_to_hsv(x)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + np.float32(hue_factor)) % np.float32(1.0)
    return convert_image_dtype(Tensor(np.ascontiguousarray(_hsv_to_rgb(hsv))), orig)
