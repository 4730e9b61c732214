"""Adamax: ``torch.optim.Adamax``."""
import numpy as np

from .adam import _check_adam_args
from .optimizer import Optimizer, lerp_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment.

    m <- b1 m + (1 - b1) g;   u <- max(b2 u, |g| + eps);   p <- p - lr / (1 - b1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, "exp_avg", "exp_inf")
            step = self._step_counter(state)
            g = self._direction(group, g, x)
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            lerp_(m, g, 1 - b1)
            u *= b2
            np.maximum(u, np.abs(g) + eps, out=u)
            x -= (lr / (1 - b1 ** step)) * m / u
            self._bump(p)
