"""Matrix products: matmul (all of torch's cases), mm/bmm/mv/dot, addmm, linear, bilinear.

Every product goes to BLAS through ``np.matmul``. For C = A @ B the gradients are
dA = dC @ B^T and dB = A^T @ dC, summed over broadcast batch dims. ``einsum`` and
``tensordot`` live in ``einsum``.
"""
import math

import numpy as np

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._util import check_tensor, unbroadcast
from .arithmetic import add, mul
from .einsum import einsum, tensordot

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "addmm", "addmv",
           "baddbmm", "addbmm"]


def _mat(shape):
    return "x".join(str(s) for s in shape)


# -------------------------------------------------------------------- matmul
class MatMul(Kernel):
    """C = A @ B (1-D operands act as a row / column); dA = dC @ B^T, dB = A^T @ dC."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim == 2:  # fold the batch into rows: one GEMM
            return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[-1:])
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return g * b, g * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 else g
        g2 = g2[..., None] if b.ndim == 1 else g2
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # sum over the batch inside one GEMM
                gb = a2.reshape(-1, a2.shape[-1]).T @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


def _check_same_dtype(a, b, fn="matmul"):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{fn}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")


def _check_matmul_shapes(sa, sb):
    """torch's messages for every way two shapes can fail to multiply."""
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    if len(sa) == 1 and len(sb) == 1:
        if sa[0] != sb[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src "
                               f"[{sb[0]}] to have the same number of elements, but got {sa[0]} "
                               f"and {sb[0]} elements respectively")
        return
    if len(sb) == 1:
        if sa[-1] != sb[0]:
            rows = math.prod(sa[:-1])
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec "
                               f"({sb[0]})")
        return
    if len(sb) == 2:
        if sa[-1] != sb[0]:
            rows = math.prod(sa[:-1])
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and "
                               f"{_mat(sb)})")
        return
    ea = (1,) + tuple(sa) if len(sa) == 1 else tuple(sa)
    batch_a, batch_b = ea[:-2], tuple(sb[:-2])
    n = max(len(batch_a), len(batch_b))
    pa = (1,) * (n - len(batch_a)) + batch_a
    pb = (1,) * (n - len(batch_b)) + batch_b
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")
    if ea[-1] != sb[-2]:
        batch = tuple(max(x, y) for x, y in zip(pa, pb))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{math.prod(batch)}, {ea[-1]}] but got: [{math.prod(batch)}, "
                           f"{sb[-2]}].")


@takes_out(dtypes="exact")
def matmul(input, other):
    """torch.matmul: dot, matrix-vector, matrix-matrix or broadcast batched product."""
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other")
    _check_same_dtype(input, other)
    _check_matmul_shapes(input.shape, other.shape)
    return MatMul.apply(input, other)


def rmatmul(self, other):
    if not isinstance(other, Tensor):
        other = Tensor(np.asarray(other))
    return matmul(other, self)


@takes_out(dtypes="exact")
def mm(input, mat2):
    """Matrix product of two 2-D tensors."""
    check_tensor(input, "mm")
    check_tensor(mat2, "mm", "mat2")
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {input.ndim}-D tensor)")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {mat2.ndim}-D tensor)")
    return matmul(input, mat2)


@takes_out(dtypes="exact")
def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    check_tensor(input, "bmm")
    check_tensor(mat2, "bmm", "mat2")
    if input.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}D)")
    if mat2.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (got {mat2.ndim}D)")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    return matmul(input, mat2)


@takes_out(dtypes="exact")
def mv(input, vec):
    """Matrix (n, m) times vector (m,)."""
    check_tensor(input, "mv")
    check_tensor(vec, "mv", "vec")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


@takes_out(dtypes="exact")
def dot(input, tensor):
    """Inner product of two 1-D tensors of the same length and dtype."""
    check_tensor(input, "dot")
    check_tensor(tensor, "dot", "tensor")
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           f"tensors")
    if input._data.dtype != tensor._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype.name} and {tensor.dtype.name}")
    return matmul(input, tensor)


@takes_out(dtypes="exact")
def inner(input, other):
    """Sum over the last dims of both (a scalar operand just multiplies)."""
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@takes_out
def outer(input, vec2):
    """Outer product of two 1-D tensors (dtypes promote)."""
    check_tensor(input, "outer")
    check_tensor(vec2, "outer", "vec2")
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return mul(input.reshape(-1, 1), vec2)


ger = outer


def _scaled_sum(input, product, beta, alpha):
    """beta * input + alpha * product; beta = 0 ignores input (NaNs in it do not propagate)."""
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return product
    return add(product, input if beta == 1 else mul(input, beta))


def _check_expand(shape, target):
    if len(shape) > len(target):
        raise RuntimeError(f"expand: the number of sizes provided ({len(target)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(target) - len(shape)
    for i, s in enumerate(shape):
        if s != 1 and s != target[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({target[lead + i]}) must match "
                               f"the existing size ({s}) at non-singleton dimension {lead + i}.  "
                               f"Target sizes: {list(target)}.  Tensor sizes: {list(shape)}")


@takes_out(dtypes="exact")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), ``input`` broadcast to the product's shape."""
    check_tensor(input, "addmm")
    prod = mm(mat1, mat2)
    _check_expand(input.shape, prod.shape)
    return _scaled_sum(input, prod, beta, alpha)


@takes_out(dtypes="exact")
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    check_tensor(input, "addmv")
    prod = mv(mat, vec)
    _check_expand(input.shape, prod.shape)
    return _scaled_sum(input, prod, beta, alpha)


@takes_out(dtypes="exact")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    check_tensor(input, "baddbmm")
    prod = bmm(batch1, batch2)
    _check_expand(input.shape, prod.shape)
    return _scaled_sum(input, prod, beta, alpha)


@takes_out(dtypes="exact", warn_resize=False)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    check_tensor(input, "addbmm")
    prod = bmm(batch1, batch2).sum(0)
    _check_expand(input.shape, prod.shape)
    return _scaled_sum(input, prod, beta, alpha)


# -------------------------------------------------------------------- linear
class Linear(Kernel):
    """y = x W^T + b; dx = dy W, dW = dy^T x, db = dy summed over all leading dims."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        y = x.reshape(-1, x.shape[-1]) @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        g2 = g.reshape(-1, w.shape[0])
        gx = (g2 @ w).reshape(x.shape) if ctx.needs_input_grad[0] else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if ctx.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
        return gx, gw, gb


def linear(input, weight, bias=None):
    """input @ weight.T + bias for input (*, in_features) and weight (out_features, in_features)."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if weight.ndim != 2 or input.ndim == 0:
        out = matmul(input, weight.t())
        return out if bias is None else add(out, bias)
    _check_same_dtype(input, weight)
    if input.shape[-1] != weight.shape[1]:
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} "
                           f"and {weight.shape[1]}x{weight.shape[0]})")
    if bias is None:
        return Linear.apply(input, weight)
    check_tensor(bias, "linear", "bias")
    _check_same_dtype(input, bias)
    if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] not in (weight.shape[0], 1)):
        _check_expand(bias.shape, tuple(input.shape[:-1]) + (weight.shape[0],))
    if bias.shape != (weight.shape[0],):
        return add(Linear.apply(input, weight), bias)
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T W_k x2 + b_k for weight (out, in1, in2)."""
    check_tensor(input1, "bilinear", "input1")
    check_tensor(input2, "bilinear", "input2")
    check_tensor(weight, "bilinear", "weight")
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or \
            input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: expected input1 (*, in1), input2 (*, in2) with the same "
                           f"leading dims and weight (out, in1, in2), got input1 "
                           f"{list(input1.shape)}, input2 {list(input2.shape)}, weight "
                           f"{list(weight.shape)}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    return out if bias is None else add(out, bias)
