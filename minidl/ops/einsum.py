"""Einstein summation and tensordot.

``einsum`` contracts operands pairwise as batched matrix products (BLAS through
``np.matmul``); its gradient for one operand is the einsum of the output gradient with all
the other operands. ``tensordot`` is written as an einsum.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._out import takes_out
from ..autograd import Kernel
from ..tensor import Tensor
from ._util import check_tensor, unbroadcast

__all__ = ["einsum", "tensordot"]


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _parse_einsum(equation, shapes):
    """Subscripts per operand and for the output, '...' expanded to letters; letter sizes."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    for i, c in enumerate(eq):
        if c not in _LETTERS and c not in ".,->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation "
                               f"string, subscripts must be in [a-zA-Z]")
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    parsed = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any "
                               f"ellipsis")
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(term) - 3}) is more than the number of dimensions "
                                   f"({len(shape)}) for operand {i}")
            n_ell = max(n_ell, k)
        elif len(term) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {i} and no ellipsis was given")
        parsed.append(term)
    ell = "".join(spare[:n_ell])
    subs = []
    for term, shape in zip(parsed, shapes):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[n_ell - k:])
        subs.append(term)
    if arrow:
        if rhs.count("...") > 1 or rhs.replace("...", "").count("."):
            raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   f"the output")
            if not any(c in s for s in subs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
    else:
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    sizes = {}
    for i, (s, shape) in enumerate(zip(subs, shapes)):
        for c, n in zip(s, shape):
            first = s.index(c)
            if shape[first] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the "
                                   f"sizes don't match, {n} != {shape[first]}")
            have = sizes.get(c, 1)
            if n != 1 and have != 1 and n != have:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {have}")
            sizes[c] = n if have == 1 else have
    return subs, out, sizes


def _reduce_term(a, s, keep):
    """Take diagonals of repeated letters and sum letters not in ``keep``: (array, letters)."""
    target = "".join(c for i, c in enumerate(s) if c in keep and s.index(c) == i)
    if target == s:
        return a, s
    return np.einsum(f"{s}->{target}", a), target


def _pair(a, sa, b, sb, keep, sizes):
    """Contract two operands as one batched matrix product; returns (array, letters)."""
    shared = [c for c in sa if c in sb]
    for c in shared:  # broadcast size-1 dims against the other operand
        n = sizes[c]
        if a.shape[sa.index(c)] != n or b.shape[sb.index(c)] != n:
            a = np.broadcast_to(a, tuple(n if x == c else a.shape[i] for i, x in enumerate(sa)))
            b = np.broadcast_to(b, tuple(n if x == c else b.shape[i] for i, x in enumerate(sb)))
    batch = [c for c in shared if c in keep]
    con = [c for c in shared if c not in keep]
    ra = [c for c in sa if c not in sb]
    rb = [c for c in sb if c not in sa]
    dim = dict(zip(sa, a.shape))
    dim.update(zip(sb, b.shape))
    nb, nm, nk, nn = (math.prod(dim[c] for c in group) for group in (batch, ra, con, rb))
    am = np.transpose(a, [sa.index(c) for c in batch + ra + con]).reshape(nb, nm, nk)
    bm = np.transpose(b, [sb.index(c) for c in batch + con + rb]).reshape(nb, nk, nn)
    out = np.matmul(am, bm) if nb > 1 else (am[0] @ bm[0])[None]
    letters = batch + ra + rb
    return out.reshape([dim[c] for c in letters]), "".join(letters)


def _contract(subs, out, arrays, sizes):
    """Evaluate einsum ``subs -> out`` on ``arrays`` with pairwise BLAS contractions."""
    if len(arrays) == 1:
        return np.einsum(f"{subs[0]}->{out}", arrays[0])
    ops = []
    for i, (a, s) in enumerate(zip(arrays, subs)):
        others = set(out).union(*[set(t) for j, t in enumerate(subs) if j != i])
        ops.append(_reduce_term(a, s, others))
    a, sa = ops[0]
    for i in range(1, len(ops)):
        b, sb = ops[i]
        keep = set(out).union(*[set(t) for _, t in ops[i + 1:]])
        a, sa = _pair(a, sa, b, sb, keep, sizes)
    a, sa = _reduce_term(a, sa, set(out))
    a = np.transpose(a, [sa.index(c) for c in out])
    if a.shape != tuple(sizes[c] for c in out):
        a = np.broadcast_to(a, tuple(sizes[c] for c in out))
    return a


class Einsum(Kernel):
    """y = einsum(subs -> out, *xs); dx_i = einsum of dy with every other operand -> subs_i."""

    @staticmethod
    def forward(ctx, *xs, subs, out, sizes):
        ctx.save_for_backward(*xs)
        ctx.subs, ctx.out, ctx.sizes = subs, out, sizes
        y = _contract(subs, out, xs, sizes)
        if not y.flags.c_contiguous or any(np.may_share_memory(y, x) for x in xs):
            y = np.array(y, order="C")  # never alias an input (single-operand views)
        return y

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        subs, out, sizes = ctx.subs, ctx.out, ctx.sizes
        grads = []
        for i, (x, s) in enumerate(zip(xs, subs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(subs) if j != i]
            seen = set(out).union(*[set(t) for t in others])
            uniq = "".join(c for k, c in enumerate(s) if s.index(c) == k)
            target = "".join(c for c in uniq if c in seen)
            gu = _contract([out] + others, target, [g] + [xs[j] for j in range(len(xs)) if j != i],
                           sizes)
            # letters only this operand had were summed: their gradient is a broadcast
            full = tuple(sizes[c] if c in seen else x.shape[s.index(c)] for c in uniq)
            gu = np.broadcast_to(gu.reshape(tuple(sizes[c] if c in target else 1 for c in uniq)),
                                 full)
            gu = unbroadcast(gu, tuple(x.shape[s.index(c)] for c in uniq))
            if len(uniq) == len(s):
                gx = np.transpose(gu, [uniq.index(c) for c in s])
            else:  # repeated letters: write onto the diagonal
                gx = _onto_diagonal(gu, x.shape, s, uniq)
            grads.append(gx)
        return tuple(grads)


def _onto_diagonal(gu, shape, s, uniq):
    """Zeros of ``shape`` (letters ``s``, some repeated) holding ``gu`` (letters ``uniq``, the
    first occurrences in order) where the repeated letters' indices agree. An array is written
    through a strided view; a traced ``gu`` (recorded backward) is spread by a 0/1 mask."""
    def write(value, dtype):
        out = np.zeros(shape, dtype)
        strides = [sum(out.strides[k] for k, c2 in enumerate(s) if c2 == c) for c in uniq]
        as_strided(out, gu.shape, strides)[...] = value
        return out
    if isinstance(gu, np.ndarray):
        return write(gu, gu.dtype)
    spread = gu.reshape(tuple(n if s.index(c) == k else 1
                              for k, (c, n) in enumerate(zip(s, shape))))
    return write(1, gu.dtype) * spread


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands as varargs or list."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, x in enumerate(operands):
        check_tensor(x, "einsum", f"operands[{i}]")
        if x._data.dtype != operands[0]._data.dtype:
            raise RuntimeError(f"einsum(): expected scalar type {operands[0].dtype.name} but "
                               f"found {x.dtype.name} (operand {i})")
    subs, out, sizes = _parse_einsum(equation, [x.shape for x in operands])
    return Einsum.apply(*operands, subs=tuple(subs), out=out, sizes=sizes)


@takes_out(dtypes="exact")
def tensordot(a, b, dims=2):
    """Sum over ``dims`` (an int: last dims of a with first of b; or two lists of dims)."""
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    for x, y in zip(da, db):  # a size-1 dim broadcasts (the other side is summed, as torch)
        if a.shape[x] != b.shape[y] and 1 not in (a.shape[x], b.shape[y]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
    la = _LETTERS[:a.ndim]
    lb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for x, y in zip(da, db):
        lb[y] = la[x]
    lb = "".join(lb)
    out_s = "".join(c for i, c in enumerate(la) if i not in da) + \
        "".join(c for i, c in enumerate(lb) if i not in db)
    return einsum(f"{la},{lb}->{out_s}", a, b)
