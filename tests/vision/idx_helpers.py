"""Writing small IDX files (MNIST's format) for tests, independently of minidl's reader."""
import gzip
import os
import struct

import numpy as np

# the offline copies of the official files (see ../shared/data/README.md)
SHARED_DATA = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                            "shared", "data"))

CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
         np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array):
    a = np.asarray(array)
    header = bytes([0, 0, CODES[a.dtype], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file (gzip when ``path`` ends in .gz or ``compress``)."""
    data = idx_bytes(array)
    if compress or (compress is None and str(path).endswith(".gz")):
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_mnist_folder(folder, n_train=60, n_test=30, compress=True, seed=0, size=28):
    """A folder with the four MNIST files holding random images and balanced labels."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    suffix = ".gz" if compress else ""
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{suffix}"), images)
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{suffix}"), labels)
        arrays[prefix] = (images, labels)
    return arrays


def bundled_subset_folder(folder, name, n_train, n_test):
    """A folder of MNIST-format files holding the first ``n_train`` images of the bundled
    set ``name`` as its training split and the next ``n_test`` as its test split (real
    images, small enough for a training run in a test)."""
    from minidl.vision.datasets import load_bundled
    images, labels = (t.numpy() for t in load_bundled(name))
    os.makedirs(folder, exist_ok=True)
    for prefix, part in (("train", slice(0, n_train)),
                         ("t10k", slice(n_train, n_train + n_test))):
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), images[part])
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"),
                  labels[part].astype(np.uint8))
    return folder
