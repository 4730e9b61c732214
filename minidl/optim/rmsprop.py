"""RMSprop: ``torch.optim.RMSprop``."""
import numpy as np

from .optimizer import Optimizer, check_non_negative, ema_sq_, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum.

    s <- alpha s + (1 - alpha) g^2;   (centered: a <- alpha a + (1 - alpha) g, s~ = s - a^2)
    d = sqrt(s~) + eps;   p <- p - lr g / d   or with momentum  b <- mu b + g / d, p <- p - lr b
    s and a are exponentially weighted averages of g^2 and g without bias correction
    (``EWMA(alpha).value``, see ``minidl.optim.ewma``).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                           alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        mu, centered = group["momentum"], group["centered"]
        buffers = ("square_avg",) + (("momentum_buffer",) if mu > 0 else ()) + \
            (("grad_avg",) if centered else ())
        for p, g, x in self._grads(group):
            state = self._lazy_state(p, *buffers)
            self._step_counter(state)
            g = self._direction(group, g, x)
            s = state["square_avg"]._data
            ema_sq_(s, g, alpha)
            if centered:
                a = state["grad_avg"]._data
                lerp_(a, g, 1 - alpha)
                avg = np.sqrt(s - a * a)
            else:
                avg = np.sqrt(s)
            avg += eps
            if mu > 0:
                buf = state["momentum_buffer"]._data
                buf *= mu
                buf += g / avg
                x -= lr * buf
            else:
                x -= lr * g / avg
            self._bump(p)
