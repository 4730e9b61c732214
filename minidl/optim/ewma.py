"""Exponentially weighted moving averages with bias correction.

    v_0 = 0,   v_t = beta * v_{t-1} + (1 - beta) * x_t,   corrected: v_t / (1 - beta^t)

v_t averages roughly the last 1 / (1 - beta) values. Because v_0 = 0 the early v_t are too
small; dividing by 1 - beta^t (the sum of the weights) removes that bias. Adam's first and
second moments (``exp_avg``, ``exp_avg_sq``) are such averages of g and g^2, and its update
uses their corrected values; RMSprop's ``square_avg`` is the uncorrected average of g^2. SGD's
momentum buffer with ``dampening=momentum`` is this average of g started at v_1 = g_1 instead
of 0 (so it has no bias to correct); with ``dampening=0`` it is about 1 / (1 - momentum)
times larger.
"""
import numpy as np

__all__ = ["EWMA", "ewma"]


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating)) \
            or not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be a number in [0, 1), got {beta!r}")
    return float(beta)


def _as_array(x):
    if hasattr(x, "detach"):  # a minidl Tensor
        x = x.detach().numpy()
    out = np.asarray(x)
    if out.dtype.kind not in "biuf":
        raise TypeError(f"EWMA values must be numbers or arrays, got {type(x).__name__}")
    return out.astype(np.float64)


class EWMA:
    """A running exponentially weighted average of numbers or same-shape arrays.

    ``update(x)`` adds x_t and returns the new ``value`` (v_t); ``corrected`` is
    v_t / (1 - beta^t); ``t`` counts the updates. ``state_dict()`` / ``load_state_dict()``
    save and restore it (e.g. inside a training checkpoint).
    """

    def __init__(self, beta=0.9):
        self.beta = _check_beta(beta)
        self.t = 0
        self._v = None

    def update(self, x):
        x = _as_array(x)
        if self._v is None:
            self._v = np.zeros_like(x)
        elif x.shape != self._v.shape:
            raise ValueError(f"EWMA.update(): got shape {x.shape}, but the average has shape "
                             f"{self._v.shape}")
        self._v = self.beta * self._v + (1.0 - self.beta) * x
        self.t += 1
        return self.value

    def _require_values(self, what):
        if self._v is None:
            raise RuntimeError(f"EWMA.{what} is undefined before the first update()")

    @property
    def value(self):
        """v_t, the (biased) average; a float for scalar inputs."""
        self._require_values("value")
        return self._v.item() if self._v.ndim == 0 else self._v.copy()

    @property
    def corrected(self):
        """v_t / (1 - beta^t), the bias-corrected average."""
        self._require_values("corrected")
        out = self._v / (1.0 - self.beta ** self.t)
        return out.item() if out.ndim == 0 else out

    def state_dict(self):
        return {"beta": self.beta, "t": self.t,
                "v": None if self._v is None else self._v.copy()}

    def load_state_dict(self, state_dict):
        self.beta = _check_beta(state_dict["beta"])
        self.t = int(state_dict["t"])
        v = state_dict["v"]
        self._v = None if v is None else _as_array(v)

    def __repr__(self):
        return f"EWMA(beta={self.beta}, t={self.t})"


def ewma(values, beta=0.9, bias_correction=True):
    """The average after each of ``values`` (a sequence of numbers or same-shape arrays):
    an array of shape ``(len(values), *shape)``, bias-corrected unless ``bias_correction``
    is False."""
    avg = EWMA(beta)
    out = []
    for x in values:
        avg.update(x)
        out.append(avg.corrected if bias_correction else avg.value)
    if not out:
        return np.zeros((0,))
    return np.asarray(out, dtype=np.float64)
