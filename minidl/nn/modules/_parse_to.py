"""``Module.to``'s arguments (torch's ``_parse_to``): ``to(dtype)``, ``to(device)``,
``to(device, dtype)``, ``to(tensor)`` and the ``dtype=`` / ``device=`` / ``non_blocking=`` /
``memory_format=`` keywords."""
import numpy as np

from ...backend import as_dtype, check_device, layout_order
from ...tensor import Tensor


def to(module, *args, dtype=None, device=None, non_blocking=False, memory_format=None):
    """``module.to(...)``: the device must be the CPU (``non_blocking`` then has no effect,
    as in torch); a dtype, which must be a floating one, casts the floating parameters and
    buffers; ``memory_format=contiguous_format`` makes the 4-D and 5-D ones C-contiguous,
    as torch does (the channels-last formats are refused)."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or type(a).__name__ == "device":
            device = a
        elif isinstance(a, bool) or a is None:
            continue
        else:
            dtype = a
    check_device(device)
    order = None if memory_format is None else layout_order("to", memory_format)
    if dtype is not None:
        dtype = as_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        module._cast_floats(dtype)
    if order == "C":
        module._apply(lambda a: np.ascontiguousarray(a) if a.ndim in (4, 5) else a)
    return module
