"""The Swin Transformer (Liu et al. 2021, "Hierarchical Vision Transformer using Shifted
Windows"), v1, with torchvision's layout, arguments and initialisation.

Self-attention is computed inside non-overlapping M x M windows of the (N, H, W, C) token
map, so its cost grows with H W, not (H W)^2. Each window's scores get a learned bias per
head for every relative offset (dy, dx) in [-(M-1), M-1]^2:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + B) V,   B[i, j] = table[index(i - j)]

Every second block shifts the map cyclically by (M/2, M/2) first, so the windows straddle the
previous ones' borders; tokens that the roll brings together from different regions of the
map are kept apart by a -100 added to their scores (the shift mask). Between stages a patch
merging layer concatenates each 2 x 2 neighbourhood (4C) and projects it to 2C: the map halves
and the width doubles, as in a CNN. Blocks are pre-LN with stochastic depth rising linearly
over the blocks::

    x = x + DropPath(W-MSA or SW-MSA(LN(x)));   x = x + DropPath(MLP(LN(x)))

=============  =====  ======  =============  ==============  ===========
builder        patch  embed   depths         heads           params
=============  =====  ======  =============  ==============  ===========
``swin_t``     4      96      2, 2, 6, 2     3, 6, 12, 24     28,288,354
``swin_s``     4      96      2, 2, 18, 2    3, 6, 12, 24     49,606,258
``swin_b``     4      128     2, 2, 18, 2    4, 8, 16, 32     87,768,224
``swin_mini``  2      48      2, 2           3, 6            (28 x 28 grey images)
=============  =====  ======  =============  ==============  ===========

(windows 7 x 7; parameters for 1000 classes). Swin v2 is not built.
"""
from functools import partial

import numpy as np

from ... import nn
from ..._checks import positive_int
from ..._creation import from_numpy, zeros
from ...nn import functional as F
from ...ops.flip_roll import roll
from ...ops.join import cat
from ..ops.misc import MLP, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import register_model
from ._utils import _check_weights

__all__ = ["SwinTransformer", "SwinTransformerBlock", "ShiftedWindowAttention", "PatchMerging",
           "shifted_window_attention", "swin_t", "swin_s", "swin_b", "swin_mini"]


def _pair(value, name, minimum=0):
    value = list(value) if isinstance(value, (list, tuple)) else value
    if not isinstance(value, list) or len(value) != 2 or not all(
            isinstance(v, int) and v >= minimum for v in value):
        raise ValueError(f"{name} must be a list of two ints >= {minimum}, got {value!r}")
    return value


def relative_position_index(window_size):
    """(M_h M_w)^2 indices into the bias table: token pair (i, j) of a window reads row
    (dy + M_h - 1) (2 M_w - 1) + (dx + M_w - 1), (dy, dx) = position i - position j."""
    wh, ww = window_size
    ys, xs = np.meshgrid(np.arange(wh), np.arange(ww), indexing="ij")
    ys, xs = ys.ravel(), xs.ravel()
    dy = ys[:, None] - ys[None, :] + wh - 1
    dx = xs[:, None] - xs[None, :] + ww - 1
    return (dy * (2 * ww - 1) + dx).ravel()


def shift_mask(padded_size, window_size, shift_size):
    """(windows, T, T) additive mask of a map rolled by -shift: 0 where two tokens of a window
    come from the same region of the unrolled map, -100 where not. Along each axis the
    regions are [0, P - M), [P - M, P - s), [P - s, P)."""
    labels = []
    for p, m, s in zip(padded_size, window_size, shift_size):
        pos = np.arange(p)
        labels.append((pos >= p - m).astype(np.int64) + (pos >= p - s if s else 0))
    region = labels[0][:, None] * 3 + labels[1][None, :]  # (P_h, P_w)
    (ph, pw), (wh, ww) = padded_size, window_size
    windows = region.reshape(ph // wh, wh, pw // ww, ww).transpose(0, 2, 1, 3)
    windows = windows.reshape(-1, wh * ww)
    return np.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def shifted_window_attention(input, qkv_weight, proj_weight, relative_position_bias,
                             window_size, num_heads, shift_size, attention_dropout=0.0,
                             dropout=0.0, qkv_bias=None, proj_bias=None, logit_scale=None,
                             training=True):
    """(Shifted) window multi-head self-attention of an (N, H, W, C) map (torchvision's
    function): pad H, W to multiples of the window, roll by -shift, attend within each
    window with ``relative_position_bias`` (1, heads, T, T) and the shift mask added to the
    scores, project, and undo the roll and the padding. A shift is dropped along an axis
    that one window covers whole."""
    if logit_scale is not None:
        raise ValueError("shifted_window_attention: logit_scale is Swin v2's cosine attention, "
                         "which minidl does not build")
    if input.ndim != 4:
        raise ValueError(f"shifted_window_attention: expected an (N, H, W, C) map, got shape "
                         f"{tuple(input.shape)}")
    window_size, shift_size = _pair(window_size, "window_size", 1), _pair(shift_size,
                                                                          "shift_size")
    n, h, w, c = input.shape
    if c % num_heads:
        raise ValueError(f"shifted_window_attention: {c} channels do not split into "
                         f"{num_heads} heads")
    wh, ww = window_size
    pad_b, pad_r = (wh - h % wh) % wh, (ww - w % ww) % ww
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b)) if pad_b or pad_r else input
    ph, pw = h + pad_b, w + pad_r
    shift = [0 if m >= p else s for m, p, s in zip(window_size, (ph, pw), shift_size)]
    if any(shift):
        x = roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    gh, gw, t = ph // wh, pw // ww, wh * ww
    # windows: (N, gh, wh, gw, ww, C) -> (N, gh * gw, T, C)
    x = x.reshape(n, gh, wh, gw, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(n, gh * gw, t, c)
    qkv = F.linear(x, qkv_weight, qkv_bias).reshape(n, gh * gw, t, 3, num_heads, c // num_heads)
    q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # each (N, windows, heads, T, d)
    bias = relative_position_bias.reshape(num_heads, t, t)
    if any(shift):
        mask = shift_mask((ph, pw), window_size, shift)[:, None]  # (windows, 1, T, T)
        bias = bias + from_numpy(mask).to(bias.dtype)
    x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                       dropout_p=attention_dropout if training else 0.0)
    x = F.linear(x.transpose(2, 3).reshape(n, gh * gw, t, c), proj_weight, proj_bias)
    x = F.dropout(x, p=dropout, training=training)
    x = x.reshape(n, gh, gw, wh, ww, c).permute(0, 1, 3, 2, 4, 5).reshape(n, ph, pw, c)
    if any(shift):
        x = roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
    return x[:, :h, :w, :] if pad_b or pad_r else x


class ShiftedWindowAttention(nn.Module):
    """``shifted_window_attention`` with its weights: ``qkv`` (C -> 3C), ``proj``, the bias
    table ((2 M_h - 1)(2 M_w - 1), heads) ~ truncated N(0, 0.02^2) and the buffer
    ``relative_position_index``."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True,
                 attention_dropout=0.0, dropout=0.0):
        super().__init__()
        if len(window_size) != 2 or len(shift_size) != 2:
            raise ValueError("window_size and shift_size must be of length 2")
        if dim % num_heads:
            raise ValueError(f"ShiftedWindowAttention: dim {dim} is not divisible by num_heads "
                             f"{num_heads}")
        self.window_size, self.shift_size = list(window_size), list(shift_size)
        self.num_heads = num_heads
        self.attention_dropout, self.dropout = attention_dropout, dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index",
                             from_numpy(relative_position_index(self.window_size)))

    def get_relative_position_bias(self):
        """(1, heads, T, T): the table's rows for every token pair of a window."""
        t = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.reshape(t, t, self.num_heads).permute(2, 0, 1).unsqueeze(0)

    def forward(self, x):
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, self.get_relative_position_bias(),
            self.window_size, self.num_heads, shift_size=self.shift_size,
            attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, training=self.training)


class SwinTransformerBlock(nn.Module):
    """x + DropPath(attn(norm1(x))), then that + DropPath(mlp(norm2(that))) on (N, H, W, C)."""

    def __init__(self, dim, num_heads, window_size, shift_size, mlp_ratio=4.0, dropout=0.0,
                 attention_dropout=0.0, stochastic_depth_prob=0.0, norm_layer=nn.LayerNorm,
                 attn_layer=ShiftedWindowAttention):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, window_size, shift_size, num_heads,
                               attention_dropout=attention_dropout, dropout=dropout)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.norm2 = norm_layer(dim)
        self.mlp = MLP(dim, [int(dim * mlp_ratio), dim], activation_layer=nn.GELU,
                       dropout=dropout)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x):
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


class PatchMerging(nn.Module):
    """(N, H, W, C) -> (N, ceil(H/2), ceil(W/2), 2C): the 2 x 2 neighbours' features
    concatenated (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]; odd sizes padded
    with zeros), normalised, and projected by ``reduction`` (4C -> 2C, no bias)."""

    def __init__(self, dim, norm_layer=nn.LayerNorm):
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x):
        if x.ndim < 3 or x.shape[-1] != self.dim:
            raise ValueError(f"PatchMerging({self.dim}): expected (..., H, W, {self.dim}), got "
                             f"shape {tuple(x.shape)}")
        h, w = x.shape[-3:-1]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :],
                 x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


class SwinTransformer(nn.Module):
    """torchvision's SwinTransformer (patch_size, embed_dim, depths, num_heads, window_size,
    mlp_ratio, dropout, attention_dropout, stochastic_depth_prob, num_classes, norm_layer,
    block, downsample_layer) plus ``in_channels`` (3; 1 for grey images). Any image size
    works: windows are padded, and a window larger than the map attends to all of it."""

    def __init__(self, patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio=4.0,
                 dropout=0.0, attention_dropout=0.0, stochastic_depth_prob=0.1,
                 num_classes=1000, norm_layer=None, block=None,
                 downsample_layer=PatchMerging, in_channels=3):
        super().__init__()
        patch_size = _pair(patch_size, "patch_size", 1)
        window_size = _pair(window_size, "window_size", 1)
        positive_int("SwinTransformer", "embed_dim", embed_dim)
        positive_int("SwinTransformer", "in_channels", in_channels)
        depths, num_heads = list(depths), list(num_heads)
        if not depths or len(depths) != len(num_heads):
            raise ValueError(f"depths and num_heads must name the same (non-zero) number of "
                             f"stages, got depths={depths}, num_heads={num_heads}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        block = block or SwinTransformerBlock
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-5)
        layers = [nn.Sequential(
            nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size),
            Permute([0, 2, 3, 1]), norm_layer(embed_dim))]
        total, block_id = sum(depths), 0
        for stage, (depth, heads) in enumerate(zip(depths, num_heads)):
            dim = embed_dim * 2 ** stage
            blocks = []
            for i in range(depth):
                blocks.append(block(
                    dim, heads, window_size=window_size,
                    shift_size=[0 if i % 2 == 0 else m // 2 for m in window_size],
                    mlp_ratio=mlp_ratio, dropout=dropout, attention_dropout=attention_dropout,
                    stochastic_depth_prob=stochastic_depth_prob * block_id / max(total - 1, 1),
                    norm_layer=norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*blocks))
            if stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)
        for m in self.modules():  # every Linear, the blocks' MLPs too, as torchvision
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"SwinTransformer: expected images (N, in_channels="
                             f"{self.in_channels}, H, W), got {tuple(x.shape)}")
        x = self.norm(self.features(x))
        return self.head(self.flatten(self.avgpool(self.permute(x))))


def _swin(name, patch_size, embed_dim, depths, num_heads, window_size, stochastic_depth_prob,
          weights, kwargs):
    """The builders' configuration; ``stochastic_depth_prob`` may be overridden (torchvision's
    builders raise a TypeError for it)."""
    _check_weights(name, weights, kwargs)
    kwargs.setdefault("stochastic_depth_prob", stochastic_depth_prob)
    return SwinTransformer(patch_size=patch_size, embed_dim=embed_dim, depths=depths,
                           num_heads=num_heads, window_size=window_size, **kwargs)


@register_model()
def swin_t(*, weights=None, progress=True, **kwargs):
    """Swin-T; ``kwargs`` (num_classes, dropout, in_channels, ...) go to ``SwinTransformer``."""
    return _swin("swin_t", [4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [7, 7], 0.2, weights,
                 kwargs)


@register_model()
def swin_s(*, weights=None, progress=True, **kwargs):
    """Swin-S (see ``swin_t``)."""
    return _swin("swin_s", [4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [7, 7], 0.3, weights,
                 kwargs)


@register_model()
def swin_b(*, weights=None, progress=True, **kwargs):
    """Swin-B (see ``swin_t``)."""
    return _swin("swin_b", [4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [7, 7], 0.5, weights,
                 kwargs)


@register_model()
def swin_mini(*, weights=None, progress=True, **kwargs):
    """A small Swin for 28 x 28 images (not in torchvision): 2 x 2 patches (a 14 x 14 map,
    four 7 x 7 windows), embed 48, two stages of 2 blocks (3 and 6 heads; the second, 7 x 7,
    is one window)."""
    return _swin("swin_mini", [2, 2], 48, [2, 2], [3, 6], [7, 7], 0.1, weights, kwargs)
