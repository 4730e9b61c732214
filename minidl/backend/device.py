"""``torch.device``: minidl computes on the CPU only, and says so for any other device."""

__all__ = ["device", "check_device"]


class device:
    """``torch.device('cpu')``, ``device('cpu', 1)`` or ``device('cpu:1')``; any other type
    is refused by name."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type = str(type)
        name, _, number = str(type).partition(":")
        if name != "cpu":
            raise RuntimeError(f"minidl runs on the CPU only; device {str(type)!r} is not "
                               f"available")
        if number and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {type}")
        index = int(number) if number else index
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = "cpu", index

    def __eq__(self, other):
        return isinstance(other, device) and other.index == self.index

    def __hash__(self):
        return hash(("cpu", self.index))

    def __repr__(self):
        if self.index is None:
            return "device(type='cpu')"
        return f"device(type='cpu', index={self.index})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"


def check_device(d):
    """Accept None, 'cpu' or a cpu device; refuse anything else with a clear error."""
    if d is not None and not isinstance(d, device):
        device(d if isinstance(d, str) else getattr(d, "type", str(d)))
