"""Build the corpora bundled in minidl/text/data/ from the offline copies in ../shared/data/text.

    python scripts/build_text_data.py [--source ../shared/data/text] [--out minidl/text/data]

Shakespeare (``shakespeare-{train,val,test}.txt.gz``): the eight plays in ``PLAYS``, in
that order, from Project Gutenberg's text. Case and punctuation are kept; whitespace is
normalised: trailing spaces are stripped, runs of blank lines inside a play become one blank
line (leading indentation of songs and letters is kept), plays are separated by two blank
lines, and the text ends with one newline. The text is split by contiguous character ranges,
90 / 5 / 5 %, each cut moved forward to the next line start.

English-Spanish (``en-es.tsv.gz``, lines ``split TAB english TAB spanish``): the King James
Version / Reina-Valera 1909 verse pairs, cleaned (see ``clean_english`` / ``clean_spanish``),
book titles dropped, kept where the English has at most ``MAX_ENGLISH_WORDS`` words, one pair
per distinct English sentence (the first), then shuffled with ``random.Random(SPLIT_SEED)``
and dealt into ``VAL_SIZE`` validation pairs, ``TEST_SIZE`` test pairs and the rest for
training. No English sentence occurs in two splits.

The gzip files are written with mtime 0, so a rebuild is byte-for-byte identical.
"""

import argparse
import gzip
import random
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "text"
DEFAULT_OUT = ROOT / "minidl" / "text" / "data"

PLAYS = ("hamlet", "macbeth", "romeo_and_juliet", "othello", "lear", "julius_caesar",
         "midsummer_nights_dream", "tempest")
SHAKESPEARE_FRACTIONS = (0.90, 0.05, 0.05)

MAX_ENGLISH_WORDS = 12
SPLIT_SEED = 1909
VAL_SIZE = 200
TEST_SIZE = 200

_MARKUP = re.compile(r"\\[a-z]+\s*")       # SWORD markup such as "\nd " (the divine name)
_HEBREW = re.compile(r"[\u0590-\u05ff]")   # the acrostic letters heading Psalm 119's stanzas
_SPACES = re.compile(r"\s+")
_TERMINAL = re.compile(r"[.,;:?!)']$")
_PUNCTUATION = re.compile(r"[.,;:?!]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def write_gzip(path, text):
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def normalise_play(text):
    """Trailing spaces stripped, blank-line runs collapsed to one, no blank edges."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def line_cut(text, position):
    """The first line start at or after ``position``."""
    if position <= 0 or text[position - 1] == "\n":
        return position
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline + 1


def build_shakespeare(source):
    plays = [gzip.decompress((source / "shakespeare" / f"{name}_gut.txt.gz").read_bytes())
             .decode("utf-8") for name in PLAYS]
    text = "\n\n\n".join(normalise_play(play) for play in plays) + "\n"
    first = line_cut(text, round(len(text) * SHAKESPEARE_FRACTIONS[0]))
    second = line_cut(text, round(len(text) * sum(SHAKESPEARE_FRACTIONS[:2])))
    return {"train": text[:first], "val": text[first:second], "test": text[second:]}


def _squeeze(text):
    return _SPACES.sub(" ", text).strip()


def clean_english(text):
    """SWORD markup, pilcrows and Hebrew letters removed, curly apostrophes made straight."""
    text = _MARKUP.sub("", text)
    text = _HEBREW.sub("", text).replace("\u00b6", "").replace("\u2019", "'")
    return _squeeze(text)


def spanish_word_forms(rows):
    """How often each word form occurs in the Spanish side, all-capital forms excluded."""
    forms = Counter()
    for _, spanish in rows:
        forms.update(word for word in _WORD.findall(spanish) if not word.isupper())
    return forms


def clean_spanish(text, forms, english):
    """Pilcrows removed; a word printed in capitals (RV 1909 opens chapters so: "EN el
    principio", "Y HABLÓ Jehová") takes its most frequent lower-case or capitalised form
    in the corpus (lower case when it has neither, unless the English also prints it in
    capitals: "LAMED", "TEKEL"), capitalised when it starts the verse."""
    text = _squeeze(text.replace("\u00b6", ""))

    def recase(match):
        word = match.group(0)
        if len(word) < 2 or not word.isupper():
            return word
        lower, title = word.lower(), word.capitalize()
        if forms[lower] == 0 and forms[title] == 0 and word in english:
            return word
        chosen = title if forms[title] > forms[lower] else lower
        return chosen.capitalize() if match.start() == 0 else chosen

    return _WORD.sub(recase, text)


def build_pairs(source):
    lines = gzip.decompress((source / "kjv-rv1909-en-es.tsv.gz").read_bytes()).decode("utf-8")
    rows = [tuple(line.split("\t")) for line in lines.split("\n") if line]
    forms = spanish_word_forms(rows)
    seen, pairs = set(), []
    for english, spanish in rows:
        english = clean_english(english)
        if not english or english in seen or len(english.split()) > MAX_ENGLISH_WORDS:
            continue
        if not _TERMINAL.search(english) and not _PUNCTUATION.search(spanish):
            continue  # a book title ("The Book of Ruth" / "Rut"), not a verse
        spanish = clean_spanish(spanish, forms, english)
        if not spanish:
            continue
        seen.add(english)
        pairs.append((english, spanish))
    random.Random(SPLIT_SEED).shuffle(pairs)
    return {"val": pairs[:VAL_SIZE], "test": pairs[VAL_SIZE:VAL_SIZE + TEST_SIZE],
            "train": pairs[VAL_SIZE + TEST_SIZE:]}


def build(source, out):
    """Write every bundled file into ``out``; returns {file name: uncompressed text}."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for split, text in build_shakespeare(source).items():
        written[f"shakespeare-{split}.txt.gz"] = text
    splits = build_pairs(source)
    written["en-es.tsv.gz"] = "".join(f"{split}\t{english}\t{spanish}\n"
                                      for split in ("train", "val", "test")
                                      for english, spanish in splits[split])
    for name, text in written.items():
        write_gzip(out / name, text)
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for name, text in build(args.source, args.out).items():
        print(f"{name}: {len(text):,} characters, {text.count(chr(10)):,} lines, "
              f"{(args.out / name).stat().st_size:,} bytes gzipped")


if __name__ == "__main__":
    main()
