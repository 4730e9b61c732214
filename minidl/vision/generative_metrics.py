"""Quality of generated images: FID on LeNet features and a classifier's agreement.

*Fréchet distance* (Heusel et al. 2017, "GANs trained by a two time-scale update rule
converge to a local Nash equilibrium"): two sets of features, each summarised by a Gaussian
N(mu, Sigma), are compared by the squared 2-Wasserstein distance of the Gaussians,

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

Tr((S1 S2)^(1/2)) is computed without a general matrix square root: S1 S2 has the same
eigenvalues as the symmetric positive semi-definite M = S1^(1/2) S2 S1^(1/2), so the trace is
the sum of the square roots of M's eigenvalues. S1^(1/2) comes from a symmetric
eigendecomposition; eigenvalues at round-off level (below d * eps * the largest, negative
ones included) are set to 0, as a singular covariance's are.
Everything is float64.

*FID on LeNet features* (this module's ``fid``): the features are not Inception-v3's 2048
pool features of the paper but the 84 activations (after the ReLU) of the last hidden layer
of a LeNet-5 that minidl trains on the same data (``fid_classifier``): the input of its
linear classifier, so the representation the classes are read from, and small enough that
its 84 x 84 covariance is well estimated from a thousand images. The figures compare models
on these data only; they are not comparable with the Inception FIDs of papers.

*Classifier agreement* (``classifier_agreement``): for samples generated for intended
labels, the accuracy of the classifier's argmax against those labels and the confidence-
weighted agreement, the mean softmax probability of the intended label.

The classifier is a ``FIDClassifier``: the LeNet-5 plus the normalisation it was trained
with, taking images in [0, 1]. ``fid_classifier(data)`` trains it once with the ``lenet``
recipe (seed 0; the recipe's defaults) and caches it in ``$MINIDL_HOME/fid/`` or, without
that variable, ``~/.cache/minidl/fid/`` as ``<data>-lenet.safetensors``, a checkpoint that
``minidl.train.recipes.load_classifier`` also reads.
"""
import os
import sys
import time

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..serialization import save
from ..tensor import Tensor
from ..train.callbacks import Callback
from .datasets.bundled import BUNDLED, load_bundled
from .generative_sampling import check_samples
from .models.lenet import LeNet5

__all__ = ["FIDClassifier", "frechet_distance", "feature_statistics", "extract_features",
           "fid", "classifier_agreement", "fid_classifier", "fid_classifier_path",
           "load_fid_classifier", "save_fid_classifier", "evaluate_generator",
           "FID_CLASSIFIER_TRAINING"]

# The feature network's training run: the ``lenet`` recipe's defaults (Adam 2e-3, weight
# decay 5e-4, batch 64, 20 epochs, cosine schedule), seed 0, validation on a stratified 10 %.
FID_CLASSIFIER_TRAINING = {"model": "lenet", "seed": 0}


# ------------------------------------------------------------------ the distance
def _clipped(eigenvalues):
    """Eigenvalues of a positive semi-definite matrix with round-off removed: those below
    d * eps * the largest (numpy's matrix-rank tolerance), negative ones included, are 0."""
    tolerance = max(eigenvalues.max(initial=0.0), 0.0) * eigenvalues.size * np.finfo(
        np.float64).eps
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def _symmetric_sqrt(matrix):
    """S^(1/2) of a symmetric positive semi-definite S, by its eigendecomposition."""
    w, v = np.linalg.eigh(matrix)
    return (v * np.sqrt(_clipped(w))) @ v.T


def _check_gaussian(mu, sigma, which):
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise ValueError(f"mu{which} must be a vector of d means and sigma{which} its d x d "
                         f"covariance; got shapes {mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"mu{which} and sigma{which} must be finite")
    return mu, (sigma + sigma.T) / 2


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) in float64 (see the module docstring).

    The distance is >= 0 in exact arithmetic; a round-off negative is returned as 0.0.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, 1)
    mu2, sigma2 = _check_gaussian(mu2, sigma2, 2)
    if mu1.size != mu2.size:
        raise ValueError(f"the two Gaussians have different dimensions: {mu1.size} and "
                         f"{mu2.size}")
    root1 = _symmetric_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(_clipped(eigenvalues)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return max(float(value), 0.0)


def feature_statistics(features):
    """``(mu, sigma)``: the mean and the unbiased covariance (ddof 1) of N x d features."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be an N x d array with N >= 2, got shape "
                         f"{features.shape}")
    if not np.isfinite(features).all():
        raise ValueError("features must be finite")
    return features.mean(axis=0), np.cov(features, rowvar=False, ddof=1).reshape(
        features.shape[1], features.shape[1])


# ------------------------------------------------------------ the feature network
class FIDClassifier(nn.Module):
    """A LeNet-5 with the normalisation ``(x - mean) / std`` it was trained with, taking
    images in [0, 1]: ``forward`` gives the class logits, ``features`` the 84 activations
    of the last hidden layer (after its ReLU), the input of the final linear layer."""

    def __init__(self, network, mean, std, data=None):
        super().__init__()
        if not isinstance(network, LeNet5):
            raise TypeError(f"the FID feature network is a LeNet5, got {type(network).__name__}")
        if not float(std) > 0:
            raise ValueError(f"std must be positive, got {std}")
        self.network = network
        self.mean, self.std, self.data = float(mean), float(std), data
        self.num_classes = network.classifier[-1].out_features
        self.image_size = 28 if network.features[0].padding[0] == 2 else 32
        self.eval()

    def features(self, x):
        net = self.network
        h = net.flatten(net.features((x - self.mean) / self.std))
        for layer in list(net.classifier)[:-1]:
            h = layer(h)
        return h

    def head(self, features):
        """The class logits of ``features`` (the final linear layer)."""
        return self.network.classifier[-1](features)

    def forward(self, x):
        return self.head(self.features(x))


def _as_images(images, name, size):
    """``images`` (N x 1 x H x W or N x H x W; uint8 0-255 or floats in [0, 1]) as float32."""
    array = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[1:] != (1, size, size):
        raise ValueError(f"{name} must be grey images N x 1 x {size} x {size} (or N x {size} x "
                         f"{size}), got shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must be uint8 or floats in [0, 1], got {array.dtype}")
    if array.size and not (np.isfinite(array).all() and array.min() >= 0 and array.max() <= 1):
        raise ValueError(f"{name} must hold pixel values in [0, 1], got values from "
                         f"{np.nanmin(array)} to {np.nanmax(array)}")
    return array.astype(np.float32, copy=False)


def _as_classifier(classifier):
    if isinstance(classifier, FIDClassifier):
        return classifier
    if isinstance(classifier, (str, os.PathLike)):
        return load_fid_classifier(classifier)
    raise TypeError(f"classifier must be a FIDClassifier or the path of its checkpoint, got "
                    f"{type(classifier).__name__}")


def _run(classifier, images, name, batch_size=500):
    """``(features, logits)`` in float64 for ``images`` in [0, 1]."""
    x = _as_images(images, name, classifier.image_size)
    feats, logits = [], []
    classifier.eval()
    with no_grad():
        for start in range(0, len(x), batch_size):
            h = classifier.features(Tensor(np.ascontiguousarray(x[start:start + batch_size])))
            feats.append(h.numpy().astype(np.float64))
            logits.append(classifier.head(h).numpy().astype(np.float64))
    if not feats:
        raise ValueError(f"{name} holds no images")
    return np.concatenate(feats), np.concatenate(logits)


def extract_features(images, classifier):
    """The N x 84 LeNet features of ``images`` (in [0, 1]), float64."""
    return _run(_as_classifier(classifier), images, "images")[0]


def fid(images_a, images_b, classifier):
    """The Fréchet distance between the LeNet features of two image sets (in [0, 1])."""
    classifier = _as_classifier(classifier)
    stats_a = feature_statistics(_run(classifier, images_a, "images_a")[0])
    stats_b = feature_statistics(_run(classifier, images_b, "images_b")[0])
    return frechet_distance(*stats_a, *stats_b)


def _softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _agreement(logits, labels):
    labels = np.asarray(labels)
    if labels.shape != (len(logits),) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be {len(logits)} integer class indices, got an array of "
                         f"shape {labels.shape} and dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must lie in [0, {logits.shape[1]})")
    accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    return accuracy, float(_softmax(logits)[np.arange(len(labels)), labels].mean())


def classifier_agreement(images, labels, classifier):
    """``(accuracy, confidence_weighted)``: how often the classifier's argmax is the intended
    label, and the mean softmax probability it gives the intended label."""
    return _agreement(_run(_as_classifier(classifier), images, "images")[1], labels)


# ------------------------------------------------------------------ the cache
def fid_classifier_path(data):
    """``$MINIDL_HOME/fid/<data>-lenet.safetensors``, else under ``~/.cache/minidl/fid/``."""
    if data not in BUNDLED:
        raise ValueError(f"the cached FID classifier exists for the bundled data "
                         f"({', '.join(sorted(BUNDLED))}), not {data!r}; pass the checkpoint "
                         f"of a classifier trained on it instead")
    home = os.environ.get("MINIDL_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                         "minidl")
    return os.path.join(home, "fid", f"{data}-lenet.safetensors")


def save_fid_classifier(classifier, path, config=None, metrics=None):
    """Write ``classifier`` as a ``minidl train`` checkpoint (atomically; ``load_classifier``
    and ``load_fid_classifier`` read it); ``config`` / ``metrics`` are stored with it."""
    net = classifier.network
    model_kwargs = {"num_classes": classifier.num_classes,
                    "in_channels": net.features[0].in_channels,
                    "image_size": classifier.image_size}
    config = {**(config or {}), "model": "lenet", "arch": "lenet5", "model_kwargs": model_kwargs,
              "normalize": [classifier.mean, classifier.std], "data": classifier.data}
    save({"format": "minidl.train/1", "epoch": config.get("best_epoch"),
          "model": net.state_dict(), "metrics": dict(metrics or {}), "config": config}, path)


def load_fid_classifier(path):
    """The ``FIDClassifier`` of a LeNet-5 checkpoint (``minidl train lenet`` or the cache)."""
    from ..train.recipes import load_classifier
    model, config = load_classifier(path)
    if not isinstance(model, LeNet5):
        raise ValueError(f"{path}: the FID feature network is a LeNet-5; this checkpoint holds "
                         f"a {type(model).__name__}")
    return FIDClassifier(model, *config["normalize"], data=config.get("data"))


class _KeepSelected(Callback):
    """Keeps the selected epoch's weights when training ends."""

    def on_fit_end(self, trainer):
        self.state, self.epoch = trainer.best_state(), trainer.best_epoch


def fid_classifier(data, progress=True):
    """The FID / agreement classifier of ``data`` (a bundled name), trained on first use.

    First use trains a LeNet-5 with ``FID_CLASSIFIER_TRAINING`` (the ``lenet`` recipe; the
    weights of the epoch with the best validation accuracy) and writes it to
    ``fid_classifier_path(data)``; later calls read that file.
    """
    path = fid_classifier_path(data)
    if os.path.isfile(path):
        return load_fid_classifier(path)
    from ..train.recipes import resolve_config, train_classifier
    from .models import get_model
    print(f"minidl: training the FID feature network once (LeNet-5, minidl train lenet's "
          f"recipe, seed {FID_CLASSIFIER_TRAINING['seed']}) on {data}; it is cached as {path}",
          file=sys.stderr)
    t0 = time.perf_counter()
    keep = _KeepSelected()
    summary = train_classifier(resolve_config(**{**FID_CLASSIFIER_TRAINING, "data": data}),
                               progress=progress, callbacks=[keep])
    config = summary["config"]
    network = get_model(config["arch"], **config["model_kwargs"])
    network.load_state_dict(keep.state)
    metrics = {"val_acc": summary["val_acc"], "test_acc": summary["test_acc"],
               "time_s": time.perf_counter() - t0}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    classifier = FIDClassifier(network, *config["normalize"], data=data)
    save_fid_classifier(classifier, path, {**config, "best_epoch": keep.epoch}, metrics)
    print(f"minidl: FID feature network trained in {metrics['time_s']:.0f} s: validation "
          f"accuracy {100 * summary['val_acc']:.2f} % (epoch {keep.epoch}), test "
          f"{100 * summary['test_acc']:.2f} %", file=sys.stderr)
    return classifier


# ------------------------------------------------------------- the evaluation
def evaluate_generator(sampler, data, conditional, n=2000, classifier=None, reference=None,
                       reference_labels=None, seed=0):
    """FID and agreement of ``sampler``'s images against held-out real ones.

    ``sampler(n, labels=None, generator_seed=0)`` returns n images in [0, 1]; conditional
    samplers get labels spread evenly over the classes (``arange(n) % classes``).
    ``reference``: real held-out images, ``reference_labels`` their classes (default:
    ``data``'s test split and its labels); a seeded permutation splits them into two
    disjoint halves A and B of h = min(n, len(reference) // 2) images. ``fid`` compares the
    first h samples with A and ``real_fid_floor`` compares B with A, the same sizes: the
    floor is what a perfect generator would get. ``classifier``: a ``FIDClassifier`` or its
    checkpoint path (default ``fid_classifier(data)``).

    Returns ``fid``, ``real_fid_floor``, ``agreement`` and ``confidence_weighted`` (over all n
    samples; None for an unconditional sampler, which has no intended labels),
    ``real_agreement`` / ``real_confidence_weighted`` (the same on the 2h real images A and B
    with their true labels, the ceiling of the agreement figures; None without labels),
    ``confidence`` (the mean largest softmax probability of the samples), ``class_fractions``
    (the share of samples the classifier puts in each class), ``n`` and ``fid_n`` (h).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be a number of samples >= 2, got {n!r}")
    n = int(n)
    classifier = fid_classifier(data) if classifier is None else _as_classifier(classifier)
    if classifier.data is not None and data is not None and classifier.data != data:
        raise ValueError(f"the FID classifier was trained on {classifier.data}, the generator "
                         f"is evaluated on {data}")
    if reference is None:
        reference, reference_labels = (t.numpy() for t in load_bundled(data, train=False))
    reference = _as_images(reference, "reference", classifier.image_size)
    if reference_labels is not None and np.shape(reference_labels) != (len(reference),):
        raise ValueError(f"reference_labels must hold one class per reference image "
                         f"({len(reference)}), got shape {np.shape(reference_labels)}")
    half = min(n, len(reference) // 2)
    if half < 2:
        raise ValueError(f"the reference needs at least 4 images, got {len(reference)}")
    order = np.random.default_rng(seed).permutation(len(reference))[:2 * half]
    labels = np.arange(n) % classifier.num_classes if conditional else None
    samples = check_samples(sampler(n, labels=labels, generator_seed=seed), n)
    sample_features, logits = _run(classifier, samples, "the samples")
    real_features, real_logits = _run(classifier, reference[order], "reference")
    stats_a = feature_statistics(real_features[:half])
    real = ((None, None) if reference_labels is None else
            _agreement(real_logits, np.asarray(reference_labels)[order]))
    agreement, weighted = _agreement(logits, labels) if conditional else (None, None)
    counts = np.bincount(logits.argmax(axis=1), minlength=classifier.num_classes)
    return {"fid": frechet_distance(*feature_statistics(sample_features[:half]), *stats_a),
            "real_fid_floor": frechet_distance(*feature_statistics(real_features[half:]),
                                               *stats_a),
            "agreement": agreement, "confidence_weighted": weighted,
            "real_agreement": real[0], "real_confidence_weighted": real[1],
            "confidence": float(_softmax(logits).max(axis=1).mean()),
            "class_fractions": (counts / n).tolist(), "n": n, "fid_n": half}
