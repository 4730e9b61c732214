"""``torch.mps`` on a machine without Apple's Metal backend: probes answer "none", seeding
has nothing to seed, and the calls that need the device raise, as in torch."""

__all__ = ["is_available", "device_count", "manual_seed", "seed", "synchronize",
           "empty_cache", "current_allocated_memory", "driver_allocated_memory"]


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    int(seed)


def seed():
    return None


def _no_mps(*args, **kwargs):
    raise RuntimeError("Cannot use the MPS backend: minidl runs on the CPU only")


synchronize = empty_cache = current_allocated_memory = driver_allocated_memory = _no_mps
