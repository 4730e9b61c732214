"""Second derivatives of the reductions and their friends -- sums, means, variances,
products, cumulative ops, logsumexp, extrema and order statistics, vector norms, einsum /
tensordot, and the compositions built on them (distances, small products, quantiles) --
each backward branch (dims / all dims, keepdim, corrections, zeros in a product, ties,
repeated einsum letters, ...) at least once, against torch (see harness.py)."""
import numpy as np
import pytest

from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def distinct(*shape):
    """Well-separated values in random order (no ties for extrema / sort to break)."""
    return rng.permutation(np.arange(np.prod(shape, dtype=int)) * 0.37 - 1.1).reshape(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def with_zeros(rows, at):
    """Positive values with exact zeros at the flat positions ``at``."""
    x = positive(*rows).reshape(-1)
    x[list(at)] = 0.0
    return x.reshape(rows)


def F(lib):
    return lib.nn.functional


SUMS = [
    Case("sum all", lambda lib, x: lib.sum(x * x), (normal(2, 3),)),
    Case("sum dim", lambda lib, x: lib.sum(x * x, 1), (normal(2, 3),)),
    Case("sum dims keepdim", lambda lib, x: lib.sum(x, (0, 2), keepdim=True) ** 2,
         (normal(2, 3, 2),)),
    Case("sum linear", lambda lib, x: x.sum(0), (normal(2, 3),)),
    Case("nansum", lambda lib, x: lib.nansum(x * x, 0), (normal(2, 3),)),
    Case("mean all", lambda lib, x: lib.mean(x * x), (normal(2, 3),)),
    Case("mean dim keepdim", lambda lib, x: lib.mean(x, -1, keepdim=True) ** 2, (normal(2, 3),)),
    Case("nanmean", lambda lib, x: lib.nanmean(x * x, 1), (normal(2, 3),)),
]

VARIANCES = [
    Case("var all", lambda lib, x: lib.var(x), (normal(2, 3),)),
    Case("var dim biased", lambda lib, x: lib.var(x, 1, unbiased=False), (normal(2, 3),)),
    Case("var dims keepdim correction 2",
         lambda lib, x: lib.var(x, (0, 2), keepdim=True, correction=2), (normal(2, 3, 2),)),
    Case("std all", lambda lib, x: lib.std(x), (normal(2, 3),)),
    Case("std dim keepdim", lambda lib, x: lib.std(x, 0, keepdim=True), (normal(3, 2),)),
    Case("std dims biased", lambda lib, x: lib.std(x, (1, 2), correction=0), (normal(2, 2, 3),)),
    Case("var_mean", lambda lib, x: lib.var_mean(x, 1), (normal(2, 3),)),
    Case("std_mean biased", lambda lib, x: lib.std_mean(x, 0, unbiased=False), (normal(3, 2),)),
]

PRODUCTS = [
    Case("prod all", lambda lib, x: lib.prod(x), (positive(2, 3),)),
    Case("prod dim", lambda lib, x: lib.prod(x, 1), (normal(2, 3),)),
    Case("prod dim keepdim one zero", lambda lib, x: lib.prod(x, 0, keepdim=True),
         (with_zeros((3, 2), [2]),)),
    Case("prod dim two zeros in a slice", lambda lib, x: lib.prod(x, 1),
         (with_zeros((2, 4), [1, 3, 4]),)),
    Case("prod all one zero", lambda lib, x: lib.prod(x), (with_zeros((2, 3), [4]),)),
    Case("prod all two zeros", lambda lib, x: lib.prod(x), (with_zeros((2, 3), [0, 5]),)),
    Case("prod 0-d", lambda lib, x: lib.prod(x) * x, (np.array(1.3),)),
    Case("cumsum", lambda lib, x: lib.cumsum(x, 1) ** 2, (normal(2, 3),)),
    Case("cumsum 0-d", lambda lib, x: lib.cumsum(x, 0) * x, (np.array(0.7),)),
    Case("cumprod", lambda lib, x: lib.cumprod(x, 1), (normal(2, 4),)),
    Case("cumprod zeros dim 0", lambda lib, x: lib.cumprod(x, 0),
         (with_zeros((4, 2), [2, 3, 7]),)),
    Case("cumprod two zeros in a row", lambda lib, x: lib.cumprod(x, -1),
         (with_zeros((2, 5), [1, 3, 5]),)),
    Case("cumprod 0-d", lambda lib, x: lib.cumprod(x, 0) * x, (np.array(1.4),)),
    Case("logsumexp dim", lambda lib, x: lib.logsumexp(x, 1), (normal(2, 3),)),
    Case("logsumexp dims keepdim", lambda lib, x: lib.logsumexp(x, (0, 1), keepdim=True),
         (normal(2, 3),)),
]

EXTREMA = [
    Case("amax dim", lambda lib, x: lib.amax(x, 1) ** 2, (distinct(2, 3),)),
    Case("amin dims keepdim", lambda lib, x: lib.amin(x, (0, 2), keepdim=True) ** 2,
         (distinct(2, 3, 2),)),
    Case("max all", lambda lib, x: lib.max(x) * x, (distinct(2, 3),)),
    Case("min all", lambda lib, x: lib.min(x) ** 2, (distinct(2, 3),)),
    # ties share the gradient; perturbing x breaks them, so no finite differences in x
    Case("amax ties (torch only)", lambda lib, x: lib.amax(x, 1) ** 2,
         (np.array([[1.0, 3.0, 3.0], [2.0, 0.5, 2.0]]),), gradgradcheck=False),
    Case("max dim", lambda lib, x: lib.max(x, 1).values ** 2, (distinct(2, 3),)),
    Case("min dim keepdim", lambda lib, x: lib.min(x, 0, keepdim=True).values ** 2,
         (distinct(3, 2),)),
    Case("max dim of 0-d", lambda lib, x: lib.max(x, 0).values ** 2, (np.array(0.6),)),
    Case("median all", lambda lib, x: lib.median(x) ** 2, (distinct(2, 3),)),
    Case("median dim", lambda lib, x: lib.median(x, 1).values ** 2, (distinct(2, 4),)),
    Case("sort", lambda lib, x: lib.sort(x, 1).values * x, (distinct(2, 3),)),
    Case("sort descending dim 0", lambda lib, x: lib.sort(x, 0, descending=True).values ** 2,
         (distinct(3, 2),)),
    Case("topk largest", lambda lib, x: lib.topk(x, 2).values ** 2, (distinct(2, 4),)),
    Case("topk smallest dim 0", lambda lib, x: lib.topk(x, 2, 0, largest=False).values ** 2,
         (distinct(3, 2),)),
    Case("kthvalue", lambda lib, x: lib.kthvalue(x, 2, 1).values ** 2, (distinct(2, 4),)),
    Case("cummax", lambda lib, x: lib.cummax(x, 1).values ** 2, (distinct(2, 4),)),
    Case("cummin", lambda lib, x: lib.cummin(x, 0).values ** 2, (distinct(3, 2),)),
    Case("quantile linear", lambda lib, x: lib.quantile(x, 0.3, dim=1) ** 2, (distinct(2, 4),)),
    Case("quantile midpoint all",
         lambda lib, x: lib.quantile(x, 0.5, interpolation="midpoint") ** 2, (distinct(2, 3),)),
    Case("quantile tensor q (differentiable in q)",
         lambda lib, x, q: lib.quantile(x, q, dim=0, keepdim=True) ** 2,
         (distinct(3, 2), np.array([0.3, 0.8]))),
    Case("nanquantile tensor q lower", lambda lib, x, q: lib.nanquantile(
        x, q, dim=1, interpolation="lower") ** 2, (distinct(2, 4), np.array([0.4]))),
    # the gradient of sort is a PutAlong; differentiating it again records PutAlong's backward
    Case("sort's gradient (third order)",
         lambda lib, x, w: lib.autograd.grad((lib.sort(x * x, 1).values * w).sum(), x,
                                             create_graph=True)[0],
         (distinct(2, 3), normal(2, 3))),
    Case("median's gradient (third order)",
         lambda lib, x, w: lib.autograd.grad(lib.median(x * x) * w, x, create_graph=True)[0],
         (distinct(2, 3), np.array(0.8))),
]

NORMS = [
    Case("norm 2 all", lambda lib, x: lib.norm(x), (normal(2, 3),)),
    Case("norm fro dim", lambda lib, x: lib.norm(x, "fro", 1), (normal(2, 3),)),
    Case("norm 2 dims keepdim", lambda lib, x: lib.norm(x, 2, (0, 2), keepdim=True),
         (normal(2, 3, 2),)),
    Case("norm 3", lambda lib, x: lib.norm(x, 3, 1), (normal(2, 3),)),
    Case("norm 0.5 keepdim", lambda lib, x: lib.norm(x, 0.5, 0, keepdim=True), (normal(3, 2),)),
    Case("norm 1", lambda lib, x: lib.norm(x, 1, 1) ** 2, (normal(2, 3),)),
    Case("norm inf", lambda lib, x: lib.norm(x, float("inf"), 1) ** 2, (distinct(2, 3),)),
    Case("norm -inf", lambda lib, x: lib.norm(x, -float("inf")) ** 2, (distinct(2, 3),)),
    Case("norm 0 (zero gradient)", lambda lib, x: lib.norm(x, 0, 1) * x.sum(1), (normal(2, 3),)),
    Case("pairwise_distance", lambda lib, a, b: F(lib).pairwise_distance(a, b),
         (normal(2, 3), normal(2, 3))),
    Case("pairwise_distance p=3 keepdim",
         lambda lib, a, b: F(lib).pairwise_distance(a, b, p=3.0, keepdim=True),
         (normal(2, 3), normal(2, 3))),
    Case("cosine_similarity", lambda lib, a, b: F(lib).cosine_similarity(a, b),
         (normal(2, 3), normal(2, 3))),
    Case("normalize", lambda lib, x: F(lib).normalize(x, dim=1), (normal(2, 3),)),
    # torch's direct cdist has no double backward; its matmul form does
    Case("cdist by matmul",
         lambda lib, a, b: lib.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
         (normal(2, 3), normal(3, 3))),
]

PRODUCTS_OF_OPERANDS = [
    Case("einsum matmul", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b),
         (normal(2, 3), normal(3, 2))),
    Case("einsum batched, squared", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b) ** 2,
         (normal(2, 2, 3), normal(2, 3, 2))),
    Case("einsum one operand", lambda lib, a: lib.einsum("ij->j", a) ** 2, (normal(2, 3),)),
    Case("einsum diagonal", lambda lib, a: lib.einsum("ii->i", a) ** 2, (normal(3, 3),)),
    Case("einsum trace with operand", lambda lib, a, b: lib.einsum("ii,ij->j", a, b),
         (normal(3, 3), normal(3, 2))),
    Case("einsum three operands", lambda lib, a, b, c: lib.einsum("i,ij,j->", a, b, c),
         (normal(2), normal(2, 3), normal(3))),
    Case("einsum ellipsis broadcast", lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
         (normal(2, 1, 2, 3), normal(3, 3, 2))),
    Case("einsum letter of one operand", lambda lib, a, b: lib.einsum("ij,kl->ik", a, b),
         (normal(2, 3), normal(2, 2))),
    Case("tensordot int", lambda lib, a, b: lib.tensordot(a, b, 2),
         (normal(2, 3, 2), normal(3, 2, 2))),
    Case("tensordot lists", lambda lib, a, b: lib.tensordot(a, b, ([0], [1])) ** 2,
         (normal(2, 3), normal(3, 2))),
    Case("tensordot size-1 contracted dim", lambda lib, a, b: lib.tensordot(a, b, ([0, 1], [2, 0])),
         (normal(1, 2, 2), normal(2, 1, 3))),
    Case("trace", lambda lib, x: lib.trace(x * x), (normal(3, 3),)),
    Case("cross", lambda lib, a, b: lib.cross(a, b, dim=1), (normal(2, 3), normal(2, 3))),
    Case("kron", lambda lib, a, b: lib.kron(a, b), (normal(2, 2), normal(2, 1))),
]

CASES = SUMS + VARIANCES + PRODUCTS + EXTREMA + NORMS + PRODUCTS_OF_OPERANDS


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
