"""Stochastic gradient descent with (Nesterov) momentum: ``torch.optim.SGD``."""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative, required

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with optional momentum, dampening, L2 weight decay and Nesterov momentum.

    g <- grad + wd * p;   b <- g (first step) or mu * b + (1 - dampening) * g;
    g <- g + mu * b (Nesterov) or b;   p <- p - lr * g
    With ``dampening=momentum`` the buffer b is an exponentially weighted average of the
    gradients started at b_1 = g_1 (``minidl.optim.ewma``); ``dampening=0`` scales it by about
    1 / (1 - mu).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr is not required:
            check_non_negative(lr=lr)
        check_non_negative(momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr, mu, damp = group["lr"], group["momentum"], group["dampening"]
        nesterov = group["nesterov"]
        for p, g, x in self._grads(group):
            g = self._direction(group, g, x)
            if mu != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = Tensor(np.array(g, copy=True))
                else:
                    b = buf._data
                    b *= mu
                    b += (1 - damp) * g
                g = g + mu * buf._data if nesterov else buf._data
            x -= lr * g
            self._bump(p)
