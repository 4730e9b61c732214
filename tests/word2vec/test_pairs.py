"""The (center, context) pairs: windows, document boundaries, subsampling, batches."""
from collections import Counter

import numpy as np
import pytest

import minidl
from minidl.text.word2vec import SkipGramPairs, keep_probabilities, skipgram_pairs


def _brute_force(ids, docs, reach):
    pairs = Counter()
    for i in range(len(ids)):
        for j in range(len(ids)):
            if i != j and docs[i] == docs[j] and abs(i - j) <= reach[i]:
                pairs[ids[i], ids[j]] += 1
    return pairs


def _as_counter(pairs):
    return Counter(zip(pairs[0].tolist(), pairs[1].tolist()))


def test_fixed_window_pairs_and_no_pair_across_documents():
    ids = np.array([10, 11, 12, 13, 14, 15, 16])
    docs = np.array([0, 0, 0, 0, 1, 1, 2])
    pairs = skipgram_pairs(ids, docs, 2, dynamic=False)
    assert pairs[0].dtype == np.int64
    assert _as_counter(pairs) == _brute_force(ids, docs, [2] * 7)
    assert (10, 12) in _as_counter(pairs) and (13, 14) not in _as_counter(pairs)
    assert 16 not in pairs[0] and 16 not in pairs[1]  # a one-word document has no pair


def test_dynamic_window_draws_each_centers_reach_from_1_to_window():
    ids = np.arange(400)
    docs = np.zeros(400, dtype=int)
    pairs = skipgram_pairs(ids, docs, 4, np.random.default_rng(1), dynamic=True)
    reach = np.random.default_rng(1).integers(1, 5, size=400)
    assert _as_counter(pairs) == _brute_force(ids, docs, reach)
    # every offset d is kept with probability P(reach >= d) = (W - d + 1) / W
    offsets = np.abs(pairs[1] - pairs[0])
    interior = (pairs[0] >= 4) & (pairs[0] < 396)
    counts = np.bincount(offsets[interior], minlength=5)[1:] / (2 * 392)
    np.testing.assert_allclose(counts, [1, 0.75, 0.5, 0.25], atol=0.06)


def test_keep_probabilities_follow_the_formula():
    counts = np.array([5000, 800, 100, 10, 1])
    t = 1e-2
    f = counts / counts.sum()
    np.testing.assert_allclose(keep_probabilities(counts, t), np.minimum(1, np.sqrt(t / f)))
    assert keep_probabilities(counts, t)[-1] == 1.0  # f <= t: always kept
    assert np.all(keep_probabilities(counts, 0) == 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        keep_probabilities(counts, -1.0)


def test_subsampling_drops_tokens_at_the_given_rate_and_is_reproducible():
    ids = np.array([0] * 3000 + [1] * 3000)
    keep = np.array([0.2, 1.0])
    pairs = SkipGramPairs([ids], window=1, batch_size=64, keep_probs=keep,
                          dynamic_window=False, seed=3)
    centers, _ = pairs.epoch_pairs(0)
    # in the run of 0s, a kept 0 pairs with its kept neighbours: about 2 pairs per kept 0
    kept_zeros = np.count_nonzero(centers == 0) / 2
    assert 0.17 * 3000 < kept_zeros < 0.23 * 3000
    assert np.count_nonzero(centers == 1) >= 2 * 3000 - 2
    again = SkipGramPairs([ids], window=1, batch_size=64, keep_probs=keep,
                          dynamic_window=False, seed=3)
    np.testing.assert_array_equal(again.epoch_pairs(0)[0], centers)
    assert not np.array_equal(pairs.epoch_pairs(1)[0], centers)  # a fresh draw per epoch


def test_batches_cover_the_epoch_and_len_is_the_coming_epoch():
    docs = [list(range(8)), [3, 4, 5], [7]]
    pairs = SkipGramPairs(docs, window=2, batch_size=5, seed=0)
    n = len(pairs.epoch_pairs(0)[0])
    assert len(pairs) == -(-n // 5)
    batches = list(pairs)
    assert len(batches) == -(-n // 5)
    center, context = batches[0]
    assert isinstance(center, minidl.Tensor) and center.dtype == minidl.int64
    assert center.shape == (5,) and context.shape == (5,)
    got = Counter(zip(np.concatenate([b[0].numpy() for b in batches]).tolist(),
                      np.concatenate([b[1].numpy() for b in batches]).tolist()))
    assert got == _as_counter(pairs.epoch_pairs(0))
    assert pairs.epoch == 1 and len(pairs) == -(-len(pairs.epoch_pairs(1)[0]) // 5)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="window"):
        SkipGramPairs([[1, 2, 3]], window=0)
    with pytest.raises(ValueError, match="batch_size"):
        SkipGramPairs([[1, 2, 3]], batch_size=0)
    with pytest.raises(ValueError, match="keep_probs"):
        SkipGramPairs([[1, 2, 3]], keep_probs=[1.0, 1.0])
    with pytest.raises(ValueError, match="no tokens"):
        SkipGramPairs([[], []])
    with pytest.raises(ValueError, match="one length"):
        skipgram_pairs([1, 2], [0], 2)
