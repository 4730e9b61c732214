"""Seeded, stratified train / validation split of a labelled training set.

Every class ``c`` with ``n_c`` samples gives ``round(fraction * n_c)`` of them (half rounds
up) to the validation set, chosen by a random permutation seeded with ``seed``; the rest
stay for training. The class proportions of both parts thus match the whole to within one
sample per class, and the same ``(targets, fraction, seed)`` always gives the same split.
"""
import numpy as np

__all__ = ["stratified_split"]


def stratified_split(targets, fraction, seed=0):
    """``(train_indices, val_indices)``: sorted int64 index arrays that partition ``targets``.

    ``targets`` holds one integer class label per sample (array or tensor); ``fraction`` is
    the share of every class that goes to validation, ``0 < fraction < 1``.
    """
    labels = np.asarray(targets.numpy() if hasattr(targets, "numpy") else targets)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"stratified_split needs one integer class label per sample, got an "
                         f"array of shape {labels.shape} and dtype {labels.dtype}")
    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must lie strictly between 0 and 1, "
                         f"got {fraction}")
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = int(np.floor(fraction * len(members) + 0.5))
        val.append(rng.permutation(members)[:k])
    val = np.sort(np.concatenate(val)).astype(np.int64)
    if len(val) == 0 or len(val) == len(labels):
        part = "validation" if len(val) == 0 else "training"
        raise ValueError(f"a validation fraction of {fraction} of {len(labels)} samples leaves "
                         f"no {part} samples")
    train = np.setdiff1d(np.arange(len(labels), dtype=np.int64), val, assume_unique=True)
    return train, val
