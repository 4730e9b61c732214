"""The dims of a reduction, shared by the reduction families (reduce, extrema, vector_norm,
softmax): torch's dim arguments as NumPy axes, and the keepdim round trip of a result saved
for backward."""
import numpy as np

from ._util import normalize_dim, normalize_dims

__all__ = ["reduction_dims", "reduction_axis", "save_reduced", "saved_reduced",
           "unsqueeze_reduced"]


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
    """Return the keepdim-shaped result ``y`` as the op's output (the reduced dims dropped
    unless ``keepdim``), saving ``x`` and that output for backward (saved as the output
    itself, a recorded backward gets it connected to the graph)."""
    out = np.asarray(y if keepdim else np.squeeze(y, axis=dims))  # a 0-d result stays an array
    ctx.save_for_backward(x, out)
    ctx.dims, ctx.keepdim = dims, keepdim
    return out


def saved_reduced(ctx):
    """(x, y) saved by ``save_reduced``, ``y`` with the reduced dims back as length 1."""
    x, out = ctx.saved_tensors
    return x, unsqueeze_reduced(ctx, out)


def unsqueeze_reduced(ctx, g):
    """The output gradient with the reduced dims put back as length 1 (see save_reduced)."""
    return g if ctx.keepdim else np.expand_dims(g, ctx.dims)
