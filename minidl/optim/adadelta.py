"""Adadelta: ``torch.optim.Adadelta``."""
import numpy as np

from .optimizer import Optimizer, check_non_negative, ema_sq_

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler): steps scaled by the ratio of running RMS of updates and gradients.

    s <- rho s + (1 - rho) g^2;   d = sqrt(u + eps) / sqrt(s + eps) * g;
    u <- rho u + (1 - rho) d^2;   p <- p - lr d
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, "square_avg", "acc_delta")
            self._step_counter(state)
            g = self._direction(group, g, x)
            s, u = state["square_avg"]._data, state["acc_delta"]._data
            ema_sq_(s, g, rho)
            delta = np.sqrt(u + eps)
            delta /= np.sqrt(s + eps)
            delta *= g
            ema_sq_(u, delta, rho)
            x -= lr * delta
            self._bump(p)
