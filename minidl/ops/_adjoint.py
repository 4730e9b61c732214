"""The backward of a kernel linear in its input, recordable for higher-order gradients.

For y = A x with A fixed by the kernel's attributes (pooling, padding, resampling: A may
depend on x only piecewise-constantly, as max pooling's argmax) the backward is
dx = A^T dy, and the gradient of that map is A again. ``linear_backward`` runs the
kernel's NumPy A^T on arrays (the training path, untouched); given a traced gradient
(``create_graph``) it records the same A^T as one node whose own backward applies A --
the forward kernel, itself differentiable -- instead of tracing A^T's scatter loops.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor

__all__ = ["linear_backward"]


class LinearAdjoint(Function):
    """dx = A^T g for a fixed linear map A; d(dx)/dg applied to gg is A gg."""

    @staticmethod
    def forward(ctx, g, *, transpose, apply):
        ctx.apply = apply
        return Tensor(transpose(g._data))

    @staticmethod
    def backward(ctx, gg):
        return ctx.apply(gg)


def linear_backward(g, transpose, apply):
    """``transpose(g)`` -- the array A^T g -- for an ndarray ``g``; for a traced one, the same
    values as a recorded node whose gradient is ``apply`` (a Tensor -> A Tensor, in
    differentiable minidl ops)."""
    if isinstance(g, np.ndarray):
        return transpose(g)
    return LinearAdjoint.apply(g.t, transpose=transpose, apply=apply)
