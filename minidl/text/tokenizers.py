"""Character and word tokenizers.

A tokenizer turns a string into a list of string tokens and back. ``CharTokenizer`` is
lossless (one token per character, whitespace included). ``WordTokenizer`` splits words
and punctuation with a regular expression and rebuilds text with single spaces, no space
before closing punctuation (``. , ; : ! ? ) ] } %`` and closing curly quotes) and none
after opening brackets, curly quotes and Spanish ``¿ ¡``: the round trip is exact for text
written in that style (every sentence of the bundled English-Spanish corpus). A straight
quote ``"`` cannot tell opening from closing and is always spaced.
"""

import re

__all__ = ["CharTokenizer", "WordTokenizer"]


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"tokenize() expects a str, got {type(text).__name__}")


def _check_tokens(tokens):
    if isinstance(tokens, str):
        raise TypeError("detokenize() expects a list of str tokens, got a str")
    tokens = list(tokens)
    for token in tokens:
        if not isinstance(token, str):
            raise TypeError(
                f"detokenize() expects str tokens, got a {type(token).__name__}: {token!r}")
    return tokens


class CharTokenizer:
    """One token per character (the character-level language model's view of text)."""

    def tokenize(self, text):
        _check_text(text)
        return list(text)

    def detokenize(self, tokens):
        return "".join(_check_tokens(tokens))

    def __repr__(self):
        return "CharTokenizer()"


# A word: letters / digits, with inner apostrophes or hyphens ("don't", "well-known") and
# the apostrophe of a plural possessive ("kings'"); anything else that is not whitespace is
# one punctuation token per character.
_WORD_PATTERN = re.compile(
    r"[^\W_]+(?:['\u2019\-][^\W_]+)*(?:(?<=[sS])['\u2019](?![^\W_]))?|\S", re.UNICODE)
_NO_SPACE_BEFORE = set(".,;:!?)]}%\u2019\u201d\u00bb")
_NO_SPACE_AFTER = set("([{$\u2018\u201c\u00ab\u00bf\u00a1")


class WordTokenizer:
    """Words and punctuation marks as separate tokens.

    ``lower=True`` lower-cases the text first. Words are runs of letters and digits, with
    inner apostrophes and hyphens kept (``"don't"``, ``"well-known"``) and a final
    apostrophe after an s (``"kings'"``); every other non-space character is a token of its
    own.
    """

    def __init__(self, lower=True):
        if not isinstance(lower, bool):
            raise TypeError(f"WordTokenizer(lower=) must be a bool, got {lower!r}")
        self.lower = lower

    def tokenize(self, text):
        _check_text(text)
        if self.lower:
            text = text.lower()
        return _WORD_PATTERN.findall(text)

    def detokenize(self, tokens):
        pieces = []
        previous = None
        for token in _check_tokens(tokens):
            glued = previous is None or token in _NO_SPACE_BEFORE or previous in _NO_SPACE_AFTER
            pieces.append(token if glued else " " + token)
            previous = token
        return "".join(pieces)

    def __repr__(self):
        return f"WordTokenizer(lower={self.lower})"
