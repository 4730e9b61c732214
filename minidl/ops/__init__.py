"""Layer 3: differentiable kernels by family.

Each family module defines its kernels, the torch-level functions (its ``__all__``), the
Tensor methods it provides (``TENSOR_METHODS``) and the names it adds to
``minidl.nn.functional`` (``FUNCTIONAL``). Importing this package installs the methods.
"""
from ..tensor import Tensor
from . import (cast, conversion, arithmetic, powers, unary, trigonometric, rounding, binary,
               compare, fill, operators,
               reduce, extrema, vector_norm, view, permute, expand, join, split,
               flip_roll, diagonal, indexing, masked, gather, sort, pad, embedding,
               linalg, einsum, conv, pool,
               adaptive_pool, norm, cross_entropy, loss, activation, rectifiers, smooth_activations,
               shrink, dropout, interpolate, pixel_shuffle, unpool)
from . import conv_reference  # noqa: F401  (the textbook conv2d the fast one is tested against)

FAMILIES = (cast, conversion, arithmetic, powers, unary, trigonometric, rounding, binary,
            compare, fill, operators,
            reduce, extrema, vector_norm, view, permute, expand, join, split,
            flip_roll, diagonal, indexing, masked, gather, sort, pad, embedding,
            linalg, einsum, conv, pool,
            adaptive_pool, norm, cross_entropy, loss, activation, rectifiers, smooth_activations,
            shrink, dropout, interpolate, pixel_shuffle, unpool)

for _family in FAMILIES:
    for _name, _fn in _family.TENSOR_METHODS.items():
        setattr(Tensor, _name, _fn)
