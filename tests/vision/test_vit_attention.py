"""``minidl.vision.attention_maps``: the class token's attention of a ViT (the last layer's
and the rollout through every layer) against the weights torch's MultiheadAttention
returns for the same network, the plot, and the example script on a trained checkpoint."""
import numpy as np
import pytest
import torch

import minidl
from minidl.vision.attention_maps import class_token_attention, plot_class_token_attention

from .test_vit import TorchViT, perturb_head, small_vit


def torch_attentions(ref, x):
    """Each layer's head-averaged attention weights (N, T, T) of ``TorchViT`` ``ref``."""
    h = ref.conv_proj(x).flatten(2).transpose(1, 2)
    h = torch.cat([ref.class_token.expand(len(h), -1, -1), h], 1) + ref.encoder.pos_embedding
    weights = []
    for b in ref.encoder.layers:
        a = b.ln_1(h)
        out, w = b.self_attention(a, a, a, need_weights=True)
        weights.append(w.detach().numpy())
        h = h + out
        h = h + b.mlp(b.ln_2(h))
    return weights


@pytest.fixture
def vit_and_reference():
    model = small_vit().double()
    perturb_head(model)
    ref = TorchViT(12, 4, 2, 3, 12, 20, 5, 2).double()
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                         for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2, 12, 12))
    return model, torch_attentions(ref, torch.from_numpy(x)), minidl.from_numpy(x)


def test_last_layer_map_is_the_class_token_row(vit_and_reference):
    model, weights, x = vit_and_reference
    maps = class_token_attention(model, x, mode="last")
    assert maps.shape == (3, 3, 3)
    row = weights[-1][:, 0, 1:]
    np.testing.assert_allclose(maps, (row / row.sum(-1, keepdims=True)).reshape(3, 3, 3),
                               atol=1e-12)


def test_rollout_follows_the_residual_stream(vit_and_reference):
    model, weights, x = vit_and_reference
    maps = class_token_attention(model, x, mode="rollout")
    tokens = weights[0].shape[-1]
    for n in range(3):
        r = np.eye(tokens)
        for w in weights:
            a = 0.5 * w[n] + 0.5 * np.eye(tokens)
            r = (a / a.sum(1, keepdims=True)) @ r
        expected = r[0, 1:] / r[0, 1:].sum()
        np.testing.assert_allclose(maps[n].ravel(), expected, atol=1e-12)
    assert not np.allclose(maps, class_token_attention(model, x, mode="last"))


def test_mode_and_model_are_checked_and_training_mode_restored(vit_and_reference):
    model, _, x = vit_and_reference
    model.train()
    class_token_attention(model, x)
    assert model.training
    with pytest.raises(ValueError, match="mode"):
        class_token_attention(model, x, mode="mean")
    with pytest.raises(TypeError, match="VisionTransformer"):
        class_token_attention(minidl.nn.Linear(2, 2), x)


def test_plot_writes_an_image(tmp_path, vit_and_reference):
    model, _, x = vit_and_reference
    maps = [class_token_attention(model, x, m) for m in ("last", "rollout")]
    path = tmp_path / "maps.png"
    plot_class_token_attention(x.numpy()[:, 0], maps, path, labels=["a", "b", "c"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000


def test_plot_refuses_mismatched_shapes(tmp_path):
    images = np.zeros((2, 12, 12))
    with pytest.raises(ValueError, match=r"images must be \(N, H, W\)"):
        plot_class_token_attention(np.zeros((2, 1, 12, 12)), [], tmp_path / "a.png")
    with pytest.raises(ValueError, match="each map must be"):
        plot_class_token_attention(images, [np.zeros((2, 5, 5))], tmp_path / "a.png")
