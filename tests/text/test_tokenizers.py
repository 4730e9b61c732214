"""Character, word and byte-pair tokenizers."""

import json

import pytest

from minidl.text import BPETokenizer, CharTokenizer, WordTokenizer, en_es_pairs, shakespeare
from minidl.text.bpe import END_OF_WORD


def test_char_tokenizer_round_trip():
    tokenizer = CharTokenizer()
    text = shakespeare("val")[:5000]
    tokens = tokenizer.tokenize(text)
    assert len(tokens) == len(text) and all(len(token) == 1 for token in tokens)
    assert tokenizer.detokenize(tokens) == text
    assert tokenizer.tokenize("") == []


def test_word_tokenizer_splits_words_and_punctuation():
    tokenizer = WordTokenizer()
    assert tokenizer.tokenize("Don't stop, well-known (fine)!") == [
        "don't", "stop", ",", "well-known", "(", "fine", ")", "!"]
    assert WordTokenizer(lower=False).tokenize("Hello, World.") == ["Hello", ",", "World", "."]
    assert tokenizer.tokenize("¿Quién es? Él.") == ["¿", "quién", "es", "?", "él", "."]
    assert tokenizer.detokenize(["hello", ",", "world", "!"]) == "hello, world!"
    assert tokenizer.detokenize(["(", "a", ")", "b"]) == "(a) b"


def test_word_tokenizer_round_trip_on_real_sentences():
    tokenizer = WordTokenizer(lower=False)
    for split in ("train", "val", "test"):
        for english, spanish in en_es_pairs(split):
            for text in (english, spanish):
                assert tokenizer.detokenize(tokenizer.tokenize(text)) == text
    assert tokenizer.tokenize("in Moses' seat, 'Tis") == ["in", "Moses'", "seat", ",", "'",
                                                          "Tis"]


def test_tokenizer_errors():
    with pytest.raises(TypeError, match="expects a str"):
        CharTokenizer().tokenize(["a"])
    with pytest.raises(TypeError, match="got a str"):
        WordTokenizer().detokenize("a b")
    with pytest.raises(TypeError, match="lower"):
        WordTokenizer(lower="yes")


def test_bpe_merges_on_sennrich_example():
    # Sennrich et al. (2016)'s example vocabulary: low x5, lower x2, newest x6, widest x3
    texts = ["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3]
    bpe = BPETokenizer.train(texts, vocab_size=10_000)
    # (e, s) and (s, t</w>) both occur 9 times: the tie goes to the pair that sorts first
    assert bpe.merges[:4] == [("e", "s"), ("es", "t</w>"), ("l", "o"), ("e", "w")]
    assert bpe.alphabet == sorted(["d", "e", "i", "l", "n", "o", "r</w>", "s", "t</w>", "w",
                                   "w</w>"])
    assert bpe.encode("lowest") == ["low", "est</w>"]
    assert bpe.encode("newest") == ["newest</w>"]
    assert bpe.encode("low") == ["low</w>"]
    # training stops once no pair is seen min_frequency times
    assert all(bpe.merges) and len(bpe) < 10_000
    assert len(BPETokenizer.train(texts, vocab_size=len(bpe.alphabet) + 3).merges) == 3
    assert BPETokenizer.train(texts, vocab_size=1).merges == []


def test_bpe_round_trip_and_save_load(tmp_path):
    texts = [english for english, _ in en_es_pairs("train")]
    bpe = BPETokenizer.train(texts, vocab_size=600)
    assert len(bpe) == 600 and len(bpe.vocab) == 600
    for english, _ in en_es_pairs("val")[:100]:
        tokens = bpe.encode(english)
        assert set(tokens) <= set(bpe.vocab) | set(english)
        assert sum(token.endswith(END_OF_WORD) for token in tokens) == len(
            WordTokenizer(lower=False).tokenize(english))
        assert bpe.decode(tokens) == english
    # frequent words become single tokens
    assert bpe.encode("the LORD") == ["the</w>", "LORD</w>"]
    path = tmp_path / "bpe.json"
    bpe.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == bpe.merges and loaded.alphabet == bpe.alphabet
    assert loaded.encode(texts[0]) == bpe.encode(texts[0])
    # unseen characters stay symbols of their own
    assert bpe.encode("\u00e6") == ["\u00e6</w>"]


def test_bpe_errors(tmp_path):
    with pytest.raises(ValueError, match="vocab_size"):
        BPETokenizer.train(["a b"], vocab_size=0)
    with pytest.raises(ValueError, match="min_frequency"):
        BPETokenizer.train(["a b"], vocab_size=10, min_frequency=0)
    with pytest.raises(TypeError, match="one str"):
        BPETokenizer.train("a b", vocab_size=10)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"itos": []}))
    with pytest.raises(ValueError, match="not a minidl BPETokenizer file"):
        BPETokenizer.load(other)
    other.write_text("not json")
    with pytest.raises(ValueError, match="not a minidl BPETokenizer file"):
        BPETokenizer.load(other)
