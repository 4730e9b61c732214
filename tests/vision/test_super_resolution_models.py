"""SRCNN, VDSR, ESPCN, SRGAN's networks and losses: shapes, the papers' parameter counts,
the forward pass against torch, tiling, and the refusals."""
import numpy as np
import pytest
import torch

import minidl
from minidl import nn
from minidl.vision import models
from minidl.vision.models.srgan import (
    PerceptualLoss,
    RandomFeatures,
    SRGANDiscriminator,
    SRResNet,
    vgg19_features,
)
from minidl.vision.models.super_resolution import ESPCN, SRCNN, VDSR
from minidl.vision.super_resolution_task import run_tiled
from tests.reference.harness import assert_close


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def conv(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def test_parameter_counts_are_the_papers_layers():
    # SRCNN 9-1-5 with n1 = 64, n2 = 32 (8,032 weights + 97 biases)
    assert n_params(SRCNN(2)) == conv(9, 1, 64) + conv(1, 64, 32) + conv(5, 32, 1) == 8129
    assert n_params(SRCNN(3, in_channels=3)) == conv(9, 3, 64) + conv(1, 64, 32) + conv(5, 32, 3)
    # VDSR: 20 layers 3 x 3, 64 maps
    assert n_params(VDSR(2)) == conv(3, 1, 64) + 18 * conv(3, 64, 64) + conv(3, 64, 1) == 665921
    # ESPCN: 5-3-3 with 64, 32 maps and r^2 output maps
    for r, total in ((2, 21284), (4, 24752)):
        assert n_params(ESPCN(r)) == conv(5, 1, 64) + conv(3, 64, 32) + conv(3, 32, r * r) == total
    # SRResNet: head, 16 blocks (2 conv + 2 BN + PReLU), fuse, log2(s) upsamplers, tail
    block = 2 * conv(3, 64, 64) + 2 * 128 + 1
    for s, steps in ((2, 1), (4, 2)):
        expected = (conv(9, 1, 64) + 1 + 16 * block + conv(3, 64, 64) + 128
                    + steps * (conv(3, 64, 256) + 1) + conv(9, 64, 1))
        assert n_params(SRResNet(s)) == expected
    assert n_params(SRResNet(4)) == 1528724
    widths = (64, 64, 128, 128, 256, 256, 512, 512)
    d = conv(3, 1, 64) + sum(conv(3, a, b, bias=False) + 2 * b
                             for a, b in zip(widths[:-1], widths[1:]))
    def dense(side):  # the classifier on the 512 maps of side image_size / 16
        return 512 * side * side * 1024 + 1024 + 1024 + 1
    assert n_params(SRGANDiscriminator(1, 32)) == d + dense(2)
    assert d + dense(6) == 23562497  # 96 x 96 patches, the paper's (docstring figure)


@pytest.mark.parametrize("scale", [2, 4])
def test_output_shapes(scale):
    lr = minidl.rand(2, 1, 6, 5)
    up = minidl.rand(2, 1, 6 * scale, 5 * scale)
    assert SRCNN(scale)(up).shape == up.shape
    assert VDSR(scale, depth=4)(up).shape == up.shape
    assert ESPCN(scale)(lr).shape == (2, 1, 6 * scale, 5 * scale)
    assert ESPCN(scale, in_channels=3)(minidl.rand(1, 3, 4, 4)).shape == (1, 3, 4 * scale,
                                                                          4 * scale)
    assert SRResNet(scale, num_blocks=2)(lr).shape == (2, 1, 6 * scale, 5 * scale)
    assert SRGANDiscriminator(1, 32)(minidl.rand(3, 1, 32, 32)).shape == (3, 1)


def test_espcn_is_torch_convs_and_pixel_shuffle():
    model = ESPCN(3)
    assert isinstance(model.pixel_shuffle, nn.PixelShuffle)
    assert model.pixel_shuffle.upscale_factor == 3
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 64, 5, padding=2), torch.nn.Tanh(),
                              torch.nn.Conv2d(64, 32, 3, padding=1), torch.nn.Tanh(),
                              torch.nn.Conv2d(32, 9, 3, padding=1), torch.nn.PixelShuffle(3))
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in zip(
        ref.state_dict(), model.state_dict().values())})
    x = np.random.default_rng(0).random((2, 1, 7, 6), dtype=np.float32)
    assert_close(model(minidl.from_numpy(x)), ref(torch.from_numpy(x)), 1e-4, 1e-5)


def test_srresnet_upsamples_with_pixel_shuffle_and_matches_torch():
    model = SRResNet(4, num_blocks=1).eval()
    shuffles = [m for m in model.modules() if isinstance(m, nn.PixelShuffle)]
    assert [m.upscale_factor for m in shuffles] == [2, 2]
    t = torch.nn
    block = t.Sequential(t.Conv2d(64, 64, 3, padding=1), t.BatchNorm2d(64), t.PReLU(),
                         t.Conv2d(64, 64, 3, padding=1), t.BatchNorm2d(64))
    head = t.Sequential(t.Conv2d(1, 64, 9, padding=4), t.PReLU())
    fuse = t.Sequential(t.Conv2d(64, 64, 3, padding=1), t.BatchNorm2d(64))
    ups = t.Sequential(t.Conv2d(64, 256, 3, padding=1), t.PixelShuffle(2), t.PReLU(),
                       t.Conv2d(64, 256, 3, padding=1), t.PixelShuffle(2), t.PReLU())
    tail = t.Conv2d(64, 1, 9, padding=4)
    parts = t.ModuleList([head, block, fuse, ups, tail]).eval()
    state = model.state_dict()
    assert len(state) == len(parts.state_dict())
    parts.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                           for k, v in zip(parts.state_dict(), state.values())})
    x = np.random.default_rng(1).random((1, 1, 5, 4), dtype=np.float32)
    with torch.no_grad():
        f = head(torch.from_numpy(x))
        expected = tail(ups(f + fuse(f + block(f))))
    assert_close(model(minidl.from_numpy(x)), expected, 1e-4, 1e-4)


def test_vdsr_learns_a_residual_and_starts_at_its_input():
    model = VDSR(2, depth=5)
    x = minidl.rand(1, 1, 9, 9)
    with minidl.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), x.numpy())
        nn.init.normal_(model.body[-1].weight)
        out = model(x)
        np.testing.assert_allclose(out.numpy() - x.numpy(), model.body(x).numpy(), atol=1e-6)
        assert float(abs(out - x).max()) > 0.1


@pytest.mark.parametrize("build", [lambda: SRCNN(2), lambda: VDSR(2, depth=6),
                                   lambda: ESPCN(2), lambda: SRResNet(2, num_blocks=1).eval()])
def test_tiles_give_the_whole_image(build):
    model = build()
    x = minidl.rand(1, 1, 23, 30)
    with minidl.no_grad():
        np.testing.assert_allclose(run_tiled(model, x, tile=7).numpy(), model(x).numpy(),
                                   atol=1e-5)


def test_builders_are_registered():
    assert {"srcnn", "vdsr", "espcn", "srresnet", "srgan_discriminator"} <= set(
        models.list_models())
    model = models.get_model("espcn", scale=4, in_channels=3)
    assert isinstance(model, ESPCN) and model.scale == 4 and not model.upsampled_input
    assert models.get_model("vdsr", depth=3).upsampled_input
    with pytest.raises(ValueError, match="pretrained"):
        models.get_model("srcnn", weights="DEFAULT")


def test_refusals_name_the_argument():
    with pytest.raises(ValueError, match=r"SRCNN\(scale=\)"):
        SRCNN(0)
    with pytest.raises(ValueError, match=r"ESPCN\(in_channels=\)"):
        ESPCN(2, in_channels=0)
    with pytest.raises(ValueError, match=r"VDSR\(depth=\)"):
        VDSR(2, depth=1)
    with pytest.raises(ValueError, match="power of 2"):
        SRResNet(3)
    with pytest.raises(ValueError, match="multiple of 16"):
        SRGANDiscriminator(1, 40)
    with pytest.raises(ValueError, match="built for 32 x 32"):
        SRGANDiscriminator(1, 32)(minidl.rand(1, 1, 48, 48))


def test_perceptual_loss_random_features_are_fixed_and_the_adversarial_term_weighted():
    a, b = RandomFeatures(1, seed=0), RandomFeatures(1, seed=0)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert not p.requires_grad
    x, y = minidl.rand(2, 1, 16, 16), minidl.rand(2, 1, 16, 16)
    maps = a(x)
    assert [tuple(m.shape) for m in maps] == [(2, 32, 16, 16), (2, 64, 8, 8), (2, 128, 4, 4)]
    loss = PerceptualLoss(a)
    sr = x.clone().requires_grad_(True)
    logits = minidl.tensor([[0.3], [-1.2]])
    total, content, adversarial = loss(sr, y, logits)
    expected = np.mean([((p - q) ** 2).mean().item() for p, q in zip(a(x), a(y))])
    np.testing.assert_allclose(content.item(), expected, rtol=1e-5)
    np.testing.assert_allclose(adversarial.item(),
                               np.mean(np.log1p(np.exp(-np.array([0.3, -1.2])))), rtol=1e-5)
    np.testing.assert_allclose(total.item(), content.item() + 1e-3 * adversarial.item(),
                               rtol=1e-6)
    total.backward()
    assert sr.grad is not None and float(abs(sr.grad).sum()) > 0
    assert float(loss.content(y, y).item()) == 0.0


def test_vgg19_features_read_torchvision_layout(tmp_path):
    from safetensors.numpy import save_file

    from minidl.vision.models.vgg import cfgs, make_layers
    layers = make_layers(cfgs["E"])
    save_file({f"features.{k}": v.numpy() for k, v in layers.state_dict().items()},
              str(tmp_path / "vgg19.safetensors"))
    features = vgg19_features(str(tmp_path / "vgg19.safetensors"))
    x = minidl.rand(1, 1, 16, 16)
    with minidl.no_grad():
        normalised = (x.expand(-1, 3, -1, -1) - features.mean) / features.std
        expected = layers[:36](normalised)
        (got,) = features(x)
    assert got.shape == (1, 512, 1, 1)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.savez(tmp_path / "other.npz", **{"features.0.weight": np.zeros((3, 3), np.float32)})
    with pytest.raises(ValueError, match="vgg19 'features"):
        vgg19_features(str(tmp_path / "other.npz"))
    with pytest.raises(FileNotFoundError, match="do not exist"):
        vgg19_features(str(tmp_path / "missing.safetensors"))
