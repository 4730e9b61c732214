"""``torch.cuda`` as a CPU-only build of torch has it: the probes answer "no CUDA", the
functions that need a device raise, the ones that are harmless without one do nothing.

Scripts ask ``torch.cuda.is_available()`` before choosing a device, seed every device with
``torch.cuda.manual_seed_all``, and report ``torch.cuda.memory_allocated()``; all of that runs.
"""
from ..backend.device import device as _device
from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "is_bf16_supported", "get_arch_list",
           "synchronize", "current_device", "set_device", "get_device_name",
           "get_device_capability", "get_device_properties", "get_rng_state", "set_rng_state",
           "initial_seed", "init", "mem_get_info", "reset_peak_memory_stats"]

NOT_COMPILED = "Torch not compiled with CUDA enabled (minidl runs on the CPU only)"


def _no_cuda(*args, **kwargs):
    raise AssertionError(NOT_COMPILED)


def _check(device):
    """A ``device=`` argument must name a CUDA device (or be None / an index)."""
    if device is None or (isinstance(device, int) and not isinstance(device, bool)):
        return
    d = device if isinstance(device, _device) else _device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def get_arch_list():
    return []


def manual_seed(seed):
    """Seeds every CUDA device, of which there are none: nothing to do, as in torch."""
    int(seed)


manual_seed_all = manual_seed


def seed():
    return None


seed_all = seed


def empty_cache():
    return None


def memory_allocated(device=None):
    """Bytes held by tensors on ``device``: none without CUDA."""
    _check(device)
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated

synchronize = current_device = set_device = get_device_name = _no_cuda
get_device_capability = get_device_properties = get_rng_state = set_rng_state = _no_cuda
initial_seed = init = mem_get_info = reset_peak_memory_stats = _no_cuda
