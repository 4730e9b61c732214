"""FID on LeNet features, classifier agreement, the cached feature network and the sampler
registry (minidl.vision.generative_metrics / generative_sampling).

The feature network of these tests is trained by ``fid_classifier`` itself into a temporary
``MINIDL_HOME``, for one epoch on 2,000 images (``FID_CLASSIFIER_TRAINING`` patched), so the
first-use path runs without training the real classifier.
"""
import contextlib
import io

import numpy as np
import pytest
import torch

import minidl
from minidl.nn import functional as F
from minidl.train.recipes import evaluate_checkpoint
from minidl.vision import generative_metrics as gm
from minidl.vision import generative_sampling as gs
from minidl.vision.datasets.bundled import load_bundled
from minidl.vision.models import lenet5


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(classifier, its cache path, what fid_classifier printed) after a brief first use."""
    home = tmp_path_factory.mktemp("minidl_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINIDL_HOME", str(home))
        mp.setattr(gm, "FID_CLASSIFIER_TRAINING",
                   {**gm.FID_CLASSIFIER_TRAINING, "epochs": 1, "limit": 2000})
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            classifier = gm.fid_classifier("mnist-mini", progress=False)
        path = gm.fid_classifier_path("mnist-mini")
    return classifier, path, err.getvalue()


@pytest.fixture(scope="module")
def test_split():
    x, y = load_bundled("mnist-mini", train=False)
    return x.numpy(), y.numpy()


def _gaussian(rng, d, n):
    features = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.standard_normal(d)
    return gm.feature_statistics(features)


def _reference_distance(mu1, s1, mu2, s2):
    """Independent float64 formula: torch's eigenvalues of the non-symmetric S1 S2."""
    t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (mu1, s1, mu2, s2)]
    eig = torch.linalg.eigvals(t[1] @ t[3])
    trace_sqrt = torch.sqrt(torch.clamp(eig.real, min=0)).sum()
    diff = t[0] - t[2]
    return float(diff @ diff + torch.trace(t[1]) + torch.trace(t[3]) - 2 * trace_sqrt)


# ------------------------------------------------------------------ the distance
@pytest.mark.parametrize("d,n", [(6, 50), (20, 400)])
def test_frechet_distance_equals_independent_float64_formula(d, n):
    rng = np.random.default_rng(d)
    a, b = _gaussian(rng, d, n), _gaussian(rng, d, n)
    value = gm.frechet_distance(*a, *b)
    assert value > 1
    np.testing.assert_allclose(value, _reference_distance(*a, *b), rtol=1e-9)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    np.testing.assert_allclose(gm.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)),
                               expected, rtol=1e-12)


def test_frechet_distance_is_zero_for_identical_statistics_and_symmetric():
    rng = np.random.default_rng(0)
    full, singular = _gaussian(rng, 8, 100), _gaussian(rng, 8, 4)  # rank 3 covariance
    for mu, sigma in (full, singular):
        assert 0 <= gm.frechet_distance(mu, sigma, mu, sigma) < 1e-9
    ab, ba = gm.frechet_distance(*full, *singular), gm.frechet_distance(*singular, *full)
    np.testing.assert_allclose(ab, ba, rtol=1e-9)
    np.testing.assert_allclose(ab, _reference_distance(*full, *singular), rtol=1e-7)


def test_feature_statistics_are_the_mean_and_unbiased_covariance():
    features = np.random.default_rng(1).standard_normal((30, 5))
    mu, sigma = gm.feature_statistics(features)
    t = torch.from_numpy(features)
    np.testing.assert_allclose(mu, t.mean(0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(sigma, torch.cov(t.T, correction=1).numpy(), rtol=1e-12)


def test_bad_statistics_are_refused_by_name():
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="sigma2"):
        gm.frechet_distance(mu, sigma, mu, np.eye(4))
    with pytest.raises(ValueError, match="different dimensions"):
        gm.frechet_distance(mu, sigma, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        gm.frechet_distance(mu, sigma, mu, np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="N >= 2"):
        gm.feature_statistics(np.zeros((1, 4)))


# ------------------------------------------------------------ features and scores
def test_features_are_the_84_inputs_of_the_last_linear_layer(trained, test_split):
    classifier = trained[0]
    x = test_split[0][:8]
    features = gm.extract_features(x, classifier)
    assert features.shape == (8, 84) and (features >= 0).all()
    net = classifier.network
    normalized = minidl.from_numpy((x[:, None] / 255).astype(np.float32))
    normalized = (normalized - classifier.mean) / classifier.std
    with minidl.no_grad():
        logits = net(normalized).numpy()
    last = net.classifier[-1]
    weight, bias = last.weight.detach().numpy(), last.bias.detach().numpy()
    np.testing.assert_allclose(features @ weight.T + bias, logits,
                               rtol=1e-4, atol=1e-4)


def test_fid_of_real_images_is_small_and_of_noise_large(trained, test_split):
    x = test_split[0]
    real = gm.fid(x[:500], x[500:1000], trained[0])
    noise = np.random.default_rng(0).random((500, 1, 28, 28), dtype=np.float32)
    assert gm.fid(noise, x[500:1000], trained[0]) > 20 * real > 0


def test_agreement_on_real_test_images_is_the_classifiers_accuracy(trained, test_split):
    classifier, path, _ = trained
    x, y = test_split
    accuracy, weighted = gm.classifier_agreement(x, y, path)
    assert accuracy == pytest.approx(evaluate_checkpoint(path)["acc"], abs=1e-12)
    normalized = (minidl.from_numpy((x[:, None] / 255).astype(np.float32)) - classifier.mean) \
        / classifier.std
    with minidl.no_grad():
        probs = F.softmax(classifier.network(normalized), dim=1).numpy()
    assert weighted == pytest.approx(probs[np.arange(len(y)), y].mean(), abs=1e-5)
    assert accuracy > 0.7 and 0 < weighted < 1  # a briefly fitted net, far above chance


def test_images_are_checked(trained):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gm.extract_features(np.full((2, 1, 28, 28), 2.0, np.float32), trained[0])
    with pytest.raises(ValueError, match="N x 1 x 28 x 28"):
        gm.extract_features(np.zeros((2, 3, 28, 28), np.float32), trained[0])
    with pytest.raises(ValueError, match="labels must lie"):
        gm.classifier_agreement(np.zeros((2, 28, 28), np.uint8), np.array([0, 10]), trained[0])
    with pytest.raises(TypeError, match="FIDClassifier or the path"):
        gm.fid(np.zeros((2, 28, 28)), np.zeros((2, 28, 28)), lenet5())


# ------------------------------------------------------------------- the cache
def test_first_use_trains_announces_and_caches(trained, monkeypatch):
    classifier, path, printed = trained
    assert path.endswith("fid/mnist-mini-lenet.safetensors")
    assert "training the FID feature network once" in printed and path in printed
    assert "validation accuracy" in printed
    monkeypatch.setenv("MINIDL_HOME", path.rsplit("/fid/", 1)[0])
    monkeypatch.setattr("minidl.train.recipes.train_classifier",
                        lambda *a, **k: pytest.fail("the cached classifier was trained again"))
    again = gm.fid_classifier("mnist-mini")
    for key, value in classifier.network.state_dict().items():
        np.testing.assert_array_equal(again.network.state_dict()[key].detach().numpy(),
                                      value.detach().numpy())
    assert (again.mean, again.std, again.data) == (classifier.mean, classifier.std, "mnist-mini")


def test_cache_path_defaults_to_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MINIDL_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert gm.fid_classifier_path("fashion-mnist-mini") == str(
        tmp_path / ".cache" / "minidl" / "fid" / "fashion-mnist-mini-lenet.safetensors")
    with pytest.raises(ValueError, match="bundled data"):
        gm.fid_classifier_path("/some/folder")


def test_a_saved_classifier_round_trips(tmp_path, test_split):
    classifier = gm.FIDClassifier(lenet5(), 0.1307, 0.3081, data="mnist-mini")
    path = tmp_path / "fid.safetensors"
    gm.save_fid_classifier(classifier, path)
    loaded = gm.load_fid_classifier(path)
    x = test_split[0][:16]
    np.testing.assert_array_equal(gm.extract_features(x, loaded),
                                  gm.extract_features(x, classifier))


# ------------------------------------------------------------- evaluate_generator
class RealDigits:
    """A 'generator' returning training images: of the requested labels, or any."""

    def __init__(self):
        x, y = load_bundled("mnist-mini", train=True)
        self.x, self.y, self.calls = x.numpy(), y.numpy(), []

    def __call__(self, n, labels=None, generator_seed=0):
        self.calls.append(labels)
        rng = np.random.default_rng(generator_seed)
        pool = [rng.permutation(np.flatnonzero(self.y == c)) for c in range(10)]
        idx = (rng.choice(len(self.y), n, replace=False) if labels is None else
               np.array([pool[c][i] for i, c in enumerate(labels)]))
        return (self.x[idx][:, None] / 255).astype(np.float32)


def test_evaluate_generator_conditional(trained):
    sampler = RealDigits()
    result = gm.evaluate_generator(sampler, "mnist-mini", conditional=True, n=300,
                                   classifier=trained[1])
    labels = sampler.calls[0]
    assert np.bincount(labels).tolist() == [30] * 10
    accuracy, weighted = gm.classifier_agreement(sampler(300, labels), labels, trained[0])
    assert (result["agreement"], result["confidence_weighted"]) == (accuracy, weighted)
    assert result["n"] == 300 and result["fid_n"] == 300
    x, y = (t.numpy() for t in load_bundled("mnist-mini", train=False))
    order = np.random.default_rng(0).permutation(len(y))[:600]
    real = gm.classifier_agreement(x[order], y[order], trained[0])
    assert (result["real_agreement"], result["real_confidence_weighted"]) == real
    assert 0 < result["fid"] < 3 * result["real_fid_floor"]
    assert sum(result["class_fractions"]) == pytest.approx(1)


def test_evaluate_generator_unconditional_noise_and_floor(trained, test_split):
    def noise(n, labels=None, generator_seed=0):
        assert labels is None
        return np.random.default_rng(generator_seed).random((n, 1, 28, 28), dtype=np.float32)
    x = test_split[0]
    result = gm.evaluate_generator(noise, "mnist-mini", conditional=False, n=100,
                                   classifier=trained[0], reference=x[:120])
    assert result["fid_n"] == 60
    assert result["agreement"] is None and result["confidence_weighted"] is None
    assert result["real_agreement"] is None  # a reference without labels
    assert result["fid"] > 20 * result["real_fid_floor"]
    order = np.random.default_rng(0).permutation(120)
    floor = gm.fid(x[:120][order[60:]], x[:120][order[:60]], trained[0])
    assert result["real_fid_floor"] == pytest.approx(floor, rel=1e-12)


def test_evaluate_generator_checks_data_and_samples(trained):
    with pytest.raises(ValueError, match="trained on mnist-mini"):
        gm.evaluate_generator(RealDigits(), "fashion-mnist-mini", False, n=10,
                              classifier=trained[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gm.evaluate_generator(lambda n, labels=None, generator_seed=0:
                              np.full((n, 1, 28, 28), -1, np.float32),
                              "mnist-mini", False, n=10, classifier=trained[0])


# ------------------------------------------------------------------ sampler registry
def _checkpoint(path, config):
    minidl.save({"format": "minidl.train/1", "epoch": 1, "model": {}, "config": config}, path)
    return path


def test_load_sampler_dispatches_and_checks(tmp_path, monkeypatch):
    seen = {}

    def factory(ckpt, config):
        seen["config"] = config

        def sampler(n, labels=None, generator_seed=0):
            value = 2.0 if generator_seed == 99 else 0.5
            return np.full((n, 1, 28, 28), value, np.float32)
        return sampler
    monkeypatch.setitem(gs.SAMPLERS, "test-cgan", factory)
    path = _checkpoint(tmp_path / "c.safetensors",
                       {"task": "test-cgan", "num_classes": 10, "latent_dim": 4})
    sampler, config = gs.load_sampler(path)
    assert config["task"] == "test-cgan" and seen["config"]["latent_dim"] == 4
    images = sampler(3, labels=np.array([0, 9, 3]))
    assert images.shape == (3, 1, 28, 28) and images.dtype == np.float32
    with pytest.raises(ValueError, match="conditional: give labels"):
        sampler(3)
    with pytest.raises(ValueError, match=r"lie in \[0, 10\)"):
        sampler(2, labels=np.array([0, 10]))
    with pytest.raises(ValueError, match="positive number"):
        sampler(0, labels=np.array([], np.int64))
    with pytest.raises(ValueError, match="test-cgan.*in \\[0, 1\\]"):
        sampler(1, labels=np.array([1]), generator_seed=99)

    monkeypatch.setitem(gs.SAMPLERS, "test-gan", factory)
    sampler, _ = gs.load_sampler(_checkpoint(tmp_path / "g.safetensors", {"task": "test-gan"}))
    assert sampler(2).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="unconditional"):
        sampler(2, labels=np.array([0, 1]))


def test_load_sampler_refuses_other_checkpoints_by_name(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(gs.SAMPLERS, "test-gan", lambda ckpt, config: None)
    with pytest.raises(ValueError, match="task 'lm'"):
        gs.load_sampler(_checkpoint(tmp_path / "lm.safetensors", {"task": "lm"}))
    with pytest.raises(ValueError, match="not a checkpoint of 'minidl train .*task None"):
        gs.load_sampler(trained[1])


def test_register_sampler_refuses_a_second_factory(monkeypatch):
    monkeypatch.setitem(gs.SAMPLERS, "test-vae", print)
    assert gs.register_sampler("test-vae", print) is print
    with pytest.raises(ValueError, match="already registered"):
        gs.register_sampler("test-vae", repr)
    with pytest.raises(TypeError, match="callable"):
        gs.register_sampler("test-other", None)
