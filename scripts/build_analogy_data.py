"""Extract the word-analogy questions (``questions-words.txt``) from gensim's wheel.

The file is the word-relation test set of Mikolov et al. 2013 (19,544 questions in 14
sections), from the original word2vec distribution; gensim ships it unchanged as test data
(``gensim/test/test_data/questions-words.txt``). This script reads it out of the wheel,
checks it (SHA-256, section and question counts) and writes
``minidl/text/data/questions-words.txt.gz`` (gzip level 9, no name or time stamp in the
header, so the output is byte-for-byte reproducible). See
``minidl/text/data/README-questions-words.md`` for its origin and licence.

Usage::

    pip download gensim==4.4.0 --no-deps -d /tmp/gs
    python scripts/build_analogy_data.py [--wheel /tmp/gs/gensim-4.4.0-...whl]
"""
import argparse
import glob
import gzip
import hashlib
import io
import os
import sys
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "minidl", "text", "data", "questions-words.txt.gz")
MEMBER = "gensim/test/test_data/questions-words.txt"
SHA256 = "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36"
SECTIONS, QUESTIONS = 14, 19544


def extract(wheel):
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{wheel}: {MEMBER} has SHA-256 {digest}, expected {SHA256}")
    lines = data.decode("utf-8").splitlines()
    sections = sum(line.startswith(": ") for line in lines)
    questions = sum(len(line.split()) == 4 for line in lines if not line.startswith(":"))
    if (sections, questions) != (SECTIONS, QUESTIONS):
        raise SystemExit(f"expected {SECTIONS} sections and {QUESTIONS} questions, found "
                         f"{sections} and {questions}")
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="the gensim wheel (default: /tmp/gs/gensim-*.whl)")
    args = parser.parse_args(argv)
    wheel = args.wheel or next(iter(sorted(glob.glob("/tmp/gs/gensim-*.whl"))), None)
    if wheel is None:
        raise SystemExit("no gensim wheel found: run 'pip download gensim==4.4.0 --no-deps "
                         "-d /tmp/gs' or pass --wheel")
    data = extract(wheel)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9,
                       mtime=0) as handle:
        handle.write(data)
    with open(OUT, "wb") as handle:
        handle.write(buffer.getvalue())
    print(f"wrote {OUT} ({len(buffer.getvalue()):,} bytes; {QUESTIONS:,} questions in "
          f"{SECTIONS} sections, from {os.path.basename(wheel)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
