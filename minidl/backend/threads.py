"""``set_num_threads`` / ``get_num_threads``: the threads minidl's kernels may use.

minidl's heavy lifting (every matmul, convolution GEMM and linear layer) happens inside the
BLAS library NumPy links (OpenBLAS, MKL, ...), so torch's intra-op thread count maps onto
that library's thread pool, set through ``threadpoolctl``. Everything else is single-threaded
NumPy -- except the memory-bound kernels that ``parallel.run_parts`` spreads over the same
number of threads. On a busy machine one thread is often faster than several spinning ones.
"""
import numbers

from threadpoolctl import ThreadpoolController

__all__ = ["set_num_threads", "get_num_threads"]

_controller = None


def _blas():
    global _controller
    if _controller is None:
        import numpy  # noqa: F401  (loads the BLAS library the controller must see)
        _controller = ThreadpoolController()
    return _controller.select(user_api="blas")


def blas_libraries():
    """The BLAS libraries' controllers (threadpoolctl), whose thread counts are read and set
    in about a microsecond -- cheap enough for every kernel call."""
    return _blas().lib_controllers


def set_num_threads(n):
    """Use ``n`` threads for BLAS calls from now on (``torch.set_num_threads``)."""
    global _controller
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    _controller = None  # look again: a BLAS library may have been loaded since (torch's, ...)
    _blas().limit(limits=int(n))


def get_num_threads():
    """The number of threads BLAS calls use (``torch.get_num_threads``)."""
    libs = blas_libraries()
    return int(libs[0].num_threads) if libs else 1
