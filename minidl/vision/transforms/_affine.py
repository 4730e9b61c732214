"""Affine and perspective warps (``torchvision.transforms``): ``affine`` / ``perspective`` and
the random ``RandomAffine`` / ``RandomPerspective``.

Both warps map every output pixel back to its source point and sample there (tensors:
nearest or bilinear with torchvision's ``grid_sample`` conventions, zeros outside, then
``fill``; PIL images: Pillow's ``Image.transform``). The affine inverse is torchvision's:
with rotation ``a`` (clockwise, degrees), shears ``sx, sy`` and ``C`` the centre,
``M = T(C + t) R S Sh T(-C)`` is inverted in closed form. The perspective coefficients
``(a, b, c, d, e, f, g, h)`` of ``x_src = (a x + b y + c) / (g x + h y + 1)``,
``y_src = (d x + e y + f) / (g x + h y + 1)`` come from the 8 x 8 least-squares system that
sends the end points back to the start points (float64, rounded to float32).
"""
import math
import numbers
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ...backend import rng as _rng
from ...nn import Module
from ...tensor import Tensor
from . import _functional_core as F
from . import _functional_pil as _FP
from . import _functional_tensor as _FT
from ._functional_core import InterpolationMode
from ._geometry import _setup_angle

__all__ = ["affine", "perspective", "RandomAffine", "RandomPerspective"]


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 6 numbers ``[a, b, c, d, e, f]`` of the inverse map ``(x, y) -> (a x + b y + c,
    d x + e y + f)`` of rotation by ``angle`` (clockwise, degrees) and ``shear`` (degrees,
    x then y) about ``center``, scaled by ``scale`` and then shifted by ``translate``."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # forward linear part R S Sh = [[a, b], [c, d]] (times scale)
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [v / scale for v in (d, -b, 0.0, -c, a, 0.0)]   # the inverse, det(R Sh) = 1
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _shear_pair(shear):
    if isinstance(shear, numbers.Number):
        return [float(shear), 0.0]
    if not isinstance(shear, (list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    if len(shear) == 1:
        return [float(shear[0])] * 2
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    return [float(s) for s in shear]


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Rotate by ``angle`` (clockwise, degrees), shear by ``shear`` (degrees; a number shears
    along x), scale by ``scale`` about ``center`` ((x, y) pixels, default the image centre),
    then translate by ``translate`` (dx, dy) pixels. The output keeps the input size;
    ``fill`` colours the area with no source (tensors: nearest or bilinear only)."""
    interpolation = F.interpolation_mode(interpolation)
    if isinstance(angle, bool) or not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError(f"Argument scale should be positive, got {scale}")
    shear = _shear_pair(shear)
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    backend = F._backend(img)
    _, height, width = F.get_dimensions(img)
    if backend is _FP:
        c = [width * 0.5, height * 0.5] if center is None else list(center)
        matrix = inverse_affine_matrix(c, float(angle), translate, scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix,
                             F.pil_modes_mapping[interpolation], **_FP.parse_fill(fill, img))
    # tensors: coordinates relative to the image centre
    c = [0.0, 0.0] if center is None else [center[0] - width * 0.5, center[1] - height * 0.5]
    matrix = inverse_affine_matrix(c, float(angle), [float(t) for t in translate], scale, shear)
    return _FT.rotate(img, matrix, interpolation.value, False, fill)


def perspective_coeffs(startpoints, endpoints):
    """``[a, b, c, d, e, f, g, h]`` mapping each of the four ``endpoints`` (x, y) to its
    ``startpoint`` (least squares in float64, rounded to float32 as torchvision)."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} "
                         f"startpoints and {len(endpoints)} endpoints.")
    rows = []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.asarray(rows, np.float64)
    b = np.asarray(startpoints, np.float64).reshape(8)
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    return solution.astype(np.float32).tolist()


def _warp_tensor(img, ix, iy, interpolation, fill):
    """Sample ``img`` at the source coordinates (ix, iy) (output h x w) and apply ``fill``
    as torchvision's grid transform does (see ``_functional_tensor.rotate``)."""
    c, h, w = _FT.get_dimensions(img)
    a = img.detach().numpy()
    dt = ix.dtype.type
    out, inside = _FT._sample(a.astype(dt, copy=False).reshape(-1, h, w), ix, iy, interpolation)
    out = out.reshape((-1, c) + ix.shape)
    out = _FT.apply_fill(out, inside, fill, interpolation, dt)
    out = out.reshape(a.shape)
    if out.dtype != a.dtype:
        out = (np.rint(out) if a.dtype.kind in "iu" else out).astype(a.dtype)
    return Tensor(np.ascontiguousarray(out))


def _perspective_tensor(img, coeffs, interpolation, fill):
    """The source point of every output pixel centre (x + 0.5, y + 0.5), normalized to
    [-1, 1] by the image size and turned into pixel indices (``align_corners=False``)."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input "
                         f"(use nearest or bilinear)")
    c, h, w = _FT.get_dimensions(img)
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != c:
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the number "
                         f"of channels of the image ({len(fill)} != {c})")
    a = img.detach().numpy()
    dt = a.dtype.type if a.dtype in _FT._FLOATS else np.float32
    k = np.asarray(coeffs, dt)
    bx = np.linspace(0.5, w - 0.5, w, dtype=dt)[None, :]
    by = np.linspace(0.5, h - 0.5, h, dtype=dt)[:, None]
    hw, hh, one = dt(0.5 * w), dt(0.5 * h), dt(1)
    den = k[6] * bx + k[7] * by + one
    gx = (bx * (k[0] / hw) + by * (k[1] / hw) + k[2] / hw) / den - one
    gy = (bx * (k[3] / hh) + by * (k[4] / hh) + k[5] / hh) / den - one
    half = dt(0.5)
    ix, iy = ((gx + one) * dt(w) - one) * half, ((gy + one) * dt(h) - one) * half
    return _warp_tensor(img, ix, iy, interpolation, fill)


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                fill=None):
    """Warp so that the four ``startpoints`` ([top-left, top-right, bottom-right,
    bottom-left], (x, y) pixels) land on ``endpoints``; ``fill`` colours the area with no
    source (tensors: nearest or bilinear only)."""
    coeffs = perspective_coeffs(startpoints, endpoints)
    interpolation = F.interpolation_mode(interpolation)
    if F._backend(img) is _FP:
        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs,
                             F.pil_modes_mapping[interpolation], **_FP.parse_fill(fill, img))
    return _perspective_tensor(img, coeffs, interpolation.value, fill)


def _check_sequence(x, name, sizes):
    msg = " or ".join(str(s) for s in sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def _check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _tensor_fill(fill, img):
    """A tensor image gets ``fill`` as one float per channel (torchvision's forward)."""
    if F._is_pil(img):
        return fill
    if isinstance(fill, numbers.Number):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


class RandomAffine(Module):
    """Random ``affine``: angle ~ U(degrees) (a number d: U(-d, d)); translation
    ``(round(U(-tx W, tx W)), round(U(-ty H, ty H)))`` for ``translate = (tx, ty)``; scale ~
    U(scale); shear x ~ U(shear[0:2]) and, for 4 values, y ~ U(shear[2:4]) (a number s:
    x ~ U(-s, s))."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees")
        if translate is not None:
            _check_sequence(translate, "translate", (2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"translation values should be between 0 and 1, got "
                                 f"{translate}")
        if scale is not None:
            _check_sequence(scale, "scale", (2,))
            if not all(s > 0 for s in scale):
                raise ValueError(f"scale values should be positive, got {scale}")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _setup_angle(shear, "shear")
            else:
                _check_sequence(shear, "shear", (2, 4))
                shear = [float(s) for s in shear]
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation = F.interpolation_mode(interpolation)
        self.fill = _check_fill(fill)
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """Random ``(angle, (tx, ty), scale, (shear_x, shear_y))``; ``img_size`` is
        ``[width, height]``."""
        g = _rng()
        angle = float(g.uniform(float(degrees[0]), float(degrees[1])))
        translations = (0, 0)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(g.uniform(-max_dx, max_dx))),
                            int(round(g.uniform(-max_dy, max_dy))))
        scale = 1.0 if scale_ranges is None else float(g.uniform(scale_ranges[0],
                                                                 scale_ranges[1]))
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(g.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(g.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                 [width, height])
        return affine(img, *params, interpolation=self.interpolation,
                      fill=_tensor_fill(self.fill, img), center=self.center)

    def __repr__(self):
        s = f"{type(self).__name__}(degrees={self.degrees}"
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                s += f", {name}={getattr(self, name)}"
        if self.interpolation != InterpolationMode.NEAREST:
            s += f", interpolation={self.interpolation.value}"
        if self.fill != 0:
            s += f", fill={self.fill}"
        if self.center is not None:
            s += f", center={self.center}"
        return s + ")"


class RandomPerspective(Module):
    """With probability ``p``, ``perspective`` that moves each corner inwards by up to
    ``distortion_scale`` times half the width / height (uniform integer offsets)."""

    def __init__(self, distortion_scale=0.5, p=0.5, interpolation=InterpolationMode.BILINEAR,
                 fill=0):
        super().__init__()
        self.p = p
        self.interpolation = F.interpolation_mode(interpolation)
        self.distortion_scale = distortion_scale
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(width, height, distortion_scale):
        """``(startpoints, endpoints)``: the image corners and their random inward moves."""
        g = _rng()
        dx, dy = int(distortion_scale * (width // 2)), int(distortion_scale * (height // 2))

        def near(d):          # a coordinate within d of 0
            return int(g.integers(0, d + 1))

        def far(n, d):        # a coordinate within d of n - 1
            return int(g.integers(n - d - 1, n))

        top_left = [near(dx), near(dy)]
        top_right = [far(width, dx), near(dy)]
        bottom_right = [far(width, dx), far(height, dy)]
        bottom_left = [near(dx), far(height, dy)]
        start = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return start, [top_left, top_right, bottom_right, bottom_left]

    def forward(self, img):
        if _rng().random() < self.p:
            _, height, width = F.get_dimensions(img)
            start, end = self.get_params(width, height, self.distortion_scale)
            return perspective(img, start, end, self.interpolation, _tensor_fill(self.fill, img))
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
