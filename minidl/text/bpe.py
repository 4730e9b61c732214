"""Byte-pair encoding for sub-word units (Sennrich, Haddow and Birch, 2016).

Training starts from words split into characters, the last character of each word carrying
the end-of-word marker ``</w>`` (``"low"`` -> ``l o w</w>``), and repeatedly merges the most
frequent adjacent pair of symbols, counted over the corpus's word frequencies, into a new
symbol. Ties between equally frequent pairs go to the pair that sorts first (string
comparison of ``(left, right)``), so training is deterministic. Training stops when the
vocabulary (the initial symbols plus one symbol per merge) reaches ``vocab_size`` or when no
pair occurs ``min_frequency`` times.

Encoding applies the learned merges to each word in the order they were learned (the pair of
lowest rank first, as in Sennrich et al.'s reference code). Words are found by
``WordTokenizer(lower=False)`` (words and punctuation), and decoding glues symbols back into
words at each ``</w>`` and joins the words as ``WordTokenizer.detokenize`` does. A character
never seen in training stays a symbol of its own (a ``Vocab`` maps it to ``<unk>``).
"""

import heapq
import os
from collections import Counter, defaultdict

from ._json_file import read_json, write_json
from .tokenizers import WordTokenizer

__all__ = ["BPETokenizer", "END_OF_WORD"]

END_OF_WORD = "</w>"
_WORDS = WordTokenizer(lower=False)


def _initial_symbols(word):
    return tuple(word[:-1]) + (word[-1] + END_OF_WORD,)


def _merge_pair(symbols, left, right):
    """``symbols`` with every non-overlapping ``left right`` (scanned left to right) joined."""
    merged = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
            merged.append(left + right)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return tuple(merged)


def _pairs(symbols):
    return zip(symbols, symbols[1:])


def _check_texts(texts):
    if isinstance(texts, str):
        raise TypeError("BPETokenizer.train(texts=) takes an iterable of str, got one str "
                        "(wrap it in a list)")
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.train(texts=) items must be str, got "
                            f"{type(text).__name__}")
        yield text


class BPETokenizer:
    """A trained byte-pair encoder: ``merges`` in the order learned, ``alphabet`` the
    initial symbols. ``vocab`` lists every symbol the encoder can produce from known
    characters (alphabet first, then one per merge)."""

    def __init__(self, merges, alphabet):
        self.merges = [tuple(pair) for pair in merges]
        for pair in self.merges:
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise ValueError(f"BPETokenizer merges must be pairs of str, got {pair!r}")
        self.alphabet = list(alphabet)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self._cache = {}

    @property
    def vocab(self):
        return self.alphabet + [left + right for left, right in self.merges]

    @classmethod
    def train(cls, texts, vocab_size, min_frequency=2):
        """Learn merges from ``texts`` (an iterable of str) until ``vocab_size`` symbols."""
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"BPETokenizer.train(vocab_size=) must be an int >= 1, got "
                             f"{vocab_size!r}")
        if (isinstance(min_frequency, bool) or not isinstance(min_frequency, int)
                or min_frequency < 1):
            raise ValueError(f"BPETokenizer.train(min_frequency=) must be an int >= 1, got "
                             f"{min_frequency!r}")
        word_counts = Counter()
        for text in _check_texts(texts):
            word_counts.update(_WORDS.tokenize(text))
        words = [_initial_symbols(word) for word in word_counts]
        freqs = list(word_counts.values())
        alphabet = sorted({symbol for symbols in words for symbol in symbols})

        pair_counts = Counter()
        pair_words = defaultdict(set)  # pair -> ids of words that may contain it
        for word_id, symbols in enumerate(words):
            for pair in _pairs(symbols):
                pair_counts[pair] += freqs[word_id]
                pair_words[pair].add(word_id)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)

        merges = []
        while len(alphabet) + len(merges) < vocab_size and heap:
            negative_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -negative_count:
                continue  # a stale heap entry: the count changed since it was pushed
            if -negative_count < min_frequency:
                break
            merges.append(pair)
            changed = set()
            for word_id in sorted(pair_words.pop(pair)):
                old = words[word_id]
                new = _merge_pair(old, *pair)
                if new == old:
                    continue
                words[word_id] = new
                for old_pair in _pairs(old):
                    pair_counts[old_pair] -= freqs[word_id]
                    changed.add(old_pair)
                for new_pair in _pairs(new):
                    pair_counts[new_pair] += freqs[word_id]
                    pair_words[new_pair].add(word_id)
                    changed.add(new_pair)
            for changed_pair in changed:
                count = pair_counts[changed_pair]
                if count > 0:
                    heapq.heappush(heap, (-count, changed_pair))
                else:
                    del pair_counts[changed_pair]
        return cls(merges, alphabet)

    def _encode_word(self, word):
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        symbols = _initial_symbols(word)
        while len(symbols) > 1:
            ranked = [(self.ranks[pair], pair) for pair in _pairs(symbols) if pair in self.ranks]
            if not ranked:
                break
            symbols = _merge_pair(symbols, *min(ranked)[1])
        self._cache[word] = symbols
        return symbols

    def encode(self, text):
        """Sub-word tokens of ``text``; a word's last token ends in ``</w>``."""
        if not isinstance(text, str):
            raise TypeError(f"encode() expects a str, got {type(text).__name__}")
        tokens = []
        for word in _WORDS.tokenize(text):
            tokens.extend(self._encode_word(word))
        return tokens

    def decode(self, tokens):
        """The text of sub-word ``tokens``: symbols joined into words at each ``</w>``."""
        if isinstance(tokens, str):
            raise TypeError("decode() expects a list of str tokens, got a str")
        words, current = [], []
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"decode() expects str tokens, got {token!r}")
            if token.endswith(END_OF_WORD):
                current.append(token[:-len(END_OF_WORD)])
                words.append("".join(current))
                current = []
            else:
                current.append(token)
        if current:
            words.append("".join(current))
        return _WORDS.detokenize(words)

    def save(self, path):
        """Write the merges and alphabet as JSON."""
        write_json(path, "BPETokenizer", {"end_of_word": END_OF_WORD, "alphabet": self.alphabet,
                                          "merges": [list(pair) for pair in self.merges]})

    @classmethod
    def load(cls, path):
        """Read a tokenizer written by ``save``."""
        path = os.fspath(path)
        payload = read_json(path, "BPETokenizer")
        if not isinstance(payload.get("merges"), list) or not isinstance(
                payload.get("alphabet"), list):
            raise ValueError(f"{path!r}: malformed BPETokenizer file (merges / alphabet)")
        return cls(payload["merges"], payload["alphabet"])

    def __len__(self):
        return len(self.alphabet) + len(self.merges)

    def __repr__(self):
        return f"BPETokenizer(vocab_size={len(self)}, merges={len(self.merges)})"
