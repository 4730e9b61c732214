"""Shape, view, join/split, gather/scatter, sort and padding ops against PyTorch.

Every case is written once as ``fn(L, *inputs)`` with ``L`` either ``minidl`` or ``torch``
(the APIs are the same), run through the harness in float32 and float64, with C- and
Fortran-ordered inputs, and checked by a float64 finite-difference gradcheck.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from tests.reference.harness import compare, gradcheck


def F(L):
    return L.nn.functional


def r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def ints(high, shape, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int64)


def joined(L, outs):
    """Several outputs as one 1-D tensor (one backward root; values and gradients of every
    output are still compared)."""
    return L.cat([o.reshape(-1) for o in outs])


def perm_index(n, shape, dim, seed=0):
    """An index along ``dim`` without repeats (for scatter, whose duplicates torch leaves
    unspecified)."""
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random(shape[:dim] + (n,) + shape[dim + 1:]), axis=dim)
    return np.take(idx, np.arange(shape[dim]), axis=dim).astype(np.int64)


# (id, fn(L, *inputs), inputs)
CASES = [
    ("reshape", lambda L, x: L.reshape(x, (4, -1)), [r(2, 3, 4)]),
    ("reshape_method", lambda L, x: x.reshape(3, 2, 4), [r(2, 3, 4)]),
    ("reshape_0d", lambda L, x: x.reshape(()), [r(1, 1)]),
    ("view", lambda L, x: x.contiguous().view(-1, 6), [r(2, 3, 4)]),
    ("view_as", lambda L, x, y: x.contiguous().view_as(y), [r(2, 6), r(3, 4)]),
    ("reshape_as", lambda L, x, y: x.reshape_as(y), [r(2, 6), r(3, 4)]),
    ("flatten", lambda L, x: L.flatten(x), [r(2, 3, 4)]),
    ("flatten_mid", lambda L, x: x.flatten(1, 2), [r(2, 3, 4, 2)]),
    ("flatten_0d", lambda L, x: L.flatten(x.sum()), [r(2, 3)]),
    ("unflatten", lambda L, x: x.unflatten(1, (2, -1)), [r(3, 6, 2)]),
    ("squeeze", lambda L, x: x.squeeze(), [r(2, 1, 3, 1)]),
    ("squeeze_dim", lambda L, x: L.squeeze(x, -1), [r(2, 1, 3, 1)]),
    ("squeeze_tuple", lambda L, x: x.squeeze((0, 1)), [r(2, 1, 3, 1)]),
    ("unsqueeze", lambda L, x: x.unsqueeze(-1), [r(2, 3)]),
    ("unsqueeze0", lambda L, x: L.unsqueeze(x, 0), [r(2, 3)]),
    ("permute", lambda L, x: x.permute(2, 0, 1), [r(2, 3, 4)]),
    ("permute_fn", lambda L, x: L.permute(x, (1, 2, 0)), [r(2, 3, 4)]),
    ("transpose", lambda L, x: x.transpose(0, -1), [r(2, 3, 4)]),
    ("swapaxes", lambda L, x: L.swapaxes(x, 0, 1), [r(2, 3)]),
    ("swapdims", lambda L, x: x.swapdims(1, 2), [r(2, 3, 4)]),
    ("t", lambda L, x: x.t(), [r(3, 4)]),
    ("t_1d", lambda L, x: L.t(x), [r(4)]),
    ("T", lambda L, x: x.T, [r(3, 4)]),
    ("mT", lambda L, x: x.mT, [r(2, 3, 4)]),
    ("movedim", lambda L, x: L.movedim(x, 0, -1), [r(2, 3, 4)]),
    ("movedim_multi", lambda L, x: x.movedim((0, 1), (2, 0)), [r(2, 3, 4)]),
    ("moveaxis", lambda L, x: L.moveaxis(x, -1, 0), [r(2, 3, 4)]),
    ("expand", lambda L, x: x.expand(2, 3, -1), [r(3, 1)]),
    ("expand_same", lambda L, x: x.expand(3, 4), [r(3, 4)]),
    ("expand_as", lambda L, x, y: x.expand_as(y), [r(1, 4), r(3, 4)]),
    ("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3, 4)), [r(4)]),
    ("broadcast_tensors", lambda L, x, y: joined(L, L.broadcast_tensors(x, y)), [r(3, 1), r(1, 4)]),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [r(3, 2)]),
    ("tile", lambda L, x: L.tile(x, (2,)), [r(3, 2)]),
    ("tile_more", lambda L, x: x.tile(2, 1, 2), [r(3, 2)]),
    ("repeat_interleave", lambda L, x: x.repeat_interleave(2, dim=1), [r(2, 3)]),
    ("repeat_interleave_flat", lambda L, x: L.repeat_interleave(x, 3), [r(2, 3)]),
    ("repeat_interleave_tensor", lambda L, x, k: L.repeat_interleave(x, k, dim=0),
     [r(4, 2), np.array([2, 0, 1, 3])]),
    ("cat", lambda L, x, y: L.cat([x, y], 1), [r(2, 3, 4), r(2, 1, 4)]),
    ("cat_neg", lambda L, x, y, z: L.cat((x, y, z), dim=-1), [r(2, 3), r(2, 1), r(2, 2)]),
    ("cat_empty_legacy", lambda L, x, y: L.cat([x, y]), [r(2, 3), np.zeros((0,))]),
    ("concat", lambda L, x, y: L.concat([x, y]), [r(2, 3), r(1, 3)]),
    ("concatenate", lambda L, x, y: L.concatenate([x, y], 1), [r(2, 3), r(2, 1)]),
    ("cat_promote", lambda L, x, i: L.cat([x, i]), [r(2, 3), ints(5, (1, 3))]),
    ("cat_promote_int16", lambda L, x, i: L.cat([i, x]),
     [r(2, 3), ints(5, (1, 3)).astype(np.int16)]),
    ("stack", lambda L, x, y: L.stack([x, y], 1), [r(2, 3), r(2, 3)]),
    ("stack_last", lambda L, x, y: L.stack((x, y), -1), [r(2, 3), r(2, 3)]),
    ("hstack", lambda L, x, y: L.hstack([x, y]), [r(2, 3), r(2, 2)]),
    ("hstack_1d", lambda L, x, y: L.hstack([x, y]), [r(3), r(2)]),
    ("vstack", lambda L, x, y: L.vstack([x, y]), [r(3), r(2, 3)]),
    ("dstack", lambda L, x, y: L.dstack([x, y]), [r(2, 3), r(2, 3, 2)]),
    ("column_stack", lambda L, x, y: L.column_stack([x, y]), [r(3), r(3, 2)]),
    ("atleast_3d", lambda L, x, y: joined(L, L.atleast_3d(x, y)), [r(3), r(2, 3)]),
    ("split_int", lambda L, x: joined(L, L.split(x, 2, dim=1)), [r(2, 5)]),
    ("split_list", lambda L, x: joined(L, x.split([1, 3, 1], 1)), [r(2, 5)]),
    ("split_unused", lambda L, x: x.split(2)[1], [r(5, 2)]),
    ("chunk", lambda L, x: joined(L, x.chunk(3, dim=-1)), [r(2, 7)]),
    ("chunk_fewer", lambda L, x: joined(L, L.chunk(x, 4)), [r(6, 2)]),
    ("unbind", lambda L, x: joined(L, x.unbind(1)), [r(2, 3)]),
    ("unfold_overlap", lambda L, x: x.unfold(2, 3, 1), [r(2, 3, 5)]),
    ("unfold_strided", lambda L, x: x.unfold(0, 2, 3), [r(8, 2)]),
    ("unfold_patches", lambda L, x: x.unfold(1, 2, 2).unfold(2, 2, 2), [r(2, 4, 6)]),
    ("kwargs_forms", lambda L, x: x.reshape(shape=(3, 4)).permute(dims=(1, 0)).flip(dims=(0,))
     .expand(size=(2, 4, 3)).tile(dims=(1, 2)).repeat(repeats=(1, 1, 2)), [r(2, 6)]),
    ("flip", lambda L, x: L.flip(x, (0, 2)), [r(2, 3, 4)]),
    ("flip_method", lambda L, x: x.flip(-1), [r(2, 3)]),
    ("fliplr", lambda L, x: L.fliplr(x), [r(2, 3)]),
    ("flipud", lambda L, x: x.flipud(), [r(2, 3)]),
    ("roll", lambda L, x: L.roll(x, (1, -2), (0, 1)), [r(3, 4)]),
    ("roll_flat", lambda L, x: x.roll(5), [r(3, 4)]),
    ("rot90", lambda L, x: L.rot90(x, 1, (0, 1)), [r(2, 3, 2)]),
    ("rot90_k3", lambda L, x: x.rot90(3, [1, 2]), [r(2, 3, 4)]),
    ("rot90_k2", lambda L, x: L.rot90(x, -2), [r(3, 4)]),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), [r(2, 4)]),
    ("narrow_neg", lambda L, x: L.narrow(x, 0, -2, 2), [r(4, 2)]),
    ("select", lambda L, x: x.select(1, -1), [r(2, 3, 4)]),
    ("diagonal", lambda L, x: L.diagonal(x), [r(3, 4)]),
    ("diagonal_offset", lambda L, x: x.diagonal(1, 2, 0), [r(3, 2, 4)]),
    ("diagonal_neg", lambda L, x: x.diagonal(-1), [r(4, 3)]),
    ("diag_1d", lambda L, x: L.diag(x, 1), [r(3)]),
    ("diag_2d", lambda L, x: x.diag(-1), [r(3, 4)]),
    ("diag_embed", lambda L, x: L.diag_embed(x), [r(2, 3)]),
    ("diag_embed_dims", lambda L, x: L.diag_embed(x, -1, 0, 2), [r(2, 3)]),
    ("contiguous", lambda L, x: x.contiguous() * 1, [r(2, 3)]),
    ("tril", lambda L, x: L.tril(x), [r(2, 3, 4)]),
    ("triu_k", lambda L, x: x.triu(1), [r(3, 4)]),
    ("tril_neg", lambda L, x: x.tril(-1), [r(4, 3)]),
    ("gather", lambda L, x, i: L.gather(x, 1, i), [r(3, 4), ints(4, (3, 5))]),
    ("gather_smaller", lambda L, x, i: x.gather(0, i), [r(4, 3), ints(4, (2, 2))]),
    ("gather_3d", lambda L, x, i: x.gather(-1, i), [r(2, 3, 4), ints(4, (2, 3, 2))]),
    ("take_along_dim", lambda L, x, i: L.take_along_dim(x, i, 1), [r(3, 4), ints(4, (1, 2))]),
    # torch's take_along_dim(dim=None) itself fails on non-contiguous input: make it contiguous
    ("take_along_dim_flat", lambda L, x, i: L.take_along_dim(x.contiguous(), i),
     [r(3, 4), ints(12, (5,))]),
    ("take", lambda L, x, i: L.take(x, i), [r(3, 4), ints(12, (2, 3))]),
    ("scatter", lambda L, x, s, i: L.scatter(x, 1, i, s),
     [r(3, 5), r(3, 2), perm_index(5, (3, 2), 1)]),
    ("scatter_value", lambda L, x, i: x.scatter(0, i, 2.5), [r(4, 3), perm_index(4, (2, 3), 0)]),
    ("scatter_add", lambda L, x, s, i: L.scatter_add(x, 1, i, s),
     [r(3, 5), r(3, 4), ints(5, (3, 4))]),
    ("index_select", lambda L, x, i: L.index_select(x, 1, i), [r(3, 4), np.array([3, 0, 3])]),
    ("index_select_0d", lambda L, x, i: x.index_select(0, i), [r(3, 4), np.array(2)]),
    ("index_add", lambda L, x, s, i: L.index_add(x, 0, i, s, alpha=2.0),
     [r(4, 3), r(3, 3), np.array([1, 3, 1])]),
    ("index_fill", lambda L, x, i: x.index_fill(1, i, -1.5), [r(3, 4), np.array([0, 2])]),
    ("index_put", lambda L, x, v, i: L.index_put(x, (i,), v), [r(5, 2), r(2, 2), np.array([4, 0])]),
    ("index_put_acc", lambda L, x, v, i, j: x.index_put((i, j), v, accumulate=True),
     [r(3, 4), r(4), np.array([0, 2, 0, 0]), np.array([1, 1, 1, 3])]),
    ("masked_fill", lambda L, x, m: x.masked_fill(m, 0.5), [r(3, 4), r(3, 4) > 0]),
    ("masked_fill_bcast_mask", lambda L, x, m: L.masked_fill(x, m, -2.0), [r(3, 4), r(4) > 0]),
    ("masked_fill_bcast_out", lambda L, x, m: x.masked_fill(m, 1.0), [r(4), r(3, 4) > 0]),
    ("masked_fill_tensor_value", lambda L, x, v, m: x.masked_fill(m, v.sum()),
     [r(3, 4), r(2), r(3, 4) > 0]),
    ("masked_select", lambda L, x, m: L.masked_select(x, m), [r(3, 4), r(3, 4) > 0]),
    ("masked_select_bcast", lambda L, x, m: x.masked_select(m), [r(1, 4), r(3, 4) > 0]),
    ("sort", lambda L, x: L.sort(x), [r(3, 5)]),
    ("sort_desc_dim0", lambda L, x: x.sort(0, descending=True), [r(4, 3)]),
    ("sort_stable", lambda L, x: L.sort(x, stable=True, dim=-1), [r(2, 3, 4)]),
    ("argsort", lambda L, x: L.argsort(x, 1, descending=True), [r(3, 5)]),
    ("topk", lambda L, x: L.topk(x, 2), [r(3, 5)]),
    ("topk_smallest", lambda L, x: x.topk(3, dim=0, largest=False), [r(4, 3)]),
    ("topk_all", lambda L, x: x.topk(5), [r(2, 5)]),
    ("pad_constant", lambda L, x: F(L).pad(x, (1, 2)), [r(2, 3)]),
    ("pad_constant_value", lambda L, x: F(L).pad(x, (1, 0, 2, 1, 1, 1), value=0.5), [r(2, 3, 2)]),
    ("pad_constant_crop", lambda L, x: F(L).pad(x, (-1, 2, 1, -2)), [r(2, 4, 5)]),
    ("pad_constant_all_dims", lambda L, x: F(L).pad(x, (1, 1, 0, 1, 2, 0, 1, 0)), [r(2, 1, 2, 3)]),
    ("pad_reflect", lambda L, x: F(L).pad(x, (2, 1), mode="reflect"), [r(2, 3, 5)]),
    ("pad_reflect_2d", lambda L, x: F(L).pad(x, (1, 2, 2, 1), "reflect"), [r(1, 2, 4, 5)]),
    ("pad_reflect_3d", lambda L, x: F(L).pad(x, (1, 1, 1, 0, 0, 2), "reflect"), [r(1, 1, 3, 3, 4)]),
    ("pad_reflect_crop", lambda L, x: F(L).pad(x, (-1, 3), "reflect"), [r(1, 2, 5)]),
    ("pad_replicate", lambda L, x: F(L).pad(x, (3, 1, 0, 2), mode="replicate"), [r(2, 3, 4)]),
    ("pad_replicate_crop", lambda L, x: F(L).pad(x, (2, -3), "replicate"), [r(2, 5)]),
    ("pad_circular", lambda L, x: F(L).pad(x, (2, 1, 1, 3), mode="circular"), [r(1, 2, 3, 4)]),
    ("pad_circular_crop", lambda L, x: F(L).pad(x, (-1, 2), "circular"), [r(1, 2, 5)]),
    ("pad_circular_full", lambda L, x: F(L).pad(x, (4, 4), "circular"), [r(2, 4)]),
]

INT_CASES = [  # no gradient: index outputs, integer inputs
    ("nonzero", lambda L, x: L.nonzero(x), [r(3, 4) > 0]),
    ("nonzero_tuple", lambda L, x: x.nonzero(as_tuple=True), [r(3, 4) > 0]),
    ("nonzero_0d_tuple", lambda L, x: L.nonzero(x, as_tuple=True), [np.array(2.0)]),
    ("argwhere", lambda L, x: L.argwhere(x), [np.array([[0, 1], [2, 0]])]),
    ("unique", lambda L, x: L.unique(x), [np.array([3, 1, 2, 3, 1, 7])]),
    ("unique_all", lambda L, x: L.unique(x, return_inverse=True, return_counts=True),
     [np.array([[3, 1], [2, 3], [1, 7]])]),
    ("unique_float", lambda L, x: x.unique(return_counts=True), [np.round(r(10))]),
    ("unique_dim", lambda L, x: L.unique(x, dim=0, return_inverse=True),
     [np.array([[1, 2], [0, 1], [1, 2]])]),
    ("one_hot", lambda L, i: F(L).one_hot(i), [np.array([0, 3, 1])]),
    ("one_hot_classes", lambda L, i: F(L).one_hot(i, 5), [ints(5, (2, 3))]),
    ("searchsorted", lambda L, s, v: L.searchsorted(s, v), [np.array([1, 3, 5, 7]),
                                                          np.array([[0, 3], [6, 9]])]),
    ("searchsorted_right", lambda L, s, v: L.searchsorted(s, v, right=True),
     [np.array([1.0, 3, 3, 7]), np.array([3.0, 7])]),
    ("searchsorted_side_nd", lambda L, s, v: L.searchsorted(s, v, side="right"),
     [np.array([[1, 3, 5], [2, 4, 6]]), np.array([[3, 0], [6, 4]])]),
    ("searchsorted_int32", lambda L, s, v: L.searchsorted(s, v, out_int32=True),
     [np.array([1, 3, 5]), np.array([4])]),
    ("repeat_interleave_counts", lambda L, k: L.repeat_interleave(k), [np.array([2, 0, 3])]),
    ("cat_int", lambda L, a, b: L.cat([a, b], 1), [ints(5, (2, 3)), ints(5, (2, 1))]),
    ("pad_int_reflect", lambda L, x: F(L).pad(x, (1, 2), "reflect"), [ints(9, (1, 2, 4))]),
    ("gather_int", lambda L, x, i: x.gather(1, i), [ints(9, (2, 3)), ints(3, (2, 2))]),
    ("sort_bool", lambda L, x: x.sort(), [r(2, 5) > 0]),
    ("masked_fill_int", lambda L, x, m: x.masked_fill(m, 2.7), [ints(9, (2, 3)), r(2, 3) > 0]),
    ("flip_bool", lambda L, x: x.flip(0), [r(3, 2) > 0]),
]


def _run(fn, inputs, dtype, noncontiguous):
    compare(lambda *a: fn(minidl, *a), lambda *a: fn(torch, *a), inputs, dtype=dtype,
            noncontiguous=noncontiguous)


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["C", "F"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn, inputs, dtype, noncontiguous):
    _run(fn, inputs, dtype, noncontiguous)


@pytest.mark.parametrize("name,fn,inputs", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_index_outputs_against_torch(name, fn, inputs):
    compare(lambda *a: fn(minidl, *a), lambda *a: fn(torch, *a), inputs, grad=False)


GRADCHECK = [c for c in CASES if not c[0].startswith(("reshape_0d", "flatten_0d"))] + [
    # torch's own backward rejects a src larger than index; only the finite differences judge
    ("scatter_src_larger", lambda L, x, s, i: L.scatter(x, 1, i, s),
     [r(3, 5), r(3, 4), perm_index(5, (3, 2), 1)]),
]


@pytest.mark.parametrize("name,fn,inputs", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(name, fn, inputs):
    gradcheck(lambda *a: fn(minidl, *a), inputs)


def test_sort_descending_is_stable_like_torch():
    x = np.array([[2.0, 1.0, 2.0, 3.0, 1.0, 2.0], [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
    for desc in (False, True):
        m = minidl.sort(minidl.tensor(x), descending=desc, stable=True)
        t = torch.sort(torch.tensor(x), descending=desc, stable=True)
        np.testing.assert_array_equal(m.indices.numpy(), t.indices.numpy())
        np.testing.assert_array_equal(m.values.numpy(), t.values.numpy())


def test_sort_nan_is_largest():
    x = np.array([1.0, np.nan, -1.0, 3.0])
    for desc in (False, True):
        m = minidl.sort(minidl.tensor(x), descending=desc)
        t = torch.sort(torch.tensor(x), descending=desc)
        np.testing.assert_array_equal(m.indices.numpy(), t.indices.numpy())


def test_embedding_against_torch():
    w, idx = r(6, 3), np.array([[1, 4, 1], [0, 1, 5]])
    for kw in ({}, {"padding_idx": 1}, {"padding_idx": -1}, {"scale_grad_by_freq": True}):
        for dtype in ("float32", "float64"):
            compare(lambda i, w, kw=kw: F(minidl).embedding(i, w, **kw),
                    lambda i, w, kw=kw: F(torch).embedding(i, w, **kw), [idx, w], dtype=dtype)
    # (no padding_idx here: its row gets no gradient by design, unlike finite differences)
    gradcheck(lambda w: F(minidl).embedding(minidl.tensor(idx), w), [w])


def test_embedding_max_norm_renormalises_weight_like_torch():
    w = r(5, 3) * 3
    idx = np.array([0, 2, 2, 4])
    mw, tw = minidl.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    mo = F(minidl).embedding(minidl.tensor(idx), mw, max_norm=1.5)
    to = F(torch).embedding(torch.tensor(idx), tw, max_norm=1.5)
    np.testing.assert_allclose(mo.detach().numpy(), to.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(mw.detach().numpy(), tw.detach().numpy(), rtol=1e-6)
    mo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy())


def test_meshgrid_against_torch():
    x, y, z = r(3), r(2), r(4)
    for ij in ("ij", "xy"):
        compare(lambda a, b, c, ij=ij: minidl.meshgrid(a, b, c, indexing=ij),
                lambda a, b, c, ij=ij: torch.meshgrid(a, b, c, indexing=ij), [x, y, z],
                grad=False)
        compare(lambda a, b, c, ij=ij: joined(minidl, minidl.meshgrid(a, b, c, indexing=ij)),
                lambda a, b, c, ij=ij: joined(torch, torch.meshgrid(a, b, c, indexing=ij)),
                [x, y, z])
        compare(lambda a, b, ij=ij: joined(minidl, minidl.meshgrid([a, b], indexing=ij)),
                lambda a, b, ij=ij: joined(torch, torch.meshgrid([a, b], indexing=ij)), [x, y])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_views_of_views_chain(dtype):
    def fn(L, x):
        y = x.permute(2, 0, 1)[1:, :, None].expand(-1, 2, 3, -1).transpose(0, 1)
        return y.reshape(2, -1).unsqueeze(0).narrow(2, 1, 4).flip(-1)
    _run(fn, [r(2, 3, 4)], dtype, True)


def test_dtype_results_match_torch():
    a32 = minidl.ones(2, 3)
    a64 = minidl.ones(2, 3, dtype=minidl.float64)
    i64 = minidl.ones(2, 3, dtype=minidl.int64)
    assert minidl.cat([a32, i64]).dtype == minidl.float32
    assert minidl.cat([i64, minidl.ones(2, 3, dtype=minidl.int16)]).dtype == minidl.int64
    assert minidl.cat([a32, a64]).dtype == minidl.float64
    assert minidl.stack([i64, a64]).dtype == minidl.float64
    assert minidl.sort(i64).indices.dtype == minidl.int64
    assert minidl.topk(a32, 2).values.dtype == minidl.float32
    assert F(minidl).one_hot(minidl.tensor([0, 2])).dtype == minidl.int64
    assert minidl.nonzero(i64).dtype == minidl.int64
    assert minidl.ones(3, dtype=minidl.int32).masked_fill(minidl.tensor([True, False, True]),
                                                          2.5).dtype == minidl.int32


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_topk_and_sort_with_ties_infinities_and_nan(data):
    """Values match torch exactly; indices point at those values, without repeats."""
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    vals = st.one_of(st.integers(-2, 2).map(float), st.sampled_from([np.inf, -np.inf, np.nan]),
                     st.floats(-3, 3))
    a = np.array(data.draw(st.lists(vals, min_size=int(np.prod(shape)),
                                    max_size=int(np.prod(shape))))).reshape(shape)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[d]))
    largest = data.draw(st.booleans())
    m = minidl.topk(minidl.tensor(a), k, d, largest)
    t = torch.topk(torch.tensor(a), k, d, largest)
    np.testing.assert_array_equal(m.values.numpy(), t.values.numpy())
    idx = np.moveaxis(m.indices.numpy(), d, -1).reshape(-1, k) if k else np.zeros((1, 0))
    assert all(len(set(row)) == k for row in idx.tolist())
    np.testing.assert_array_equal(np.take_along_axis(a, m.indices.numpy(), d), m.values.numpy())
    for desc in (False, True):
        ms = minidl.sort(minidl.tensor(a), d, desc, stable=True)
        ts = torch.sort(torch.tensor(a), dim=d, descending=desc, stable=True)
        np.testing.assert_array_equal(ms.values.numpy(), ts.values.numpy())
        np.testing.assert_array_equal(ms.indices.numpy(), ts.indices.numpy())


@pytest.mark.parametrize("order", ["C", "F"])
def test_inplace_scatter_adds_on_any_memory_layout(order):
    """The flat fast path of repeated-index adds and its fallback agree with torch."""
    idx, src = np.array([0, 2, 0, 0]), r(4, 3)
    res = []
    for L in (minidl, torch):
        x = L.tensor(np.asarray(r(3, 3), order=order) if L is minidl else r(3, 3))
        assert L is torch or x.is_contiguous() == (order == "C")
        x.index_add_(0, L.tensor(idx), L.tensor(src))
        x.scatter_add_(1, L.tensor(np.array([[0, 0], [2, 1], [1, 1]])), L.tensor(src[:3, :2]))
        x.index_put_((L.tensor(idx),), L.tensor(src), accumulate=True)
        res.append(x.numpy())
    np.testing.assert_allclose(res[0], res[1])
