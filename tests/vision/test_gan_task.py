"""``GANTrainer`` (the course's algorithm, the WGANs) and ``minidl train gan | dcgan | cgan |
wgan | wgan-gp`` for one tiny epoch through ``cli.main``."""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

import minidl
from minidl import cli, optim
from minidl.train.tasks import load_task_checkpoint
from minidl.vision.gan_trainer import GANProgressBar, GANTrainer
from minidl.vision.generative_data import ImageBatches, load_splits
from minidl.vision.generative_metrics import FIDClassifier, save_fid_classifier
from minidl.vision.generative_sampling import load_sampler
from minidl.vision.models.generative.dcgan import DCGANDiscriminator
from minidl.vision.models.generative.gan import Discriminator, Generator

LATENT = 8


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """An untrained LeNet checkpoint: FID runs without training the real classifier."""
    minidl.manual_seed(0)
    path = str(tmp_path_factory.mktemp("fid") / "lenet.safetensors")
    save_fid_classifier(FIDClassifier(minidl.vision.models.lenet.LeNet5(), 0.13, 0.3,
                                      data="mnist-mini"), path)
    return path


@pytest.fixture(scope="module")
def real():
    x, y = load_splits("mnist-mini", limit=64, pixel_range="-1-1")["train"]
    assert x.min() >= -1 and x.max() <= 1 and x.min() < -0.9 and x.max() > 0.9
    return x, y


def small_pair(seed=0):
    minidl.manual_seed(seed)
    return Generator(LATENT, (32,)), Discriminator(hidden_dims=(32,))


def trainer_of(g, d, loader=None, lr=1e-3, **kwargs):
    return GANTrainer(g, optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999)), d,
                      optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999)), loader,
                      progress=None, **kwargs)


def state(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_discriminator_loss_falls_while_only_d_trains_on_a_fixed_generator(real):
    g, d = small_pair()
    trainer = trainer_of(g, d)
    before = state(g)
    x = minidl.from_numpy(real[0][:32])
    losses = [trainer.discriminator_step(x) for _ in range(15)]
    assert losses[0] == pytest.approx(2 * np.log(2), abs=0.2)  # D(x) ~ 1/2 at the start
    assert np.mean(losses[-3:]) < 0.5 * losses[0]
    for k, v in state(g).items():
        np.testing.assert_array_equal(v, before[k])  # G untouched by D's steps


def test_generator_loss_falls_while_only_g_trains_on_a_fixed_discriminator():
    g, d = small_pair(1)
    trainer = trainer_of(g, d)
    before = state(d)
    losses = []
    for _ in range(10):
        loss = trainer.generator_objective(32)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < losses[0] - 0.1
    assert all(p.grad is None for p in d.parameters())  # D's weights took no gradient
    for k, v in state(d).items():
        np.testing.assert_array_equal(v, before[k])


def count_steps(optimizer):
    calls = []
    step = optimizer.step

    def counted(*args, **kwargs):
        calls.append(1)
        return step(*args, **kwargs)
    optimizer.step = counted
    return calls


@pytest.mark.parametrize("k", [1, 3])
def test_k_discriminator_steps_per_generator_step(real, k):
    g, d = small_pair()
    loader = ImageBatches(*real, 8)  # 8 batches
    trainer = trainer_of(g, d, loader, k=k)
    d_steps, g_steps = count_steps(trainer.d_optimizer), count_steps(trainer.optimizer)
    trainer.fit(1)
    assert len(g_steps) == 8 // k
    assert len(d_steps) == k * (8 // k)
    row = trainer.history[0]
    assert np.isfinite(row["train_d_loss"]) and np.isfinite(row["train_loss"])


def test_saturating_generator_loss_gives_g_almost_no_gradient_when_d_rejects_its_samples():
    g, d = small_pair(2)
    with minidl.no_grad():
        d.net[-1].bias.fill_(-6.0)  # D(G(z)) ~ 0.0025: the start of training
    norms = {}
    for kind in ("non-saturating", "saturating"):
        trainer = trainer_of(g, d, generator_loss=kind, seed=5)
        g.zero_grad()
        trainer.generator_objective(16).backward()
        norms[kind] = np.sqrt(sum(float((p.grad ** 2).sum()) for p in g.parameters()))
    assert norms["saturating"] > 0
    # dL/dlogit is sigmoid(l) for the saturating loss, 1 - sigmoid(l) for the other
    assert norms["non-saturating"] > 100 * norms["saturating"]


def test_wgan_clips_every_critic_weight(real):
    minidl.manual_seed(0)
    g, d = Generator(LATENT, (32,)), DCGANDiscriminator(base_channels=4)
    assert max(float(abs(p).max()) for p in d.parameters()) > 0.05
    trainer = GANTrainer(g, optim.RMSprop(g.parameters(), lr=5e-5), d,
                         optim.RMSprop(d.parameters(), lr=5e-5), ImageBatches(*real, 16),
                         objective="wgan", k=2, clip=0.01, progress=None)
    trainer.fit(1)
    for name, p in d.named_parameters():
        assert float(abs(p).max()) <= 0.01 + 1e-7, name
    assert "train_wasserstein" in trainer.history[0]


def test_wgan_gp_penalty_trains_the_critic(real):
    minidl.manual_seed(0)
    g, d = Generator(LATENT, (32,)), DCGANDiscriminator(base_channels=4, batch_norm=False)
    before = state(d)
    trainer = GANTrainer(g, optim.Adam(g.parameters(), 1e-4, betas=(0.0, 0.9)), d,
                         optim.Adam(d.parameters(), 1e-4, betas=(0.0, 0.9)),
                         ImageBatches(*real, 16), objective="wgan-gp", k=2, gp_lambda=10.0,
                         progress=None)
    trainer.fit(1)
    row = trainer.history[0]
    assert row["train_gradient_penalty"] > 0
    assert row["train_d_loss"] == pytest.approx(
        -row["train_wasserstein"] + 10 * row["train_gradient_penalty"], rel=1e-5)
    assert any(np.abs(v - before[k]).max() > 0 for k, v in state(d).items())


def test_progress_bar_shows_both_losses(real):
    g, d = small_pair()
    out = io.StringIO()
    trainer = trainer_of(g, d, ImageBatches(*real, 16),
                         callbacks=[GANProgressBar(file=out, refresh_every=1, mininterval=0)])
    trainer.fit(1)
    text = out.getvalue()
    assert "d_loss=" in text and "g_loss=" in text
    assert "train_d_loss" in text  # the epoch's summary line


def test_wrong_options_are_refused(real):
    g, d = small_pair()
    with pytest.raises(ValueError, match="k = 9 .* at least 9 batches"):
        trainer_of(g, d, ImageBatches(*real, 16), k=9)
    with pytest.raises(ValueError, match="clip"):
        trainer_of(g, d, objective="wgan")
    with pytest.raises(ValueError, match="objective"):
        trainer_of(g, d, objective="lsgan")


# ------------------------------------------------------------ the commands
TINY = ["--epochs", "1", "--limit", "40", "--batch-size", "8", "--latent-dim", str(LATENT),
        "--val-samples", "16", "--fid-samples", "10", "--no-progress"]
RUNS = [("gan", ["--generator-loss", "saturating", "--k", "2"]), ("cgan", []),
        ("cgan", ["--arch", "dcgan", "--base-channels", "4"]),
        ("dcgan", ["--base-channels", "4"]), ("wgan", ["--base-channels", "4"]),
        ("wgan-gp", ["--base-channels", "4", "--k", "2"])]


@pytest.mark.parametrize("name, options", RUNS)
def test_command_runs_one_epoch_and_writes_its_files(tmp_path, classifier, name, options,
                                                     capsys):
    out = str(tmp_path / name)
    assert cli.main(["train", name, "--out", out, "--fid-classifier", classifier, *TINY,
                     *options]) == 0
    for f in ("best.safetensors", "last.safetensors", "metrics.json", "metrics.csv",
              "curves.png", "samples_epoch01.png"):
        assert os.path.getsize(os.path.join(out, f)) > 0, f
    rows = 10 if name == "cgan" else 8
    assert Image.open(os.path.join(out, "samples_epoch01.png")).size == (8 * 30 + 2,
                                                                         rows * 30 + 2)
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    epoch, test = metrics["history"][0], metrics["test"]
    assert metrics["selected"]["monitor"] == "val_fid"
    assert {"train_loss", "train_d_loss", "val_fid"} <= set(epoch)
    wasserstein = name.startswith("wgan")
    assert ("val_wasserstein" in epoch) == wasserstein == ("train_wasserstein" in epoch)
    assert ("wasserstein" if wasserstein else "d_loss") in test
    assert test["fid"] >= 0 and test["real_fid_floor"] >= 0 and test["fid_n"] == 10
    assert (test["agreement"] is not None) == (name == "cgan")
    ckpt, config = load_task_checkpoint(os.path.join(out, "best.safetensors"), name)
    assert config["pixel_range"] == "-1-1" and config["latent_dim"] == LATENT
    assert config["num_classes"] == (10 if name == "cgan" else None)
    assert "discriminator" in ckpt and "d_optimizer" in ckpt
    sampler, _ = load_sampler(os.path.join(out, "best.safetensors"))
    images = sampler(5, labels=np.arange(5) if name == "cgan" else None)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert "test: FID" in capsys.readouterr().out


def test_command_refuses_more_discriminator_steps_than_batches(tmp_path, classifier, capsys):
    assert cli.main(["train", "wgan", "--out", str(tmp_path), "--fid-classifier", classifier,
                     *TINY, "--k", "6"]) == 1
    assert "k = 6 discriminator steps per generator step need at least 6" in \
        capsys.readouterr().err
    assert cli.main(["train", "wgan", "--out", str(tmp_path), "--fid-classifier", classifier,
                     *TINY, "--clip", "0"]) == 1
    assert "clip" in capsys.readouterr().err


def test_patience_help_names_the_validation_fid(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "wgan-gp", "--help"])
    assert "validation FID has not improved" in " ".join(capsys.readouterr().out.split())


def test_adversarial_trainers_refuse_gradient_accumulation():
    """The discriminator steps inside every training step, so accumulating over batches would
    apply to the generator only: refused instead of half-honoured."""
    from minidl import optim
    from minidl.vision.gan_trainer import GANTrainer
    from minidl.vision.models.generative import Discriminator, Generator
    from minidl.vision.srgan_task import SRGANTrainer
    g, d = Generator(latent_dim=4, hidden_dims=(8,)), Discriminator(hidden_dims=(8,))
    g_opt, d_opt = optim.Adam(g.parameters()), optim.Adam(d.parameters())
    with pytest.raises(ValueError, match="GANTrainer: accumulate_grad_batches is not supported"):
        GANTrainer(g, g_opt, d, d_opt, accumulate_grad_batches=2)
    with pytest.raises(ValueError, match="SRGANTrainer: accumulate_grad_batches is not supported"):
        SRGANTrainer(g, g_opt, d, d_opt, None, accumulate_grad_batches=2)
