"""``Module.to``'s arguments (torch's ``_parse_to``): ``to(dtype)``, ``to(device)``,
``to(device, dtype)``, ``to(tensor)`` and the ``dtype=`` / ``device=`` keywords."""
from ...backend import as_dtype, check_device
from ...tensor import Tensor


def parse_to(args, kwargs):
    """The dtype named by ``to``'s arguments (None when not given), after checking that the
    device is the CPU and the dtype a floating one (a module casts only its floating tensors)."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
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
    if dtype is not None:
        dtype = as_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
    return dtype
