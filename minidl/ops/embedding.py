"""Index encodings: one_hot, and the embedding lookup (rows of a weight; scatter-add backward)."""
import numpy as np

from ..autograd import Kernel
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._shape_args import INDEX_DTYPES
from ._util import check_tensor
from .indexing import put_at

__all__ = []


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (-1: max + 1)."""
    check_tensor(tensor, "one_hot", "tensor")
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor((a[..., None] == np.arange(num_classes)).astype(np.int64))


class Embedding(Kernel):
    """y = W[idx]; dW[i] = sum of the dy rows with idx == i (none for ``padding_idx``)."""

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.w_shape = idx, w.shape
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return np.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        idx = ctx.idx.reshape(-1)
        rows = g.reshape(idx.size, -1)
        if ctx.scale:
            counts = np.bincount(idx, minlength=ctx.w_shape[0])
            rows = rows / counts[idx, None].astype(g.dtype)
        gw = put_at(np.zeros(ctx.w_shape, g.dtype), (None, (idx,)), rows, True)
        if ctx.padding_idx is not None:
            gw = put_at(gw, ((ctx.padding_idx,), None), 0, False)
        return gw


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the indices ``input`` (gradients of repeats accumulate);
    ``sparse=True`` is refused: minidl has no sparse tensors."""
    if sparse:
        raise NotImplementedError("embedding(sparse=True) is not supported: minidl has no "
                                  "sparse tensors, so the weight's gradient is dense")
    check_tensor(input, "embedding")
    check_tensor(weight, "embedding", "weight")
    if input._data.dtype not in INDEX_DTYPES:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a tensor of shape {list(weight.shape)}")
    v = weight.shape[0]
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        raise IndexError(f"index out of range in self (embedding: indices must be in [0, {v}), "
                         f"got {idx.min() if idx.min() < 0 else idx.max()})")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= v
    if max_norm is not None:
        rows = np.unique(idx)
        w = weight._data
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        with no_grad():
            w[rows] *= scale[:, None].astype(w.dtype)
            weight._vc[0] += 1
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
