"""``minidl.vision.models.VisionTransformer``: against the same network written in torch
(outputs and every gradient, float64), torchvision's parameter counts and key names, the
options (conv stem, representation layer, dropout) and errors (``minidl train vit``:
test_transformers_train.py)."""
import math

import numpy as np
import pytest
import torch

import minidl
from minidl import nn
from minidl.vision import models
from minidl.vision.models import ConvStemConfig, VisionTransformer
from minidl.vision.ops import MLP, Permute

from .test_zoo import keys, n_params, no_random_init  # noqa: F401


class TorchViT(torch.nn.Module):
    """The ViT of the module docstring in torch, parameter names matching torchvision's."""

    def __init__(self, image, patch, layers, heads, hidden, mlp, classes, channels,
                 representation=None):
        super().__init__()
        tnn = torch.nn
        self.patch, self.hidden = patch, hidden
        self.conv_proj = tnn.Conv2d(channels, hidden, patch, stride=patch)
        self.class_token = tnn.Parameter(torch.zeros(1, 1, hidden))
        self.encoder = tnn.Module()
        self.encoder.pos_embedding = tnn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1,
                                                               hidden))
        self.encoder.layers = tnn.Sequential()
        for i in range(layers):
            block = tnn.Module()
            block.ln_1 = tnn.LayerNorm(hidden, eps=1e-6)
            block.self_attention = tnn.MultiheadAttention(hidden, heads, batch_first=True)
            block.ln_2 = tnn.LayerNorm(hidden, eps=1e-6)
            block.mlp = tnn.Sequential(tnn.Linear(hidden, mlp), tnn.GELU(), tnn.Dropout(0.0),
                                       tnn.Linear(mlp, hidden), tnn.Dropout(0.0))
            self.encoder.layers.add_module(f"encoder_layer_{i}", block)
        self.encoder.ln = tnn.LayerNorm(hidden, eps=1e-6)
        self.heads = tnn.Sequential()
        if representation:
            self.heads.add_module("pre_logits", tnn.Linear(hidden, representation))
            self.heads.add_module("act", tnn.Tanh())
        self.heads.add_module("head", tnn.Linear(representation or hidden, classes))

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(len(x), -1, -1), x], 1)
        x = x + self.encoder.pos_embedding
        for b in self.encoder.layers:
            h = b.ln_1(x)
            x = x + b.self_attention(h, h, h, need_weights=False)[0]
            x = x + b.mlp(b.ln_2(x))
        return self.heads(self.encoder.ln(x)[:, 0])


def small_vit(**kw):
    minidl.manual_seed(0)
    args = dict(image_size=12, patch_size=4, num_layers=2, num_heads=3, hidden_dim=12,
                mlp_dim=20, num_classes=5, in_channels=2)
    return VisionTransformer(**{**args, **kw})


def perturb_head(model):
    """torchvision zeroes the head: give it values so the gradients below it are not zero."""
    for p in model.heads.parameters():
        values = np.random.default_rng(7).standard_normal(tuple(p.shape))
        p.data = minidl.from_numpy(values.astype(p.detach().numpy().dtype))


@pytest.mark.parametrize("representation", [None, 7])
def test_matches_torch_outputs_and_gradients(representation):
    model = small_vit(representation_size=representation).double()
    perturb_head(model)
    ref = TorchViT(12, 4, 2, 3, 12, 20, 5, 2, representation).double()
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                         for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2, 12, 12))
    out = model(minidl.from_numpy(x))
    expected = ref(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-10)
    weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * minidl.from_numpy(weights)).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    grads = dict(ref.named_parameters())
    assert set(grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        assert np.abs(p.grad.numpy()).max() > 0, name
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), atol=1e-9,
                                   err_msg=name)


TORCHVISION_PARAMS = {"vit_b_16": 86_567_656, "vit_b_32": 88_224_232, "vit_l_16": 304_326_632,
                      "vit_l_32": 306_535_400, "vit_h_14": 632_045_800}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_parameter_counts_equal_torchvision(name, no_random_init):  # noqa: F811
    assert n_params(models.get_model(name)) == TORCHVISION_PARAMS[name]


def test_key_names_are_torchvision_s(no_random_init):  # noqa: F811
    k = keys(models.vit_b_16())
    assert k[:5] == ["class_token", "conv_proj.weight", "conv_proj.bias",
                     "encoder.pos_embedding", "encoder.layers.encoder_layer_0.ln_1.weight"]
    block = [n[len("encoder.layers.encoder_layer_11."):] for n in k
             if n.startswith("encoder.layers.encoder_layer_11.")]
    assert block == ["ln_1.weight", "ln_1.bias", "self_attention.in_proj_weight",
                     "self_attention.in_proj_bias", "self_attention.out_proj.weight",
                     "self_attention.out_proj.bias", "ln_2.weight", "ln_2.bias",
                     "mlp.0.weight", "mlp.0.bias", "mlp.3.weight", "mlp.3.bias"]
    assert k[-4:] == ["encoder.ln.weight", "encoder.ln.bias", "heads.head.weight",
                      "heads.head.bias"]
    assert models.vit_b_16().encoder.pos_embedding.shape == (1, 197, 768)


def test_initialisation_follows_torchvision():
    m = models.vit_mini(num_classes=10, in_channels=1)
    assert not m.heads.head.weight.detach().numpy().any()
    assert not m.class_token.detach().numpy().any()
    pos = m.encoder.pos_embedding.detach().numpy()
    assert 0.015 < pos.std() < 0.025
    w = m.conv_proj.weight.detach().numpy()
    # trunc_normal_ cuts at the absolute values +-2, 8 standard deviations here
    assert abs(w.std() - math.sqrt(1 / 16)) < 0.02 and np.abs(w).max() <= 2
    mlp = m.encoder.layers.encoder_layer_0.mlp
    assert isinstance(mlp, MLP) and np.abs(mlp[0].bias.detach().numpy()).max() < 1e-4
    bound = math.sqrt(6 / (64 + 128))
    assert np.abs(mlp[0].weight.detach().numpy()).max() <= bound


def test_conv_stem():
    stem = [ConvStemConfig(8, 3, 2), ConvStemConfig(12, 3, 2)]
    m = small_vit(conv_stem_configs=stem, hidden_dim=12)
    assert list(m.conv_proj._modules) == ["conv_bn_relu_0", "conv_bn_relu_1", "conv_last"]
    assert m.conv_proj.conv_bn_relu_0[0].in_channels == 2
    out = m(minidl.randn(2, 2, 12, 12))
    assert tuple(out.shape) == (2, 5)


def test_dropout_is_used_in_training_only():
    m = small_vit(dropout=0.5, attention_dropout=0.5)
    perturb_head(m)
    x = minidl.randn(2, 2, 12, 12)
    with minidl.no_grad():
        a, b = m(x), m(x)
        m.eval()
        c, d = m(x), m(x)
    assert not np.allclose(a.numpy(), b.numpy())
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_builders_take_image_size_and_refuse_weights(no_random_init):  # noqa: F811
    m = models.vit_b_32(image_size=64, num_classes=3)
    assert m.seq_length == 5 and m.heads.head.out_features == 3
    with pytest.raises(ValueError, match="weights"):
        models.vit_b_16(weights="IMAGENET1K_V1")


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="image_size 30 is not divisible by patch_size 4"):
        small_vit(image_size=30)
    with pytest.raises(ValueError, match="hidden_dim 10 is not divisible by num_heads 3"):
        small_vit(hidden_dim=10)
    with pytest.raises(ValueError, match=r"VisionTransformer\(patch_size=\) must be an int >= 1"):
        small_vit(patch_size=0)
    with pytest.raises(ValueError, match=r"VisionTransformer\(image_size=\) must be an int"):
        small_vit(image_size=-12)
    m = small_vit()
    with pytest.raises(ValueError, match="wrong image size 16 x 16"):
        m(minidl.randn(1, 2, 16, 16))
    with pytest.raises(ValueError, match=r"expected images \(N, 2, 12, 12\)"):
        m(minidl.randn(1, 3, 12, 12))
    with pytest.raises(ValueError, match="seq_length"):
        m.encoder.layers.encoder_layer_0(minidl.randn(2, 12))


def test_ops_blocks():
    mlp = MLP(6, [8, 4], norm_layer=nn.LayerNorm, activation_layer=nn.GELU, dropout=0.1)
    assert [type(layer).__name__ for layer in mlp] == ["Linear", "LayerNorm", "GELU",
                                                       "Dropout", "Linear", "Dropout"]
    with pytest.raises(ValueError, match="hidden_channels"):
        MLP(6, [])
    x = minidl.randn(2, 3, 4, 5)
    assert tuple(Permute([0, 2, 3, 1])(x).shape) == (2, 4, 5, 3)
    with pytest.raises(ValueError, match="4-D input"):
        Permute([0, 2, 3, 1])(minidl.randn(2, 3))
