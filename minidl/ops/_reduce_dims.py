"""The dims of a reduction, shared by the reduction families (reduce, extrema, vector_norm,
softmax): torch's dim arguments as NumPy axes, and the keepdim round trip of a result saved
for backward."""
import numpy as np

from ._util import normalize_dim, normalize_dims

__all__ = ["reduction_dims", "reduction_axis", "save_reduced", "unsqueeze_reduced"]


def reduction_dims(dim, ndim, fn):
    """NumPy axes for ``dim``: None or an empty list mean every dim (torch's rule)."""
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    dims = normalize_dims(dim, ndim, fn)
    return dims if ndim else ()


def reduction_axis(dim, ndim, fn):
    """The NumPy axis for a single ``dim`` (None for a 0-d tensor, which has no axis)."""
    d = normalize_dim(dim, ndim, fn)
    return d if ndim else None


def save_reduced(ctx, x, y, dims, keepdim):
    """Save ``x`` and the keepdim-shaped result ``y`` for backward; return ``y`` as the op's
    output (the reduced dims dropped unless ``keepdim``)."""
    ctx.save_for_backward(x, y)
    ctx.dims, ctx.keepdim = dims, keepdim
    return y if keepdim else np.squeeze(y, axis=dims)


def unsqueeze_reduced(ctx, g):
    """The output gradient with the reduced dims put back as length 1 (see save_reduced)."""
    return g if ctx.keepdim else np.expand_dims(g, ctx.dims)
