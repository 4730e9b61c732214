"""``torch.accelerator``: the device-agnostic probe current torch scripts use
(``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else
"cpu"``). minidl has no accelerator; the functions that need one raise, as torch's do."""

__all__ = ["is_available", "device_count", "current_accelerator", "current_device_index",
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
