"""Reading the IDX format of MNIST-style data sets (LeCun's ``*-idx3-ubyte`` files).

Layout (all integers big-endian)::

    bytes 0-1   0x00 0x00                 magic: two zero bytes
    byte  2     type code                 0x08 uint8, 0x09 int8, 0x0B int16,
                                          0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim                      number of dimensions
    4 * ndim    sizes                     one uint32 per dimension
    rest        data                      prod(sizes) values of the type, C order

Files may be gzip-compressed (``.gz``); the header is checked strictly against the file
length so that a truncated or mislabelled file fails with a message, not a garbage array.
"""
import gzip
import os

import numpy as np

__all__ = ["read_idx", "parse_idx", "IDX_TYPES"]

IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw, name="<bytes>", ndim=None):
    """Decode the bytes of one IDX file into a NumPy array (native byte order).

    ``ndim``, when given, is the number of dimensions the caller expects (3 for images, 1
    for labels); a file with another count is refused.
    """
    if len(raw) < 4:
        raise RuntimeError(f"{name}: not an IDX file (only {len(raw)} bytes, the header needs 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise RuntimeError(f"{name}: not an IDX file (magic number starts with bytes "
                           f"0x{raw[0]:02x} 0x{raw[1]:02x}, expected 0x00 0x00)")
    code, nd = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise RuntimeError(f"{name}: unknown IDX type code 0x{code:02x} (expected one of "
                           f"{', '.join(f'0x{c:02x}' for c in IDX_TYPES)})")
    if ndim is not None and nd != ndim:
        raise RuntimeError(f"{name}: IDX header says {nd} dimensions, expected {ndim}")
    header = 4 + 4 * nd
    if len(raw) < header:
        raise RuntimeError(f"{name}: truncated IDX header ({len(raw)} bytes, the header of a "
                           f"{nd}-d array needs {header})")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=nd, offset=4))
    dtype = IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise RuntimeError(f"{name}: IDX header announces shape {shape} of {dtype.name} "
                           f"({expected} bytes in all) but the file has {len(raw)} bytes")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path, ndim=None):
    """Read an IDX file (gzip-compressed when the name ends in ``.gz``) into a NumPy array."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise RuntimeError(f"{path}: cannot read ({e})") from e
    return parse_idx(raw, path, ndim)
