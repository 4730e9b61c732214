"""Semantics of views, in-place writes and indexing that go beyond values: shared memory,
version counters, history rebasing, torch's errors for bad arguments."""
import warnings

import numpy as np
import pytest
import torch

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

VIEWS = {
    "view": lambda x: x.view(4, 6),
    "reshape": lambda x: x.reshape(-1),
    "flatten": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "movedim": lambda x: x.movedim(0, -1),
    "squeeze": lambda x: x[:1].squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand_same": lambda x: x.expand(2, 3, 4),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select": lambda x: x.select(1, 2),
    "int": lambda x: x[1],
    "slices": lambda x: x[:, 1:, ::2],
    "none_ellipsis": lambda x: x[None, ..., 0],
    "scalar": lambda x: x[1, 2, 3],
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "split": lambda x: x.split(1, dim=1)[1],
    "chunk": lambda x: x.chunk(2, dim=2)[1],
    "unbind": lambda x: x.unbind(0)[1],
    "contiguous": lambda x: x.contiguous(),
    "unfold": lambda x: x.unfold(2, 2, 2),
}


@pytest.mark.filterwarnings("ignore:The use of `x.T`")
@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_memory_and_version(name):
    for L in (minidl, torch):
        x = L.arange(24.0).reshape(2, 3, 4)
        v = VIEWS[name](x)
        with L.no_grad():
            v[...] = -1.0
        assert (x == -1.0).sum().item() == v.numel(), f"{L.__name__}: write did not reach base"
        assert x._version == v._version > 0
    m = VIEWS[name](minidl.arange(24.0).reshape(2, 3, 4))
    t = VIEWS[name](torch.arange(24.0).reshape(2, 3, 4))
    assert tuple(m.shape) == tuple(t.shape)


def test_views_keep_sharing_in_graph_mode_writes_through_setitem():
    base = minidl.zeros(2, 3)
    row = base[1]
    h = minidl.ones(3, requires_grad=True)
    base[1] = h * 2  # in graph: recorded, yet written into the same memory
    assert row.tolist() == [2.0, 2.0, 2.0]
    base.sum().backward()
    assert h.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("make", [
    lambda x: x.t().reshape(-1),
    lambda x: x[[0, 1]],
    lambda x: x[x > 2],
    lambda x: x.flip(0),
    lambda x: x.roll(1, 0),
    lambda x: x.index_select(0, minidl.tensor([0])),
    lambda x: x.gather(0, minidl.tensor([[0, 1, 0]])),
    lambda x: x.masked_select(x > 1),
    lambda x: x.repeat(1, 1),
    lambda x: x.diag(),
    lambda x: x.t().contiguous(),
    lambda x: minidl.cat([x]),
    lambda x: minidl.einsum("ij->ji", x),
])
def test_copies_do_not_alias(make):
    x = minidl.arange(6.0).reshape(2, 3)
    y = make(x)
    with minidl.no_grad():
        y[...] = -1.0
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_view_needing_a_copy_raises_torch_error():
    x = minidl.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"view size is not compatible with input tensor's "
                                           r"size and stride .* Use \.reshape\(\.\.\.\) instead"):
        x.t().view(-1)
    assert x.t().reshape(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert x.t().view(3, 2).shape == (3, 2)  # no merge needed: a view is fine


def test_contiguous_returns_self_when_contiguous():
    x = minidl.randn(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y is not x


def test_expanded_tensor_refuses_writes():
    x = minidl.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        x[0, 0] = 1.0


INPLACE = {
    "masked_fill_": (lambda L, y, b, m: y.masked_fill_(m, 0.5),
                     lambda rng: [rng.standard_normal((3, 4)) > 0]),
    "masked_fill_tensor": (lambda L, y, b, m: y.masked_fill_(m, b.sum()),
                           lambda rng: [rng.standard_normal(4) > 0]),
    "scatter_": (lambda L, y, b, i: y.scatter_(1, i, b[:, :2]),
                 lambda rng: [np.array([[0, 3], [2, 1], [1, 0]])]),
    "scatter_value": (lambda L, y, b, i: y.scatter_(1, i, 2.0),
                      lambda rng: [np.array([[0, 3], [2, 1], [1, 0]])]),
    "scatter_add_": (lambda L, y, b, i: y.scatter_add_(1, i, b[:, :2]),
                     lambda rng: [np.array([[0, 0], [2, 1], [1, 1]])]),
    "index_add_": (lambda L, y, b, i: y.index_add_(1, i, b[:, :3], alpha=-2.0),
                   lambda rng: [np.array([3, 0, 3])]),
    "index_fill_": (lambda L, y, b, i: y.index_fill_(0, i, -1.0), lambda rng: [np.array([2])]),
    "index_put_": (lambda L, y, b, i: y.index_put_((i,), b[0], accumulate=True),
                   lambda rng: [np.array([1, 1])]),
    "setitem": (lambda L, y, b, i: y.__setitem__((i, slice(1, 3)), b[0, :2]) or y,
                lambda rng: [np.array([2, 0])]),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_ops_in_graph_match_torch(name):
    op, extra = INPLACE[name]
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def run(L):
        def fn(x, w, *rest):
            y = x * 1.0
            out = op(L, y, w, *rest)
            assert out is y
            return y * w
        return fn
    rest = extra(rng)
    compare(run(minidl), run(torch), [a, b] + rest, dtype="float64")
    gradcheck(lambda x, w: run(minidl)(x, w, *[minidl.tensor(e) for e in rest]), [a, b])


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_ops_outside_graph_write_memory(name):
    op, extra = INPLACE[name]
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    res, rest = [], extra(rng)
    for L in (minidl, torch):
        x = L.tensor(a)
        alias = x[:]
        op(L, x, L.tensor(b), *[L.tensor(e) for e in rest])
        res.append(alias.numpy().copy())
        assert x._version == 1
    np.testing.assert_allclose(res[0], res[1])


def test_inplace_write_invalidates_saved_values():
    for L in (minidl, torch):
        x = L.ones(3, requires_grad=True)
        y = x * 2
        z = y * y  # saves y
        y[0] = 5.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_inplace_on_leaf_requiring_grad_refused():
    x = minidl.ones(3, requires_grad=True)
    for call in (lambda: x.masked_fill_(minidl.tensor([True, False, False]), 0.0),
                 lambda: x.index_add_(0, minidl.tensor([0]), minidl.ones(1)),
                 lambda: x.scatter_(0, minidl.tensor([0]), 2.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            call()


def test_rnn_style_setitem_loop_backpropagates():
    w = np.random.default_rng(1).standard_normal((3, 3))
    res = []
    for L in (minidl, torch):
        W = L.tensor(w, requires_grad=True)
        out = L.zeros(4, 3, dtype=W.dtype)
        h = L.ones(3, dtype=W.dtype)
        for t in range(4):
            h = (W @ h).tanh() if hasattr(h, "tanh") else None
            out[t] = h
        (out * out).sum().backward()
        res.append(W.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


def test_advanced_index_backward_accumulates_duplicates():
    x = minidl.zeros(4, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]
    w = minidl.zeros(3, 2, requires_grad=True)
    F.embedding(minidl.tensor([[0, 2], [0, 0]]), w).sum().backward()
    assert w.grad[:, 0].tolist() == [3.0, 0.0, 1.0]


def test_properties_and_named_tuples():
    x = minidl.randn(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    s = x.sort(dim=1, descending=True)
    assert s.values is s[0] and s.indices is s[1]
    k = minidl.topk(x, 2)
    assert k.values.shape == k.indices.shape == (2, 3, 2)
    assert type(s).__name__ == "sort" and type(k).__name__ == "topk"
    assert isinstance(minidl.split(x, 1), tuple) and isinstance(x.chunk(2), tuple)
    assert isinstance(x.unbind(), tuple)


def test_index_outputs_do_not_require_grad():
    x = minidl.tensor([3.0, 1.0, 3.0], requires_grad=True)
    assert not minidl.unique(x).requires_grad
    assert not x.argsort().requires_grad and not x.nonzero().requires_grad
    assert x.sort().values.requires_grad and not x.sort().indices.requires_grad


def test_meshgrid_warns_without_indexing_like_torch():
    with pytest.warns(UserWarning, match="indexing"):
        minidl.meshgrid(minidl.arange(2), minidl.arange(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minidl.meshgrid(minidl.arange(2), minidl.arange(3), indexing="xy")


def test_pad_and_embedding_keep_float32():
    x = minidl.randn(1, 2, 5, requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        y = F.pad(x, (2, 1), mode=mode)
        y.sum().backward()
        assert y.dtype == minidl.float32 and x.grad.dtype == minidl.float32


ERRORS = [
    (lambda x: x.view(5, -1), RuntimeError, r"shape '\[5, -1\]' is invalid for input of size 24"),
    (lambda x: x.reshape(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda x: x.view(2, [12]), TypeError, "must be tuple of ints"),
    (lambda x: x.squeeze(5), IndexError, r"Dimension out of range \(expected to be in range "
                                         r"of \[-3, 2\], but got 5\)"),
    (lambda x: x.unsqueeze(4), IndexError, r"expected to be in range of \[-4, 3\]"),
    (lambda x: x.expand(3, 3, 4), RuntimeError, r"The expanded size of the tensor \(3\) must "
                                                r"match the existing size \(2\) at "
                                                r"non-singleton dimension 0"),
    (lambda x: x.expand(3, 4), RuntimeError, r"the number of sizes provided \(2\) must be "
                                             r"greater or equal to the number of dimensions"),
    (lambda x: x.expand(-1, 2, 3, 4), RuntimeError, "isn't allowed in a leading, non-existing "
                                                    "dimension 0"),
    (lambda x: x.permute(0, 1), RuntimeError, r"input.dim\(\) = 3 is not equal to len\(dims\) "
                                              r"= 2"),
    (lambda x: x.permute(0, 1, 1), RuntimeError, "duplicate dims are not allowed"),
    (lambda x: x.t(), RuntimeError, "t\\(\\) expects a tensor with <= 2 dimensions, but self "
                                    "is 3D"),
    (lambda x: x.flatten(2, 1), RuntimeError, "start_dim cannot come after end_dim"),
    (lambda x: x.unflatten(1, (2, 2)), RuntimeError, r"Provided sizes \[2, 2\] don't multiply "
                                                     r"up to the size of dim 1 \(3\)"),
    (lambda x: x.repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be "
                                          "smaller than number of dimensions of tensor"),
    (lambda x: minidl.cat([x, minidl.randn(2, 3, 5)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 4 but got size 5 for "
     "tensor number 1 in the list"),
    (lambda x: minidl.cat([x, minidl.randn(2, 3)]), RuntimeError,
     "Tensors must have same number of dimensions: got 3 and 2"),
    (lambda x: minidl.cat([x[0, 0, 0], x[0, 0, 1]]), RuntimeError,
     r"zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    (lambda x: minidl.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda x: minidl.cat(x), TypeError, "must be tuple of Tensors"),
    (lambda x: minidl.stack([x, minidl.randn(2, 3, 5)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2, 3, 4\] at entry 0 and "
     r"\[2, 3, 5\] at entry 1"),
    (lambda x: x.split([1, 1], dim=1), RuntimeError, "split_with_sizes expects split_sizes to "
                                                     "sum exactly to 3"),
    (lambda x: x.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda x: x.roll((1, 2), (0,)), RuntimeError, "shifts and dimensions must align"),
    (lambda x: x.narrow(2, 3, 2), RuntimeError, r"start \(3\) \+ length \(2\) exceeds dimension "
                                                r"size \(4\)"),
    (lambda x: x.select(1, 3), IndexError, r"select\(\): index 3 out of range for tensor of "
                                           r"size \[2, 3, 4\] at dimension 1"),
    (lambda x: x.diagonal(0, 1, 1), RuntimeError, "diagonal dimensions cannot be identical"),
    (lambda x: x.diag(), RuntimeError, r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    (lambda x: x[0, 0].tril(), RuntimeError, "tril: input tensor must have at least 2 "
                                             "dimensions"),
    (lambda x: x.masked_fill(minidl.ones(4), 1.0), RuntimeError,
     "only supports boolean masks, but got mask with dtype float"),
    (lambda x: x.masked_fill(minidl.ones(4, dtype=minidl.bool), minidl.ones(2)), RuntimeError,
     r"only supports a 0-dimensional value tensor, but got tensor with 1 dimension\(s\)"),
    (lambda x: x.gather(1, minidl.zeros(2, 3, 5, dtype=minidl.int64)), RuntimeError,
     r"Size does not match at dimension 2 expected index \[2, 3, 5\] to be no larger than "
     r"self \[2, 3, 4\] apart from dimension 1"),
    (lambda x: x.gather(1, minidl.zeros(2, 3, dtype=minidl.int64)), RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda x: x.gather(1, minidl.full((2, 3, 4), 3)), RuntimeError,
     "index 3 is out of bounds for dimension 1 with size 3"),
    (lambda x: x.gather(1, minidl.zeros(2, 3, 4)), RuntimeError, "Expected dtype int32 or "
                                                                 "int64 for index"),
    (lambda x: x.scatter(1, minidl.zeros(2, 1, 4, dtype=minidl.int64),
                         minidl.ones(2, 1, 4, dtype=minidl.float64)), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.index_select(1, minidl.tensor([[0, 1]])), IndexError,
     "Index is supposed to be a vector"),
    (lambda x: x.index_select(0, minidl.tensor([0, 2])), IndexError,
     "index 2 is out of bounds for dimension 0 with size 2"),
    (lambda x: x.index_add(1, minidl.tensor([0, 1]), minidl.ones(2, 3, 4)), RuntimeError,
     r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\), for dim: 1"),
    (lambda x: x.topk(5), RuntimeError, "selected index k out of range"),
    (lambda x: x.unfold(2, 5, 1), RuntimeError, "maximum size for tensor at dimension 2 is 4 "
                                                "but size is 5"),
    (lambda x: x.unfold(2, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    (lambda x: F.pad(x, (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda x: F.pad(x, (1,) * 8), RuntimeError, "Padding length should be less than or equal "
                                                 "to two times the input dimension"),
    (lambda x: F.pad(x, (4, 4), mode="reflect"), RuntimeError, "Padding size should be less "
                                                               "than the corresponding input "
                                                               "dimension"),
    (lambda x: F.pad(x, (5, 1), mode="circular"), RuntimeError, "wrapping around more than "
                                                                "once"),
    (lambda x: F.pad(x, (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode"),
    (lambda x: F.pad(x, (1,) * 6, mode="reflect"), NotImplementedError,
     "Padding size 6 is not supported for 3D input tensor"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=1.0), RuntimeError,
     "doesn't take in value argument"),
    (lambda x: F.pad(x, (-5, 1)), RuntimeError, "negative"),
    (lambda x: F.one_hot(minidl.tensor([0, 3]), 3), RuntimeError, "Class values must be "
                                                                  "smaller than num_classes"),
    (lambda x: F.one_hot(minidl.tensor([0, -1])), RuntimeError, "Class values must be "
                                                                "non-negative"),
    (lambda x: F.one_hot(minidl.tensor([0.0])), RuntimeError, "one_hot is only applicable to "
                                                              "index tensor of type LongTensor"),
    (lambda x: F.embedding(minidl.tensor([0, 5]), minidl.randn(5, 3)), IndexError,
     "index out of range in self"),
    (lambda x: F.embedding(minidl.tensor([0.0]), minidl.randn(5, 3)), RuntimeError,
     "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
     "Long, Int"),
    (lambda x: F.embedding(minidl.tensor([0]), minidl.randn(5, 3), padding_idx=5),
     AssertionError, "Padding_idx must be within num_embeddings"),
    (lambda x: minidl.meshgrid(x, indexing="ij"), RuntimeError, "Expected 0D or 1D tensor"),
    (lambda x: minidl.searchsorted(minidl.randn(2, 3), minidl.randn(3, 2)), RuntimeError,
     "first N-1 dimensions of boundaries tensor and input value tensor must match"),
    (lambda x: minidl.repeat_interleave(x, minidl.tensor([1, 2]), dim=1), RuntimeError,
     "repeats must have the same size as input along dim"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS)
def test_bad_arguments(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn(minidl.randn(2, 3, 4))
