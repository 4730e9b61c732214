"""erf and erfc on arrays: SciPy's when it is installed, else a series for small |x| and
Laplace's continued fraction beyond, accurate to ~1e-15 in float64."""
import math

import numpy as np

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SERIES_TERMS, _CF_TERMS, _SPLIT = 60, 80, 2.5


def erf_without_scipy(x):
    """erf in float64 to ~1e-15: erf x = 2/sqrt(pi) x e^(-x^2) sum_n (2x^2)^n / (2n+1)!!."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    out = np.where(np.isnan(a), np.nan, 1.0)  # erf is 1.0 in float64 from |x| = 6 on
    small = a < _SPLIT
    if small.any():
        s = a[small]
        two_x2 = 2.0 * s * s
        term = np.ones_like(s)
        total = np.ones_like(s)
        for n in range(1, _SERIES_TERMS):
            term *= two_x2 / (2 * n + 1)
            total += term
        out[small] = TWO_OVER_SQRT_PI * s * np.exp(-s * s) * total
    mid = (a >= _SPLIT) & (a < 6.0)
    if mid.any():
        out[mid] = 1.0 - erfc_continued_fraction(a[mid])
    return np.copysign(out, x)


def erfc_continued_fraction(z):
    """erfc z = e^(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), z >= 2.5."""
    f = z.copy()
    for k in range(_CF_TERMS, 0, -1):
        f = z + (0.5 * k) / f
    return np.exp(-z * z) / (math.sqrt(math.pi) * f)


def _scipy_special():
    try:
        from scipy import special
    except ImportError:  # pragma: no cover - scipy is optional
        return None
    return special


def erf_array(x):
    special = _scipy_special()
    if special is not None:
        return special.erf(x).astype(x.dtype, copy=False)
    return erf_without_scipy(x).astype(x.dtype, copy=False)


def erfc_array(x):
    special = _scipy_special()
    if special is not None:
        return special.erfc(x).astype(x.dtype, copy=False)
    x64 = np.asarray(x, dtype=np.float64)
    big = x64 >= _SPLIT
    out = 1.0 - erf_without_scipy(x64)
    if big.any():
        out[big] = erfc_continued_fraction(x64[big])  # keeps the tiny tail accurate
    return out.astype(x.dtype, copy=False)


# Abramowitz & Stegun 7.1.26 (after Hastings 1955): erfc z ~ t (a1 + t (a2 + ... a5 t)) e^(-z^2),
# t = 1 / (1 + p z), z >= 0, absolute error < 1.5e-7 -- about one float32 ulp of Phi.
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


_BLOCK = 65536  # float32 elements per block: every pass of the kernel stays in the L2 cache


def normal_cdf_and_density(x):
    """``(Phi(x), phi(x))``, the standard normal cdf 0.5 (1 + erf(x / sqrt 2)) and density
    e^(-x^2/2) / sqrt(2 pi).

    float32 arrays take A&S 7.1.26 block by block (``_cdf_density_float32``): it shares its
    exponential with the density, computes the lower tail Phi(-|x|) directly (no
    cancellation in 1 + erf), and runs ~4x faster than SciPy's erf. The reference, and
    the path of every other dtype, is ``erf_array``.
    """
    if x.dtype != np.float32:
        return 0.5 * (1.0 + erf_array(x * (1.0 / math.sqrt(2.0)))), \
            np.exp(-0.5 * x * x) * (1.0 / math.sqrt(2.0 * math.pi))
    flat = np.ascontiguousarray(x).reshape(-1)
    cdf, density = np.empty_like(flat), np.empty_like(flat)
    for start in range(0, flat.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        _cdf_density_float32(flat[block], cdf[block], density[block])
    return cdf.reshape(x.shape), density.reshape(x.shape)


def _cdf_density_float32(x, cdf, density):
    """Phi and phi of the float32 vector ``x`` into ``cdf`` and ``density``, in place."""
    f32 = np.float32
    np.multiply(x, x, out=density)
    density *= f32(-0.5)
    np.exp(density, out=density)                       # e^(-x^2/2) = e^(-z^2), z = |x|/sqrt 2
    t = np.abs(x)
    t *= f32(_AS_P / math.sqrt(2.0))
    t += f32(1.0)
    np.reciprocal(t, out=t)                            # t = 1 / (1 + p z)
    np.multiply(t, f32(_AS_A[4]), out=cdf)
    for a in _AS_A[3::-1]:
        cdf += f32(a)
        cdf *= t
    cdf *= density
    cdf *= f32(0.5)                                    # Phi(-|x|) = erfc(z) / 2
    np.subtract(f32(1.0), cdf, out=cdf, where=x >= 0)  # Phi(|x|) = 1 - Phi(-|x|)
    density *= f32(1.0 / math.sqrt(2.0 * math.pi))
