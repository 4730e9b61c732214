"""Second derivatives of the normalisation layers, the losses, the matrix products, PReLU and
the rectifiers, and dropout -- each backward branch (affine or not, batch / fixed statistics,
every reduction, weights, ignore_index, label smoothing, probability targets, pos_weight,
bias or not, broadcast batches) at least once, against torch (see harness.py)."""
import numpy as np
import pytest

import minidl
from tests.autograd.gradgrad.harness import Case, check

# both libraries warn for kl_div's 'mean' and for a broadcast mse_loss target, as intended
pytestmark = [pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),
              pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")]

rng = np.random.default_rng(0)
REDUCTIONS = ("none", "sum", "mean")


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)


def away_from_zero(*shape, low=0.3, high=1.5):
    """Values with |x| in [low, high] and random signs (no kink of a rectifier near)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def F(lib):
    return lib.nn.functional


def classes(*shape, n=4):
    return rng.integers(0, n, shape)


def probabilities(*shape):
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- normalisation
RUNNING = (np.array([0.2, -0.5, 0.1]), np.array([0.7, 1.3, 2.0]))


def batch_norm(training, affine=True, bias=True, running=True):
    def fn(lib, x, *wb):
        rm, rv = (lib.tensor(r.copy()) for r in RUNNING) if running else (None, None)
        w, b = (wb + (None, None))[:2] if affine else (None, None)
        return F(lib).batch_norm(x, rm, rv, w, b if bias else None, training=training,
                                 momentum=0.3, eps=1e-3)
    return fn


NORMS = [
    Case("batch_norm train affine running stats", batch_norm(True), (normal(4, 3),
         normal(3), normal(3))),
    Case("batch_norm train 4-d no affine no running stats", batch_norm(True, False,
         running=False), (normal(2, 3, 2, 2),)),
    Case("batch_norm train weight only", batch_norm(True, bias=False), (normal(2, 3, 3),
         normal(3))),
    Case("batch_norm eval affine", batch_norm(False), (normal(2, 3, 2), normal(3), normal(3))),
    Case("batch_norm eval no affine", batch_norm(False, False), (normal(3, 3),)),
    Case("layer_norm affine", lambda lib, x, w, b: F(lib).layer_norm(x, (2, 3), w, b),
         (normal(2, 2, 3), normal(2, 3), normal(2, 3))),
    Case("layer_norm no affine", lambda lib, x: F(lib).layer_norm(x, (4,), eps=1e-2),
         (normal(3, 4),)),
    Case("layer_norm weight only", lambda lib, x, w: F(lib).layer_norm(x, (3,), w),
         (normal(2, 3), normal(3))),
    Case("group_norm affine", lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b),
         (normal(2, 4, 2), normal(4), normal(4))),
    Case("group_norm no affine 2-d", lambda lib, x: F(lib).group_norm(x, 2), (normal(2, 6),)),
    Case("instance_norm affine running stats",
         lambda lib, x, w, b: F(lib).instance_norm(
             x, lib.tensor(RUNNING[0].copy()), lib.tensor(RUNNING[1].copy()), w, b),
         (normal(2, 3, 3), normal(3), normal(3))),
    Case("instance_norm no affine", lambda lib, x: F(lib).instance_norm(x), (normal(1, 2, 2, 2),)),
    Case("instance_norm running stats (use_input_stats=False)",
         lambda lib, x, w: F(lib).instance_norm(x, lib.tensor(RUNNING[0].copy()),
                                                lib.tensor(RUNNING[1].copy()), w,
                                                use_input_stats=False),
         (normal(2, 3, 2), normal(3))),
    Case("rms_norm weight", lambda lib, x, w: F(lib).rms_norm(x, (2, 3), w, eps=1e-3),
         (normal(2, 2, 3), normal(2, 3))),
    Case("rms_norm no weight default eps", lambda lib, x: F(lib).rms_norm(x, (4,)),
         (normal(3, 4),)),
    Case("local_response_norm odd size",
         lambda lib, x: F(lib).local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.5),
         (normal(2, 4, 2),)),
    Case("local_response_norm even size 4-d",
         lambda lib, x: F(lib).local_response_norm(x, 2, alpha=0.3, beta=0.6, k=2.0),
         (normal(1, 3, 2, 2),)),
]


# ----------------------------------------------------------------------- losses
def pointwise(name, **kw):
    """F.<name>(x, t, **kw), with ``weight=`` when the case has a third input."""
    def fn(lib, x, t, *w):
        return getattr(F(lib), name)(x, t, **kw, **({"weight": w[0]} if w else {}))
    return fn


def _pointwise_cases():
    out = []
    for red in REDUCTIONS:
        # |x - t| stays away from the kinks at 0 and at beta / delta (finite differences)
        t = normal(2, 3)
        x = t + away_from_zero(2, 3, low=0.2, high=0.6) * rng.choice([1, 3], (2, 3))
        out += [
            Case(f"mse_loss {red}", pointwise("mse_loss", reduction=red), (x, t)),
            Case(f"mse_loss weighted {red}", pointwise("mse_loss", reduction=red),
                 (x, t, positive(2, 3))),
            Case(f"l1_loss {red}", pointwise("l1_loss", reduction=red), (x, t)),
            Case(f"l1_loss weighted {red}", pointwise("l1_loss", reduction=red),
                 (x, t, positive(2, 3))),
            Case(f"smooth_l1_loss {red}", pointwise("smooth_l1_loss", reduction=red, beta=1.0),
                 (x, t)),
            Case(f"huber_loss {red}", pointwise("huber_loss", reduction=red, delta=1.0), (x, t)),
            Case(f"huber_loss weighted {red}", pointwise("huber_loss", reduction=red, delta=0.9),
                 (x, t, positive(2, 3))),
        ]
    t = normal(3)
    out += [
        Case("smooth_l1_loss beta=0 (l1)", pointwise("smooth_l1_loss", beta=0.0),
             (t + away_from_zero(3), t)),
        Case("mse_loss broadcast target", pointwise("mse_loss"), (normal(2, 3), normal(3))),
    ]
    return out


def _binary_cases():
    out = []
    for red in REDUCTIONS:
        x, t = rng.uniform(0.1, 0.9, (2, 3)), rng.uniform(0.0, 1.0, (2, 3))
        out += [
            Case(f"binary_cross_entropy {red}",
                 lambda lib, x, t, red=red: F(lib).binary_cross_entropy(x, t, reduction=red),
                 (x, t)),
            Case(f"binary_cross_entropy weighted {red}",
                 lambda lib, x, t, w, red=red: F(lib).binary_cross_entropy(x, t, w,
                                                                          reduction=red),
                 (x, t, positive(2, 3)), no_grad=(2,)),
            Case(f"binary_cross_entropy_with_logits {red}",
                 lambda lib, x, t, red=red: F(lib).binary_cross_entropy_with_logits(
                     x, t, reduction=red), (normal(2, 3), t)),
            Case(f"binary_cross_entropy_with_logits weight pos_weight {red}",
                 lambda lib, x, t, w, pw, red=red: F(lib).binary_cross_entropy_with_logits(
                     x, t, w, reduction=red, pos_weight=pw),
                 (normal(2, 3), t, positive(3), positive(3)), no_grad=(2, 3)),
        ]
    return out


def _kl_cases():
    out = []
    for red in REDUCTIONS + ("batchmean",):
        out += [
            Case(f"kl_div {red}", lambda lib, x, t, red=red: F(lib).kl_div(x, t, reduction=red),
                 (normal(2, 3), positive(2, 3, low=0.1, high=1.0))),
            Case(f"kl_div log_target {red}",
                 lambda lib, x, t, red=red: F(lib).kl_div(x, t, reduction=red, log_target=True),
                 (normal(2, 3), normal(2, 3))),
        ]
    out.append(Case("kl_div zero targets (constant)", lambda lib, x, t: F(lib).kl_div(
        x, t, reduction="sum"), (normal(2, 3), np.array([[0.0, 0.3, 0.7], [0.5, 0.0, 0.5]])),
        no_grad=(1,)))
    return out


def cross_entropy(target, **kw):
    return lambda lib, x, *w: F(lib).cross_entropy(x, lib.tensor(target),
                                                   *(w[:1] if w else ()), **kw)


def cross_entropy_probs(**kw):
    return lambda lib, x, p, *w: F(lib).cross_entropy(x, p, *(w[:1] if w else ()), **kw)


def nll_loss(target, **kw):
    return lambda lib, x, *w: F(lib).nll_loss(F(lib).log_softmax(x, 1) if x.ndim > 1 else x,
                                              lib.tensor(target), *(w[:1] if w else ()), **kw)


def _class_cases():
    out = []
    t, t3 = classes(4), classes(2, 3)
    ignored = np.array([0, 2, 3, 2])
    for red in REDUCTIONS:
        out += [
            Case(f"cross_entropy {red}", cross_entropy(t, reduction=red), (normal(4, 4),)),
            Case(f"cross_entropy weight ignore_index {red}",
                 cross_entropy(ignored, reduction=red, ignore_index=2), (normal(4, 4),
                                                                        positive(4)),
                 no_grad=(1,)),
            Case(f"cross_entropy label_smoothing weight {red}",
                 cross_entropy(ignored, reduction=red, ignore_index=3, label_smoothing=0.2),
                 (normal(4, 4), positive(4)), no_grad=(1,)),
            Case(f"cross_entropy probabilities {red}", cross_entropy_probs(reduction=red),
                 (normal(3, 4), probabilities(3, 4))),
            Case(f"cross_entropy probabilities smoothing weight {red}",
                 cross_entropy_probs(reduction=red, label_smoothing=0.3),
                 (normal(3, 4), probabilities(3, 4), positive(4)), no_grad=(2,)),
            Case(f"nll_loss {red}", nll_loss(t, reduction=red), (normal(4, 4),)),
            Case(f"nll_loss weight ignore_index {red}", nll_loss(ignored, reduction=red,
                                                                 ignore_index=2),
                 (normal(4, 4), positive(4)), no_grad=(1,)),
        ]
    out += [
        Case("cross_entropy (N, C, d) rows", cross_entropy(t3, label_smoothing=0.1),
             (normal(2, 4, 3),)),
        Case("cross_entropy (N, C, d) probabilities", cross_entropy_probs(),
             (normal(2, 3, 2), probabilities(2, 3, 2))),
        Case("cross_entropy unbatched (C,)", cross_entropy(np.array(2)), (normal(4),)),
        Case("cross_entropy every target ignored", cross_entropy(
            np.array([1, 1]), ignore_index=1, reduction="sum"), (normal(2, 3),)),
        Case("nll_loss (N, C, d) none", nll_loss(t3, reduction="none"), (normal(2, 4, 3),)),
        Case("nll_loss unbatched (C,)", nll_loss(np.array(1)), (normal(3),)),
    ]
    return out


LOSSES = _pointwise_cases() + _binary_cases() + _kl_cases() + _class_cases()


# ------------------------------------------------------------ products, linear
PRODUCTS = [
    Case("addmm alpha beta", lambda lib, i, a, b: lib.addmm(i, a, b, beta=0.5, alpha=2.0),
         (normal(2, 3), normal(2, 4), normal(4, 3))),
    Case("addmm broadcast input beta=0", lambda lib, i, a, b: lib.addmm(i, a, b, beta=0) ** 2,
         (normal(3), normal(2, 4), normal(4, 3)), no_grad=(0,)),
    Case("addmv", lambda lib, i, a, v: lib.addmv(i, a, v, alpha=-1.5) ** 2,
         (normal(2), normal(2, 3), normal(3))),
    Case("addbmm", lambda lib, i, a, b: lib.addbmm(i, a, b, beta=2.0) ** 2,
         (normal(2, 3), normal(2, 2, 4), normal(2, 4, 3))),
    Case("baddbmm", lambda lib, i, a, b: lib.baddbmm(i, a, b, alpha=0.5) ** 2,
         (normal(2, 1, 3), normal(2, 2, 3), normal(2, 3, 3))),
    Case("matmul vector . vector", lambda lib, a, b: lib.matmul(a, b) ** 2,
         (normal(3), normal(3))),
    Case("matmul batch @ matrix (one GEMM)", lambda lib, a, b: lib.matmul(a, b) ** 2,
         (normal(2, 2, 3), normal(3, 2))),
    Case("matmul vector @ batch", lambda lib, a, b: lib.matmul(a, b) ** 2,
         (normal(3), normal(2, 3, 2))),
    Case("matmul batch @ vector broadcast", lambda lib, a, b: lib.matmul(a, b) ** 2,
         (normal(2, 1, 2, 3), normal(3))),
    Case("matmul broadcast batches", lambda lib, a, b: lib.matmul(a, b) ** 2,
         (normal(2, 1, 2, 3), normal(3, 3, 2))),
    Case("linear bias", lambda lib, x, w, b: F(lib).linear(x, w, b) ** 2,
         (normal(2, 3), normal(4, 3), normal(4))),
    Case("linear no bias 3-d input", lambda lib, x, w: F(lib).linear(x, w) ** 2,
         (normal(2, 2, 3), normal(2, 3))),
    Case("linear broadcast bias", lambda lib, x, w, b: F(lib).linear(x, w, b) ** 2,
         (normal(2, 3), normal(2, 3), normal(1))),
    Case("linear 1-d weight", lambda lib, x, w: F(lib).linear(x, w) ** 2,
         (normal(2, 3), normal(3))),
]


# ------------------------------------------------------------------ rectifiers
RECTIFIERS = [
    Case("prelu shared slope", lambda lib, x, a: F(lib).prelu(x, a) ** 2,
         (away_from_zero(2, 3, 2), np.array([0.25]))),
    Case("prelu per channel", lambda lib, x, a: F(lib).prelu(x, a) ** 2,
         (away_from_zero(2, 3, 2), normal(3))),
    Case("prelu 1-d", lambda lib, x, a: F(lib).prelu(x, a) ** 2,
         (away_from_zero(3), np.array([-0.4]))),
    Case("prelu 0-d", lambda lib, x, a: F(lib).prelu(x, a) ** 2,
         (np.array(-0.7), np.array([0.3]))),
    Case("leaky_relu", lambda lib, x: F(lib).leaky_relu(x, 0.1) ** 2, (away_from_zero(2, 3),)),
    Case("leaky_relu slope > 1", lambda lib, x: F(lib).leaky_relu(x, 1.5) ** 2,
         (away_from_zero(2, 3),)),
    Case("elu", lambda lib, x: F(lib).elu(x, 0.7), (away_from_zero(2, 3),)),
    Case("selu", lambda lib, x: F(lib).selu(x), (away_from_zero(2, 3),)),
    Case("celu", lambda lib, x: F(lib).celu(x, 1.3), (away_from_zero(2, 3),)),
    Case("hardtanh", lambda lib, x: F(lib).hardtanh(x, -0.5, 1.0) ** 2,
         (np.array([-1.2, -0.3, 0.4, 1.4]),)),
    Case("relu6", lambda lib, x: F(lib).relu6(x) ** 2, (np.array([-1.0, 2.0, 7.0]),)),
    Case("threshold", lambda lib, x: F(lib).threshold(x, 0.1, -2.0) ** 2,
         (np.array([-1.0, 0.5, 2.0]),)),
]


# --------------------------------------------------------------------- dropout
def dropout(name, shape, **kw):
    """``name`` in minidl (a seeded mask) against torch multiplying by the same mask."""
    def fn(lib, x):
        if lib is minidl:
            minidl.manual_seed(7)
            return getattr(F(minidl), name)(x, training=True, **kw) ** 2
        minidl.manual_seed(7)
        ones, zeros = minidl.ones(shape, dtype=minidl.float64), minidl.zeros(
            shape, dtype=minidl.float64)
        at_one = getattr(F(minidl), name)(ones, training=True, **kw).numpy()
        minidl.manual_seed(7)
        at_zero = getattr(F(minidl), name)(zeros, training=True, **kw).numpy()
        scale = lib.tensor(at_one - at_zero)   # the mask times the kept values' scale
        return (x * scale + lib.tensor(at_zero)) ** 2
    return Case(f"{name} {kw}", fn, (normal(*shape),))


DROPOUT = [
    dropout("dropout", (3, 4), p=0.4),
    dropout("dropout2d", (2, 3, 2, 2), p=0.5),
    dropout("alpha_dropout", (3, 4), p=0.3),
    dropout("feature_alpha_dropout", (2, 3, 2), p=0.5),
]

CASES = NORMS + LOSSES + PRODUCTS + RECTIFIERS + DROPOUT


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
