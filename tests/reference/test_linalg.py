"""Matrix products, einsum and F.linear against PyTorch (values, gradients, errors)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from tests.reference.harness import compare, gradcheck


def r(*shape, seed=0):
    return np.random.default_rng(seed + 3 * sum(shape)).standard_normal(shape)


def F(L):
    return L.nn.functional


MATMUL_SHAPES = [
    ((4,), (4,)),                 # dot
    ((4,), (4, 3)),               # vector @ matrix
    ((3, 4), (4,)),               # matrix @ vector
    ((3, 4), (4, 5)),             # mm
    ((2, 3, 4), (4, 5)),          # batch @ matrix (folded into one GEMM)
    ((3, 4), (2, 4, 5)),          # matrix @ batch
    ((2, 3, 4), (2, 4, 5)),       # bmm
    ((2, 1, 3, 4), (5, 4, 2)),    # broadcast batch dims
    ((1, 3, 4), (2, 1, 4, 5)),
    ((4,), (2, 3, 4, 2)),         # vector @ batch
    ((2, 3, 3, 4), (4,)),         # batch @ vector
]


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["C", "F"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul(sa, sb, dtype, noncontiguous):
    a, b = r(*sa), r(*sb, seed=1)
    compare(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], dtype=dtype,
            noncontiguous=noncontiguous)
    compare(lambda x, y: minidl.matmul(x, y), lambda x, y: torch.matmul(x, y), [a, b],
            dtype=dtype)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_gradcheck(sa, sb):
    gradcheck(lambda x, y: x.matmul(y), [r(*sa), r(*sb, seed=1)])


def test_matmul_one_side_requires_grad():
    a, b = r(3, 4), r(4, 2)
    for L in (minidl, torch):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b)
        (x @ y).sum().backward()
        assert x.grad is not None and y.grad is None


def test_matmul_integers_and_rmatmul():
    a, b = np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)
    compare(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], grad=False)
    m = np.ones((2, 3), np.float32) @ minidl.ones(3, 4)  # NumPy defers to __rmatmul__
    assert isinstance(m, minidl.Tensor) and m.shape == (2, 4) and m.dtype == minidl.float32


@st.composite
def broadcast_pairs(draw):
    """Batched matmul shapes whose batch dims broadcast (with 1s and missing dims)."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=3))
    ba = [b if draw(st.booleans()) else 1 for b in batch]
    bb = [b if draw(st.booleans()) else 1 for b in batch]
    ba = ba[draw(st.integers(0, len(ba))):]
    bb = bb[draw(st.integers(0, len(bb))):]
    sa = tuple(ba) + (n, k) if draw(st.integers(0, 5)) else (k,)  # sometimes a 1-D vector
    sb = tuple(bb) + (k, m) if draw(st.integers(0, 5)) else (k,)
    return sa, sb


@settings(max_examples=60, deadline=None)
@given(broadcast_pairs(), st.sampled_from(["float32", "float64"]), st.booleans())
def test_matmul_broadcasting_matches_torch(shapes, dtype, noncontiguous):
    sa, sb = shapes
    compare(lambda x, y: x @ y, lambda x, y: x @ y, [r(*sa), r(*sb, seed=1)], dtype=dtype,
            noncontiguous=noncontiguous)


CASES = [
    ("mm", lambda L, a, b: L.mm(a, b), [r(3, 4), r(4, 2)]),
    ("mm_method", lambda L, a, b: a.mm(b), [r(3, 4), r(4, 2)]),
    ("bmm", lambda L, a, b: L.bmm(a, b), [r(2, 3, 4), r(2, 4, 5)]),
    ("mv", lambda L, a, v: L.mv(a, v), [r(3, 4), r(4)]),
    ("dot", lambda L, a, b: L.dot(a, b), [r(5), r(5, seed=1)]),
    ("dot_method", lambda L, a, b: a.dot(b), [r(5), r(5, seed=1)]),
    ("inner", lambda L, a, b: L.inner(a, b), [r(2, 4), r(3, 4)]),
    ("outer", lambda L, a, b: L.outer(a, b), [r(3), r(4)]),
    ("ger", lambda L, a, b: a.ger(b), [r(3), r(2)]),
    ("addmm", lambda L, c, a, b: L.addmm(c, a, b), [r(3, 2), r(3, 4), r(4, 2)]),
    ("addmm_scaled_bcast", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=-2.0),
     [r(2), r(3, 4), r(4, 2)]),
    ("addmm_method", lambda L, c, a, b: c.addmm(a, b, alpha=3), [r(3, 2), r(3, 4), r(4, 2)]),
    ("addmv", lambda L, c, a, v: L.addmv(c, a, v, beta=2.0), [r(3), r(3, 4), r(4)]),
    ("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=1.5),
     [r(2, 1, 5), r(2, 3, 4), r(2, 4, 5)]),
    ("addbmm", lambda L, c, a, b: L.addbmm(c, a, b), [r(3, 5), r(2, 3, 4), r(2, 4, 5)]),
    ("tensordot_int", lambda L, a, b: L.tensordot(a, b), [r(2, 3, 4), r(3, 4, 2)]),
    ("tensordot_lists", lambda L, a, b: L.tensordot(a, b, dims=([0, 2], [1, 0])),
     [r(2, 3, 4), r(4, 2, 5)]),
    ("tensordot_zero", lambda L, a, b: L.tensordot(a, b, dims=0), [r(2, 3), r(2)]),
    ("linear", lambda L, x, w, b: F(L).linear(x, w, b), [r(4, 3), r(5, 3), r(5)]),
    ("linear_nobias", lambda L, x, w: F(L).linear(x, w), [r(4, 3), r(5, 3)]),
    ("linear_3d", lambda L, x, w, b: F(L).linear(x, w, b), [r(2, 4, 3), r(5, 3), r(5)]),
    ("linear_4d", lambda L, x, w, b: F(L).linear(x, w, b), [r(2, 2, 1, 3), r(2, 3), r(2)]),
    ("linear_1d", lambda L, x, w, b: F(L).linear(x, w, b), [r(3), r(5, 3), r(5)]),
    ("linear_bias_bcast", lambda L, x, w, b: F(L).linear(x, w, b), [r(4, 3), r(5, 3), r(1)]),
    ("linear_1d_weight", lambda L, x, w: F(L).linear(x, w), [r(4, 3), r(3)]),
    ("bilinear", lambda L, x, y, w, b: F(L).bilinear(x, y, w, b),
     [r(4, 3), r(4, 2), r(5, 3, 2), r(5)]),
    ("bilinear_3d", lambda L, x, y, w: F(L).bilinear(x, y, w),
     [r(2, 3, 3), r(2, 3, 2), r(4, 3, 2)]),
]


@pytest.mark.parametrize("noncontiguous", [False, True], ids=["C", "F"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn, inputs, dtype, noncontiguous):
    compare(lambda *a: fn(minidl, *a), lambda *a: fn(torch, *a), inputs, dtype=dtype,
            noncontiguous=noncontiguous)


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, inputs):
    gradcheck(lambda *a: fn(minidl, *a), inputs)


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),              # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ii->i", [(3, 3)]),                      # diagonal
    ("ii", [(3, 3)]),                         # trace
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),      # diagonal inside a product
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ijk->kj", [(2, 3, 4)]),                 # sum of a letter private to the operand
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 2), (2, 2)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("i...->...", [(3, 2, 2)]),
    ("ij,jk", [(3, 1), (4, 5)]),              # size-1 dims broadcast like torch
    ("ab,ab->", [(2, 3), (1, 3)]),
    ("Ab,bC->CA", [(2, 3), (3, 4)]),          # upper-case subscripts
    ("i j , j k -> i k", [(2, 3), (3, 2)]),   # spaces
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(eq, shapes, dtype):
    inputs = [r(*s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda *a: minidl.einsum(eq, *a), lambda *a: torch.einsum(eq, *a), inputs,
            dtype=dtype, noncontiguous=True)
    compare(lambda *a: minidl.einsum(eq, list(a)), lambda *a: torch.einsum(eq, list(a)),
            inputs, dtype=dtype)
    gradcheck(lambda *a: minidl.einsum(eq, *a), inputs)


def test_einsum_does_not_alias_its_input():
    x = minidl.arange(9.0).reshape(3, 3)
    d = minidl.einsum("ii->i", x)
    d[0] = 100.0
    assert x[0, 0].item() == 0.0


def test_linear_bias_grad_sums_all_leading_dims():
    x, w, b = r(2, 3, 4), r(5, 4), r(5)
    compare(lambda *a: F(minidl).linear(*a), lambda *a: F(torch).linear(*a), [x, w, b],
            dtype="float64")


def test_float32_is_preserved():
    a, b = minidl.randn(3, 4), minidl.randn(4, 2)
    assert (a @ b).dtype == minidl.float32
    w = minidl.randn(2, 4, requires_grad=True)
    y = F(minidl).linear(a, w, minidl.zeros(2))
    y.sum().backward()
    assert y.dtype == minidl.float32 and w.grad.dtype == minidl.float32
    assert minidl.einsum("ij,jk->ik", a, b).dtype == minidl.float32


ERRORS = [
    (lambda: minidl.randn(2, 3) @ minidl.randn(4, 5), r"mat1 and mat2 shapes cannot be "
                                                      r"multiplied \(2x3 and 4x5\)"),
    (lambda: minidl.matmul(minidl.randn(2, 3, 4), minidl.randn(3, 5)),
     r"mat1 and mat2 shapes cannot be multiplied \(6x4 and 3x5\)"),
    (lambda: minidl.randn(3) @ minidl.randn(4), r"inconsistent tensor size, expected tensor "
                                                r"\[3\] and src \[4\]"),
    (lambda: minidl.randn(2, 3) @ minidl.randn(4), r"size mismatch, got input \(2\), mat "
                                                   r"\(2x3\), vec \(4\)"),
    (lambda: minidl.randn(5, 2, 3) @ minidl.randn(5, 4, 2), r"Expected size for first two "
                                                           r"dimensions of batch2 tensor to be: "
                                                           r"\[5, 3\] but got: \[5, 4\]"),
    (lambda: minidl.randn(5, 2, 3) @ minidl.randn(4, 3, 2), r"The size of tensor a \(5\) must "
                                                           r"match the size of tensor b \(4\)"),
    (lambda: minidl.tensor(2.0) @ minidl.randn(3), "both arguments to matmul need to be at "
                                                   "least 1D, but they are 0D and 1D"),
    (lambda: minidl.randn(2, 3) @ minidl.randn(3, 4, dtype=minidl.float64),
     "expected m1 and m2 to have the same dtype, but got: float32 != float64"),
    (lambda: minidl.mm(minidl.randn(3), minidl.randn(3, 3)), "self must be a matrix"),
    (lambda: minidl.bmm(minidl.randn(3, 4), minidl.randn(2, 4, 5)), "batch1 must be a 3D"),
    (lambda: minidl.bmm(minidl.randn(2, 3, 4), minidl.randn(3, 4, 5)),
     r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: "
     r"\[3, 4\]"),
    (lambda: minidl.mv(minidl.randn(3, 4), minidl.randn(4, 1)), "vector \\+ matrix @ vector"),
    (lambda: minidl.dot(minidl.randn(3, 1), minidl.randn(3)), "1D tensors expected, but got "
                                                              "2D and 1D"),
    (lambda: minidl.dot(minidl.randn(3), minidl.randn(3, dtype=minidl.float64)),
     "expected both vectors to have same dtype"),
    (lambda: minidl.outer(minidl.randn(2, 3), minidl.randn(3)), "Expected 1-D argument self"),
    (lambda: minidl.addmm(minidl.randn(3, 3), minidl.randn(2, 4), minidl.randn(4, 3)),
     r"The expanded size of the tensor \(2\) must match the existing size \(3\)"),
    (lambda: F(minidl).linear(minidl.randn(2, 3, 4), minidl.randn(5, 3)),
     r"mat1 and mat2 shapes cannot be multiplied \(6x4 and 3x5\)"),
    (lambda: F(minidl).linear(minidl.randn(3, 4), minidl.randn(5, 4, dtype=minidl.float64)),
     "same dtype"),
    (lambda: F(minidl).linear(minidl.randn(3, 4), minidl.randn(5, 4), minidl.randn(4)),
     r"The expanded size of the tensor \(5\) must match the existing size \(4\)"),
    (lambda: minidl.einsum("ij,jk->l", minidl.randn(3, 2), minidl.randn(2, 5)),
     "output subscript l does not appear in the equation for any input operand"),
    (lambda: minidl.einsum("ij,jk->ii", minidl.randn(3, 2), minidl.randn(2, 5)),
     "output subscript i appears more than once"),
    (lambda: minidl.einsum("ij,jk", minidl.randn(3, 2)), "fewer operands were provided"),
    (lambda: minidl.einsum("ij", minidl.randn(3, 2), minidl.randn(2)),
     "more operands were provided"),
    (lambda: minidl.einsum("ijk,jk", minidl.randn(3, 2), minidl.randn(2, 5)),
     r"number of subscripts in the equation \(3\) does not match the number of dimensions "
     r"\(2\) for operand 0"),
    (lambda: minidl.einsum("ij,jk", minidl.randn(3, 2), minidl.randn(3, 5)),
     "subscript j has size 3 for operand 1 which does not broadcast with previously seen "
     "size 2"),
    (lambda: minidl.einsum("ii", minidl.randn(4, 3)), "subscript i is repeated for operand 0 "
                                                      "but the sizes don't match, 3 != 4"),
    (lambda: minidl.einsum("i1", minidl.randn(4, 1)), "invalid subscript given at index 1"),
    (lambda: minidl.einsum("..i", minidl.randn(4, 3)), "found '.' for operand 0 that is not "
                                                       "part of any ellipsis"),
    (lambda: minidl.einsum("ij,jk", minidl.randn(3, 2), minidl.randn(2, 5,
                                                                      dtype=minidl.float64)),
     "expected scalar type float32 but found float64"),
    (lambda: minidl.tensordot(minidl.randn(3, 2), minidl.randn(3, 5), dims=1),
     "contracted dimensions need to match, but first has size 2 in dim 1 and second has size "
     "3 in dim 0"),
    (lambda: minidl.tensordot(minidl.randn(3, 2), minidl.randn(3, 5), dims=([0, 1], [0])),
     "both dimension lists should have same length"),
]


@pytest.mark.parametrize("fn,match", ERRORS)
def test_bad_inputs(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_matmul_refuses_non_tensors_like_torch():
    with pytest.raises(TypeError, match="argument 'other'"):
        minidl.matmul(minidl.randn(2, 3), np.ones((3, 2)))
