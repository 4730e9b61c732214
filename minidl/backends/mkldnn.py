"""``torch.backends.mkldnn``: minidl does not call mkldnn itself (NumPy's BLAS does its work)."""

enabled = True


def is_available():
    return False
