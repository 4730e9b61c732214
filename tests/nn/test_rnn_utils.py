"""minidl.nn.utils.rnn against torch.nn.utils.rnn: the packed data, batch sizes and
permutations, the padded results and lengths, gradients through packing and padding, and
the refusals."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import minidl
import minidl.nn.utils.rnn as mrnn
from tests.reference.harness import assert_close

TOL = dict(rtol=1e-12, atol=1e-12)


def _seqs(lengths, lib, feature=(2,), seed=0):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal((n,) + feature), requires_grad=True) for n in lengths]


def _same_packed(m, t):
    assert type(m).__name__ == type(t).__name__ == "PackedSequence"
    assert_close(m.data, t.data, **TOL)
    for a, b in zip(m[1:], t[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b, **TOL)


def _backward_same(m_out, t_out, m_leaves, t_leaves):
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape))
    m_out.backward(minidl.tensor(g))
    t_out.backward(torch.tensor(g))
    for a, b in zip(m_leaves, t_leaves):
        assert_close(a.grad, b.grad, **TOL)


@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [4, 3, 3, 1]),
                                                     (False, [2, 4, 1, 4, 3])])
def test_pack_sequence_and_back(enforce_sorted, lengths):
    ms, ts = _seqs(lengths, minidl), _seqs(lengths, torch)
    mp = mrnn.pack_sequence(ms, enforce_sorted=enforce_sorted)
    tp = trnn.pack_sequence(ts, enforce_sorted=enforce_sorted)
    _same_packed(mp, tp)
    for a, b in zip(mrnn.unpack_sequence(mp), trnn.unpack_sequence(tp)):
        assert_close(a, b, **TOL)
    _backward_same(mp.data, tp.data, ms, ts)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pack_padded_and_pad_packed(batch_first, total_length):
    lengths = [3, 5, 1, 5]
    x = np.random.default_rng(2).standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    mx, tx = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mp = mrnn.pack_padded_sequence(mx, minidl.tensor(lengths), batch_first, False)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, False)
    _same_packed(mp, tp)
    mo, ml = mrnn.pad_packed_sequence(mp, batch_first, -1.5, total_length)
    to, tl = trnn.pad_packed_sequence(tp, batch_first, -1.5, total_length)
    assert_close(mo, to, **TOL)
    assert_close(ml, tl, **TOL)
    _backward_same(mo, to, [mx], [tx])


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(batch_first, padding_side):
    ms, ts = _seqs([2, 4, 1], minidl, (2, 3)), _seqs([2, 4, 1], torch, (2, 3))
    mo = mrnn.pad_sequence(ms, batch_first, 0.5, padding_side)
    to = trnn.pad_sequence(ts, batch_first, 0.5, padding_side)
    assert_close(mo, to, **TOL)
    _backward_same(mo, to, ms, ts)


def test_pad_sequence_of_a_tensor_and_unpad():
    x = np.random.default_rng(3).standard_normal((3, 4, 2))
    assert_close(mrnn.pad_sequence(minidl.tensor(x)), trnn.pad_sequence(torch.tensor(x)), **TOL)
    for batch_first, lengths in ((False, [3, 1, 2, 3]), (True, [4, 1, 2])):
        got = mrnn.unpad_sequence(minidl.tensor(x), minidl.tensor(lengths), batch_first)
        want = trnn.unpad_sequence(torch.tensor(x), torch.tensor(lengths), batch_first)
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert_close(a, b, **TOL)


def test_packed_sequence_tuple():
    data, sizes = minidl.arange(3.0), minidl.tensor([2, 1])
    p = mrnn.PackedSequence(data, sizes)
    assert p == mrnn.PackedSequence((data, sizes)) and p.sorted_indices is None
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    order = minidl.tensor([2, 0, 1])
    q = mrnn.PackedSequence(data, sizes, order)
    assert q.unsorted_indices.tolist() == trnn.invert_permutation(torch.tensor([2, 0, 1])).tolist()
    d = q.double()
    assert d.data.dtype == minidl.float64 and d.sorted_indices is order
    assert p.to(minidl.float32) is p and not p.is_cuda
    assert repr(p).startswith("PackedSequence(data=tensor([0., 1., 2.])")


def _raises_like_torch(call, names):
    errors = []
    for lib, space in ((minidl, mrnn), (torch, trnn)):
        with pytest.raises(Exception) as info:
            call(lib, space)
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]), f"minidl {errors[0]!r}, torch {errors[1]!r}"
    for name in names:
        assert name in str(errors[0])


@pytest.mark.parametrize("call, names", [
    (lambda lib, r: r.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 1, 2]), ("enforce_sorted",)),
    (lambda lib, r: r.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 1, 0]), ("lengths",)),
    (lambda lib, r: r.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 1]), ("batch_size",)),
    (lambda lib, r: r.pad_packed_sequence(r.pack_sequence([lib.zeros(3)]), total_length=2),
     ("total_length",)),
    (lambda lib, r: r.pad_sequence([]), ("empty",)),
    (lambda lib, r: r.pad_sequence([lib.zeros(2)], padding_side="top"), ("padding_side",)),
    (lambda lib, r: r.pad_sequence([lib.zeros(2, 3), lib.zeros(2, 4)]), ("3",)),
    (lambda lib, r: r.pad_sequence(5), ("iterable",)),
])
def test_refusals(call, names):
    _raises_like_torch(call, names)


def test_length_beyond_the_input_is_refused():
    with pytest.raises(RuntimeError, match="exceeds"):
        mrnn.pack_padded_sequence(minidl.zeros(4, 3, 2), [5, 2, 1])
