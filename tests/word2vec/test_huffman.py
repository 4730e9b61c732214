"""``huffman_tree``: a prefix-free code, frequent words short, optimal expected length."""
import numpy as np
import pytest

from minidl.text.word2vec import huffman_tree


def _codes(tree):
    return ["".join(map(str, tree.codes[w, :n])) for w, n in enumerate(tree.lengths)]


def test_known_small_distribution():
    tree = huffman_tree([5, 2, 1, 1])
    assert tree.lengths.tolist() == [1, 2, 3, 3]
    # merges: (1, 1) -> node 0, (word 1, node 0) -> node 1, (node 1, word 0) -> root 2
    assert _codes(tree) == ["1", "00", "010", "011"]
    assert tree.paths[0, :1].tolist() == [2]
    assert tree.paths[3, :3].tolist() == [2, 1, 0]


def test_textbook_distribution_has_the_optimal_expected_length():
    # CLRS's example: a..f with frequencies 45 13 12 16 9 5 -> code lengths 1 3 3 3 4 4
    freqs = [45, 13, 12, 16, 9, 5]
    tree = huffman_tree(freqs)
    assert tree.lengths.tolist() == [1, 3, 3, 3, 4, 4]
    assert int(np.dot(freqs, tree.lengths)) == 224


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prefix_free_frequent_words_shorter_and_paths_consistent(seed):
    rng = np.random.default_rng(seed)
    freqs = rng.integers(1, 1000, size=60)
    tree = huffman_tree(freqs)
    codes = _codes(tree)
    assert len(set(codes)) == len(codes)
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i != j:
                assert not b.startswith(a), (a, b)
    order = np.argsort(-freqs, kind="stable")
    assert np.all(np.diff(tree.lengths[order]) >= 0)  # non-increasing frequency, length up
    v = len(freqs)
    assert np.all(tree.paths[:, 0] == v - 2)           # every path starts at the root
    # the same code prefix always reaches the same inner node; every inner node is used
    node_of_prefix = {}
    for w, code in enumerate(codes):
        for j in range(len(code)):
            assert node_of_prefix.setdefault(code[:j], tree.paths[w, j]) == tree.paths[w, j]
    assert sorted(set(node_of_prefix.values())) == list(range(v - 1))
    # the Kraft sum of a complete binary tree is exactly 1
    assert np.isclose(np.sum(2.0 ** -tree.lengths), 1.0)


def test_padding_and_errors():
    tree = huffman_tree([3, 1])
    assert tree.paths.shape == (2, 1) and tree.lengths.tolist() == [1, 1]
    tree = huffman_tree([5, 2, 1, 1])
    assert tree.codes[0, 1:].tolist() == [0, 0] and tree.paths[0, 1:].tolist() == [0, 0]
    with pytest.raises(ValueError, match="at least 2"):
        huffman_tree([4])
    with pytest.raises(ValueError, match="non-negative"):
        huffman_tree([3, -1])
