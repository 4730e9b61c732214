"""Seeded, stratified splits of a labelled data set: train / validation, train / dev / test,
and the course's training-dev set.

Every class ``c`` with ``n_c`` samples gives ``round(fraction * n_c)`` of them (half rounds
up) to the held-out part, chosen by a random permutation seeded with ``seed``; the rest stay
for training. The class proportions of every part thus match the whole to within one sample
per class (two for the three-way split, which holds out the test set first and then the dev
set from the rest), and the same arguments always give the same split. An int ``n`` instead
of targets means ``n`` unlabelled samples (a plain seeded shuffle), as does
``stratify=False``.

The training-dev set (Ng, "Structuring Machine Learning Projects") is a held-out slice of
the *training* distribution: a model's error on it against its training error measures
variance, and its dev error against the training-dev error measures data mismatch.
"""
import numbers

import numpy as np

__all__ = ["stratified_split", "train_dev_test_split", "training_dev_split"]


def _labels(targets, who):
    labels = np.asarray(targets.numpy() if hasattr(targets, "numpy") else targets)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{who} needs one integer class label per sample, got an array of "
                         f"shape {labels.shape} and dtype {labels.dtype}")
    return labels


def _labels_or_count(targets_or_n, stratify, who):
    """Class labels; all zeros (one class) for a sample count or ``stratify=False``."""
    if isinstance(targets_or_n, numbers.Integral) and not isinstance(targets_or_n, bool):
        if targets_or_n < 1:
            raise ValueError(f"{who} needs at least one sample, got n={targets_or_n}")
        return np.zeros(int(targets_or_n), np.int64)
    labels = _labels(targets_or_n, who)
    return labels if stratify else np.zeros(len(labels), np.int64)


def _hold_out(labels, members, fraction, rng):
    """``(kept, held_out)``: sorted int64 subsets of ``members`` (indices into ``labels``),
    ``round(fraction * n_c)`` of every class held out."""
    held = [np.zeros(0, np.int64)]
    for c in np.unique(labels[members]):
        of_c = members[labels[members] == c]
        k = int(np.floor(fraction * len(of_c) + 0.5))
        held.append(rng.permutation(of_c)[:k])
    held = np.sort(np.concatenate(held)).astype(np.int64)
    return np.setdiff1d(members, held, assume_unique=True).astype(np.int64), held


def _check_nonempty(parts, names, how):
    for part, name in zip(parts, names, strict=True):
        if len(part) == 0:
            raise ValueError(f"{how} leaves no {name} samples")


def stratified_split(targets, fraction, seed=0):
    """``(train_indices, val_indices)``: sorted int64 index arrays that partition ``targets``.

    ``targets`` holds one integer class label per sample (array or tensor); ``fraction`` is
    the share of every class that goes to validation, ``0 < fraction < 1``.
    """
    labels = _labels(targets, "stratified_split")
    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must lie strictly between 0 and 1, "
                         f"got {fraction}")
    train, val = _hold_out(labels, np.arange(len(labels), dtype=np.int64), fraction,
                           np.random.default_rng(seed))
    _check_nonempty((val, train), ("validation", "training"),
                    f"a validation fraction of {fraction} of {len(labels)} samples")
    return train, val


def train_dev_test_split(targets_or_n, fractions=(0.8, 0.1, 0.1), seed=0, stratify=True):
    """``(train, dev, test)``: sorted int64 index arrays that partition the samples.

    ``targets_or_n``: one integer class label per sample, or the number of samples;
    ``fractions``: the train, dev and test shares, each positive, summing to 1 (the course's
    60/20/20 for a few thousand samples, 98/1/1 for millions); ``stratify``: keep the class
    proportions in every part.
    """
    labels = _labels_or_count(targets_or_n, stratify, "train_dev_test_split")
    try:
        f_train, f_dev, f_test = (float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ValueError(f"fractions must be three numbers (train, dev, test), "
                         f"got {fractions!r}") from None
    if not all(f > 0 for f in (f_train, f_dev, f_test)) or \
            not np.isclose(f_train + f_dev + f_test, 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"fractions (train, dev, test) must be positive and sum to 1, "
                         f"got {fractions!r}")
    rng = np.random.default_rng(seed)
    rest, test = _hold_out(labels, np.arange(len(labels), dtype=np.int64), f_test, rng)
    train, dev = _hold_out(labels, rest, f_dev / (f_train + f_dev), rng)
    _check_nonempty((train, dev, test), ("train", "dev", "test"),
                    f"fractions {tuple(fractions)} of {len(labels)} samples")
    return train, dev, test


def training_dev_split(targets_or_n, fraction=0.1, seed=0, stratify=True, indices=None):
    """``(train, training_dev)``: the training samples, less a held-out training-dev slice
    of the same distribution (see the module docstring); sorted int64 index arrays.

    ``indices``: the training part (e.g. ``train_dev_test_split(...)[0]``) as indices into
    ``targets_or_n``; by default every sample. The results are subsets of it.
    """
    labels = _labels_or_count(targets_or_n, stratify, "training_dev_split")
    if not 0 < fraction < 1:
        raise ValueError(f"the training-dev fraction must lie strictly between 0 and 1, "
                         f"got {fraction}")
    members = np.arange(len(labels), dtype=np.int64) if indices is None else \
        np.unique(np.asarray(indices, dtype=np.int64))
    if len(members) and (members[0] < 0 or members[-1] >= len(labels)):
        raise ValueError(f"indices must lie in [0, {len(labels)}), got values from "
                         f"{members[0]} to {members[-1]}")
    train, training_dev = _hold_out(labels, members, fraction, np.random.default_rng(seed))
    _check_nonempty((training_dev, train), ("training-dev", "train"),
                    f"a training-dev fraction of {fraction} of {len(members)} samples")
    return train, training_dev
