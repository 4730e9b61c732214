"""``torch.memory_format``: the element orders torch can give a new tensor.

A minidl tensor is a NumPy array, which may have any strides (a transposed view, a slice).
``contiguous_format`` is row-major (C) order; ``preserve_format`` keeps the input's order of
dimensions in memory (NumPy's ``order='K'``: exactly its strides when it is dense, else the
same dimension order, packed), as torch does. minidl does not produce the channels-last
layouts: ``channels_last`` and ``channels_last_3d`` are refused by name.
"""

__all__ = ["memory_format", "preserve_format", "contiguous_format", "channels_last",
           "channels_last_3d", "layout_order"]


class memory_format:
    """One of torch's memory formats, named as torch prints it."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"minidl.{self.name}"

    def __reduce__(self):
        return self.name


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def layout_order(fn, memory_format, default=preserve_format):
    """The NumPy ``order`` (``'K'`` or ``'C'``) that ``memory_format`` asks of ``fn``'s result
    (None means ``default``); the channels-last formats are refused."""
    if memory_format is None:
        memory_format = default
    if memory_format is preserve_format:
        return "K"
    if memory_format is contiguous_format:
        return "C"
    if memory_format in (channels_last, channels_last_3d):
        raise RuntimeError(f"{fn}(): memory_format={memory_format!r} is not supported: minidl "
                           f"does not lay tensors out channels-last (use contiguous_format or "
                           f"preserve_format)")
    raise TypeError(f"{fn}(): argument 'memory_format' must be a minidl.memory_format, not "
                    f"{type(memory_format).__name__}")
