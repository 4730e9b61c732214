"""Operators and small blocks for vision models (torchvision's ``ops``): stochastic depth,
``MLP``, ``Permute``."""
from .misc import MLP, Permute  # noqa: F401
from .stochastic_depth import StochasticDepth, stochastic_depth  # noqa: F401

__all__ = ["stochastic_depth", "StochasticDepth", "MLP", "Permute"]
