"""Adagrad: ``torch.optim.Adagrad``."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-coordinate steps shrink with the sum of squared gradients.

    lr_t = lr / (1 + (t - 1) lr_decay);   s <- s + g^2;   p <- p - lr_t g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if "sum" not in state:
            state["step"] = Tensor(np.array(0.0, np.float32))
            state["sum"] = Tensor(np.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def _update_group(self, group):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        for p, g, x in self._grads(group):
            state = self._init_state(p, group)
            step = self._step_counter(state)
            g = self._direction(group, g, x)
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]._data
            s += g * g
            std = np.sqrt(s)
            std += eps
            x -= clr * g / std
            self._bump(p)
