"""TripletMarginLoss, TripletMarginWithDistanceLoss, CosineEmbeddingLoss and their
functional forms against torch: values and gradients for every reduction and option,
signatures, and the errors for bad arguments and shapes."""
import inspect

import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from tests.reference.harness import compare

RNG = np.random.default_rng(0)
A, P, N = (RNG.standard_normal((6, 5)) for _ in range(3))
REDUCTIONS = ("none", "mean", "sum")


def _both(name):
    return getattr(F, name), getattr(torch.nn.functional, name)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin, p, eps, swap", [(1.0, 2, 1e-6, False), (0.5, 1, 1e-3, True),
                                                  (2.0, 3, 0.0, True), (0.3, 2, 0.1, False)])
def test_triplet_margin_loss_matches_torch(reduction, margin, p, eps, swap):
    kw = dict(margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)
    md, th = _both("triplet_margin_loss")
    compare(lambda a, b, c: md(a, b, c, **kw), lambda a, b, c: th(a, b, c, **kw),
            [A, P, N], dtype="float64")
    compare(lambda a, b, c: nn.TripletMarginLoss(**kw)(a, b, c),
            lambda a, b, c: torch.nn.TripletMarginLoss(**kw)(a, b, c), [A, P, N],
            dtype="float64")


def test_triplet_margin_loss_broadcasts_and_takes_vectors():
    md, th = _both("triplet_margin_loss")
    compare(md, th, [A, P[:1], N], dtype="float64")
    compare(lambda a, b, c: md(a, b, c, reduction="none"),
            lambda a, b, c: th(a, b, c, reduction="none"), [A[0], P[0], N[0]], dtype="float64")


LEGACY = [dict(size_average=False), dict(reduce=False), dict(size_average=True)]


@pytest.mark.filterwarnings("ignore:size_average and reduce args")
@pytest.mark.parametrize("legacy", LEGACY)
@pytest.mark.parametrize("name, layer", [("triplet_margin_loss", "TripletMarginLoss"),
                                         ("cosine_embedding_loss", "CosineEmbeddingLoss")])
def test_legacy_reduction_arguments(legacy, name, layer):
    md, th = _both(name)
    inputs = [A, P, N if name.startswith("triplet") else TARGET]
    compare(lambda a, b, c: md(a, b, c, **legacy), lambda a, b, c: th(a, b, c, **legacy),
            inputs, dtype="float64")
    compare(lambda a, b, c: getattr(nn, layer)(**legacy)(a, b, c),
            lambda a, b, c: getattr(torch.nn, layer)(**legacy)(a, b, c), inputs,
            dtype="float64")


def _cosine_distance(lib):
    return lambda x1, x2: 1.0 - lib.nn.functional.cosine_similarity(x1, x2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("custom, margin, swap", [(False, 1.0, False), (True, 0.4, True),
                                                  (False, 2.0, True), (True, 1.5, False)])
def test_triplet_margin_with_distance_loss_matches_torch(reduction, custom, margin, swap):
    md, th = _both("triplet_margin_with_distance_loss")

    def kw(lib):
        return dict(distance_function=_cosine_distance(lib) if custom else None,
                    margin=margin, swap=swap, reduction=reduction)
    compare(lambda a, b, c: md(a, b, c, **kw(minidl)), lambda a, b, c: th(a, b, c, **kw(torch)),
            [A, P, N], dtype="float64")
    compare(lambda a, b, c: nn.TripletMarginWithDistanceLoss(**kw(minidl))(a, b, c),
            lambda a, b, c: torch.nn.TripletMarginWithDistanceLoss(**kw(torch))(a, b, c),
            [A, P, N], dtype="float64")


TARGET = np.array([1, -1, 1, -1, -1, 0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_loss_matches_torch(reduction, margin):
    md, th = _both("cosine_embedding_loss")
    x2 = A + 0.5 * P  # some pairs alike, so that the margin matters for the -1 targets
    kw = dict(margin=margin, reduction=reduction)
    for target in (TARGET, TARGET.astype(np.float64)):
        compare(lambda a, b, t: md(a, b, t, **kw), lambda a, b, t: th(a, b, t, **kw),
                [A, x2, target], dtype="float64")
        compare(lambda a, b, t: nn.CosineEmbeddingLoss(**kw)(a, b, t),
                lambda a, b, t: torch.nn.CosineEmbeddingLoss(**kw)(a, b, t),
                [A, x2, target], dtype="float64")
    for y in (np.array(1), np.array(-1)):  # one pair of vectors, a 0-D target
        compare(lambda a, b, t: md(a, b, t, **kw), lambda a, b, t: th(a, b, t, **kw),
                [A[0], x2[0], y], dtype="float64")


def test_cosine_embedding_loss_broadcasts():
    md, th = _both("cosine_embedding_loss")
    compare(md, th, [A, P[:1], TARGET], dtype="float64")


@pytest.mark.parametrize("name", ["TripletMarginLoss", "TripletMarginWithDistanceLoss",
                                  "CosineEmbeddingLoss"])
def test_signatures_are_torchs(name):
    ours, theirs = (inspect.signature(getattr(lib, name).__init__) for lib in (nn, torch.nn))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.parameters.values()]
    assert nn.TripletMarginWithDistanceLoss().distance_function.__class__.__name__ == \
        "PairwiseDistance"


@pytest.mark.parametrize("name", ["triplet_margin_loss", "triplet_margin_with_distance_loss",
                                  "cosine_embedding_loss"])
def test_functional_signatures_are_torchs(name):
    ours, theirs = (inspect.signature(f) for f in _both(name))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.parameters.values()]


def _raises_like_torch(md_call, th_call, match):
    with pytest.raises(Exception) as theirs:
        th_call()
    with pytest.raises(type(theirs.value), match=match):
        md_call()


ERRORS = [
    ("triplet_margin_loss", (A, P, N[0]), {}, "same number of dimensions.*negative 1D"),
    ("triplet_margin_with_distance_loss", (A, P[0], N), {}, "positive 1D"),
    ("triplet_margin_loss", (A, P, N), {"margin": 0.0}, "margin must be greater than 0"),
    ("triplet_margin_with_distance_loss", (A, P, N), {"margin": -1.0}, "greater than 0"),
    ("triplet_margin_loss", (A, P, N), {"reduction": "avg"}, "avg is not a valid value"),
    ("triplet_margin_with_distance_loss", (A, P, N), {"reduction": "x"}, "not a valid"),
    ("triplet_margin_loss", (A, P[:, :4], N), {}, "size of tensor"),
    ("cosine_embedding_loss", (A, P, TARGET[None]), {}, "0D or 1D target"),
    ("cosine_embedding_loss", (A[0], P[0], TARGET), {}, "1D target tensor expects 2D"),
    ("cosine_embedding_loss", (A, P, np.array(1)), {}, "0D target tensor expects 1D"),
    ("cosine_embedding_loss", (A, P, TARGET[:4]), {}, "size of tensor"),
    ("cosine_embedding_loss", (A, P, TARGET), {"reduction": "all"}, "not a valid"),
]


@pytest.mark.parametrize("name, arrays, kw, match", ERRORS,
                         ids=[f"{e[0]}-{e[3][:20]}" for e in ERRORS])
def test_functional_errors_are_torchs(name, arrays, kw, match):
    md, th = _both(name)
    _raises_like_torch(lambda: md(*map(minidl.from_numpy, arrays), **kw),
                       lambda: th(*map(torch.from_numpy, arrays), **kw), match)


@pytest.mark.parametrize("name", ["TripletMarginLoss", "TripletMarginWithDistanceLoss"])
def test_layer_margin_errors_are_torchs(name):
    _raises_like_torch(lambda: getattr(nn, name)(margin=0),
                       lambda: getattr(torch.nn, name)(margin=0),
                       f"{name}: expected margin to be greater than 0")


def test_non_tensors_and_non_callables_are_refused_by_name():
    m = minidl.from_numpy
    with pytest.raises(TypeError, match="anchor"):
        F.triplet_margin_loss(A, m(P), m(N))
    with pytest.raises(TypeError, match="target"):
        F.cosine_embedding_loss(m(A), m(P), [1, -1])
    with pytest.raises(TypeError, match="distance_function must be a callable"):
        F.triplet_margin_with_distance_loss(m(A), m(P), m(N), distance_function=3)
