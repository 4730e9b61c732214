"""NAdam: ``torch.optim.NAdam``."""
import numpy as np

from ..tensor import Tensor
from .adam import _check_adam_args, adam_moments_
from .optimizer import Optimizer, check_non_negative

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with the momentum-decay schedule
    mu_t = b1 (1 - 0.5 * 0.96^(t psi)).

    p <- p - lr (1 - mu_t) / (1 - prod mu) g / d - lr mu_{t+1} / (1 - prod mu * mu_{t+1}) m / d,
    d = sqrt(v / (1 - b2^t)) + eps
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        check_non_negative(momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        psi = group["momentum_decay"]
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, "exp_avg", "exp_avg_sq")
            state.setdefault("mu_product", Tensor(np.array(1.0, np.float32)))
            step = self._step_counter(state)
            g = self._direction(group, g, x, group["decoupled_weight_decay"])
            mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            prod = state["mu_product"]._data
            prod *= mu  # a float32 running product, as torch keeps it
            mu_product = float(prod)
            m, v = adam_moments_(state, g, b1, b2)
            denom = np.sqrt(v / (1 - b2 ** step))
            denom += eps
            x += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
            x += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m / denom
            self._bump(p)
