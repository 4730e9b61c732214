"""``torch.backends.openmp``: minidl does not call openmp itself (NumPy's BLAS does its work)."""


def is_available():
    return False
