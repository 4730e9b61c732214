"""Second derivatives of the indexing and shape kernels (gather / scatter, getitem /
index_put, masks, splits, diagonals, embedding, expand / repeat, joins, views, permutes,
flips, copies and casts) against torch.

Every case is linear in its inputs, so what is checked is that the recorded backward is
itself differentiable -- in the incoming gradient -- and equal to torch's."""
import numpy as np
import pytest

import minidl
from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def idx(*values):
    return np.array(values, dtype=np.int64)


def _setitem(lib, x, v):
    y = x.clone()
    y[1:, idx(0, 2)] = v
    return y


def _index_add_(lib, x, s):
    y = x.clone()
    y.index_add_(1, lib.tensor(idx(2, 0, 2)), s, alpha=-1.5)
    return y


def _index_fill_(lib, x, v):
    y = x * 1
    y.index_fill_(0, lib.tensor(idx(1, 1)), v)
    return y


def _masked_fill_(lib, x, v):
    y = x.clone()
    y.masked_fill_(lib.tensor(np.array([[True, False, True], [False, False, True]])), v)
    return y


def _scatter_(lib, x, s):
    y = x.clone()
    y.scatter_(0, lib.tensor(idx(1, 0, 1)).reshape(1, 3), s)
    return y


def _copy_(lib, x, s):
    y = x.clone()
    y.copy_(s)
    return y


def _fill_(lib, x, v):
    return (x * 2).fill_(v) * x


MASK = np.array([[True, False, True], [False, True, True]])
CAST = dict(eps=1e-2, atol=1e-4)  # float32 rounding in the middle of the function

CASES = [
    # gather / take_along_dim / take
    Case("gather_dim1", lambda lib, x: lib.gather(x, 1, lib.tensor(idx(0, 0, 2, 1).reshape(2, 2))),
         (r(2, 3),)),
    Case("gather_dim0_repeats", lambda lib, x: x.gather(0, lib.tensor(idx(1, 1, 0).reshape(3, 1))),
         (r(2, 2),)),
    Case("gather_0d", lambda lib, x: lib.gather(x, 0, lib.tensor(np.int64(0))), (r(),)),
    Case("take_along_dim_broadcast",
         lambda lib, x: lib.take_along_dim(x, lib.tensor(idx(2, 0, 0).reshape(1, 3)), dim=1),
         (r(2, 3),)),
    Case("take_along_dim_flat", lambda lib, x: lib.take_along_dim(x, lib.tensor(idx(5, 0, 5))),
         (r(2, 3),)),
    Case("take", lambda lib, x: lib.take(x, lib.tensor(idx(4, 1, 4, 0).reshape(2, 2))),
         (r(2, 3),)),
    # scatter / scatter_add / index_fill (index_put at gathered positions)
    Case("scatter_src",
         lambda lib, x, s: lib.scatter(x, 1, lib.tensor(idx(2, 0, 1, 2).reshape(2, 2)), s),
         (r(2, 3), r(2, 2))),
    Case("scatter_value", lambda lib, x: x.scatter(0, lib.tensor(idx(1, 0).reshape(1, 2)), 2.5),
         (r(2, 3),)),
    Case("scatter_add_repeats",
         lambda lib, x, s: lib.scatter_add(x, 0, lib.tensor(idx(1, 1, 0, 1).reshape(2, 2)), s),
         (r(2, 3), r(2, 2))),
    Case("scatter_inplace", _scatter_, (r(2, 3), r(1, 3))),
    Case("index_fill", lambda lib, x: x.index_fill(1, lib.tensor(idx(0, 2)), -1.0), (r(2, 3),)),
    Case("index_fill_tensor_value_repeats",
         lambda lib, x, v: x.index_fill(1, lib.tensor(idx(2, 0, 2)), v), (r(2, 3), r())),
    Case("index_fill_inplace", _index_fill_, (r(2, 3), r())),
    # index_select / index_add
    Case("index_select_repeats", lambda lib, x: lib.index_select(x, 1, lib.tensor(idx(2, 0, 2))),
         (r(2, 3),)),
    Case("index_select_0d", lambda lib, x: lib.index_select(x, 0, lib.tensor(idx(0))), (r(),)),
    Case("index_add", lambda lib, x, s: lib.index_add(x, 0, lib.tensor(idx(1, 1)), s),
         (r(2, 3), r(2, 3))),
    Case("index_add_alpha_inplace", _index_add_, (r(2, 3), r(2, 3))),
    Case("index_add_source_const",
         lambda lib, x, s: lib.index_add(x, 0, lib.tensor(idx(1)), s, alpha=2.0),
         (r(2, 3), r(1, 3)), no_grad=(1,)),
    # getitem: basic (views), advanced (arrays, masks), mixed
    Case("getitem_basic", lambda lib, x: x[1, None, ::2], (r(2, 3),)),
    Case("narrow", lambda lib, x: lib.narrow(x, 1, 1, 2), (r(2, 3),)),
    Case("select", lambda lib, x: lib.select(x, 0, -1), (r(2, 3),)),
    Case("getitem_arrays_repeats",
         lambda lib, x: x[lib.tensor(idx(1, 1, 0)), lib.tensor(idx(2, 2, 0))], (r(2, 3),)),
    Case("getitem_mask", lambda lib, x: x[lib.tensor(MASK)], (r(2, 3),)),
    Case("getitem_int_and_array", lambda lib, x: x[1, :, lib.tensor(idx(0, 0))], (r(2, 2, 2),)),
    # index_put / setitem
    Case("index_put", lambda lib, x, v: lib.index_put(x, (lib.tensor(idx(0, 1)),), v),
         (r(2, 3), r(3))),
    Case("index_put_accumulate",
         lambda lib, x, v: x.index_put((lib.tensor(idx(1, 1)), lib.tensor(idx(0, 0))), v,
                                       accumulate=True), (r(2, 3), r(2))),
    Case("index_put_mask", lambda lib, x, v: lib.index_put(x, (lib.tensor(MASK),), v),
         (r(2, 3), r())),
    Case("setitem_broadcast", _setitem, (r(3, 3), r(1, 2))),
    # masks
    Case("masked_fill_value", lambda lib, x: x.masked_fill(lib.tensor(MASK), 0.5), (r(2, 3),)),
    Case("masked_fill_tensor_broadcast",
         lambda lib, x, v: lib.masked_fill(x, lib.tensor(MASK), v), (r(1, 3), r())),
    Case("masked_fill_inplace", _masked_fill_, (r(2, 3), r())),
    Case("masked_select", lambda lib, x: lib.masked_select(x, lib.tensor(MASK)), (r(2, 3),)),
    Case("masked_select_broadcast", lambda lib, x: lib.masked_select(x, lib.tensor(MASK)),
         (r(3),)),
    # splits
    Case("split_sizes", lambda lib, x: lib.split(x, [1, 2], dim=1), (r(2, 3),)),
    Case("chunk_one_output_used", lambda lib, x: x.chunk(2, 0)[1], (r(3, 2),)),
    Case("tensor_split_sections", lambda lib, x: lib.tensor_split(x, 2, dim=1), (r(2, 3),)),
    Case("tensor_split_indices", lambda lib, x: lib.tensor_split(x, [1, -1]), (r(4, 2),)),
    Case("unbind", lambda lib, x: lib.unbind(x, 1), (r(2, 3),)),
    Case("unfold_overlapping", lambda lib, x: x.unfold(1, 3, 1), (r(2, 4),)),
    Case("unfold_strided", lambda lib, x: x.unfold(0, 2, 3), (r(5, 2),)),
    Case("unfold_0d", lambda lib, x: x.unfold(0, 1, 1), (r(),)),
    # diagonals and triangles
    Case("diagonal_offset", lambda lib, x: lib.diagonal(x, 1), (r(3, 4),)),
    Case("diagonal_negative_dims", lambda lib, x: lib.diagonal(x, -1, 2, 0), (r(3, 2, 4),)),
    Case("diag_of_matrix", lambda lib, x: lib.diag(x, -1), (r(3, 3),)),
    Case("diag_of_vector", lambda lib, x: lib.diag(x, 1), (r(3),)),
    Case("diag_embed", lambda lib, x: lib.diag_embed(x, -1, 0, 2), (r(2, 3),)),
    Case("tril", lambda lib, x: lib.tril(x, -1), (r(3, 3),)),
    Case("triu", lambda lib, x: x.triu(1), (r(2, 3, 3),)),
    # embedding
    Case("embedding",
         lambda lib, w: lib.nn.functional.embedding(lib.tensor(idx(2, 0, 2, 3).reshape(2, 2)), w),
         (r(4, 3),)),
    Case("embedding_padding",
         lambda lib, w: lib.nn.functional.embedding(lib.tensor(idx(2, 0, 2, 1)), w, padding_idx=0),
         (r(4, 3),)),
    # expand / repeat / repeat_interleave
    Case("expand", lambda lib, x: x.expand(2, 3, 2), (r(3, 1),)),
    Case("repeat", lambda lib, x: x.repeat(2, 1, 2), (r(2, 2),)),
    Case("repeat_interleave_scalar", lambda lib, x: lib.repeat_interleave(x, 2, dim=1),
         (r(2, 2),)),
    Case("repeat_interleave_vector",
         lambda lib, x: x.repeat_interleave(lib.tensor(idx(2, 0, 1)), dim=0), (r(3, 2),)),
    Case("repeat_interleave_flat", lambda lib, x: lib.repeat_interleave(x, 2), (r(2, 2),)),
    # joins
    Case("cat", lambda lib, x, y: lib.cat([x, y], dim=1), (r(2, 1), r(2, 3))),
    Case("cat_legacy_empty", lambda lib, x, y: lib.cat([x, y]), (r(0), r(2, 3))),
    Case("stack", lambda lib, x, y: lib.stack([x, y], dim=1), (r(2, 3), r(2, 3))),
    # views, layout, order
    Case("reshape", lambda lib, x: x.t().reshape(6), (r(2, 3),)),
    Case("view", lambda lib, x: x.view(3, 2), (r(2, 3),)),
    Case("contiguous", lambda lib, x: x.t().contiguous() * x.t(), (r(2, 3),)),
    Case("permute", lambda lib, x: x.permute(2, 0, 1), (r(2, 3, 2),)),
    Case("flip", lambda lib, x: lib.flip(x, (0, 1)), (r(2, 3),)),
    Case("roll", lambda lib, x: lib.roll(x, (1, -1), (0, 1)), (r(2, 3),)),
    # copies and casts
    Case("copy_", _copy_, (r(2, 3), r(3))),
    Case("fill_tensor", _fill_, (r(2, 3), r())),
    Case("clone", lambda lib, x: x.clone() * x, (r(2, 3),)),
    Case("cast", lambda lib, x: x.to(lib.float32).double() * x, (r(2, 3),), kwargs=CAST),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)


def test_embedding_scale_grad_by_freq_second_derivative():
    """torch's double backward of embedding drops the 1/count scaling (its own gradgradcheck
    fails), so this branch is checked against finite differences and the closed form
    d(dW)/d(dy)[k] = [idx[k] != padding] / count(idx[k]) only."""
    w = minidl.tensor(r(4, 3), requires_grad=True)
    i = minidl.tensor(idx(2, 0, 2, 1))

    def f(w):
        return minidl.nn.functional.embedding(i, w, padding_idx=1, scale_grad_by_freq=True)

    assert minidl.autograd.gradgradcheck(f, (w,))
    v = minidl.ones(4, 3, dtype=minidl.float64, requires_grad=True)
    gw, = minidl.autograd.grad((f(w) * v).sum(), w, create_graph=True)
    dv, = minidl.autograd.grad(gw.sum(), v)
    np.testing.assert_allclose(dv.numpy(), np.array([[0.5], [1], [0.5], [0]]) * np.ones((1, 3)))


def test_scatter_src_larger_than_index_second_derivative():
    """Only the part of ``src`` that ``index`` covers is read; torch's double backward fails
    on this shape (ScatterBackward0 returns the index's shape for src), so finite
    differences are the reference here."""
    x = minidl.tensor(r(2, 3), requires_grad=True)
    s = minidl.tensor(r(3, 3), requires_grad=True)
    i = minidl.tensor(idx(2, 0, 1, 2).reshape(2, 2))
    assert minidl.autograd.gradgradcheck(lambda x, s: minidl.scatter(x, 1, i, s), (x, s))
