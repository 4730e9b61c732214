"""Seeded random number generation: one default generator, torch.Generator's API."""
import numpy as np

from .device import check_device
from .device import device as _device

__all__ = ["Generator", "default_generator", "manual_seed", "initial_seed", "seed",
           "get_rng_state", "set_rng_state"]


class Generator:
    """A random stream (``torch.Generator``) backed by NumPy's PCG64."""

    def __init__(self, device="cpu"):
        check_device(device)
        self.device = _device(device)
        self._seed = 67280421310721
        self.np = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self.np = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.np.bit_generator.state

    def set_state(self, state):
        self.np.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator so that runs are reproducible; returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None):
    """The NumPy generator behind ``generator`` (or the default one)."""
    return (generator or default_generator).np
