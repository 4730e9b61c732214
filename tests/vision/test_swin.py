"""``minidl.vision.models.swin_transformer`` (Swin v1): the (shifted) window attention and a
whole small network against the same computation written in torch (outputs and every
gradient, float64), the shift mask by hand, torchvision's parameter counts and key names,
a training step of ``swin_mini``, and errors (``minidl train swin``:
test_transformers_train.py)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
from minidl import nn
from minidl.nn import functional as F
from minidl.vision.models.swin_transformer import (
    PatchMerging,
    ShiftedWindowAttention,
    SwinTransformer,
    shift_mask,
    shifted_window_attention,
    swin_b,
    swin_mini,
    swin_s,
    swin_t,
)

from .test_zoo import keys, n_params, no_random_init  # noqa: F401


def torch_mask(ph, pw, window, shift):
    """The shift mask by slices of the padded map (regions numbered 0..8), windowed."""
    (wh, ww), (sh, sw) = window, shift
    region = torch.zeros(ph, pw)
    count = 0
    for hs in (slice(0, ph - wh), slice(ph - wh, ph - sh), slice(ph - sh, ph)):
        for ws in (slice(0, pw - ww), slice(pw - ww, pw - sw), slice(pw - sw, pw)):
            region[hs, ws] = count
            count += 1
    win = region.reshape(ph // wh, wh, pw // ww, ww).transpose(1, 2).reshape(-1, wh * ww)
    return torch.where(win[:, None, :] == win[:, :, None], 0.0, -100.0).double()


def torch_window_attention(x, qkv_w, qkv_b, proj_w, proj_b, table, index, window, heads,
                           shift):
    """Shifted window attention as written in the paper, explicit softmax, in torch."""
    n, h, w, c = x.shape
    wh, ww = window
    x = TF.pad(x, (0, 0, 0, -w % ww, 0, -h % wh))
    ph, pw = x.shape[1:3]
    shift = [0 if m >= p else s for m, p, s in zip(window, (ph, pw), shift)]
    x = torch.roll(x, (-shift[0], -shift[1]), (1, 2))
    t = wh * ww
    win = x.reshape(n, ph // wh, wh, pw // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
    win = win.reshape(-1, t, c)
    q, k, v = (win @ qkv_w.T + qkv_b).reshape(-1, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-1, -2) / (c // heads) ** 0.5
    scores = scores + table[index].reshape(t, t, heads).permute(2, 0, 1)
    if any(shift):
        mask = torch_mask(ph, pw, window, shift)
        scores = (scores.reshape(n, -1, heads, t, t) + mask[:, None]).reshape(-1, heads, t, t)
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(-1, t, c) @ proj_w.T + proj_b
    out = out.reshape(n, ph // wh, pw // ww, wh, ww, c).permute(0, 1, 3, 2, 4, 5)
    out = torch.roll(out.reshape(n, ph, pw, c), (shift[0], shift[1]), (1, 2))
    return out[:, :h, :w]


def torch_swin(p, x, depths, heads, window, patch):
    """A SwinTransformer's forward from its state_dict ``p`` (torch tensors)."""
    def ln(x, name):
        return TF.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], 1e-5)

    x = TF.conv2d(x, p["features.0.0.weight"], p["features.0.0.bias"], stride=patch)
    x = ln(x.permute(0, 2, 3, 1), "features.0.2")
    for stage, depth in enumerate(depths):
        for i in range(depth):
            b = f"features.{2 * stage + 1}.{i}."
            a = b + "attn."
            x = x + torch_window_attention(
                ln(x, b + "norm1"), p[a + "qkv.weight"], p[a + "qkv.bias"], p[a + "proj.weight"],
                p[a + "proj.bias"], p[a + "relative_position_bias_table"],
                p[a + "relative_position_index"], window, heads[stage],
                [0 if i % 2 == 0 else m // 2 for m in window])
            hidden = TF.gelu(TF.linear(ln(x, b + "norm2"), p[b + "mlp.0.weight"],
                                       p[b + "mlp.0.bias"]))
            x = x + TF.linear(hidden, p[b + "mlp.3.weight"], p[b + "mlp.3.bias"])
        if stage < len(depths) - 1:
            m = f"features.{2 * stage + 2}."
            x = TF.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
            x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2],
                           x[:, 1::2, 1::2]], -1)
            x = ln(x, m + "norm") @ p[m + "reduction.weight"].T
    return TF.linear(ln(x, "norm").mean((1, 2)), p["head.weight"], p["head.bias"])


def to_torch(t):
    return torch.from_numpy(t.detach().numpy().copy())


def randomise(module, seed=0):
    """Random values for every parameter (the zero biases and tiny tables would hide
    mistakes in their gradients)."""
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data = minidl.from_numpy(0.3 * rng.standard_normal(tuple(p.shape)))


@pytest.mark.parametrize("size,window,shift", [((9, 10), [4, 4], [2, 2]),
                                               ((9, 10), [4, 3], [0, 0]),
                                               ((3, 10), [4, 4], [2, 1])])
def test_window_attention_matches_torch(size, window, shift):
    minidl.manual_seed(0)
    attn = ShiftedWindowAttention(6, window, shift, num_heads=2).double()
    randomise(attn)
    x = minidl.from_numpy(np.random.default_rng(1).standard_normal((2, *size, 6)))
    x.requires_grad_(True)
    out = attn(x)
    assert out.shape == (2, *size, 6)
    ref = {k: to_torch(v).requires_grad_(v.dtype != minidl.int64)
           for k, v in attn.state_dict().items()}
    tx = to_torch(x).requires_grad_(True)
    expected = torch_window_attention(
        tx, ref["qkv.weight"], ref["qkv.bias"], ref["proj.weight"], ref["proj.bias"],
        ref["relative_position_bias_table"], ref["relative_position_index"], window, 2, shift)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-10)
    g = np.random.default_rng(2).standard_normal(tuple(out.shape))
    (out * minidl.from_numpy(g)).sum().backward()
    (expected * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-9)
    for name, p in attn.named_parameters():
        assert np.abs(p.grad.numpy()).max() > 0, name
        np.testing.assert_allclose(p.grad.numpy(), ref[name].grad.numpy(), atol=1e-9,
                                   err_msg=name)


def test_function_takes_torchvision_arguments():
    rng = np.random.default_rng(0)
    x = minidl.from_numpy(rng.standard_normal((1, 4, 4, 4)))
    qkv, proj = (minidl.from_numpy(rng.standard_normal(s)) for s in [(12, 4), (4, 4)])
    bias = minidl.zeros(1, 2, 4, 4, dtype=minidl.float64)
    out = shifted_window_attention(x, qkv, proj, bias, [2, 2], 2, [1, 1], training=False)
    assert out.shape == (1, 4, 4, 4)
    with pytest.raises(ValueError, match="logit_scale"):
        shifted_window_attention(x, qkv, proj, bias, [2, 2], 2, [1, 1],
                                 logit_scale=minidl.ones(2, 1, 1))


def test_shift_mask_by_hand():
    # 4 x 4 map, 2 x 2 windows, rolled by (1, 1): rows/columns carry regions 0, 0, 1, 2
    mask = shift_mask((4, 4), [2, 2], [1, 1])
    assert mask.shape == (4, 4, 4)
    same = np.array([[0, 0, 0, 0]] * 4)
    assert (mask[0] == 0).all()                          # top-left: one region
    # top-right window: tokens (0,2) (0,3) (1,2) (1,3) from regions 1 2 1 2
    pairs = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(mask[1], np.where(pairs, 0.0, -100.0))
    # bottom-left: regions 3 3 6 6 (row region 1 for row 2, 2 for row 3)
    pairs = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    np.testing.assert_array_equal(mask[2], np.where(pairs, 0.0, -100.0))
    np.testing.assert_array_equal(mask[3], np.where(np.eye(4), 0.0, -100.0) + same)
    np.testing.assert_array_equal(mask, torch_mask(4, 4, [2, 2], [1, 1]).numpy())
    np.testing.assert_array_equal(shift_mask((12, 9), [4, 3], [2, 1]),
                                  torch_mask(12, 9, [4, 3], [2, 1]).numpy())


def test_whole_network_matches_torch():
    minidl.manual_seed(0)
    depths, heads, window, patch = [2, 2], [2, 4], [3, 3], [2, 2]
    model = SwinTransformer(patch, 8, depths, heads, window, mlp_ratio=2.0,
                            stochastic_depth_prob=0.0, num_classes=5, in_channels=2).double()
    randomise(model)
    model.eval()
    ref = {k: to_torch(v).requires_grad_(v.dtype != minidl.int64)
           for k, v in model.state_dict().items()}
    # 14 x 18 -> 7 x 9 tokens (padded to 9 x 9) -> merged to 4 x 5 (padded to 6 x 6)
    x = np.random.default_rng(0).standard_normal((2, 2, 14, 18))
    out = model(minidl.from_numpy(x))
    expected = torch_swin(ref, torch.from_numpy(x), depths, heads, window, patch)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-9)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * minidl.from_numpy(g)).sum().backward()
    (expected * torch.from_numpy(g)).sum().backward()
    for name, p in model.named_parameters():
        assert np.abs(p.grad.numpy()).max() > 0, name
        np.testing.assert_allclose(p.grad.numpy(), ref[name].grad.numpy(), atol=1e-8,
                                   err_msg=name)


@pytest.mark.parametrize("builder,count", [(swin_t, 28_288_354), (swin_s, 49_606_258),
                                           (swin_b, 87_768_224)])
def test_parameter_counts_equal_torchvision(builder, count, no_random_init):  # noqa: F811
    assert n_params(builder()) == count


def test_key_names_are_torchvision_s(no_random_init):  # noqa: F811
    model = swin_t()
    k = keys(model)
    assert k[:4] == ["features.0.0.weight", "features.0.0.bias", "features.0.2.weight",
                     "features.0.2.bias"]
    block = [n[len("features.1.0."):] for n in k if n.startswith("features.1.0.")]
    assert block == ["norm1.weight", "norm1.bias", "attn.relative_position_bias_table",
                     "attn.relative_position_index", "attn.qkv.weight", "attn.qkv.bias",
                     "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                     "mlp.0.weight", "mlp.0.bias", "mlp.3.weight", "mlp.3.bias"]
    assert [n for n in k if n.startswith("features.2.")] == [
        "features.2.reduction.weight", "features.2.norm.weight", "features.2.norm.bias"]
    assert k[-4:] == ["norm.weight", "norm.bias", "head.weight", "head.bias"]
    attn = model.features[5][5].attn
    assert attn.relative_position_bias_table.shape == (169, 12)
    assert attn.relative_position_index.shape == (49 * 49,) and attn.shift_size == [3, 3]
    assert model.features[5][0].attn.shift_size == [0, 0]
    probs = [b.stochastic_depth.p for stage in (1, 3, 5, 7) for b in model.features[stage]]
    np.testing.assert_allclose(probs, 0.2 * np.arange(12) / 11)


def test_initialisation_and_index():
    model = swin_mini(num_classes=10, in_channels=1)
    block = model.features[1][0]
    table = block.attn.relative_position_bias_table.detach().numpy()
    assert table.shape == (169, 3) and 0.015 < table.std() < 0.025
    # inside the network every Linear (the MLP's too) is trunc-normal(0.02), bias 0
    w = block.mlp[0].weight.detach().numpy()
    assert 0.015 < w.std() < 0.025 and not block.mlp[0].bias.detach().numpy().any()
    index = block.attn.relative_position_index.numpy().reshape(49, 49)
    assert index[0, 0] == index[48, 48] == 84 and index[0, 48] == 0 and index[48, 0] == 168


def test_swin_mini_trains():
    minidl.manual_seed(0)
    model = swin_mini(num_classes=10, in_channels=1)
    rng = np.random.default_rng(0)
    x = minidl.from_numpy(rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    y = minidl.from_numpy(np.array([3, 7]))
    assert model(x).shape == (2, 10)
    model.eval()
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    assert F.cross_entropy(model(x), y).item() < loss.item()


def test_patch_merging_odd_sizes():
    merge = PatchMerging(4)
    assert merge(minidl.randn(2, 5, 7, 4)).shape == (2, 3, 4, 8)
    with pytest.raises(ValueError, match="PatchMerging"):
        merge(minidl.randn(2, 4, 4, 3))


def test_bad_arguments_raise_early():
    args = dict(patch_size=[2, 2], embed_dim=8, depths=[2], num_heads=[2], window_size=[3, 3])
    with pytest.raises(ValueError, match="window_size"):
        SwinTransformer(**{**args, "window_size": 3})
    with pytest.raises(ValueError, match="window_size"):
        SwinTransformer(**{**args, "window_size": [3, 0]})
    with pytest.raises(ValueError, match="patch_size"):
        SwinTransformer(**{**args, "patch_size": [2, 2, 2]})
    with pytest.raises(ValueError, match="depths and num_heads"):
        SwinTransformer(**{**args, "num_heads": [2, 4]})
    with pytest.raises(ValueError, match=r"SwinTransformer\(embed_dim=\) must be an int >= 1"):
        SwinTransformer(**{**args, "embed_dim": 0})
    with pytest.raises(ValueError, match="num_heads"):
        SwinTransformer(**{**args, "num_heads": [3]})
    with pytest.raises(ValueError, match="window_size and shift_size"):
        ShiftedWindowAttention(8, [3, 3, 3], [0, 0], 2)
    model = SwinTransformer(**args, in_channels=1)
    with pytest.raises(ValueError, match="in_channels=1"):
        model(minidl.randn(1, 3, 8, 8))
    assert isinstance(model.features[0][2], nn.LayerNorm)


def test_any_image_size_and_stochastic_depth_in_training_only():
    m = swin_mini(num_classes=3, in_channels=1, stochastic_depth_prob=0.5)
    assert m.features[3][1].stochastic_depth.p == 0.5
    x = minidl.randn(2, 1, 30, 22)
    with minidl.no_grad():
        a, b = m(x), m(x)
        m.eval()
        c, d = m(x), m(x)
    assert tuple(a.shape) == (2, 3) and not np.allclose(a.numpy(), b.numpy())
    np.testing.assert_array_equal(c.numpy(), d.numpy())
