"""The optional compiled kernel set: a few loops compiled by numba where NumPy needs many
passes over memory for what one loop does (max pooling's running argmax, batch norm's
statistics and affine map).

Each compiled kernel is a plain Python loop next to the NumPy code it replaces, which stays
the readable reference: it runs when numba is not installed (``pip install "minidl[fast]"``
adds it), when ``MINIDL_COMPILED=0`` is set, or for inputs a kernel does not cover, and the
tests hold the two against each other. Kernels are compiled on first use and cached on
disk; they release the GIL, so ``backend.parallel`` runs them on several threads at once.
"""
import os

try:
    import numba
except ImportError:  # the NumPy reference path serves everything
    numba = None

ENABLED = numba is not None and os.environ.get("MINIDL_COMPILED", "1") != "0"


def enabled():
    """Whether the compiled kernels are used (numba installed, not switched off)."""
    return ENABLED


# Sums may be reassociated (so that a loop's running sum vectorises into several partial
# sums, as NumPy's pairwise sums do) and a * b + c fused; no other fast-math licence (NaN
# and infinity keep their IEEE meaning).
FASTMATH = {"reassoc", "contract"}


def kernel(fn):
    """``fn`` compiled (no Python objects, GIL released, cached on disk); ``fn`` itself
    without numba, where ``enabled()`` keeps it from being called."""
    if numba is None:
        return fn
    return numba.njit(nogil=True, cache=True, fastmath=FASTMATH)(fn)
