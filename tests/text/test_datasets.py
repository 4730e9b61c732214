"""The bundled corpora and the generated dates task."""

import datetime
import gzip
import importlib.util
import re
from pathlib import Path

import pytest

from minidl.text import dates, en_es_pairs, shakespeare
from minidl.text.datasets import DATA_DIR
from minidl.text.dates import FORMATS, format_date, ordinal

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "data" / "text"  # the offline sources (shared/data/README.md)
SPLITS = ("train", "val", "test")


def test_shakespeare_splits():
    parts = {split: shakespeare(split) for split in SPLITS}
    assert {split: len(text) for split, text in parts.items()} == {
        "train": 932_428, "val": 51_806, "test": 51_770}
    whole = "".join(parts.values())
    assert whole.startswith("HAMLET, PRINCE OF DENMARK\n\nby William Shakespeare\n")
    assert whole.endswith("Let your indulgence set me free.\n")
    # contiguous ranges cut at line starts; normalised whitespace
    assert parts["train"].endswith("\n") and parts["val"].endswith("\n")
    assert "\n\n\n\n" not in whole and not re.search(r"[ \t]\n", whole)
    assert "\r" not in whole and "\t" not in whole
    assert whole.count("\n\n\n") == 7  # eight plays, two blank lines between them
    assert "To be, or not to be" in parts["train"]


def test_en_es_pairs_splits():
    pairs = {split: en_es_pairs(split) for split in SPLITS}
    assert {split: len(p) for split, p in pairs.items()} == {"train": 2096, "val": 200,
                                                             "test": 200}
    english = [{e for e, _ in p} for p in pairs.values()]
    assert sum(len(s) for s in english) == 2496  # one pair per English sentence
    assert not (english[0] & english[1] or english[0] & english[2] or english[1] & english[2])
    for split_pairs in pairs.values():
        for en, es in split_pairs:
            assert 1 <= len(en.split()) <= 12 and es
            assert not re.search(r"[\u00b6\\\u0590-\u05ff]", en + es)  # markup removed
    assert ("In the beginning God created the heaven and the earth.",
            "En el principio crió Dios los cielos y la tierra.") in pairs["train"] + pairs[
        "val"] + pairs["test"]
    en_es_pairs("val").clear()  # callers get copies
    assert len(en_es_pairs("val")) == 200


def test_dates_splits_are_disjoint_valid_and_deterministic():
    splits = {split: dates(split) for split in SPLITS}
    assert {split: len(p) for split, p in splits.items()} == {"train": 20_000, "val": 1_000,
                                                              "test": 1_000}
    sources = [{s for s, _ in p} for p in splits.values()]
    assert sum(len(s) for s in sources) == 22_000
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    for pairs in splits.values():
        for _, target in pairs:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)
            assert 1950 <= datetime.date.fromisoformat(target).year <= 2049
    assert dates("val") == splits["val"] and dates("train", n=50) == splits["train"][:50]
    assert dates("train", n=25_000)[:20_000] == splits["train"]
    assert dates("val", seed=1) != splits["val"]
    all_sources = [s for p in splits.values() for s, _ in p]
    assert any(s.isupper() for s in all_sources) and any(s.islower() for s in all_sources)


def test_dates_formats():
    day = datetime.date(1998, 3, 3)
    written = {format_date(day, template) for template in FORMATS}
    for expected in ("the 3rd of March 1998", "3 March 1998", "March 3, 1998", "03/03/1998",
                     "Tuesday, March 3rd 1998", "3.3.98", "Tue 3 Mar 1998", "03-Mar-1998"):
        assert expected in written
    assert format_date(datetime.date(2004, 6, 1), "{dd}/{mm}/{Y}") == "01/06/2004"  # day first
    assert [ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def test_unknown_split_names_the_choices():
    for loader in (shakespeare, en_es_pairs, dates):
        with pytest.raises(ValueError, match=r"\('train', 'val', 'test'\)"):
            loader("validation")
    with pytest.raises(ValueError, match="has 1000 pairs"):
        dates("test", n=1001)


def test_build_script_reproduces_the_bundled_files(tmp_path):
    # The bundled data is what scripts/build_text_data.py says: rebuilt from the offline
    # sources where they exist, and compared with the shipped files byte for byte.
    if not SOURCE.is_dir():
        pytest.fail(f"the offline sources {SOURCE} are missing (shared/data/README.md)")
    spec = importlib.util.spec_from_file_location("build_text_data",
                                                  ROOT / "scripts" / "build_text_data.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = script.build(SOURCE, tmp_path)
    assert sorted(written) == ["en-es.tsv.gz", "shakespeare-test.txt.gz",
                               "shakespeare-train.txt.gz", "shakespeare-val.txt.gz"]
    for name, text in written.items():
        assert gzip.decompress((DATA_DIR / name).read_bytes()).decode("utf-8") == text
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes()
