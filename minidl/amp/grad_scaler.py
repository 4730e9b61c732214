"""``torch.amp.GradScaler``: dynamic loss scaling for mixed-precision training.

Multiply the loss by a scale ``S`` before ``backward`` so small float16 gradients do not
underflow; before the step divide the gradients by ``S`` (``unscale_``) and skip the step if
any is inf / NaN. ``update`` then backs off (``S *= backoff_factor``) after an overflow, or
grows (``S *= growth_factor``) after ``growth_interval`` clean steps (Micikevicius et al.,
"Mixed Precision Training", 2018). On the CPU it runs exactly as torch's does; for a device
minidl lacks (torch's default, ``"cuda"``) it disables itself with torch's warning, and is
then a pass-through: ``scale`` returns the loss, ``step`` calls ``optimizer.step()``.
"""
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend.device import DEVICE_TYPES
from ..tensor import Tensor

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        if not isinstance(device, str) or device not in DEVICE_TYPES:
            raise ValueError(f"GradScaler(): device must be a device type name such as "
                             f"'cpu' or 'cuda', got {device!r}")
        if device != "cpu" and enabled:
            warnings.warn(f"torch.{device}.amp.GradScaler is enabled, but "
                          f"{device.upper()} is not available.  Disabling.", stacklevel=2)
            enabled = False
        self._device, self._enabled = device, enabled
        if enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            if int(growth_interval) != growth_interval or growth_interval <= 0:
                raise ValueError("growth_interval must be a positive integer")
        self._scale = np.float32(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval, self._growth_tracker = int(growth_interval), 0
        self._per_optimizer = {}   # id(optimizer) -> [stage, found_inf]

    # -------------------------------------------------------------------- scaling
    def scale(self, outputs):
        """``outputs * S`` for a tensor or any nesting of lists / tuples of tensors."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * Tensor(np.array(self._scale, dtype=np.float32))
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), [_READY, False])

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by ``S`` in place and record an inf / NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state[0] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state[0] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = np.float32(1.0 / np.float64(self._scale))
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        g = p.grad._data
                        if g.dtype == np.float16:
                            raise ValueError("Attempting to unscale FP16 gradients.")
                        found = found or not np.isfinite(g).all()
                        np.multiply(g, inv, out=g, casting="unsafe")
        state[:] = [_UNSCALED, found]

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and step, unless a gradient was inf / NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        state = self._state(optimizer)
        if state[0] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state[0] == _READY:
            self.unscale_(optimizer)
        result = None if state[1] else optimizer.step(*args, **kwargs)
        state[0] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Set ``S`` to ``new_scale``, or back off / grow it from this iteration's checks."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or not new_scale.is_floating_point():
                    raise ValueError("new_scale should be a float or a 1-element "
                                     "floating-point tensor")
                new_scale = new_scale.item()
            self._scale = np.float32(new_scale)
        else:
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found for _, found in self._per_optimizer.values()):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    self._scale = grown if np.isfinite(grown) else self._scale
                    self._growth_tracker = 0
        self._per_optimizer = {}

    # ------------------------------------------------------------------ accessors
    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return float(self._scale) if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = np.float32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
