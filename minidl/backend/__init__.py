"""Layer 0: the array namespace, dtypes, the seeded RNG and device names."""
# backend.xp, the array namespace of DESIGN's layer 0 (cupy would slot in here): a re-export
import numpy as xp  # noqa: F401

from .device import check_device, device  # noqa: F401
from .dtypes import *  # noqa: F401,F403
from .dtypes import as_dtype, category, dtype, get_default_dtype, result_type, set_default_dtype  # noqa: F401
from .memory_format import (  # noqa: F401
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout_order,
    memory_format,
    preserve_format,
)
from .random import Generator, default_generator, manual_seed, rng  # noqa: F401
