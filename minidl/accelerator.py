"""``torch.accelerator``: the device-agnostic probe current torch scripts use
(``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else
"cpu"``). minidl has no accelerator; the functions that need one raise, as torch's do."""

import sys

from .backend.device import device as _device

__all__ = ["get_device_module", "is_available", "device_count", "current_accelerator",
           "current_device_index",
           "set_device_index", "synchronize", "empty_cache", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats"]


def is_available():
    return False


def device_count():
    return 0


def current_accelerator(check_available=False):
    """The accelerator's device type, or None when there is none (always, in minidl)."""
    return None


def _none_available(*args, **kwargs):
    raise RuntimeError("Cannot access accelerator device when none is available "
                       "(minidl runs on the CPU only).")


current_device_index = set_device_index = synchronize = empty_cache = _none_available
memory_allocated = max_memory_allocated = memory_reserved = _none_available
max_memory_reserved = reset_peak_memory_stats = _none_available


def get_device_module(device=None):
    """``torch.get_device_module``: the module of a device type (``minidl.cuda`` for
    'cuda'); with no argument the current accelerator's, which in minidl is ``minidl.cpu``."""
    kind = "cpu" if device is None else (device if isinstance(device, _device)
                                         else _device(device)).type
    module = sys.modules.get(f"minidl.{kind}")
    if module is None:
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered "
                           f"as 'minidl.{kind}'.")
    return module
