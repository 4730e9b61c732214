"""stratified_split: a partition, class proportions kept to one sample, fixed by the seed."""
import numpy as np
import pytest

from minidl.train import stratified_split

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
