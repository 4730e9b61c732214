"""RAdam: ``torch.optim.RAdam``."""
import numpy as np

from .adam import _check_adam_args, adam_moments_
from .optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Rectified Adam (Liu et al.): plain momentum SGD while the variance estimate is
    unreliable (rho_t <= 5), then Adam scaled by the rectification term r_t.

    rho_inf = 2 / (1 - b2) - 1;   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, "exp_avg", "exp_avg_sq")
            step = self._step_counter(state)
            g = self._direction(group, g, x, group["decoupled_weight_decay"])
            m, v = adam_moments_(state, g, b1, b2)
            bc2 = 1 - b2 ** step
            m_hat = m / (1 - b1 ** step)
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * step * (b2 ** step) / bc2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf /
                        ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = np.sqrt(v)
                adaptive += eps
                x -= m_hat * lr * (bc2 ** 0.5 / adaptive) * rect
            else:
                x -= m_hat * lr
            self._bump(p)
