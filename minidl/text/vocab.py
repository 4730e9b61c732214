"""A vocabulary: the two-way map between string tokens and integer indices.

Indices are assigned as d2l's and torchtext's vocabularies do: the special tokens first, in
the order given, then the corpus tokens by descending frequency. Tokens of equal frequency
keep the order in which they were **first seen** (a stable sort; for a ``Counter`` that is
its insertion order). Tokens seen fewer than ``min_freq`` times are dropped, and
``max_size`` caps the total size, specials included.
"""

import os
from collections import Counter

from ._json_file import read_json, write_json

__all__ = ["Vocab"]


def _count_tokens(tokens):
    """A Counter of ``tokens``: an iterable of str, of lists of str, or a Counter."""
    if isinstance(tokens, str):
        raise TypeError("Vocab(tokens=) must be an iterable of tokens or of token lists, "
                        "got a single str (wrap it in a list, or tokenize it first)")
    if isinstance(tokens, Counter):
        counts = tokens
    else:
        try:
            items = iter(tokens)
        except TypeError:
            raise TypeError("Vocab(tokens=) must be an iterable of tokens, of token lists "
                            f"or a collections.Counter, got {type(tokens).__name__}") from None
        counts = Counter()
        for item in items:
            if isinstance(item, str):
                counts[item] += 1
            elif isinstance(item, (list, tuple)):
                counts.update(item)
            else:
                raise TypeError("Vocab(tokens=) items must be str tokens or lists of them, "
                                f"got {type(item).__name__}: {item!r}")
    for token, count in counts.items():
        if not isinstance(token, str):
            raise TypeError(f"Vocab tokens must be str, got {type(token).__name__}: {token!r}")
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"Vocab token counts must be non-negative ints, got {token!r}: "
                             f"{count!r}")
    return counts


class Vocab:
    """Token <-> index map built from a corpus.

    Args:
        tokens: an iterable of str tokens, an iterable of token lists (one level of
            nesting: one list per sentence), or a ``collections.Counter`` of tokens.
        min_freq: drop tokens seen fewer times than this.
        specials: tokens placed first, in this order, whatever their counts. The names
            ``"<unk>"``, ``"<pad>"``, ``"<bos>"``, ``"<eos>"`` give ``unk_index``,
            ``pad_index``, ``bos_index``, ``eos_index`` (``None`` for an absent one).
        max_size: the largest vocabulary, specials included (``None``: no limit).

    ``v[token]`` maps an unknown token to ``unk_index``; without ``"<unk>"`` it raises
    ``KeyError``. ``v.freqs[i]`` is the corpus count of ``v.itos[i]`` (0 for specials).
    """

    def __init__(self, tokens=(), min_freq=1, specials=("<unk>", "<pad>", "<bos>", "<eos>"),
                 max_size=None):
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"Vocab(min_freq=) must be an int >= 1, got {min_freq!r}")
        if isinstance(specials, str):
            raise TypeError(f"Vocab(specials=) must be a sequence of str, got the str "
                            f"{specials!r} (write ({specials!r},))")
        specials = tuple(specials)
        for special in specials:
            if not isinstance(special, str):
                raise TypeError(f"Vocab(specials=) must hold str, got {special!r}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"Vocab(specials=) has duplicates: {specials!r}")
        if max_size is not None:
            if isinstance(max_size, bool) or not isinstance(max_size, int):
                raise TypeError(f"Vocab(max_size=) must be an int or None, got {max_size!r}")
            if max_size < len(specials):
                raise ValueError(f"Vocab(max_size={max_size}) is smaller than the "
                                 f"{len(specials)} specials")
        counts = _count_tokens(tokens)
        special_set = set(specials)
        # sorted() is stable: ties keep first-seen (insertion) order.
        ranked = sorted((item for item in counts.items()
                         if item[1] >= min_freq and item[0] not in special_set),
                        key=lambda item: -item[1])
        if max_size is not None:
            ranked = ranked[:max_size - len(specials)]
        self._set(list(specials) + [token for token, _ in ranked],
                  [0] * len(specials) + [count for _, count in ranked], specials)

    def _set(self, itos, freqs, specials):
        self.itos = itos
        self.freqs = freqs
        self.specials = tuple(specials)
        self.stoi = {token: index for index, token in enumerate(itos)}
        if len(self.stoi) != len(itos):
            raise ValueError("Vocab tokens must be unique")
        self.unk_index = self.stoi.get("<unk>")
        self.pad_index = self.stoi.get("<pad>")
        self.bos_index = self.stoi.get("<bos>")
        self.eos_index = self.stoi.get("<eos>")

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __iter__(self):
        return iter(self.itos)

    def __getitem__(self, token):
        if not isinstance(token, str):
            raise TypeError(f"Vocab[] takes a str token, got {type(token).__name__}: "
                            f"{token!r} (use lookup_tokens for indices)")
        index = self.stoi.get(token, self.unk_index)
        if index is None:
            raise KeyError(f"token {token!r} is not in the vocabulary and it has no '<unk>'")
        return index

    def __call__(self, tokens):
        return self.lookup_indices(tokens)

    def lookup_indices(self, tokens):
        """The index of every token (unknown tokens -> ``unk_index``)."""
        if isinstance(tokens, str):
            raise TypeError("lookup_indices() takes a list of tokens, got a str "
                            "(use v[token] for one token)")
        return [self[token] for token in tokens]

    def lookup_tokens(self, indices):
        """The token of every index; accepts ints, NumPy integers or a 1-D int Tensor."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, int):
            raise TypeError("lookup_tokens() takes a sequence of indices, got an int "
                            "(use v.itos[i] for one index)")
        tokens = []
        for index in indices:
            if hasattr(index, "item"):
                index = index.item()
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"lookup_tokens() indices must be ints, got {index!r}")
            if not 0 <= index < len(self.itos):
                raise IndexError(f"index {index} is out of range for a vocabulary of "
                                 f"{len(self.itos)} tokens")
            tokens.append(self.itos[index])
        return tokens

    def to_dict(self):
        """The vocabulary as JSON-able data (tokens, counts, specials): ``from_dict`` reads it
        back (``save`` writes it to a file; a checkpoint's config can hold it)."""
        return {"specials": list(self.specials), "itos": list(self.itos),
                "freqs": list(self.freqs)}

    @classmethod
    def from_dict(cls, payload, source="the vocabulary"):
        """The vocabulary ``to_dict`` gave; malformed data is refused naming ``source``."""
        itos, freqs = payload.get("itos"), payload.get("freqs")
        specials = payload.get("specials")
        if (not isinstance(itos, list) or not isinstance(freqs, list)
                or not isinstance(specials, list) or len(itos) != len(freqs)
                or not all(isinstance(token, str) for token in itos)
                or itos[:len(specials)] != specials):
            raise ValueError(f"{source}: malformed Vocab data (itos / freqs / specials)")
        vocab = cls.__new__(cls)
        vocab._set(itos, freqs, specials)
        return vocab

    def save(self, path):
        """Write the vocabulary as JSON (tokens, counts, specials)."""
        write_json(path, "Vocab", self.to_dict())

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``."""
        path = os.fspath(path)
        return cls.from_dict(read_json(path, "Vocab"), repr(path))

    def __eq__(self, other):
        if not isinstance(other, Vocab):
            return NotImplemented
        return (self.itos, self.freqs, self.specials) == (other.itos, other.freqs,
                                                          other.specials)

    __hash__ = None

    def __repr__(self):
        shown = ", ".join(repr(token) for token in self.itos[:8])
        more = ", ..." if len(self.itos) > 8 else ""
        return f"Vocab(size={len(self.itos)}, itos=[{shown}{more}])"
