"""Adam and AdamW: ``torch.optim.Adam`` / ``torch.optim.AdamW``."""
import numpy as np

from .optimizer import Optimizer, check_non_negative, ema_sq_, lerp_

__all__ = ["Adam", "AdamW"]


def _check_adam_args(lr, betas, eps, weight_decay):
    check_non_negative(lr=lr, eps=eps)
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    check_non_negative(weight_decay=weight_decay)


def adam_moments_(state, g, b1, b2):
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2 (in place); returns (m, v)."""
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    lerp_(m, g, 1 - b1)
    ema_sq_(v, g, b2)
    return m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, optional AMSGrad and weight decay.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2   (v_max <- max(v_max, v) for AMSGrad)
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    Weight decay adds ``wd * p`` to g (L2), or with ``decoupled_weight_decay`` scales
    p by ``1 - lr * wd`` first (AdamW). m and v are exponentially weighted averages of g and
    g^2, and m / (1 - b1^t), v / (1 - b2^t) their bias-corrected values: see
    ``minidl.optim.ewma`` (``EWMA(b1)`` fed the gradients gives ``corrected == m / (1 - b1^t)``).
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
        lr, (b1, b2), eps, amsgrad = group["lr"], group["betas"], group["eps"], group["amsgrad"]
        buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, *buffers)
            step = self._step_counter(state)
            g = self._direction(group, g, x, group.get("decoupled_weight_decay", False))
            m, v = adam_moments_(state, g, b1, b2)
            if amsgrad:
                vmax = state["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                v = vmax
            update = np.sqrt(v, out=np.empty_like(v))  # one scratch: sqrt(v) / sqrt(1 -
            update /= (1 - b2 ** step) ** 0.5    # b2^t) + eps, then m over it times the
            update += eps                        # corrected step size
            np.divide(m, update, out=update)
            update *= lr / (1 - b1 ** step)
            x -= update
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
