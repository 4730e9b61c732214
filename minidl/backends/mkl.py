"""``torch.backends.mkl``: minidl does not call mkl itself (NumPy's BLAS does its work)."""


def is_available():
    return False
