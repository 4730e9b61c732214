"""``torch.device``: minidl computes on the CPU only.

Any of torch's device types can be *named* (scripts build ``torch.device("cuda")`` before
asking whether CUDA is there); putting a tensor or a module on a device other than the CPU
is refused, at that moment, by :func:`check_device`.
"""

__all__ = ["device", "check_device", "get_default_device", "set_default_device"]

# torch's device types, in the order of its "Expected one of ..." message.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class device:
    """``torch.device('cpu')``, ``device('cuda', 1)`` or ``device('cuda:1')``."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type = str(type)
        if isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(f"minidl runs on the CPU only; device ordinal {type} names an "
                               f"accelerator, which is not available")
        name, _, number = str(type).partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at "
                               f"start of device string: {type}")
        if number and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {type}")
        if number and not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{type}'")
        index = int(number) if number else index
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index

    def __eq__(self, other):
        return (isinstance(other, device) and other.type == self.type
                and other.index == self.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


def check_device(d):
    """Accept None, 'cpu' or a cpu device; refuse any other device with a clear error."""
    if d is None:
        return
    target = d if isinstance(d, device) else device(d if isinstance(d, (str, int)) else
                                                    getattr(d, "type", str(d)))
    if target.type != "cpu":
        raise RuntimeError(f"minidl runs on the CPU only; device {str(target)!r} is not "
                           f"available (minidl.cuda.is_available() and "
                           f"minidl.accelerator.is_available() are False)")


def get_default_device():
    """The device factories use when none is given: always the CPU here."""
    return device("cpu")


def set_default_device(device):
    """Only the CPU (or None, which restores it) is accepted; any other device is refused."""
    check_device(device)
