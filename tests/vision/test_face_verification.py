"""minidl.vision.face_verification: the embedding and Siamese networks, the contrastive
loss against its formula, triplet mining on a hand example, and the evaluation (ROC curve
and AUC against direct counting, the accuracy threshold, one-shot accuracy)."""
import itertools

import numpy as np
import pytest
import torch

import minidl
from minidl.vision.face_verification import (
    MINERS,
    EmbeddingNet,
    SiameseNetwork,
    all_triplets,
    balanced_pairs,
    batch_hard_triplets,
    best_threshold,
    contrastive_loss,
    distance_matrix,
    one_shot_accuracy,
    roc_auc,
    roc_curve,
    semi_hard_triplets,
    verification_accuracy,
)
from tests.reference.harness import compare

# 1-D embeddings: class 0 at 0, 0.3, 1.0; class 1 at 0.5, 2.0 (distances exact)
POINTS = np.array([0.0, 0.3, 1.0, 0.5, 2.0])
LABELS = np.array([0, 0, 0, 1, 1])
DIST = np.abs(POINTS[:, None] - POINTS[None, :])


def test_embedding_net_gives_unit_vectors_and_siamese_shares_its_weights():
    minidl.manual_seed(0)
    net = EmbeddingNet(in_channels=3, embedding_dim=5, width=4, depth=2).eval()
    x1, x2 = minidl.randn(2, 3, 12, 12), minidl.randn(2, 3, 12, 12)
    with minidl.no_grad():
        e = net(x1)
        e1, e2 = SiameseNetwork(net)(x1, x2)
        e2_alone = net(x2)
    assert e.shape == (2, 5)
    np.testing.assert_allclose(np.linalg.norm(e.numpy(), axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(e1.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e2.numpy(), e2_alone.numpy(), rtol=1e-5, atol=1e-6)
    assert EmbeddingNet(1, 7, 4, 1, normalize=False)(minidl.randn(3, 1, 8, 8)).shape == (3, 7)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        net(minidl.randn(3, 12, 12))
    with pytest.raises(ValueError, match="same shape"):
        SiameseNetwork(net)(x1, x2[:1])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_contrastive_loss_is_hadsells_formula(reduction):
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((8, 3)) * 0.4, rng.standard_normal((8, 3)) * 0.4
    same = np.array([1, 0, 1, 0, 0, 1, 0, 1], dtype=np.float64)
    margin = 0.9
    d = np.linalg.norm(x1 - x2 + 1e-6, axis=1)
    formula = 0.5 * (same * d ** 2 + (1 - same) * np.maximum(margin - d, 0) ** 2)
    assert (d < margin).any() and (d > margin).any()  # both sides of the hinge are tested
    expected = {"none": formula, "mean": formula.mean(), "sum": formula.sum()}[reduction]
    got = contrastive_loss(minidl.from_numpy(x1), minidl.from_numpy(x2),
                           minidl.from_numpy(same), margin, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)

    def by_torch(a, b, y):  # the same formula in torch: the gradients must agree
        dt = torch.nn.functional.pairwise_distance(a, b, 2.0, 1e-6)
        loss = 0.5 * (y * dt ** 2 + (1 - y) * (margin - dt).clamp_min(0) ** 2)
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    compare(lambda a, b, y: contrastive_loss(a, b, y, margin, reduction=reduction), by_torch,
            [x1, x2, same], dtype="float64")
    bools = minidl.from_numpy(same.astype(bool))
    np.testing.assert_allclose(contrastive_loss(minidl.from_numpy(x1), minidl.from_numpy(x2),
                                                bools, margin, reduction=reduction).numpy(),
                               expected, rtol=1e-12)


def test_contrastive_loss_refuses_bad_arguments():
    e = minidl.randn(4, 3)
    with pytest.raises(ValueError, match="one 0 / 1 flag per pair"):
        contrastive_loss(e, e, minidl.ones(3))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        contrastive_loss(e, e[:, :2], minidl.ones(4))
    with pytest.raises(ValueError, match="margin"):
        contrastive_loss(e, e, minidl.ones(4), margin=0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        contrastive_loss(e, e, minidl.ones(4), reduction="avg")


def test_batch_hard_picks_the_farthest_positive_and_nearest_negative_of_each_anchor():
    a, p, n = batch_hard_triplets(DIST, LABELS)
    assert a.tolist() == [0, 1, 2, 3, 4]
    assert p.tolist() == [2, 2, 0, 4, 3]
    assert n.tolist() == [3, 3, 3, 1, 2]
    # an anchor without a positive (class 2 has one image) is left out
    a, p, n = batch_hard_triplets(np.pad(DIST, (0, 1), constant_values=5.0), [0, 0, 0, 1, 1, 2])
    assert a.tolist() == [0, 1, 2, 3, 4]


def test_semi_hard_keeps_negatives_farther_than_the_positive_but_within_the_margin():
    a, p, n = semi_hard_triplets(DIST, LABELS, margin=0.6)
    # (0,1): d 0.3, negatives 0.5 / 2.0 -> 3; (2,1): d 0.7, negatives 0.5 / 1.0 -> 4;
    # (4,3): d 1.5, negatives 2.0 / 1.7 / 1.0 -> the nearest inside (1.5, 2.1): 1.
    # (2,0): d 1.0 and negative 4 at exactly 1.0 is not farther: no triplet.
    assert list(zip(a.tolist(), p.tolist(), n.tolist())) == [(0, 1, 3), (2, 1, 4), (4, 3, 1)]
    d_ap, d_an = DIST[a, p], DIST[a, n]
    assert ((d_ap < d_an) & (d_an < d_ap + 0.6)).all()
    assert len(semi_hard_triplets(DIST, LABELS, margin=1e-3)[0]) == 0


def test_all_triplets_are_every_valid_one_and_the_miners_table():
    got = set(zip(*(i.tolist() for i in all_triplets(DIST, LABELS))))
    want = {(a, p, n) for a, p, n in itertools.product(range(5), repeat=3)
            if a != p and LABELS[a] == LABELS[p] and LABELS[a] != LABELS[n]}
    assert got == want and len(want) == 18
    assert set(MINERS) == {"hard", "semi-hard", "all"}
    for name, miner in MINERS.items():
        assert len(miner(DIST, LABELS, 0.6)[0]) > 0, name
    with pytest.raises(ValueError, match="4 labels for a distance matrix"):
        batch_hard_triplets(DIST, LABELS[:4])


def test_distance_matrix_is_cdist():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    want = torch.cdist(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(distance_matrix(a, b), want, rtol=1e-9)
    np.testing.assert_allclose(distance_matrix(a), distance_matrix(a, a), atol=1e-7)


def _auc_by_counting(scores, same):
    pos, neg = scores[same], scores[~same]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_roc_auc_is_the_pairwise_count_with_ties_half():
    rng = np.random.default_rng(3)
    for n in (7, 40, 101):
        scores = rng.integers(0, 6, n).astype(float)  # many ties
        same = rng.random(n) < 0.4
        same[:2] = True, False
        assert roc_auc(scores, same) == pytest.approx(_auc_by_counting(scores, same), abs=1e-12)
        fpr, tpr, _ = roc_curve(scores, same)  # the trapezoids give the same area
        assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(scores, same), abs=1e-12)
    assert roc_auc([3.0, 1.0], [True, False]) == 1.0
    assert roc_auc([1.0, 1.0], [True, False]) == 0.5
    with pytest.raises(ValueError, match="both same and different"):
        roc_auc([1.0, 2.0], [True, True])
    with pytest.raises(ValueError, match="3 scores for 2"):
        roc_auc([1.0, 2.0, 3.0], [True, False])


def test_roc_curve_by_hand():
    fpr, tpr, thr = roc_curve([0.9, 0.8, 0.8, 0.3], [True, False, True, False])
    assert thr.tolist() == [np.inf, 0.9, 0.8, 0.3]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]
    assert fpr.tolist() == [0.0, 0.0, 0.5, 1.0]


def test_best_threshold_maximises_accuracy_on_the_pairs():
    rng = np.random.default_rng(4)
    d = np.round(rng.random(60), 1)  # ties
    same = rng.random(60) < d * 0.3 + 0.3
    same = same ^ (d < 0.3)
    t, acc = best_threshold(d, same)
    values = np.unique(d)
    candidates = np.r_[values - 1e-9, values + 1e-9]
    brute = max(verification_accuracy(d, same, c) for c in candidates)
    assert acc == pytest.approx(brute) and verification_accuracy(d, same, t) == acc
    assert best_threshold([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == (0.5, 1.0)
    assert best_threshold([0.5, 0.1], [0, 1]) == (0.3, 1.0)


def test_balanced_pairs_are_half_same_half_different():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    i, j, same = balanced_pairs(labels, 41, np.random.default_rng(0))
    assert len(i) == 41 and same.sum() == 20
    assert (labels[i[same]] == labels[j[same]]).all() and (i[same] != j[same]).all()
    assert (labels[i[~same]] != labels[j[~same]]).all()
    with pytest.raises(ValueError, match="at least two classes"):
        balanced_pairs(np.zeros(4, int), 4, np.random.default_rng(0))


def _one_shot_by_loops(e, labels, rng, episodes):
    classes = np.unique(labels)
    accs = []
    for _ in range(episodes):
        refs = [rng.choice(np.flatnonzero(labels == c)) for c in classes]
        right = total = 0
        for q in range(len(labels)):
            if q in refs:
                continue
            nearest = min(range(len(refs)), key=lambda r: np.linalg.norm(e[q] - e[refs[r]]))
            right += classes[nearest] == labels[q]
            total += 1
        accs.append(right / total)
    return np.mean(accs), np.std(accs)


def test_one_shot_accuracy():
    rng = np.random.default_rng(5)
    labels = np.repeat([0, 1, 2], 5)
    separated = np.eye(3)[labels] * 10 + rng.standard_normal((15, 3)) * 0.1
    assert one_shot_accuracy(separated, labels, np.random.default_rng(0)) == (1.0, 0.0)
    mixed = rng.standard_normal((15, 3))
    got = one_shot_accuracy(mixed, labels, np.random.default_rng(7), episodes=6)
    np.testing.assert_allclose(got, _one_shot_by_loops(mixed, labels,
                                                       np.random.default_rng(7), 6))
    with pytest.raises(ValueError, match="at least two classes"):
        one_shot_accuracy(mixed, np.zeros(15, int), np.random.default_rng(0))
