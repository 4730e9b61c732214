"""torch's loss ``reduction`` ('none' | 'mean' | 'sum'), shared by the loss kernels: the
argument (with the deprecated size_average / reduce), the forward reduction and the
matching scale of the upstream gradient in backward."""
import numpy as np

__all__ = ["resolve_reduction", "reduce_loss", "grad_scale"]


def resolve_reduction(size_average, reduce, reduction):
    """torch's reduction argument, honouring the deprecated size_average / reduce."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "mean" if size_average and reduce else ("sum" if reduce else "none")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(loss, reduction, denom=None):
    """Reduce an elementwise loss array; ``denom`` overrides the count used by 'mean'."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    n = loss.size if denom is None else denom
    return np.asarray(total / n if n else total * np.nan, dtype=loss.dtype)


def grad_scale(g, reduction, shape, denom=None):
    """The upstream gradient per loss element: g itself, or g (/ count) broadcast to shape."""
    if reduction == "none":
        return g
    n = int(np.prod(shape)) if denom is None else denom
    return np.broadcast_to(g / n if reduction == "mean" else g, shape)
