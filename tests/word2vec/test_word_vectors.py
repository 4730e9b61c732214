"""``KeyedVectors``: cosine neighbours, 3CosAdd analogies, the analogy file, save / load."""
import gzip
import math

import numpy as np
import pytest

import minidl
from minidl.text import Vocab
from minidl.text.word_vectors import ANALOGY_QUESTIONS, KeyedVectors, read_analogy_questions

WORDS = ["king", "queen", "man", "woman", "apple", "orange"]
# dims: royal, male, fruit
VECTORS = np.array([[1, 1, 0], [1, -1, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0.1, 0, 1]],
                   dtype=np.float32)

QUESTIONS = """: royal
king man queen woman
man king woman queen
King Man Queen Woman
king man queen prince
: fruit
apple orange king queen
a line of five words
"""


@pytest.fixture
def kv():
    return KeyedVectors(VECTORS, WORDS)


def test_most_similar_and_similarity(kv):
    near = kv.most_similar("orange", topn=3)
    assert near[0][0] == "apple" and {w for w, _ in near[1:]} == {"king", "queen"}
    assert near[0][1] == pytest.approx(1 / math.sqrt(1.01), rel=1e-6)
    assert near[2][1] == pytest.approx(0.1 / math.sqrt(1.01) / math.sqrt(2), rel=1e-5)
    [(word, cosine)] = kv.most_similar("apple", topn=1)
    assert word == "orange" and cosine == pytest.approx(near[0][1], rel=1e-6)
    by_vector = kv.most_similar(np.array([0.0, 0.0, 2.0]), topn=1)
    assert by_vector[0][0] == "apple" and by_vector[0][1] == pytest.approx(1.0)
    assert kv.most_similar(minidl.tensor([1.0, 1.0, 0.0]), topn=1)[0][0] == "king"
    assert len(kv.most_similar("king", topn=50)) == 5  # every other word, once
    assert kv.similarity("king", "queen") == pytest.approx(0.0, abs=1e-7)
    assert kv.similarity("man", "king") == pytest.approx(1 / math.sqrt(2), rel=1e-6)
    np.testing.assert_array_equal(kv["queen"], VECTORS[1])


def test_analogy_is_3cosadd_without_the_query_words(kv):
    best = kv.analogy("king", "man", "woman", topn=2)
    assert best[0][0] == "queen"
    u = VECTORS / np.linalg.norm(VECTORS, axis=1, keepdims=True)
    query = u[0] - u[2] + u[3]
    assert best[0][1] == pytest.approx(float(query @ u[1] / np.linalg.norm(query)), rel=1e-5)
    assert {w for w, _ in kv.analogy("king", "man", "woman", topn=10)}.isdisjoint(
        {"king", "man", "woman"})


def test_evaluate_analogies_on_a_tiny_file(kv, tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS, encoding="utf-8")
    result = kv.evaluate_analogies(path)
    royal, fruit = result["sections"]
    assert royal == {"section": "royal", "accuracy": 1.0, "correct": 3, "evaluated": 3,
                     "skipped": 1, "questions": 4, "coverage": 0.75}
    assert (fruit["correct"], fruit["evaluated"], fruit["skipped"]) == (0, 1, 0)
    assert (result["correct"], result["evaluated"], result["skipped"],
            result["questions"]) == (3, 4, 1, 5)
    assert result["accuracy"] == 0.75 and result["coverage"] == 0.8
    exact = kv.evaluate_analogies(path, case_insensitive=False)
    assert (exact["correct"], exact["evaluated"], exact["skipped"]) == (2, 3, 2)
    top4 = kv.evaluate_analogies(path, restrict_vocab=4)  # apple, orange left out
    assert top4["sections"][1]["evaluated"] == 0 and top4["sections"][1]["accuracy"] is None
    gz = tmp_path / "questions.txt.gz"
    gz.write_bytes(gzip.compress(QUESTIONS.encode()))
    assert kv.evaluate_analogies(gz) == result


def test_question_file_errors(kv, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("a b c d\n", encoding="utf-8")
    with pytest.raises(ValueError, match="before the first"):
        kv.evaluate_analogies(path)


def test_bundled_question_file():
    sections = read_analogy_questions(ANALOGY_QUESTIONS)
    assert len(sections) == 14 and sum(len(q) for _, q in sections) == 19544
    assert sections[0][0] == "capital-common-countries"
    assert sections[0][1][0] == ("Athens", "Greece", "Baghdad", "Iraq")


def test_vocab_input_save_and_load(tmp_path):
    vocab = Vocab(["b", "a", "b", "c", "b", "a"], specials=())
    vectors = np.arange(9, dtype=np.float32).reshape(3, 3)
    kv = KeyedVectors(minidl.tensor(vectors), vocab)
    assert kv.index_to_key == ["b", "a", "c"] and kv.freqs == [3, 2, 1]
    kv.save(tmp_path / "kv.safetensors")
    back = KeyedVectors.load(tmp_path / "kv.safetensors")
    assert back.index_to_key == kv.index_to_key and back.freqs == kv.freqs
    np.testing.assert_array_equal(back.vectors, vectors)
    minidl.save({"something": "else"}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="not a minidl KeyedVectors"):
        KeyedVectors.load(tmp_path / "other.safetensors")


def test_bad_input_is_refused(kv):
    with pytest.raises(KeyError, match="'prince' is not in the vocabulary"):
        kv.most_similar("prince")
    with pytest.raises(ValueError, match="shape"):
        kv.most_similar(np.zeros(4))
    with pytest.raises(ValueError, match="topn"):
        kv.most_similar("king", topn=0)
    with pytest.raises(ValueError, match="2 words for 6 vectors"):
        KeyedVectors(VECTORS, ["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        KeyedVectors(VECTORS[:2], ["a", "a"])
    with pytest.raises(ValueError, match="2-D"):
        KeyedVectors(np.zeros(3), ["a", "b", "c"])
