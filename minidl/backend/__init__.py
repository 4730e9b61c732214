"""Layer 0: the array namespace, dtypes, the seeded RNG and device names."""
import numpy as xp  # the array module every kernel uses; cupy would slot in here

from .dtypes import *  # noqa: F401,F403
from .dtypes import dtype, as_dtype, result_type, category, get_default_dtype, set_default_dtype  # noqa: F401
from .random import Generator, default_generator, manual_seed, rng  # noqa: F401


class device:
    """``torch.device``: minidl computes on the CPU only."""

    def __init__(self, type="cpu", index=None):
        type = str(type)
        if type.split(":")[0] != "cpu":
            raise RuntimeError(f"minidl runs on the CPU only; device {type!r} is not available")
        self.type, self.index = "cpu", index

    def __eq__(self, other):
        return str(other) == "cpu" or isinstance(other, device)

    def __hash__(self):
        return hash("cpu")

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"


def check_device(d):
    """Accept None, 'cpu' or a cpu device; refuse anything else with a clear error."""
    if d is not None:
        device(d if isinstance(d, str) else getattr(d, "type", str(d)))
