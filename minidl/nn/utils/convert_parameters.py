"""Flatten parameters into one vector and back."""
import numpy as np

from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated into one (differentiable) vector."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Point each parameter's data at the matching slice of ``vec`` (reshaped)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        chunk = vec._data.reshape(-1)[pointer:pointer + n]
        if chunk.size != n:
            raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements, "
                               f"fewer than the parameters need")
        p._data = np.ascontiguousarray(chunk).reshape(p.shape).astype(p._data.dtype, copy=False)
        p._vc[0] += 1
        pointer += n
