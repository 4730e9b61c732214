"""Training: co-occurring words end up neighbours; ``minidl train word2vec`` end to end."""
import json
import os

import numpy as np
import pytest

import minidl
from minidl import cli, optim
from minidl.text import Vocab
from minidl.text.word2vec import (
    SkipGramHierarchicalSoftmax,
    SkipGramNegativeSampling,
    SkipGramPairs,
)
from minidl.text.word2vec_task import Word2VecTrainer, load_documents, load_word2vec
from minidl.text.word_vectors import KeyedVectors

GROUPS = ([f"sun{i}" for i in range(5)], [f"rain{i}" for i in range(5)])


def _group_documents(n, seed=0):
    """``n`` paragraphs of 8 words, each drawn from one of two disjoint word groups."""
    rng = np.random.default_rng(seed)
    return [list(rng.choice(GROUPS[k % 2], size=8)) for k in range(n)]


@pytest.mark.parametrize("method", ["neg", "hs"])
def test_words_that_co_occur_become_nearest_neighbours(method):
    documents = _group_documents(200)
    vocab = Vocab(documents, specials=())
    ids = [vocab.lookup_indices(doc) for doc in documents]
    minidl.manual_seed(0)
    if method == "neg":
        model = SkipGramNegativeSampling(len(vocab), 8, vocab.freqs, negatives=3)
    else:
        model = SkipGramHierarchicalSoftmax(len(vocab), 8, vocab.freqs)
    pairs = SkipGramPairs(ids, window=2, batch_size=128, seed=0)
    val = list(SkipGramPairs(ids[:20], window=2, batch_size=128, shuffle=False, seed=1))
    trainer = Word2VecTrainer(model, optim.Adam(model.parameters(), lr=0.05), pairs, val,
                              progress=None)
    trainer.fit(4)
    losses = [row["val_loss"] for row in trainer.history]
    assert losses[-1] < losses[0]
    kv = KeyedVectors(model.embeddings(), vocab)
    for group in GROUPS:
        for word in group:
            neighbours = {w for w, _ in kv.most_similar(word, topn=4)}
            assert neighbours == set(group) - {word}, (word, neighbours)


TEXT_WORDS = ("the king and the queen rode out", "a man and a woman walked home",
              "the sun was warm upon the field", "the rain fell cold upon the town")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    paragraphs = [" ".join(rng.permutation(TEXT_WORDS[k % 4].split())).capitalize() + "."
                  for k in range(160)]
    path = tmp_path_factory.mktemp("text") / "tiny.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return str(path)


SMALL = ["--epochs", "2", "--embed-dim", "8", "--window", "2", "--min-count", "2",
         "--batch-size", "64", "--no-progress", "--subsample", "0"]


def test_cli_trains_saves_and_reports(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "word2vec", "--data", corpus, *SMALL, "--out", str(out),
                     "--probe", "king", "sword"]) == 0
    printed = capsys.readouterr().out
    assert "pairs/s" in printed and "test_loss" in printed and "analogies" in printed
    assert "king:" in printed and "(not in vocabulary)" in printed
    assert {"best.safetensors", "last.safetensors", "metrics.json", "curves.png",
            "vectors.safetensors", "neighbours.json", "analogies.json"} <= set(os.listdir(out))
    neighbours = json.loads((out / "neighbours.json").read_text())
    assert len(neighbours["king"]) == 10 and neighbours["sword"] is None
    analogies = json.loads((out / "analogies.json").read_text())
    assert analogies["questions"] == 19544 and analogies["evaluated"] > 0
    assert analogies["coverage"] == analogies["evaluated"] / 19544
    assert len(analogies["sections"]) == 14
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert config["method"] == "neg" and config["model"]["embed_dim"] == 8
    model, kv, ckpt = load_word2vec(str(out / "best.safetensors"))
    assert isinstance(model, SkipGramNegativeSampling) and kv.index_to_key[0] == "the"
    saved = KeyedVectors.load(out / "vectors.safetensors")
    np.testing.assert_array_equal(saved.vectors, kv.vectors)
    assert saved.index_to_key == config["vocab"]["itos"]


def test_cli_hierarchical_softmax_and_errors(corpus, tmp_path, capsys):
    out = tmp_path / "hs"
    assert cli.main(["train", "word2vec", "--data", corpus, *SMALL, "--method", "hs",
                     "--fixed-window", "--out", str(out)]) == 0
    model, _, _ = load_word2vec(str(out / "best.safetensors"))
    assert isinstance(model, SkipGramHierarchicalSoftmax)
    capsys.readouterr()
    assert cli.main(["train", "word2vec", "--data", str(tmp_path / "missing.txt"),
                     *SMALL]) == 1
    assert "minidl train word2vec: error: --data must be" in capsys.readouterr().err
    assert cli.main(["train", "word2vec", "--data", corpus, *SMALL, "--min-count",
                     "1000"]) == 1
    assert "needs at least 2" in capsys.readouterr().err


def test_load_documents_of_a_folder(tmp_path):
    (tmp_path / "b.txt").write_text("Third paragraph.\n\nFourth one here.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First, words!\n\n\nSecond -- it's here.",
                                    encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    documents = load_documents(str(tmp_path))
    flat = [doc for split in documents for doc in split]
    assert flat == [["first", "words"], ["second", "it's", "here"], ["third", "paragraph"],
                    ["fourth", "one", "here"]]
