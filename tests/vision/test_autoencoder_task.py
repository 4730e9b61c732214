"""``minidl train autoencoder | dae | vae | cvae`` for one tiny epoch through ``cli.main``: the
files, the figures (the test ELBO recomputed from the checkpoint), the samplers, the data
split and the DAE's noise."""
import json
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli
from minidl.vision.autoencoder_task import corrupt, load_autoencoder
from minidl.vision.generative_data import load_splits
from minidl.vision.generative_metrics import FIDClassifier, save_fid_classifier
from minidl.vision.generative_sampling import load_sampler
from minidl.vision.models.generative import elbo
from minidl.vision.models.lenet import LeNet5

TINY = ["--epochs", "1", "--limit", "60", "--batch-size", "20", "--no-progress"]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """An untrained LeNet checkpoint: FID and agreement run without training the real one."""
    minidl.manual_seed(0)
    path = str(tmp_path_factory.mktemp("fid") / "lenet.safetensors")
    save_fid_classifier(FIDClassifier(LeNet5(), 0.13, 0.3, data="mnist-mini"), path)
    return path


def train(tmp_path_factory, name, *options):
    out = str(tmp_path_factory.mktemp(name))
    assert cli.main(["train", name, "--out", out, *TINY, *options]) == 0
    with open(os.path.join(out, "metrics.json")) as f:
        return out, json.load(f)


def assert_files(out, *names):
    for name in names:
        assert os.path.getsize(os.path.join(out, name)) > 0, name


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory, classifier):
    return train(tmp_path_factory, "vae", "--latent-dim", "2", "--hidden-dims", "32",
                 "--fid-samples", "20", "--fid-classifier", classifier)


def test_vae_writes_its_files_and_figures(vae_run, capsys):
    out, metrics = vae_run
    assert_files(out, "best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
                 "curves.png", "samples_epoch01.png", "reconstructions.png", "latent.png",
                 "interpolation.png", "samples.png", "manifold.png")
    epoch = metrics["history"][0]
    assert {"train_elbo", "train_kl", "val_elbo", "val_kl", "val_recon", "val_elbo_per_pixel",
            "val_mse", "images_per_s"} <= set(epoch)
    assert epoch["val_elbo"] == pytest.approx(-epoch["val_loss"])
    assert metrics["selected"]["monitor"] == "val_elbo"
    test = metrics["test"]
    assert test["elbo"] == pytest.approx(-(test["recon"] + test["kl"]))
    assert test["elbo_per_pixel"] == pytest.approx(test["elbo"] / 784)
    assert test["fid"] >= 0 and test["real_fid_floor"] >= 0 and test["agreement"] is None
    assert test["samples"] == 20 and test["n"] == 60
    config = metrics["config"]
    assert {k: config[k] for k in ("task", "data", "latent_dim", "num_classes", "pixel_range",
                                   "arch")} == {
        "task": "vae", "data": "mnist-mini", "latent_dim": 2, "num_classes": None,
        "pixel_range": "0-1", "arch": "VAE"}
    assert config["model"] == {"hidden_dims": [32], "latent_dim": 2, "likelihood": "bernoulli"}
    assert Image.open(os.path.join(out, "manifold.png")).size == (20 * 30 + 2,) * 2


def test_the_test_elbo_is_the_checkpoints_elbo_on_the_test_images(vae_run):
    out, metrics = vae_run
    model, config = load_autoencoder(os.path.join(out, "best.safetensors"))
    x = minidl.from_numpy(load_splits("mnist-mini", 0, 60)["test"][0])
    g = minidl.Generator()
    g.manual_seed(config["seed"])  # the evaluation's seeded noise
    with minidl.no_grad():
        recon, mu, logvar = model(x, generator=g)
        value = elbo(recon, x, mu, logvar)
    assert float(value.mean().item()) == pytest.approx(metrics["test"]["elbo"], rel=1e-5)


def test_the_vae_sampler_loads_from_the_checkpoint(vae_run):
    sampler, config = load_sampler(os.path.join(vae_run[0], "best.safetensors"))
    images = sampler(6, generator_seed=3)
    assert images.shape == (6, 1, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(sampler(6, generator_seed=3), images)
    assert not np.array_equal(sampler(6, generator_seed=4), images)
    with pytest.raises(ValueError, match="unconditional"):
        sampler(2, labels=[0, 1])


def test_cvae_draws_one_row_per_class_and_scores_agreement(tmp_path_factory, classifier):
    out, metrics = train(tmp_path_factory, "cvae", "--hidden-dims", "32", "--latent-dim", "4",
                         "--data", "mnist-mini", "--fid-samples", "20",
                         "--fid-classifier", classifier)
    assert_files(out, "class_grid.png", "samples.png", "samples_epoch01.png", "latent.png",
                 "interpolation.png", "reconstructions.png")
    assert Image.open(os.path.join(out, "class_grid.png")).size == (10 * 30 + 2,) * 2
    assert 0 <= metrics["test"]["agreement"] <= 1
    assert metrics["config"]["num_classes"] == 10 and metrics["config"]["task"] == "cvae"
    sampler, _ = load_sampler(os.path.join(out, "best.safetensors"))
    with pytest.raises(ValueError, match="conditional"):
        sampler(3)
    a, b = sampler(2, labels=np.array([1, 7]), generator_seed=0), sampler(
        2, labels=np.array([7, 7]), generator_seed=0)
    assert not np.allclose(a[0], b[0]) and np.allclose(a[1], b[1])


@pytest.mark.parametrize("options", [[], ["--conv", "--latent-dim", "8"]])
def test_autoencoder_reconstructs_and_has_no_sampler(tmp_path_factory, options):
    out, metrics = train(tmp_path_factory, "autoencoder", "--hidden-dims", "32", "16",
                         *options)
    assert_files(out, "best.safetensors", "curves.png", "reconstructions_epoch01.png",
                 "reconstructions.png", "latent.png", "interpolation.png")
    assert not os.path.exists(os.path.join(out, "samples.png"))
    test = metrics["test"]
    assert test["bce_per_pixel"] == pytest.approx(test["loss"] / 784) and 0 < test["mse"] < 1
    assert metrics["selected"]["monitor"] == "val_loss"
    assert metrics["config"]["arch"] == ("ConvAutoencoder" if options else "Autoencoder")
    model, config = load_autoencoder(os.path.join(out, "best.safetensors"))
    assert config["task"] == "ae" and model.latent_dim == (8 if options else 32)
    with pytest.raises(ValueError, match="is not a checkpoint of"):
        load_sampler(os.path.join(out, "best.safetensors"))


def test_dae_trains_on_corrupted_inputs_with_a_progress_bar(tmp_path_factory, capsys):
    out = str(tmp_path_factory.mktemp("dae"))
    assert cli.main(["train", "dae", "--noise", "masking", "--hidden-dims", "32", "--out", out,
                     "--epochs", "1", "--limit", "60", "--batch-size", "20"]) == 0
    printed = capsys.readouterr()
    assert "masking noise 0.25" in printed.out and "epoch 1/1" in printed.err
    assert "reconstruction BCE" in printed.out
    with open(os.path.join(out, "metrics.json")) as f:
        config = json.load(f)["config"]
    assert config["noise"] == "masking" and config["noise_level"] == 0.25
    # clean | corrupted | reconstructed rows of 16 images
    assert Image.open(os.path.join(out, "reconstructions.png")).size == (16 * 30 + 2, 3 * 30 + 2)
    assert cli.main(["train", "dae", "--noise", "masking", "--noise-level", "1.5",
                     "--out", out, *TINY]) == 1
    assert "--noise-level 1.5 must be a fraction in [0, 1)" in capsys.readouterr().err


def test_corrupt_masks_or_adds_clipped_gaussian_noise():
    x = np.full((200, 1, 28, 28), 0.5, np.float32)
    masked = corrupt(x, "masking", 0.25, np.random.default_rng(0))
    assert set(np.unique(masked)) == {0.0, 0.5}
    assert np.mean(masked == 0) == pytest.approx(0.25, abs=0.01)
    noisy = corrupt(x, "gaussian", 0.5, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.min() == 0 and noisy.max() == 1
    assert np.std(noisy - x) == pytest.approx(0.4, abs=0.05)  # 0.5 shrunk by the clipping
    np.testing.assert_array_equal(noisy, corrupt(x, "gaussian", 0.5, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="noise must be 'gaussian' or 'masking'"):
        corrupt(x, "salt", 0.1, np.random.default_rng(0))


def test_splits_hold_out_a_stratified_tenth_of_the_training_images():
    splits = load_splits("fashion-mnist-mini", seed=0)
    assert [len(splits[k][1]) for k in ("train", "val", "test")] == [9000, 1000, 2000]
    assert np.bincount(splits["val"][1]).tolist() == [100] * 10
    x = splits["train"][0]
    assert x.shape[1:] == (1, 28, 28) and x.dtype == np.float32 and x.max() == 1.0
    train_set = {a.tobytes() for a in x[:500]}
    assert not any(a.tobytes() in train_set for a in splits["val"][0])
