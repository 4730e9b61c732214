"""Word vectors with a vocabulary: cosine neighbours, analogies and the analogy test set.

``KeyedVectors`` holds one vector per word (as gensim's class of that name does) and
answers by cosine similarity ``cos(x, y) = x.y / (|x| |y|)``:

- ``most_similar(word or vector)``: the words nearest by cosine (a query word excluded);
- ``analogy(a, b, c)``: 3CosAdd (Mikolov et al. 2013): the words ``d`` maximising
  ``cos(d, a^ - b^ + c^)`` over the unit vectors ``x^ = x / |x|``, the three query words
  excluded, so that ``analogy("king", "man", "woman")`` is ideally ``queen``;
- ``evaluate_analogies(path)``: accuracy on the Google word-analogy question file
  (``: section`` lines, then ``a b c d`` lines meaning "a is to b as c is to d"; each
  question is answered by ``analogy(b, a, c)`` and counts when the answer is ``d``).

``evaluate_analogies`` follows gensim's ``KeyedVectors.evaluate_word_analogies`` defaults:
words are matched case-insensitively (both sides upper-cased; of several case variants of a
word the first, i.e. the most frequent, in vocabulary order stands for it), only the first
``restrict_vocab`` words take part, and a question with a word outside them is skipped and
counted in ``skipped`` (the accuracy is over the questions evaluated).
"""

import gzip
import os
from pathlib import Path

import numpy as np

from .. import _creation
from ..tensor import Tensor
from .vocab import Vocab

__all__ = ["KeyedVectors", "ANALOGY_QUESTIONS"]

ANALOGY_QUESTIONS = Path(__file__).resolve().parent / "data" / "questions-words.txt.gz"
_FORMAT = "minidl.text.KeyedVectors"
_FORMAT_VERSION = 1
_CHUNK = 512  # analogy questions scored per matrix product


def _read_lines(path):
    path = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines()


def read_analogy_questions(path):
    """``[(section, [(a, b, c, d), ...]), ...]`` from a question file (gzipped or not).

    Blank lines and lines without exactly four words are skipped (as gensim does); a
    question before the first ``: section`` line is an error.
    """
    sections = []
    for number, line in enumerate(_read_lines(path), 1):
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if len(words) != 4:
            continue
        if not sections:
            raise ValueError(f"{os.fspath(path)!r} line {number}: a question before the first "
                             f"': section' line")
        sections[-1][1].append(tuple(words))
    return sections


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"KeyedVectors.{name} must be an int >= 1, got {value!r}")
    return int(value)


class KeyedVectors:
    """Vectors ``(V, D)`` with their words.

    Args:
        vectors: a 2-D float Tensor or array, one row per word (copied, as float32).
        words: a ``Vocab`` (its ``itos`` and ``freqs`` are used) or a sequence of ``V``
            distinct str.

    ``kv[word]`` is the word's vector (a NumPy array), ``word in kv`` tests membership,
    ``index_to_key`` / ``key_to_index`` map indices and words.
    """

    def __init__(self, vectors, words):
        if isinstance(vectors, Tensor):
            vectors = vectors.detach().numpy()
        vectors = np.array(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"KeyedVectors(vectors=) must be 2-D (words x dims), got shape "
                             f"{vectors.shape}")
        if isinstance(words, Vocab):
            keys, freqs = list(words.itos), list(words.freqs)
        elif isinstance(words, str):
            raise TypeError("KeyedVectors(words=) must be a Vocab or a sequence of str, got a "
                            "single str")
        else:
            keys, freqs = list(words), None
        if not all(isinstance(key, str) for key in keys):
            raise TypeError("KeyedVectors(words=) must hold str words")
        if len(keys) != len(vectors):
            raise ValueError(f"KeyedVectors: {len(keys)} words for {len(vectors)} vectors")
        self.key_to_index = {key: index for index, key in enumerate(keys)}
        if len(self.key_to_index) != len(keys):
            raise ValueError("KeyedVectors(words=) has duplicate words")
        self.vectors, self.index_to_key, self.freqs = vectors, keys, freqs
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit_vectors = vectors / np.where(norms > 0, norms, 1)

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, word):
        return word in self.key_to_index

    def get_index(self, word):
        """The row of ``word``; ``KeyError`` naming it when it is not in the vocabulary."""
        if not isinstance(word, str):
            raise TypeError(f"KeyedVectors: words are str, got {type(word).__name__}: "
                            f"{word!r}")
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def __getitem__(self, word):
        return self.vectors[self.get_index(word)].copy()

    def _ranked(self, query, exclude, topn):
        """The ``topn`` (word, cosine) pairs nearest to ``query``, rows ``exclude`` left out."""
        norm = np.linalg.norm(query)
        sims = self.unit_vectors @ (query / norm if norm > 0 else query)
        sims[list(exclude)] = -np.inf
        topn = min(topn, len(sims) - len(set(exclude)))
        best = np.argpartition(-sims, topn - 1)[:topn] if topn > 0 else np.zeros(0, int)
        best = best[np.argsort(-sims[best], kind="stable")]
        return [(self.index_to_key[i], float(sims[i])) for i in best]

    def most_similar(self, word, topn=10):
        """The ``topn`` words of highest cosine similarity to ``word`` (a str: the word itself
        is left out) or to a vector, as ``[(word, cosine), ...]``, nearest first."""
        topn = _positive_int("most_similar(topn=)", topn)
        if isinstance(word, str):
            index = self.get_index(word)
            return self._ranked(self.unit_vectors[index], (index,), topn)
        query = word.detach().numpy() if isinstance(word, Tensor) else np.asarray(word)
        if query.shape != (self.vectors.shape[1],):
            raise ValueError(f"most_similar: a query vector must have shape "
                             f"({self.vectors.shape[1]},), got {query.shape}")
        return self._ranked(query.astype(np.float32), (), topn)

    def similarity(self, a, b):
        """Cosine similarity of the vectors of words ``a`` and ``b``."""
        return float(self.unit_vectors[self.get_index(a)] @ self.unit_vectors[self.get_index(b)])

    def analogy(self, a, b, c, topn=1):
        """3CosAdd: the ``topn`` words ``d`` (not ``a``, ``b``, ``c``) of highest
        ``cos(d, a^ - b^ + c^)``, as ``[(word, cosine), ...]``: ``analogy('king', 'man',
        'woman')`` asks "man is to king as woman is to ?"."""
        topn = _positive_int("analogy(topn=)", topn)
        ia, ib, ic = self.get_index(a), self.get_index(b), self.get_index(c)
        u = self.unit_vectors
        return self._ranked(u[ia] - u[ib] + u[ic], (ia, ib, ic), topn)

    def evaluate_analogies(self, path=ANALOGY_QUESTIONS, case_insensitive=True,
                           restrict_vocab=300000):
        """Accuracy on an analogy question file (default: the bundled Google test set).

        Each question ``a b c d`` is answered with the best word of ``analogy(b, a, c)``
        among the first ``restrict_vocab`` words. Returns ``{'accuracy', 'correct',
        'evaluated', 'skipped', 'questions', 'coverage', 'sections'}``: ``skipped`` counts
        the questions with a word outside the vocabulary, ``coverage`` is ``evaluated /
        questions``, ``accuracy`` is ``correct / evaluated`` (None when nothing could be
        evaluated), and ``sections`` lists the same figures per section, in file order.
        """
        restrict = min(_positive_int("evaluate_analogies(restrict_vocab=)", restrict_vocab),
                       len(self))
        keys = self.index_to_key[:restrict]
        if case_insensitive:
            keys = [key.upper() for key in keys]
        lookup = {}
        for index, key in enumerate(keys):
            lookup.setdefault(key, index)       # the first (most frequent) variant stands
        group = np.array([lookup[key] for key in keys])  # rows sharing a key share a group
        unit = self.unit_vectors[:restrict]
        sections, totals = [], np.zeros(4, dtype=np.int64)  # correct, evaluated, skipped, all
        for name, questions in read_analogy_questions(path):
            ids = [[lookup.get(w.upper() if case_insensitive else w) for w in q]
                   for q in questions]
            ids = np.array([q for q in ids if None not in q], dtype=np.int64).reshape(-1, 4)
            correct = 0
            for start in range(0, len(ids), _CHUNK):
                a, b, c, d = ids[start:start + _CHUNK].T
                sims = (unit[b] - unit[a] + unit[c]) @ unit.T
                for word in (a, b, c):
                    sims[group[None, :] == group[word][:, None]] = -np.inf
                correct += int(np.count_nonzero(group[sims.argmax(1)] == group[d]))
            counts = np.array([correct, len(ids), len(questions) - len(ids), len(questions)])
            totals += counts
            sections.append({"section": name, **_figures(counts)})
        return {**_figures(totals), "sections": sections}

    def save(self, path):
        """Write vectors and words (and counts, when known) to one safetensors file."""
        from ..serialization import save
        payload = {"format": _FORMAT, "version": _FORMAT_VERSION,
                   "vectors": _creation.from_numpy(self.vectors),
                   "index_to_key": list(self.index_to_key)}
        if self.freqs is not None:
            payload["freqs"] = list(self.freqs)
        save(payload, path)

    @classmethod
    def load(cls, path):
        """Read a file written by ``save``."""
        from ..serialization import load
        payload = load(path)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(path)!r} is not a minidl KeyedVectors file")
        if payload.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{os.fspath(path)!r}: unsupported KeyedVectors file version "
                             f"{payload.get('version')!r}")
        kv = cls(payload["vectors"], payload["index_to_key"])
        kv.freqs = payload.get("freqs")
        return kv

    def __repr__(self):
        return f"KeyedVectors({len(self)} words, {self.vectors.shape[1]} dims)"


def _figures(counts):
    correct, evaluated, skipped, questions = (int(n) for n in counts)
    return {"accuracy": correct / evaluated if evaluated else None, "correct": correct,
            "evaluated": evaluated, "skipped": skipped, "questions": questions,
            "coverage": evaluated / questions if questions else None}
