"""GAN models (minidl.vision.models.generative.gan / .dcgan): shapes, tanh ranges, the
documented parameter counts, label conditioning, forwards equal to torch twins, the
DCGAN layout (7 -> 14 -> 28, where BN sits) and the DCGAN initialisation's statistics."""
import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
from minidl.vision.models.generative import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    Discriminator,
    Generator,
    dcgan_weights_init,
)
from minidl.vision.models.generative import dcgan as dcgan_module
from minidl.vision.models.generative import gan as gan_module

LABELS = minidl.tensor([0, 3, 9, 3])


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("build, count, module", [
    (Generator, 1_486_352, gan_module),
    (Discriminator, 533_505, gan_module),
    (ConditionalGenerator, 1_488_912, gan_module),
    (ConditionalDiscriminator, 538_625, gan_module),
    (DCGANGenerator, 759_681, dcgan_module),
    (lambda: DCGANGenerator(num_classes=10), 822_401, dcgan_module),
    (DCGANDiscriminator, 138_689, dcgan_module),
    (lambda: DCGANDiscriminator(batch_norm=False), 138_561, dcgan_module),
    (lambda: DCGANDiscriminator(num_classes=10), 148_929, dcgan_module),
])
def test_parameter_counts_are_the_documented_ones(build, count, module):
    assert _count(build()) == count
    assert f"{count:,}" in module.__doc__


def test_embedding_replaces_the_one_hot_inputs():
    g = ConditionalGenerator(embedding_dim=16)
    d = ConditionalDiscriminator(embedding_dim=16)
    # 10 x 16 embedding; first layers take 100 + 16 / 784 + 16 inputs instead of + 10
    assert _count(g) == 1_488_912 + 160 + 6 * 256
    assert _count(d) == 538_625 + 160 + 6 * 512


@pytest.mark.parametrize("make, conditional", [
    (lambda: Generator(latent_dim=8, hidden_dims=(16,)), False),
    (lambda: ConditionalGenerator(latent_dim=8, hidden_dims=(16,)), True),
    (lambda: ConditionalGenerator(latent_dim=8, hidden_dims=(16,), embedding_dim=4), True),
    (lambda: DCGANGenerator(latent_dim=8, base_channels=4), False),
    (lambda: DCGANGenerator(latent_dim=8, base_channels=4, num_classes=10), True),
])
def test_generators_give_images_in_the_tanh_range(make, conditional):
    minidl.manual_seed(0)
    g = make()
    z = minidl.randn(4, 8)
    args = (LABELS,) if conditional else ()
    x = g(z, *args)
    assert tuple(x.shape) == (4, 1, 28, 28) and x.dtype == minidl.float32
    last = list(g.net)[[type(m) for m in g.net].index(nn.Tanh) - 1]  # the layer before tanh
    last.weight.data = last.weight.data * 1e4
    big = g(z, *args).detach().numpy()  # saturates tanh, never beyond it
    assert np.abs(big).max() <= 1.0 and np.abs(big).max() > 0.99
    if conditional:  # the label changes the image drawn from the same noise
        other = g(z, minidl.tensor([1, 2, 8, 4])).detach().numpy()
        assert np.abs(other - x.detach().numpy()).max() > 1e-4


@pytest.mark.parametrize("make, conditional", [
    (lambda: Discriminator(hidden_dims=(16,), dropout=0.3), False),
    (lambda: ConditionalDiscriminator(hidden_dims=(16,)), True),
    (lambda: DCGANDiscriminator(base_channels=4), False),
    (lambda: DCGANDiscriminator(base_channels=4, batch_norm=False, num_classes=10,
                                embedding_dim=3), True),
])
def test_discriminators_give_one_logit_per_image(make, conditional):
    d = make()
    x = minidl.rand(4, 1, 28, 28) * 2 - 1
    out = d(x, LABELS) if conditional else d(x)
    assert tuple(out.shape) == (4,) and out.dtype == minidl.float32
    if conditional:
        assert np.abs((d(x, minidl.tensor([1, 2, 8, 4])) - out).detach().numpy()).max() > 1e-6


def test_bad_inputs_are_refused_naming_them():
    with pytest.raises(ValueError, match="noise N x 100"):
        Generator()(minidl.randn(2, 99))
    with pytest.raises(ValueError, match=r"N x 1 x 28 x 28"):
        Discriminator()(minidl.randn(2, 784))
    with pytest.raises(ValueError, match="needs labels"):
        ConditionalGenerator()(minidl.randn(2, 100), None)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        ConditionalDiscriminator()(minidl.randn(2, 1, 28, 28), minidl.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        DCGANGenerator(num_classes=10)(minidl.randn(2, 100), minidl.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        DCGANDiscriminator(num_classes=10)(minidl.randn(2, 1, 28, 28), minidl.tensor([0., 1.]))
    with pytest.raises(ValueError, match="unconditional"):
        DCGANDiscriminator()(minidl.randn(2, 1, 28, 28), minidl.tensor([0, 1]))
    with pytest.raises(ValueError, match="latent_dim"):
        DCGANGenerator(latent_dim=0)
    with pytest.raises(ValueError, match="batch_norm"):
        DCGANDiscriminator(batch_norm="no")
    with pytest.raises(ValueError, match="embedding_dim"):
        DCGANGenerator(embedding_dim=8)
    with pytest.raises(ValueError, match="dropout"):
        Discriminator(dropout=1.0)


def test_dcgan_layout_7_14_28_and_where_batch_norm_sits():
    g = DCGANGenerator(latent_dim=8, base_channels=4)
    h = minidl.randn(3, 8).reshape(3, 8, 1, 1)
    assert tuple(g.net[:3](h).shape) == (3, 8, 7, 7)
    assert tuple(g.net[:6](h).shape) == (3, 4, 14, 14)
    assert isinstance(g.net[-1], nn.Tanh)
    assert [type(m) for m in g.net if isinstance(m, nn.BatchNorm2d)] == [nn.BatchNorm2d] * 2
    d = DCGANDiscriminator(base_channels=4)
    kinds = [type(m).__name__ for m in d.net]
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d"]
    assert d.net[1].negative_slope == 0.2
    critic = DCGANDiscriminator(base_channels=4, batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())


def test_critic_without_batch_norm_scores_each_sample_on_its_own():
    """What the per-sample gradient penalty needs; batch norm in training mode mixes them."""
    x = minidl.randn(4, 1, 28, 28)
    y = x.clone()
    y[0] = y[0] * 3
    critic = DCGANDiscriminator(base_channels=4, batch_norm=False)
    np.testing.assert_array_equal(critic(x).detach().numpy()[1:],
                                  critic(y).detach().numpy()[1:])
    with_bn = DCGANDiscriminator(base_channels=4)
    assert np.abs((with_bn(x) - with_bn(y)).detach().numpy()[1:]).max() > 1e-6


class TorchDCGANGenerator(torch.nn.Module):
    def __init__(self, z, c, k):
        super().__init__()
        self.label = torch.nn.Module()
        self.label.embedding = torch.nn.Embedding(10, k)
        self.net = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(z + k, 2 * c, 7, bias=False), torch.nn.BatchNorm2d(2 * c),
            torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(c),
            torch.nn.ReLU(), torch.nn.ConvTranspose2d(c, 1, 4, 2, 1), torch.nn.Tanh())

    def forward(self, z, labels):
        h = torch.cat([z, self.label.embedding(labels)], 1)
        return self.net(h[:, :, None, None])


class TorchDCGANDiscriminator(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(11, c, 4, 2, 1), torch.nn.LeakyReLU(0.2),
            torch.nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(2 * c),
            torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(2 * c, 1, 7))

    def forward(self, x, labels):
        planes = torch.nn.functional.one_hot(labels, 10).to(x.dtype)[:, :, None, None]
        return self.net(torch.cat([x, planes.expand(-1, -1, 28, 28)], 1)).flatten()


def _twin(model, twin):
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in model.state_dict().items()})
    return twin.double()


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_conditional_dcgan_forwards_equal_torch_twins(train):
    minidl.manual_seed(2)
    g = DCGANGenerator(latent_dim=6, base_channels=4, num_classes=10, embedding_dim=3)
    d = DCGANDiscriminator(base_channels=4, num_classes=10)
    g.apply(dcgan_weights_init)
    tg, td = _twin(g.double(), TorchDCGANGenerator(6, 4, 3)), _twin(
        d.double(), TorchDCGANDiscriminator(4))
    for m in (g, d, tg, td):
        m.train(train)
    z = np.random.default_rng(0).normal(size=(4, 6))
    labels = np.array([0, 3, 9, 3])
    x = g(minidl.from_numpy(z), minidl.from_numpy(labels))
    tx = tg(torch.from_numpy(z), torch.from_numpy(labels))
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d(x, minidl.from_numpy(labels)).detach().numpy(),
                               td(tx, torch.from_numpy(labels)).detach().numpy(),
                               rtol=1e-9, atol=1e-12)


class TorchMLPGenerator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(5, 7), torch.nn.LeakyReLU(0.2), torch.nn.Linear(7, 784),
            torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 28, 28)))

    def forward(self, z):
        return self.net(z)


class TorchMLPDiscriminator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(784, 6), torch.nn.LeakyReLU(0.2),
                                       torch.nn.Linear(6, 1))

    def forward(self, x):
        return self.net(x.flatten(1)).squeeze(1)


def test_mlp_generator_and_discriminator_equal_torch_twins():
    g, d = Generator(latent_dim=5, hidden_dims=(7,)).double(), Discriminator(
        hidden_dims=(6,)).double()
    tg = _twin(g, TorchMLPGenerator())
    td = _twin(d, TorchMLPDiscriminator())
    z = np.random.default_rng(1).normal(size=(3, 5))
    x, tx = g(minidl.from_numpy(z)), tg(torch.from_numpy(z))
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(d(x).detach().numpy(), td(tx).detach().numpy(), rtol=1e-10)


def test_dcgan_weights_init_statistics():
    minidl.manual_seed(3)
    g = DCGANGenerator()  # 627,200 first-layer weights: the moments are pinned tightly
    g.apply(dcgan_weights_init)
    w = g.net[0].weight.detach().numpy()
    assert abs(w.mean()) < 2e-4 and abs(w.std() - 0.02) < 2e-4
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):  # 128 and 64 values
            gamma = m.weight.detach().numpy()
            assert abs(gamma.mean() - 1) < 0.01 and 0.01 < gamma.std() < 0.03
            np.testing.assert_array_equal(m.bias.detach().numpy(), 0)
    np.testing.assert_array_equal(g.net[-2].bias.detach().numpy(), 0)
    mlp = Discriminator(hidden_dims=(64,))
    mlp.apply(dcgan_weights_init)
    w = mlp.net[0].weight.detach().numpy()
    assert abs(w.std() - 0.02) < 1e-3
    np.testing.assert_array_equal(mlp.net[0].bias.detach().numpy(), 0)
    emb = ConditionalGenerator(embedding_dim=4)
    before = emb.label.embedding.weight.detach().numpy().copy()
    emb.apply(dcgan_weights_init)  # modules other than conv / linear / BN are left as they are
    np.testing.assert_array_equal(emb.label.embedding.weight.detach().numpy(), before)
