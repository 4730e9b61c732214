"""Intra-op parallelism: one kernel's work split into parts that run on a thread pool.

BLAS spreads a single matrix product over the cores; everything else NumPy does -- the
im2col copies, col2im adds, batch norm's passes, pooling, the big elementwise ops -- runs
on one. A kernel whose work splits into independent parts (the images of a convolution's
batch, the channels of a batch norm, the chunks of an elementwise op) hands them to
``run_parts``. NumPy releases the GIL inside its loops and BLAS calls, so T parts run at
once on T cores.

T is the number of threads minidl may use (``torch.set_num_threads``, which is the BLAS
library's thread count, so ``threadpoolctl`` limits apply too). While the parts run, BLAS
is held at one thread, so that T parts doing GEMMs do not start T x T threads; it is set
back afterwards. With one thread, for work too small to be worth a hand-off
(``MIN_PART_ELEMENTS``), or inside a part already, the parts run in order in the calling
thread -- the serial path, which is the same code.
"""
import concurrent.futures
import threading

import numpy as np

from .threads import blas_libraries

# Elementwise work is done in chunks of this many elements, small enough that a chunk's
# temporaries (a mask, an intermediate product) stay in the L2 cache.
CHUNK_ELEMENTS = 2 ** 16
# A part must touch at least this many elements to be worth handing to another thread
# (a hand-off costs ~20-50 us: a few hundred thousand element-operations).
MIN_PART_ELEMENTS = 2 ** 16

_pool = None
_pool_lock = threading.Lock()
_local = threading.local()


def num_threads():
    """Threads a kernel may use now: the BLAS thread count, 1 inside a part."""
    if getattr(_local, "inside", False):
        return 1
    libs = blas_libraries()
    return max(1, int(libs[0].num_threads)) if libs else 1


def parts_for(elements, limit):
    """How many parts to split work of ``elements`` into, at most ``limit`` (e.g. the batch
    size): the thread count, fewer where a part would be below ``MIN_PART_ELEMENTS``."""
    return max(1, min(num_threads(), limit, elements // MIN_PART_ELEMENTS))


def split(n, parts):
    """``parts`` contiguous slices covering range(n), sizes differing by at most one."""
    q, r = divmod(n, parts)
    bounds = [i * q + min(i, r) for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def shares(n, elements):
    """Contiguous slices of range(n), one per thread that will work on them, for work of
    ``elements`` in all; one empty slice when n == 0, so that a kernel still runs once."""
    return split(n, parts_for(elements, n)) or [slice(0, 0)]


def _executor(workers):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = concurrent.futures.ThreadPoolExecutor(workers, "minidl-kernel")
        return _pool


def _run_inside(fn, part):
    _local.inside = True
    try:
        return fn(part)
    finally:
        _local.inside = False


def run_parts(fn, parts):
    """[fn(p) for p in parts], the parts running concurrently (the caller runs the first)
    with BLAS single-threaded meanwhile; exceptions propagate as from the serial loop."""
    parts = list(parts)
    if len(parts) < 2 or getattr(_local, "inside", False):
        return [fn(p) for p in parts]
    libs = blas_libraries()
    saved = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        futures = [_executor(len(parts) - 1).submit(_run_inside, fn, p) for p in parts[1:]]
        try:
            first = _run_inside(fn, parts[0])
        finally:
            concurrent.futures.wait(futures)
        return [first] + [f.result() for f in futures]
    finally:
        for lib, n in zip(libs, saved):
            lib.set_num_threads(n)


def elementwise(fn, *arrays):
    """``fn(*arrays)`` for an elementwise ``fn`` of same-shape arrays, computed one chunk
    of ``CHUNK_ELEMENTS`` at a time (the chunk's temporaries stay in cache) with the chunks
    shared out over the threads; the plain call for small, non-contiguous or broadcast
    operands."""
    a0 = arrays[0]
    if any(type(a) is not np.ndarray for a in arrays) or a0.size < 2 * CHUNK_ELEMENTS or \
            any(a.shape != a0.shape or not a.flags.c_contiguous for a in arrays):
        return fn(*arrays)  # (also the traced arrays of a create_graph backward)
    n = a0.size
    flat = [a.reshape(-1) for a in arrays]
    first = fn(*[f[:CHUNK_ELEMENTS] for f in flat])
    out = np.empty(n, first.dtype)
    out[:CHUNK_ELEMENTS] = first
    starts = range(CHUNK_ELEMENTS, n, CHUNK_ELEMENTS)

    def share(sl):
        for s in starts[sl]:
            e = s + CHUNK_ELEMENTS
            out[s:e] = fn(*[f[s:e] for f in flat])
    run_parts(share, shares(len(starts), n))
    return out.reshape(a0.shape)
