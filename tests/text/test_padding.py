"""truncate_pad, pad_batch and sequence_mask."""

import numpy as np
import pytest

import minidl
from minidl.text import pad_batch, sequence_mask, truncate_pad


def test_truncate_pad():
    assert truncate_pad([1, 2, 3], 5, 0) == [1, 2, 3, 0, 0]
    assert truncate_pad([1, 2, 3], 2, 0) == [1, 2]
    assert truncate_pad([], 2, 9) == [9, 9]
    assert truncate_pad(np.array([4, 5]), 3, 1) == [4, 5, 1]
    with pytest.raises(ValueError, match="length"):
        truncate_pad([1], -1, 0)


def test_pad_batch():
    padded, lengths = pad_batch([[1, 2, 3], [4], []], pad_index=0)
    assert padded.dtype == minidl.int64 and lengths.dtype == minidl.int64
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]
    padded, lengths = pad_batch([[1, 2, 3], [4]], pad_index=9, max_len=2, batch_first=False)
    assert padded.tolist() == [[1, 4], [2, 9]] and lengths.tolist() == [2, 1]
    padded, _ = pad_batch([minidl.tensor([5, 6]), np.array([7])], pad_index=0, max_len=4)
    assert padded.tolist() == [[5, 6, 0, 0], [7, 0, 0, 0]]


def test_pad_batch_errors():
    with pytest.raises(ValueError, match="no sequences"):
        pad_batch([], pad_index=0)
    with pytest.raises(TypeError, match="got a str"):
        pad_batch("abc", pad_index=0)
    with pytest.raises(TypeError, match=r"sequences\[1\]"):
        pad_batch([[1], ["a"]], pad_index=0)
    with pytest.raises(ValueError, match="max_len"):
        pad_batch([[1]], pad_index=0, max_len=-2)


def test_sequence_mask():
    mask = sequence_mask(minidl.tensor([3, 1, 0]))
    assert mask.dtype == minidl.bool
    assert mask.tolist() == [[True, True, True], [True, False, False], [False, False, False]]
    assert sequence_mask([1, 2], max_len=4).tolist() == [[True, False, False, False],
                                                       [True, True, False, False]]
    # pad_batch's lengths mark exactly the non-pad positions
    padded, lengths = pad_batch([[5, 6, 7], [8]], pad_index=0)
    assert np.array_equal(sequence_mask(lengths).numpy(), padded.numpy() != 0)
    with pytest.raises(ValueError, match="1-D"):
        sequence_mask([[1]])
    with pytest.raises(ValueError, match=">= 0"):
        sequence_mask([-1])
