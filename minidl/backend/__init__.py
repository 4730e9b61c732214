"""Layer 0: the array namespace, dtypes, the seeded RNG and device names."""
import numpy as xp  # the array module every kernel uses; cupy would slot in here

from .dtypes import *  # noqa: F401,F403
from .dtypes import dtype, as_dtype, result_type, category, get_default_dtype, set_default_dtype  # noqa: F401
from .random import Generator, default_generator, manual_seed, rng  # noqa: F401
from .device import device, check_device  # noqa: F401
from .memory_format import (memory_format, preserve_format, contiguous_format,  # noqa: F401
                            channels_last, channels_last_3d, layout_order)
