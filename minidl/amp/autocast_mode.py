"""``torch.autocast``: a region in which some ops run in a lower precision.

minidl's CPU autocast **keeps float32**: torch's CPU default, bfloat16, is a dtype minidl does
not have, so inside ``autocast("cpu")`` every op computes in float32 (the same numbers as
outside), and ``get_autocast_dtype("cpu")`` says so. Asking for float16 or bfloat16
explicitly for an enabled CPU region is refused rather than ignored. For a device minidl
lacks (``"cuda"``, ...) the region is disabled with torch's warning, as on a CPU-only build
of torch.
"""
import functools
import warnings

from ..backend import as_dtype, float32
from ..backend.device import DEVICE_TYPES

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype"]

_enabled = []  # the stack of active CPU regions' enabled flags


def is_autocast_available(device_type):
    """Whether autocast can run on ``device_type``: only the CPU, in minidl."""
    return device_type == "cpu"


def is_autocast_enabled(device_type=None):
    """Whether an enabled CPU autocast region is active (``device_type`` None means CUDA,
    as in torch, which minidl does not have)."""
    if device_type is None or device_type != "cpu":
        return False
    return bool(_enabled) and _enabled[-1]


def get_autocast_dtype(device_type):
    """The dtype autocast computes in: float32 on minidl's CPU."""
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(f"unknown device type {device_type!r}")
    return float32


class autocast:
    """``with torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None):``;
    also a decorator. See the module docstring for what minidl does in the region."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        if device_type not in DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast(): enabled must be a bool, got {enabled!r}")
        self.device = device_type
        self.fast_dtype = float32 if dtype is None else as_dtype(dtype)
        if cache_enabled is not None and not isinstance(cache_enabled, bool):
            raise TypeError(f"autocast(): cache_enabled must be None or a bool, got "
                            f"{cache_enabled!r}")
        if device_type != "cpu":
            if enabled:
                warnings.warn(f"User provided device_type of '{device_type}', but "
                              f"{device_type.upper()} is not available. Disabling autocast "
                              f"(minidl runs on the CPU only).", stacklevel=2)
            enabled = False
        elif self.fast_dtype == float32:
            if dtype is not None and enabled:
                warnings.warn("In CPU autocast, but the target dtype is not supported. "
                              "Disabling autocast.", stacklevel=2)
                enabled = False
        elif enabled:
            raise NotImplementedError(
                f"autocast('cpu', dtype={self.fast_dtype}): minidl's CPU autocast keeps "
                f"float32 and does not cast to lower precisions; leave dtype unset")
        self._enabled = enabled

    def __enter__(self):
        if self.device == "cpu":
            _enabled.append(self._enabled)
        return self

    def __exit__(self, *exc):
        if self.device == "cpu":
            _enabled.pop()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper
