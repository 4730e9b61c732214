"""Face verification the metric-learning way: an embedding network that maps an image to a
point on the unit sphere, trained so that images of one identity lie close together and
those of different identities far apart; two images are "the same" when their embeddings
are nearer than a threshold. Works for identities never seen in training (one-shot).

- ``EmbeddingNet``: conv -> BN -> ReLU blocks, average pooling (global by default), a
  linear layer, L2-normalised output (FaceNet's unit-sphere embedding, Schroff et al. 2015).
- ``SiameseNetwork``: one embedding net applied to both images of a pair (shared weights,
  Bromley et al. 1993), trained with ``contrastive_loss`` (Hadsell, Chopra & LeCun 2006).
- Triplet mining inside a batch (FaceNet): ``batch_hard_triplets`` (hardest positive and
  hardest negative of every anchor, Hermans et al. 2017), ``semi_hard_triplets`` (for every
  anchor-positive pair the nearest negative farther than the positive but within the
  margin), ``all_triplets``; the loss itself is ``nn.TripletMarginLoss``.
- Evaluation: ``roc_curve`` / ``roc_auc`` of same / different pairs, ``best_threshold``
  (chosen on validation pairs), ``verification_accuracy``, ``one_shot_accuracy`` (one
  reference image per unseen class, nearest-reference classification).

Distances are Euclidean; a pair's score is its negated distance (larger = more alike).
"""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..ops._loss_reduction import resolve_reduction
from ..ops.join import cat

__all__ = ["EmbeddingNet", "SiameseNetwork", "contrastive_loss", "distance_matrix",
           "batch_hard_triplets", "semi_hard_triplets", "all_triplets", "MINERS",
           "balanced_pairs", "roc_curve", "roc_auc", "best_threshold", "verification_accuracy",
           "one_shot_accuracy"]


class EmbeddingNet(nn.Module):
    """Image ``(N, in_channels, H, W)`` -> ``(N, embedding_dim)`` unit vectors.

    ``depth`` blocks of 3x3 conv (``width``, doubling per block) -> BatchNorm -> ReLU, each
    but the last followed by 2x2 max pooling; then average pooling to a ``pool_size`` x
    ``pool_size`` grid (1: global; more keeps where the features are) and a linear layer;
    ``normalize=False`` leaves the output unnormalised.
    """

    def __init__(self, in_channels=1, embedding_dim=32, width=32, depth=3, pool_size=1,
                 normalize=True):
        super().__init__()
        if depth < 1:
            raise ValueError(f"EmbeddingNet: depth must be at least 1, got {depth}")
        layers, c = [], in_channels
        for i in range(depth):
            out = width * 2 ** i
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU()]
            if i < depth - 1:
                layers.append(nn.MaxPool2d(2))
            c = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.fc = nn.Linear(c * pool_size ** 2, embedding_dim)
        self.normalize = normalize

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"EmbeddingNet expects images (N, C, H, W), got shape "
                             f"{list(x.shape)}")
        e = self.fc(self.pool(self.features(x)).flatten(1))
        return F.normalize(e, dim=1) if self.normalize else e


class SiameseNetwork(nn.Module):
    """Both images of a pair through one shared ``embedding_net``: ``(e1, e2)``. The two
    batches go through the network as one (one batch-norm batch, one pass)."""

    def __init__(self, embedding_net):
        super().__init__()
        self.embedding_net = embedding_net

    def forward(self, x1, x2):
        if x1.shape != x2.shape:
            raise ValueError(f"SiameseNetwork: the two images of a pair batch must have the "
                             f"same shape, got {list(x1.shape)} and {list(x2.shape)}")
        e = self.embedding_net(cat([x1, x2], 0))
        return e[:len(x1)], e[len(x1):]


def contrastive_loss(x1, x2, same, margin=1.0, eps=1e-6, reduction="mean"):
    """Hadsell, Chopra & LeCun (2006), "Dimensionality reduction by learning an invariant
    mapping", eq. 4, with ``same`` = 1 - Y (1 for a pair of one class, 0 otherwise):

        L = same * D^2 / 2 + (1 - same) * max(0, margin - D)^2 / 2,
        D = ||x1 - x2 + eps||_2 (``F.pairwise_distance``; eps keeps the gradient finite).

    ``x1``, ``x2``: ``(N, D)`` embeddings; ``same``: ``(N,)`` of 0 / 1 (bool, int or
    float); ``reduction``: 'mean' | 'sum' | 'none'.
    """
    reduction = resolve_reduction(None, None, reduction)
    if margin <= 0:
        raise ValueError(f"contrastive_loss: margin must be greater than 0, got {margin}")
    if x1.ndim != 2 or x1.shape != x2.shape:
        raise ValueError(f"contrastive_loss expects two (N, D) embeddings of one shape, got "
                         f"{list(x1.shape)} and {list(x2.shape)}")
    if tuple(same.shape) != (x1.shape[0],):
        raise ValueError(f"contrastive_loss: 'same' must hold one 0 / 1 flag per pair "
                         f"({x1.shape[0]}), got shape {list(same.shape)}")
    d = F.pairwise_distance(x1, x2, 2.0, eps)
    y = same.to(d.dtype)
    loss = 0.5 * (y * d * d + (1 - y) * (margin - d).clamp_min(0) ** 2)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


# ----------------------------------------------------------------- triplet mining
def distance_matrix(a, b=None):
    """Euclidean distances between the rows of NumPy arrays ``a`` (N, D) and ``b`` (M, D)
    (default ``a``): an ``(N, M)`` float64 array."""
    a = np.asarray(a, dtype=np.float64)
    b = a if b is None else np.asarray(b, dtype=np.float64)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def _masks(labels):
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"triplet mining needs one label per embedding, got labels of shape "
                         f"{labels.shape}")
    same = labels[:, None] == labels[None, :]
    positive = same & ~np.eye(len(labels), dtype=bool)
    return positive, ~same


def _check(dist, labels):
    if dist.shape != (len(labels), len(labels)):
        raise ValueError(f"triplet mining: {len(labels)} labels for a distance matrix of shape "
                         f"{dist.shape}")


def batch_hard_triplets(dist, labels):
    """``(anchor, positive, negative)`` index arrays: for every anchor with a positive and a
    negative in the batch, its farthest positive and its nearest negative (first index on
    ties). ``dist``: the ``(N, N)`` distances (``distance_matrix``)."""
    _check(dist, labels)
    positive, negative = _masks(labels)
    anchors = np.flatnonzero(positive.any(1) & negative.any(1))
    pos = np.where(positive, dist, -np.inf)[anchors].argmax(1)
    neg = np.where(negative, dist, np.inf)[anchors].argmin(1)
    return anchors, pos, neg


def semi_hard_triplets(dist, labels, margin):
    """FaceNet's semi-hard negatives: for every anchor-positive pair ``(a, p)``, the nearest
    negative ``n`` with d(a, p) < d(a, n) < d(a, p) + margin (first index on ties); pairs
    without one are left out. Returns ``(anchor, positive, negative)`` index arrays."""
    _check(dist, labels)
    positive, negative = _masks(labels)
    a, p = np.nonzero(positive)
    d_ap = dist[a, p][:, None]
    d_an = dist[a]
    ok = negative[a] & (d_an > d_ap) & (d_an < d_ap + margin)
    keep = ok.any(1)
    n = np.where(ok, d_an, np.inf).argmin(1)
    return a[keep], p[keep], n[keep]


def all_triplets(dist, labels):
    """Every valid ``(anchor, positive, negative)`` of the batch (labels a = p != n)."""
    _check(dist, labels)
    positive, negative = _masks(labels)
    a, p, n = np.nonzero(positive[:, :, None] & negative[:, None, :])
    return a, p, n


MINERS = {"hard": lambda dist, labels, margin: batch_hard_triplets(dist, labels),
          "semi-hard": semi_hard_triplets,
          "all": lambda dist, labels, margin: all_triplets(dist, labels)}


# ------------------------------------------------------------------- evaluation
def balanced_pairs(labels, n_pairs, rng):
    """``(i, j, same)``: ``n_pairs`` random index pairs, half of one class (``same`` True)
    and half of two different classes, drawn with the NumPy Generator ``rng``."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"pairs need at least two classes, got {len(classes)}")
    members = {c: np.flatnonzero(labels == c) for c in classes}
    multi = [c for c in classes if len(members[c]) > 1]
    if not multi:
        raise ValueError("same-class pairs need a class with at least two images")
    n_same = n_pairs // 2
    i, j = np.empty(n_pairs, np.int64), np.empty(n_pairs, np.int64)
    for k, c in enumerate(rng.choice(multi, n_same)):
        i[k], j[k] = rng.choice(members[c], 2, replace=False)
    for k in range(n_same, n_pairs):
        c1, c2 = rng.choice(classes, 2, replace=False)
        i[k], j[k] = rng.choice(members[c1]), rng.choice(members[c2])
    same = np.arange(n_pairs) < n_same
    return i, j, same


def _binary(scores, same):
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(same).ravel().astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"{len(s)} scores for {len(y)} same / different labels")
    if y.all() or not y.any():
        raise ValueError("a ROC curve needs both same and different pairs")
    return s, y


def roc_curve(scores, same):
    """``(fpr, tpr, thresholds)`` of the rule "same when score >= threshold", thresholds
    running down through the distinct scores (the first, +inf, accepts nothing)."""
    s, y = _binary(scores, same)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    tpr = np.r_[0.0, tp / y.sum()]
    fpr = np.r_[0.0, fp / (~y).sum()]
    return fpr, tpr, np.r_[np.inf, s[last]]


def roc_auc(scores, same):
    """Area under the ROC curve: the chance that a random same pair scores higher than a
    random different pair, ties counting half (Mann-Whitney U / (n_same n_diff))."""
    s, y = _binary(scores, same)
    order = np.argsort(s, kind="stable")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # mean rank of ties
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def best_threshold(distances, same):
    """The distance threshold (rule: same when distance < threshold) with the highest
    accuracy on these pairs: a midpoint between consecutive distinct distances, or just
    beyond the extremes. Returns ``(threshold, accuracy)``; the smallest threshold of
    equals wins."""
    d, y = _binary(distances, same)
    order = np.argsort(d, kind="stable")
    d, y = d[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(d)), len(d) - 1]
    # threshold below everything: all "different"; after group k: the first last[k] + 1 same
    correct = np.r_[(~y).sum(), (~y).sum() + np.cumsum(np.where(y, 1, -1))[last]]
    k = int(np.argmax(correct))
    cuts = np.r_[d[0] - 1.0, (d[last[:-1]] + d[last[:-1] + 1]) / 2, d[-1] + 1.0]
    return float(cuts[k]), float(correct[k] / len(d))


def verification_accuracy(distances, same, threshold):
    """Share of pairs judged right by "same when distance < threshold"."""
    d, y = np.asarray(distances).ravel(), np.asarray(same).ravel().astype(bool)
    return float(np.mean((d < threshold) == y))


def one_shot_accuracy(embeddings, labels, rng, episodes=20):
    """Mean and standard deviation over ``episodes`` of the one-shot accuracy: one random
    reference image per class, every other image classified as the class of its nearest
    reference. ``embeddings``: NumPy ``(N, D)``; ``labels``: ``(N,)``."""
    e, labels = np.asarray(embeddings), np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"one-shot classification needs at least two classes, got "
                         f"{len(classes)}")
    accs = []
    for _ in range(episodes):
        refs = np.array([rng.choice(np.flatnonzero(labels == c)) for c in classes])
        queries = np.setdiff1d(np.arange(len(labels)), refs)
        d = distance_matrix(e[queries], e[refs])
        accs.append(np.mean(classes[d.argmin(1)] == labels[queries]))
    return float(np.mean(accs)), float(np.std(accs))
