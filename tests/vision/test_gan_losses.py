"""GAN losses (minidl.vision.gan_losses): each equals its formula and torch's value and
gradient; the saturating generator loss starves G at a confident D; the WGAN-GP penalty
and its gradient w.r.t. the critic's parameters equal torch's on the same nets, same eps."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision.gan_losses import (
    clip_weights_,
    critic_loss,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    wasserstein_generator_loss,
)
from minidl.vision.models.generative import (
    ConditionalDiscriminator,
    DCGANDiscriminator,
    Discriminator,
)
from tests.reference.harness import compare

RNG = np.random.default_rng(0)
TBCE = torch.nn.functional.binary_cross_entropy_with_logits


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def test_discriminator_loss_is_the_negated_value_function_and_torch_bce():
    real, fake = RNG.normal(size=7) * 3, RNG.normal(size=(5, 1)) * 3
    formula = -(_log_sigmoid(real).mean() + _log_sigmoid(-fake).mean())
    got = discriminator_loss(minidl.from_numpy(real), minidl.from_numpy(fake))
    np.testing.assert_allclose(got.item(), formula, rtol=1e-12)
    compare(discriminator_loss,
            lambda r, f: TBCE(r, torch.ones_like(r)) + TBCE(f, torch.zeros_like(f)),
            [real, fake], dtype="float64")


@pytest.mark.parametrize("kind", ["non-saturating", "saturating"])
def test_generator_loss_formulas_and_torch(kind):
    fake = RNG.normal(size=(6, 1)) * 3
    if kind == "non-saturating":
        formula = -_log_sigmoid(fake).mean()
        ref = lambda f: TBCE(f, torch.ones_like(f))  # noqa: E731
    else:
        formula = _log_sigmoid(-fake).mean()  # mean log(1 - D(G(z)))
        ref = lambda f: -TBCE(f, torch.zeros_like(f))  # noqa: E731
    got = generator_loss(minidl.from_numpy(fake), kind=kind)
    np.testing.assert_allclose(got.item(), formula, rtol=1e-12)
    compare(lambda f: generator_loss(f, kind=kind), ref, [fake], dtype="float64")


def test_saturating_loss_gives_no_gradient_when_d_rejects_the_fakes():
    logits = np.array([-12.0, -9.0, -7.0, -10.0])  # D(G(z)) ~ 1e-5: fakes confidently rejected
    n, sig = len(logits), 1 / (1 + np.exp(-logits))
    grads = {}
    for kind in ("saturating", "non-saturating"):
        t = minidl.from_numpy(logits.copy()).requires_grad_(True)
        generator_loss(t, kind=kind).backward()
        grads[kind] = t.grad.numpy()
    np.testing.assert_allclose(grads["saturating"], -sig / n, rtol=1e-10)  # -sigmoid(l) / N
    np.testing.assert_allclose(grads["non-saturating"], -(1 - sig) / n, rtol=1e-10)
    assert np.abs(grads["saturating"]).max() < 1e-3 / n
    assert np.abs(grads["non-saturating"]).min() > 0.99 / n
    # once D is fooled (l >> 0) the roles swap: the saturating loss has the strong gradient
    t = minidl.tensor([9.0], dtype=minidl.float64, requires_grad=True)
    generator_loss(t, kind="saturating").backward()
    assert t.grad.item() < -0.99


def test_losses_stay_finite_at_extreme_logits():
    big = minidl.tensor([-200.0, 200.0])
    for value in (discriminator_loss(big, big), generator_loss(big),
                  generator_loss(big, kind="saturating")):
        assert np.isfinite(value.item())
    np.testing.assert_allclose(generator_loss(minidl.tensor([200.0])).item(), 0.0, atol=1e-30)


def test_wasserstein_losses_equal_their_formulas_and_torch():
    real, fake = RNG.normal(size=(5, 1)), RNG.normal(size=5) + 2
    got = critic_loss(minidl.from_numpy(real), minidl.from_numpy(fake))
    np.testing.assert_allclose(got.item(), fake.mean() - real.mean(), rtol=1e-12)
    compare(critic_loss, lambda r, f: f.mean() - r.mean(), [real, fake], dtype="float64")
    np.testing.assert_allclose(wasserstein_generator_loss(minidl.from_numpy(fake)).item(),
                               -fake.mean(), rtol=1e-12)
    compare(wasserstein_generator_loss, lambda f: -f.mean(), [fake], dtype="float64")


def test_loss_arguments_are_checked():
    x = minidl.randn(3)
    with pytest.raises(ValueError, match="kind"):
        generator_loss(x, kind="minimax")
    with pytest.raises(ValueError, match="real_logits"):
        discriminator_loss(minidl.tensor([1, 0]), x)
    with pytest.raises(ValueError, match="empty"):
        critic_loss(x, minidl.zeros(0))


# ---- the gradient penalty ----------------------------------------------------------------

class TorchDCGANCritic(torch.nn.Module):
    """DCGANDiscriminator(batch_norm=False) written in torch, same state_dict keys."""

    def __init__(self, c):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, c, 4, 2, 1), torch.nn.LeakyReLU(0.2),
            torch.nn.Conv2d(c, 2 * c, 4, 2, 1), torch.nn.LeakyReLU(0.2),
            torch.nn.Conv2d(2 * c, 1, 7))

    def forward(self, x):
        return self.net(x).flatten()


class TorchConditionalCritic(torch.nn.Module):
    """ConditionalDiscriminator(hidden_dims=(h,), embedding_dim=e) written in torch."""

    def __init__(self, k, h, e):
        super().__init__()
        self.label = torch.nn.Module()
        self.label.embedding = torch.nn.Embedding(k, e)
        self.net = torch.nn.Sequential(torch.nn.Linear(784 + e, h), torch.nn.LeakyReLU(0.2),
                                       torch.nn.Linear(h, 1))

    def forward(self, x, labels):
        return self.net(torch.cat([x.flatten(1), self.label.embedding(labels)], 1)).squeeze(1)


def _torch_twin(model, twin):
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in model.state_dict().items()})
    return twin.double()


def _torch_penalty(critic, real, fake, eps, labels=None):
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(xhat) if labels is None else critic(xhat, labels)
    grad, = torch.autograd.grad(scores.sum(), xhat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize("conditional", [False, True], ids=["dcgan_critic", "cgan_mlp_embedding"])
def test_gradient_penalty_and_its_parameter_gradients_equal_torch(conditional):
    n = 4
    minidl.manual_seed(1)
    if conditional:
        critic = ConditionalDiscriminator(num_classes=3, hidden_dims=(16,), embedding_dim=5)
        twin = TorchConditionalCritic(3, 16, 5)
        labels = np.array([0, 2, 1, 2])
    else:
        critic = DCGANDiscriminator(base_channels=4, batch_norm=False)
        twin = TorchDCGANCritic(4)
        labels = None
    critic.double()
    twin = _torch_twin(critic, twin)
    real, fake = RNG.uniform(-1, 1, (n, 1, 28, 28)), RNG.uniform(-1, 1, (n, 1, 28, 28))
    eps = RNG.uniform(size=n)
    m_labels = None if labels is None else minidl.from_numpy(labels)
    t_labels = None if labels is None else torch.from_numpy(labels)
    got = gradient_penalty(critic, minidl.from_numpy(real), minidl.from_numpy(fake),
                           labels=m_labels, eps=minidl.from_numpy(eps))
    want = _torch_penalty(twin, torch.from_numpy(real), torch.from_numpy(fake),
                          torch.from_numpy(eps).reshape(n, 1, 1, 1), t_labels)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-10)
    assert want.item() > 1e-3  # the norms are not already 1: the gradients below are not 0
    got.backward()
    want.backward()
    # a piecewise-linear critic's input gradient does not depend on its biases nor on the
    # label embedding (a per-class bias): their gradients are 0 (torch: zeros or None,
    # minidl: None); those of the weights are not
    twin_params = dict(twin.named_parameters())
    for name, p in critic.named_parameters():
        g, t = p.grad, twin_params[name].grad
        g = np.zeros(tuple(p.shape)) if g is None else g.numpy()
        t = np.zeros(tuple(p.shape)) if t is None else t.numpy()
        np.testing.assert_allclose(g, t, rtol=1e-8, atol=1e-12, err_msg=name)
        if name.startswith("net.") and name.endswith("weight"):
            assert np.abs(g).max() > 1e-6, name


def test_gradient_penalty_of_a_linear_critic_is_its_weight_norm_formula():
    """f(x) = w . x + b has input gradient w at every xhat: penalty (||w|| - 1)^2."""
    critic = Discriminator(hidden_dims=()).double()
    w = critic.net[0].weight.detach().numpy()
    real, fake = minidl.randn(5, 1, 28, 28, dtype=minidl.float64), minidl.zeros(
        5, 1, 28, 28, dtype=minidl.float64)
    got = gradient_penalty(critic, real, fake)
    np.testing.assert_allclose(got.item(), (np.linalg.norm(w) - 1) ** 2, rtol=1e-12)
    got.backward()  # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    norm = np.linalg.norm(w)
    np.testing.assert_allclose(critic.net[0].weight.grad.numpy(), 2 * (norm - 1) * w / norm,
                               rtol=1e-10)


def test_gradient_penalty_draws_eps_from_the_generator_and_detaches_its_inputs():
    critic = DCGANDiscriminator(base_channels=2, batch_norm=False)
    real = minidl.randn(3, 1, 28, 28, requires_grad=True)
    fake = minidl.randn(3, 1, 28, 28, requires_grad=True)
    drawn = minidl.rand(3, 1, 1, 1, generator=minidl.Generator().manual_seed(7))
    a = gradient_penalty(critic, real, fake, generator=minidl.Generator().manual_seed(7))
    b = gradient_penalty(critic, real, fake, eps=drawn)
    c = gradient_penalty(critic, real, fake, generator=minidl.Generator().manual_seed(8))
    assert a.item() == b.item() != c.item()
    a.backward()
    assert real.grad is None and fake.grad is None
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, real, fake[:2])
    with pytest.raises(ValueError, match="one weight per sample"):
        gradient_penalty(critic, real, fake, eps=minidl.rand(2))


def test_clip_weights_clamps_every_parameter_in_place():
    critic = DCGANDiscriminator(base_channels=2)
    for p in critic.parameters():
        p.data = p.data * 100
    before = {k: v.detach().numpy().copy() for k, v in critic.named_parameters()}
    params = list(critic.parameters())
    clip_weights_(critic, 0.01)
    for (name, p), same in zip(critic.named_parameters(), params):
        assert p is same
        np.testing.assert_array_equal(p.detach().numpy(), np.clip(before[name], -0.01, 0.01))
    with pytest.raises(ValueError, match="positive"):
        clip_weights_(critic, 0)
