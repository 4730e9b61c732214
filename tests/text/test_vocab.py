"""Vocab: ordering, min_freq, specials, lookups in both directions, save / load."""

import json
from collections import Counter

import numpy as np
import pytest

import minidl
from minidl.text import Vocab

SENTENCES = [["b", "a", "c", "a"], ["d", "c", "a", "e"], ["e", "b"]]


def test_order_specials_and_frequencies():
    vocab = Vocab(SENTENCES)
    # a x3; then b, c, e x2 in first-seen order; then d x1
    assert vocab.itos == ["<unk>", "<pad>", "<bos>", "<eos>", "a", "b", "c", "e", "d"]
    assert vocab.freqs == [0, 0, 0, 0, 3, 2, 2, 2, 1]
    assert (vocab.unk_index, vocab.pad_index, vocab.bos_index, vocab.eos_index) == (0, 1, 2, 3)
    assert len(vocab) == 9 and vocab.stoi["c"] == 6 and "c" in vocab and "z" not in vocab
    # a flat token stream and a Counter give the same vocabulary
    flat = [token for sentence in SENTENCES for token in sentence]
    assert Vocab(flat) == vocab
    assert Vocab(Counter(flat)) == vocab


def test_min_freq_max_size_and_custom_specials():
    vocab = Vocab(SENTENCES, min_freq=2, specials=("<pad>", "<unk>"))
    assert vocab.itos == ["<pad>", "<unk>", "a", "b", "c", "e"]
    assert (vocab.pad_index, vocab.unk_index, vocab.bos_index, vocab.eos_index) == (
        0, 1, None, None)
    assert Vocab(SENTENCES, max_size=6).itos == ["<unk>", "<pad>", "<bos>", "<eos>", "a", "b"]
    # a special seen in the corpus keeps its place and a count of 0
    vocab = Vocab(["<eos>", "x", "<eos>"])
    assert vocab.itos == ["<unk>", "<pad>", "<bos>", "<eos>", "x"] and vocab.freqs[3] == 0


def test_lookups_both_directions_and_unknowns():
    vocab = Vocab(SENTENCES)
    ids = vocab.lookup_indices(["a", "zzz", "d"])
    assert ids == [4, 0, 8] and vocab(["a"]) == [4]
    assert vocab["never seen"] == vocab.unk_index
    assert vocab.lookup_tokens(ids) == ["a", "<unk>", "d"]
    assert vocab.lookup_tokens(np.array([5, 6])) == ["b", "c"]
    assert vocab.lookup_tokens(minidl.tensor([7, 8])) == ["e", "d"]
    no_unk = Vocab(SENTENCES, specials=())
    with pytest.raises(KeyError, match="no '<unk>'"):
        no_unk["zzz"]
    with pytest.raises(IndexError, match="out of range"):
        vocab.lookup_tokens([9])
    with pytest.raises(TypeError, match="lookup_tokens"):
        vocab["a", "b"]


def test_save_load(tmp_path):
    vocab = Vocab(SENTENCES, min_freq=2)
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.stoi == vocab.stoi and loaded.unk_index == 0
    assert loaded["zzz"] == 0 and loaded.lookup_tokens([4]) == ["a"]


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="single str"):
        Vocab("abc")
    with pytest.raises(TypeError, match="items must be str"):
        Vocab([1, 2])
    with pytest.raises(ValueError, match="min_freq"):
        Vocab(SENTENCES, min_freq=0)
    with pytest.raises(ValueError, match="duplicates"):
        Vocab(SENTENCES, specials=("<unk>", "<unk>"))
    with pytest.raises(ValueError, match="smaller than"):
        Vocab(SENTENCES, max_size=2)
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"merges": []}))
    with pytest.raises(ValueError, match="not a minidl Vocab file"):
        Vocab.load(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="not a minidl Vocab file"):
        Vocab.load(path)
    path.write_text(json.dumps({"format": "minidl.text.Vocab", "version": 1, "itos": ["a"],
                                "freqs": [], "specials": []}))
    with pytest.raises(ValueError, match="malformed"):
        Vocab.load(path)
