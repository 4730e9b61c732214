"""Language-model batches (sequential and random partitioning) and detach_state."""

import numpy as np
import pytest

import minidl
from minidl.text import LanguageModelBatches, detach_state

CORPUS = np.arange(1000) * 7 % 1009  # distinct ids, so positions can be read back


def positions(batch):
    """Corpus positions of a batch's tokens (ids are distinct)."""
    where = {int(token): i for i, token in enumerate(CORPUS)}
    return np.vectorize(where.get)(batch.numpy())


@pytest.mark.parametrize("partition", ["sequential", "random"])
def test_shapes_dtype_and_shift_by_one(partition):
    batches = LanguageModelBatches(CORPUS, batch_size=4, seq_len=10, partition=partition)
    seen = list(batches)
    assert len(seen) == len(batches) > 0
    for inputs, targets in seen:
        assert inputs.shape == targets.shape == (4, 10)
        assert inputs.dtype == minidl.int64 and targets.dtype == minidl.int64
        # every target is the corpus token right after its input
        assert np.array_equal(positions(targets), positions(inputs) + 1)
        # each row is one contiguous stretch of the corpus
        assert np.all(np.diff(positions(inputs), axis=1) == 1)


def test_sequential_rows_continue_across_batches():
    batches = LanguageModelBatches(CORPUS, batch_size=3, seq_len=8)
    first, *rest = [positions(inputs) for inputs, _ in batches]
    previous = first
    for current in rest:
        assert np.array_equal(current[:, 0], previous[:, -1] + 1)
        previous = current
    # rows read disjoint, consecutive stretches of the corpus
    rows_start = first[:, 0]
    assert np.all(np.diff(rows_start) == rows_start[1] - rows_start[0])
    assert len(batches) == (len(CORPUS) - 8) // 3 // 8


def test_random_partition_covers_without_overlap():
    batches = LanguageModelBatches(CORPUS, batch_size=5, seq_len=9, partition="random")
    for _ in range(3):
        starts = np.concatenate([positions(inputs)[:, 0] for inputs, _ in batches])
        assert len(set(starts)) == len(starts) == len(batches) * 5
        offsets = set(starts % 9)
        assert len(offsets) == 1  # one offset per epoch, subsequences on its grid
        # nearly the whole corpus is read: at most one subsequence left out
        assert len(starts) * 9 >= len(CORPUS) - 9 - 9 - 9 * 5


def test_epochs_differ_and_reproduce_from_seed():
    def epochs(seed, partition):
        batches = LanguageModelBatches(CORPUS, 4, 6, partition=partition, seed=seed)
        return [np.concatenate([x.numpy() for x, _ in batches]) for _ in range(3)]

    for partition in ("sequential", "random"):
        first, again, other = epochs(0, partition), epochs(0, partition), epochs(1, partition)
        assert all(np.array_equal(a, b) for a, b in zip(first, again))
        assert not all(np.array_equal(a, b) for a, b in zip(first, other))
        assert len({epoch.tobytes() for epoch in first}) > 1  # a new offset / order per epoch


def test_accepts_lists_and_tensors_and_refuses_bad_input():
    from_list = LanguageModelBatches(list(range(50)), 2, 4)
    from_tensor = LanguageModelBatches(minidl.arange(50), 2, 4)
    assert [x.tolist() for x, _ in from_list] == [x.tolist() for x, _ in from_tensor]
    with pytest.raises(ValueError, match="at least"):
        LanguageModelBatches(list(range(10)), 2, 4)
    with pytest.raises(ValueError, match="partition"):
        LanguageModelBatches(CORPUS, 2, 4, partition="shuffled")
    with pytest.raises(ValueError, match="seed"):
        LanguageModelBatches(CORPUS, 2, 4, seed=-1)
    with pytest.raises(ValueError, match="batch_size"):
        LanguageModelBatches(CORPUS, 0, 4)
    with pytest.raises(TypeError, match="integer token ids"):
        LanguageModelBatches(np.ones(100), 2, 4)
    with pytest.raises(ValueError, match="1-D"):
        LanguageModelBatches(np.ones((10, 10), dtype=int), 2, 4)


def test_detach_state():
    weight = minidl.ones(2, 3, requires_grad=True)
    hidden = weight * 2
    assert detach_state(None) is None
    detached = detach_state(hidden)
    assert not detached.requires_grad and detached.grad_fn is None
    h, c = detach_state((hidden, hidden + 1))
    assert h.grad_fn is None and c.grad_fn is None and c.tolist() == (hidden + 1).tolist()
    layers = detach_state([hidden, (hidden, hidden)])
    assert isinstance(layers, list) and layers[1][0].grad_fn is None
    with pytest.raises(TypeError, match="detach_state"):
        detach_state("state")
