"""Adam and AdamW: ``torch.optim.Adam`` / ``torch.optim.AdamW``."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["Adam", "AdamW", "lerp_"]


def lerp_(a, b, w):
    """a <- a + w (b - a), in place, evaluated as torch does for either size of ``w``."""
    if w < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (1 - w) * (b - a), out=a)


def _check_adam_args(lr, betas, eps, weight_decay):
    check_non_negative(lr=lr, eps=eps)
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    check_non_negative(weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, optional AMSGrad and weight decay.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2   (v_max <- max(v_max, v) for AMSGrad)
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    Weight decay adds ``wd * p`` to g (L2), or with ``decoupled_weight_decay`` scales
    p by ``1 - lr * wd`` first (AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        amsgrad, decoupled = group["amsgrad"], group.get("decoupled_weight_decay", False)
        for p, g, x in self._grads(group):
            state = self.state[p]
            if "exp_avg" not in state:
                state["step"] = Tensor(np.array(0.0, np.float32))
                state["exp_avg"] = Tensor(np.zeros_like(x))
                state["exp_avg_sq"] = Tensor(np.zeros_like(x))
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor(np.zeros_like(x))
            step = self._step_counter(state)
            if group["maximize"]:
                g = -g
            if wd != 0:
                if decoupled:
                    x *= 1 - lr * wd
                else:
                    g = g + wd * x
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            lerp_(m, g, 1 - b1)
            v *= b2
            v += (1 - b2) * g * g
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                v = vmax
            denom = np.sqrt(v)
            denom /= (1 - b2 ** step) ** 0.5
            denom += eps
            x -= (lr / (1 - b1 ** step)) * m / denom
            self._bump(p)



class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p (1 - lr wd) before Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
