"""Adadelta: ``torch.optim.Adadelta``."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

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
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p, g, x in self._grads(group):
            state = self.state[p]
            if "square_avg" not in state:
                state["step"] = Tensor(np.array(0.0, np.float32))
                state["square_avg"] = Tensor(np.zeros_like(x))
                state["acc_delta"] = Tensor(np.zeros_like(x))
            self._step_counter(state)
            if group["maximize"]:
                g = -g
            if wd != 0:
                g = g + wd * x
            s, u = state["square_avg"]._data, state["acc_delta"]._data
            s *= rho
            s += (1 - rho) * g * g
            delta = np.sqrt(u + eps)
            delta /= np.sqrt(s + eps)
            delta *= g
            u *= rho
            u += (1 - rho) * delta * delta
            x -= lr * delta
            self._bump(p)
