"""The corpora bundled with minidl (read from ``minidl/text/data``, never downloaded).

- ``shakespeare(split)``: eight plays of Shakespeare (Project Gutenberg, public domain),
  1,036,004 characters with case and punctuation, split by contiguous character ranges
  90 / 5 / 5 % into ``"train"`` (932,428), ``"val"`` (51,806) and ``"test"`` (51,770).
- ``en_es_pairs(split)``: 2,496 short English-Spanish sentence pairs (King James Version /
  Reina-Valera 1909 verses with at most 12 English words; public domain), a seeded split of
  2,096 / 200 / 200 with no English sentence in two splits.
- ``dates(split, n, seed)``: the generated date-to-ISO task (``minidl.text.dates``),
  20,000 / 1,000 / 1,000 pairs.

``scripts/build_text_data.py`` builds the bundled files from the offline sources and
documents every cleaning step; ``minidl/text/data/README.md`` states sources and licences.
"""

import gzip
from functools import lru_cache
from pathlib import Path

from .dates import DATES_SPLIT_SIZES, dates

__all__ = ["shakespeare", "en_es_pairs", "dates", "DATES_SPLIT_SIZES", "DATA_DIR", "SPLITS"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLITS = ("train", "val", "test")


def _check_split(function, split):
    if split not in SPLITS:
        raise ValueError(f"{function}(split=) must be one of {SPLITS}, got {split!r}")


def _read_gzip_text(name):
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"bundled corpus file {path} is missing (rebuild it with "
                                "scripts/build_text_data.py)")
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def shakespeare(split="train"):
    """The Shakespeare text of ``split`` as one str (see the module docstring)."""
    _check_split("shakespeare", split)
    return _read_gzip_text(f"shakespeare-{split}.txt.gz")


@lru_cache(maxsize=1)
def _en_es_rows():
    rows = {split: [] for split in SPLITS}
    for line_number, line in enumerate(_read_gzip_text("en-es.tsv.gz").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] not in rows:
            raise ValueError(f"en-es.tsv.gz line {line_number} is malformed: {line!r}")
        rows[fields[0]].append((fields[1], fields[2]))
    return {split: tuple(pairs) for split, pairs in rows.items()}


def en_es_pairs(split="train"):
    """``(english, spanish)`` sentence pairs of ``split`` (a new list each call)."""
    _check_split("en_es_pairs", split)
    return list(_en_es_rows()[split])
