"""Autoencoders, the VAE and the conditional VAE: the loss equals its formula and torch's
(float64), the reparameterisation's gradients, the forward passes against the same nets
built from torch.nn, shapes, the CVAE's conditioning, and the refusals."""
import math

import numpy as np
import pytest
import torch

import minidl
from minidl import optim
from minidl.vision.models.generative import (
    VAE,
    Autoencoder,
    ConditionalVAE,
    ConvAutoencoder,
    elbo,
    gaussian_kl,
    reparameterize,
    vae_loss,
)
from tests.reference.harness import assert_close

F64 = dict(rtol=1e-10, atol=1e-9)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def batch(seed=0, n=5, latent=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 1, 4, 4)), rng.random((n, 1, 4, 4)), rng.normal(size=(n, latent)),
            rng.normal(size=(n, latent)) * 0.5)


def pairs(*arrays):
    return ([minidl.from_numpy(a.copy()) for a in arrays], [torch.from_numpy(a.copy())
                                                           for a in arrays])


def torch_kl(mu, logvar):
    """The closed form of KL(N(mu, exp(logvar)) || N(0, I)) (Kingma & Welling, appendix B)."""
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_bernoulli_vae_loss_is_bce_with_logits_plus_the_closed_form_kl(reduction):
    (logits, x, mu, logvar), (tl, tx, tmu, tlv) = pairs(*batch())
    loss, recon, kl = vae_loss(logits, x, mu, logvar, "bernoulli", reduction)
    t_recon = torch.nn.functional.binary_cross_entropy_with_logits(
        tl, tx, reduction="none").sum((1, 2, 3))
    t_kl = torch_kl(tmu, tlv)
    reduce = {"sum": torch.sum, "mean": torch.mean, "none": lambda t: t}[reduction]
    for mine, ref, what in ((recon, reduce(t_recon), "recon"), (kl, reduce(t_kl), "kl"),
                            (loss, reduce(t_recon + t_kl), "loss")):
        assert_close(mine, ref, **F64, what=what)
    # the formula written out: -sum[x log s(l) + (1 - x) log(1 - s(l))] + KL
    lg, xv, m, v = batch()
    s = 1 / (1 + np.exp(-lg))
    by_hand = (-(xv * np.log(s) + (1 - xv) * np.log(1 - s)).sum((1, 2, 3))
               - 0.5 * (1 + v - m ** 2 - np.exp(v)).sum(1))
    np.testing.assert_allclose(vae_loss(logits, x, mu, logvar, reduction="none")[0].numpy(),
                               by_hand, rtol=1e-10)


@pytest.mark.parametrize("recon_logvar", [None, -1.5, "tensor"])
def test_gaussian_vae_loss_is_torch_gaussian_nll_plus_kl(recon_logvar):
    (mean, x, mu, logvar), (tm, tx, tmu, tlv) = pairs(*batch(1))
    v = 0.0 if recon_logvar is None else -1.5
    arg = minidl.tensor(v, dtype=minidl.float64) if recon_logvar == "tensor" else recon_logvar
    loss, recon, kl = vae_loss(mean, x, mu, logvar, "gaussian", "sum", recon_logvar=arg)
    t_recon = torch.nn.functional.gaussian_nll_loss(
        tm, tx, torch.full_like(tm, math.exp(v)), full=True, reduction="sum")
    assert_close(recon, t_recon, **F64, what="recon")
    assert_close(loss, t_recon + torch_kl(tmu, tlv).sum(), **F64, what="loss")


def test_elbo_is_minus_the_loss_per_image_and_gradients_equal_torch():
    arrays = batch(2)
    (logits, x, mu, logvar), (tl, tx, tmu, tlv) = pairs(*arrays)
    for t in (logits, mu, logvar, tl, tmu, tlv):
        t.requires_grad_(True)
    e = elbo(logits, x, mu, logvar)
    assert tuple(e.shape) == (5,)
    np.testing.assert_allclose(e.detach().numpy(), -vae_loss(
        logits, x, mu, logvar, reduction="none")[0].detach().numpy())
    e.sum().backward()
    t_e = -(torch.nn.functional.binary_cross_entropy_with_logits(tl, tx, reduction="none")
            .sum((1, 2, 3)) + torch_kl(tmu, tlv))
    t_e.sum().backward()
    for mine, ref, what in ((logits, tl, "d logits"), (mu, tmu, "d mu"), (logvar, tlv, "d lv")):
        assert_close(mine.grad, ref.grad, **F64, what=what)


def test_reparameterisation_gradients_reach_mu_and_logvar():
    _, _, m, v = batch(3)
    eps = np.random.default_rng(4).normal(size=m.shape)
    (mu, logvar, e), (tmu, tlv, te) = pairs(m, v, eps)
    for t in (mu, logvar, tmu, tlv):
        t.requires_grad_(True)
    z = reparameterize(mu, logvar, e)
    (z * z).sum().backward()
    tz = tmu + (0.5 * tlv).exp() * te
    (tz * tz).sum().backward()
    assert_close(z, tz, **F64)
    assert_close(mu.grad, tmu.grad, **F64, what="d mu")
    assert_close(logvar.grad, tlv.grad, **F64, what="d logvar")
    # dz/dmu = 1, dz/dlogvar = eps exp(logvar / 2) / 2
    mu.grad = logvar.grad = None
    reparameterize(mu, logvar, e).sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), np.ones_like(m))
    np.testing.assert_allclose(logvar.grad.numpy(), 0.5 * eps * np.exp(v / 2), rtol=1e-12)


def test_reparameterised_draws_have_the_posterior_moments_and_follow_the_generator():
    mu = minidl.full((20000, 2), 1.5)
    logvar = minidl.full((20000, 2), math.log(0.25))
    g = minidl.Generator()
    g.manual_seed(7)
    z = reparameterize(mu, logvar, generator=g).numpy()
    np.testing.assert_allclose(z.mean(0), 1.5, atol=0.02)
    np.testing.assert_allclose(z.std(0), 0.5, atol=0.02)
    g.manual_seed(7)
    np.testing.assert_array_equal(reparameterize(mu, logvar, generator=g).numpy(), z)


def copy_into(torch_module, state):
    torch_module.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                  for k, v in state.items()})
    return torch_module


def test_autoencoders_equal_the_same_nets_built_from_torch():
    x = np.random.default_rng(5).random((3, 1, 28, 28)).astype(np.float32)
    ae = Autoencoder(hidden_dims=(64, 16), latent_dim=8)
    tnn = torch.nn
    t_ae = torch.nn.ModuleDict({
        "encoder": tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 64), tnn.ReLU(),
                                  tnn.Linear(64, 16), tnn.ReLU(), tnn.Linear(16, 8)),
        "decoder": tnn.Sequential(tnn.Linear(8, 16), tnn.ReLU(), tnn.Linear(16, 64), tnn.ReLU(),
                                  tnn.Linear(64, 784), tnn.Unflatten(1, (1, 28, 28)))})
    copy_into(t_ae, ae.state_dict())
    code = ae.encode(minidl.from_numpy(x))
    assert tuple(code.shape) == (3, 8)
    assert_close(ae(minidl.from_numpy(x)), t_ae["decoder"](t_ae["encoder"](torch.from_numpy(x))),
                 rtol=1e-4, atol=1e-5)
    conv = ConvAutoencoder(channels=(4, 8), latent_dim=6)
    t_conv = torch.nn.ModuleDict({
        "encoder": tnn.Sequential(tnn.Conv2d(1, 4, 3, 2, 1), tnn.ReLU(), tnn.Conv2d(4, 8, 3, 2, 1),
                                  tnn.ReLU(), tnn.Flatten(), tnn.Linear(8 * 49, 6)),
        "decoder": tnn.Sequential(tnn.Linear(6, 8 * 49), tnn.ReLU(), tnn.Unflatten(1, (8, 7, 7)),
                                  tnn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1), tnn.ReLU(),
                                  tnn.ConvTranspose2d(4, 1, 3, 2, 1, output_padding=1))})
    copy_into(t_conv, conv.state_dict())
    out = conv(minidl.from_numpy(x))
    assert tuple(out.shape) == (3, 1, 28, 28)
    assert_close(out, t_conv["decoder"](t_conv["encoder"](torch.from_numpy(x))), rtol=1e-4,
                 atol=1e-5)
    # 784-512-256-32 and back: the default sizes
    assert n_params(Autoencoder()) == 2 * (784 * 512 + 512 * 256 + 256 * 32) + (
        512 + 256 + 32) + (256 + 512 + 784)


def test_vae_encoder_and_decoder_equal_torch_and_shapes():
    x = np.random.default_rng(6).random((4, 1, 28, 28)).astype(np.float32)
    vae = VAE(hidden_dims=(32,), latent_dim=5)
    tnn = torch.nn
    t = torch.nn.ModuleDict({
        "encoder": tnn.Sequential(tnn.Linear(784, 32), tnn.ReLU()),
        "fc_mu": tnn.Linear(32, 5), "fc_logvar": tnn.Linear(32, 5),
        "decoder": tnn.Sequential(tnn.Linear(5, 32), tnn.ReLU(), tnn.Linear(32, 784))})
    copy_into(t, vae.state_dict())
    mu, logvar = vae.encode(minidl.from_numpy(x))
    h = t["encoder"](torch.from_numpy(x).flatten(1))
    assert_close(mu, t["fc_mu"](h), rtol=1e-4, atol=1e-5)
    assert_close(logvar, t["fc_logvar"](h), rtol=1e-4, atol=1e-5)
    z = np.random.default_rng(7).normal(size=(4, 5)).astype(np.float32)
    assert_close(vae.decode(minidl.from_numpy(z)),
                 t["decoder"](torch.from_numpy(z)).reshape(4, 1, 28, 28), rtol=1e-4, atol=1e-5)
    recon, mu, logvar = vae(minidl.from_numpy(x))
    assert tuple(recon.shape) == (4, 1, 28, 28) and tuple(mu.shape) == tuple(logvar.shape) == (
        4, 5)
    assert n_params(VAE()) == 784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + (
        400 * 784 + 784)
    mean = vae.mean_image(recon).detach().numpy()
    assert mean.min() >= 0 and mean.max() <= 1


def test_gaussian_vae_learns_its_decoder_variance():
    vae = VAE(hidden_dims=(16,), latent_dim=2, likelihood="gaussian")
    x = minidl.rand(6, 1, 28, 28)
    recon, mu, logvar = vae(x)
    loss, _, _ = vae.loss(recon, x, mu, logvar)
    loss.backward()
    assert vae.decoder_logvar.grad is not None and vae.decoder_logvar.grad.item() != 0
    manual = vae_loss(recon, x, mu, logvar, "gaussian", "mean", vae.decoder_logvar)[0]
    assert manual.item() == pytest.approx(loss.item())


def test_a_few_adam_steps_lower_the_negative_elbo():
    minidl.manual_seed(0)
    halves = np.zeros((32, 1, 28, 28), np.float32)  # two patterns: top or bottom half lit
    halves[::2, :, :14] = halves[1::2, :, 14:] = 1
    x = minidl.from_numpy(halves)
    vae = VAE(hidden_dims=(64,), latent_dim=4)
    opt = optim.Adam(vae.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        recon, mu, logvar = vae(x)
        loss = vae.loss(recon, x, mu, logvar)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_the_cvae_conditions_both_nets_on_the_label():
    cvae = ConditionalVAE(num_classes=3, hidden_dims=(16,), latent_dim=4)
    assert cvae.encoder[0].in_features == 784 + 3 and cvae.decoder[0].in_features == 4 + 3
    x = minidl.rand(2, 1, 28, 28).repeat(3, 1, 1, 1)
    y = minidl.tensor([0, 0, 1, 1, 2, 2])
    mu, _ = cvae.encode(x, y)
    assert not np.allclose(mu.detach().numpy()[0], mu.detach().numpy()[2])
    z = minidl.zeros(6, 4)
    out = cvae.decode(z, y).detach().numpy()
    assert not np.allclose(out[0], out[2]) and np.allclose(out[0], out[1])
    # the label enters as a one-hot: decode(z, y) is decode's net on [z, onehot(y)]
    first = cvae.decoder[0]
    h = minidl.cat([z, minidl.nn.functional.one_hot(y, 3).float()], 1)
    np.testing.assert_allclose(first(h).detach().numpy(), cvae.decoder[:1](h).detach().numpy())
    recon, mu, logvar = cvae(x, y)
    assert tuple(recon.shape) == (6, 1, 28, 28)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        cvae.decode(z, minidl.tensor([0, 1, 2, 3, 0, 0]))
    with pytest.raises(ValueError, match="one integer label per row"):
        cvae.encode(x, minidl.tensor([0, 1]))


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="likelihood must be one of bernoulli, gaussian"):
        VAE(likelihood="poisson")
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        Autoencoder(latent_dim=0)
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* len\\(channels\\) = 8"):
        ConvAutoencoder(channels=(4, 8, 16))
    with pytest.raises(ValueError, match=r"VAE expects images N x 1 x 28 x 28, got .*\(2, 784\)"):
        VAE().encode(minidl.zeros(2, 784))
    logits, x, mu, logvar = pairs(*batch())[0]
    with pytest.raises(ValueError, match="reduction must be 'sum', 'mean' or 'none'"):
        vae_loss(logits, x, mu, logvar, reduction="batchmean")
    with pytest.raises(ValueError, match="the reconstruction .* and the target .* same shape"):
        vae_loss(logits, x[:, :, :2], mu, logvar)
    with pytest.raises(ValueError, match="Bernoulli likelihood takes none"):
        vae_loss(logits, x, mu, logvar, recon_logvar=0.0)
    with pytest.raises(ValueError, match="mu .* and logvar .* same shape"):
        reparameterize(mu, logvar[:, :2])
    assert gaussian_kl(minidl.zeros(2, 3), minidl.zeros(2, 3)).numpy().tolist() == [0.0, 0.0]
