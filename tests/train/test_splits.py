"""The splits: partitions, class proportions kept to a sample or two, fixed by the seed."""
import numpy as np
import pytest

from minidl.train.splits import stratified_split, train_dev_test_split, training_dev_split

# imbalanced classes: 0 has 503 samples, 1 has 96, 2 has 7, 3 has 1
LABELS = np.random.default_rng(0).permutation(np.repeat([0, 1, 2, 3], [503, 96, 7, 1]))


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
def test_partition_with_the_class_proportions(fraction):
    train, val = stratified_split(LABELS, fraction, seed=0)
    assert train.dtype == val.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)         # sorted, no repeats
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(LABELS)))
    for c in range(4):
        n_c = np.count_nonzero(LABELS == c)
        assert abs(np.count_nonzero(LABELS[val] == c) - fraction * n_c) <= 0.5
        assert np.count_nonzero(LABELS[train] == c) + np.count_nonzero(LABELS[val] == c) == n_c


def test_the_seed_fixes_the_split():
    a, b = stratified_split(LABELS, 0.2, seed=5), stratified_split(LABELS, 0.2, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    c = stratified_split(LABELS, 0.2, seed=6)
    assert len(c[1]) == len(a[1]) and not np.array_equal(c[1], a[1])


def test_tensor_targets_and_errors():
    import minidl
    train, val = stratified_split(minidl.tensor(LABELS.tolist()), 0.1)
    assert np.array_equal(val, stratified_split(LABELS, 0.1)[1])
    for bad in (0, 1, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            stratified_split(LABELS, bad)
    with pytest.raises(ValueError, match="no validation samples"):
        stratified_split(np.arange(4) % 2, 0.1)
    with pytest.raises(ValueError, match="no training samples"):
        stratified_split(np.arange(4) % 2, 0.9)
    with pytest.raises(ValueError, match="one integer class label per sample"):
        stratified_split(np.zeros((4, 2), dtype=np.int64), 0.5)


def _count(labels, part, c):
    return np.count_nonzero(labels[part] == c)


@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.5, 0.3, 0.2)])
def test_train_dev_test_is_a_stratified_partition(fractions):
    parts = train_dev_test_split(LABELS, fractions, seed=0)
    assert all(p.dtype == np.int64 and np.all(np.diff(p) > 0) for p in parts)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(LABELS)))
    for c in range(3):  # class 3 has one sample: it stays in train
        n_c = np.count_nonzero(LABELS == c)
        for part, f in zip(parts, fractions, strict=True):
            assert abs(_count(LABELS, part, c) - f * n_c) <= 1.5
    assert _count(LABELS, parts[0], 3) == 1


def test_train_dev_test_seed_count_and_no_stratification():
    a, b = train_dev_test_split(LABELS, seed=5), train_dev_test_split(LABELS, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(train_dev_test_split(LABELS, seed=6)[2], a[2])
    by_count = train_dev_test_split(len(LABELS), (0.6, 0.2, 0.2), seed=1)
    assert [len(p) for p in by_count] == [364, 122, 121]  # test 0.2*607 -> 121, dev 0.25*486 -> 122
    assert all(np.array_equal(x, y) for x, y in zip(
        by_count, train_dev_test_split(LABELS, (0.6, 0.2, 0.2), seed=1, stratify=False),
        strict=True))
    # unstratified, the rare class 2 (7 samples) is not spread over the parts by rule
    spread = [[_count(LABELS, p, 2) for p in train_dev_test_split(LABELS, (0.6, 0.2, 0.2),
                                                                  seed=s, stratify=False)]
              for s in range(20)]
    assert len({tuple(s) for s in spread}) > 1


def test_train_dev_test_errors():
    for bad in [(0.8, 0.2, 0.0), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1)]:
        with pytest.raises(ValueError, match="must be positive and sum to 1"):
            train_dev_test_split(LABELS, bad)
    with pytest.raises(ValueError, match="three numbers"):
        train_dev_test_split(LABELS, (0.8, 0.2))
    with pytest.raises(ValueError, match="three numbers"):
        train_dev_test_split(LABELS, 0.8)
    with pytest.raises(ValueError, match=r"of 10 samples leaves no dev samples"):
        train_dev_test_split(10, (0.9, 0.04, 0.06))
    with pytest.raises(ValueError, match="at least one sample"):
        train_dev_test_split(0)
    with pytest.raises(ValueError, match="one integer class label per sample"):
        train_dev_test_split(np.linspace(0, 1, 10))


def test_training_dev_is_held_out_from_the_training_part():
    train, dev, test = train_dev_test_split(LABELS, (0.6, 0.2, 0.2), seed=0)
    kept, training_dev = training_dev_split(LABELS, 0.25, seed=0, indices=train)
    assert np.array_equal(np.sort(np.concatenate([kept, training_dev])), train)
    for c in range(3):  # the training distribution: train's class shares, to one sample
        assert abs(_count(LABELS, training_dev, c) - 0.25 * _count(LABELS, train, c)) <= 0.5
    again = training_dev_split(LABELS, 0.25, seed=0, indices=train)
    assert all(np.array_equal(x, y) for x, y in zip(again, (kept, training_dev), strict=True))
    whole = training_dev_split(100, 0.1, seed=2)
    assert len(whole[1]) == 10 and np.array_equal(np.sort(np.concatenate(whole)), np.arange(100))
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match="training-dev fraction must lie strictly"):
            training_dev_split(LABELS, bad)
    with pytest.raises(ValueError, match="leaves no training-dev samples"):
        training_dev_split(LABELS, 0.1, indices=[0, 1, 2])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 607\)"):
        training_dev_split(LABELS, 0.1, indices=[0, 607])
