"""``torch.cpu``: the device-module API for the CPU, the one device minidl has."""
from .backend.device import check_device

__all__ = ["is_available", "device_count", "current_device", "is_initialized", "synchronize",
           "set_device"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def is_initialized():
    return True


def synchronize(device=None):
    """minidl computes synchronously: every result is ready when its call returns."""
    check_device(device)


def set_device(device):
    """Only the CPU can be selected, and it already is (torch's ``set_device`` is a no-op)."""
    check_device(device)
