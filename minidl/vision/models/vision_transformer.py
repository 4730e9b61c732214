"""The Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words").

An image is cut into P x P patches; each patch, flattened and projected linearly (one
convolution with kernel and stride P), is a word. A learned class token is put in front,
learned position embeddings are added, and a Transformer encoder of pre-LN blocks reads the
sequence::

    x = x + Dropout(MHA(LN(x)))          (self-attention over all patches)
    x = x + MLP(LN(x))                   (Linear - GELU - Dropout - Linear - Dropout)

The head classifies the class token's output after a final LayerNorm. Layout, arguments and
initialisation are torchvision's (``conv_proj``, ``class_token``, ``encoder.pos_embedding``,
``encoder.layers.encoder_layer_{i}``, ``encoder.ln``, ``heads.head``), so a torchvision
state_dict loads by key.

=================  =====  ======  ======  =====  ====  ============
builder            patch  layers  hidden  heads  MLP   params
=================  =====  ======  ======  =====  ====  ============
``vit_b_16``       16     12      768     12     3072   86,567,656
``vit_b_32``       32     12      768     12     3072   88,224,232
``vit_l_16``       16     24      1024    16     4096  304,326,632
``vit_l_32``       32     24      1024    16     4096  306,535,400
``vit_h_14``       14     32      1280    16     5120  632,045,800
``vit_mini``       4      6       64      4      128   (28 x 28 images, not in torchvision)
=================  =====  ======  ======  =====  ====  ============

(parameters for 1000 classes at 224 x 224; ``vit_h_14`` at 224 too, where torchvision's
weights are for 518.)
"""
import math
from collections import OrderedDict
from functools import partial
from typing import Callable, NamedTuple

from ... import nn
from ..._checks import positive_int
from ..._creation import empty
from ...ops.join import cat
from ..ops.misc import MLP
from ._api import register_model
from ._utils import Conv2dNormActivation, _check_weights

__all__ = ["VisionTransformer", "ConvStemConfig", "MLPBlock", "EncoderBlock", "Encoder",
           "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14", "vit_mini"]


LAYER_NORM = partial(nn.LayerNorm, eps=1e-6)  # torchvision's default norm_layer


class ConvStemConfig(NamedTuple):
    """One conv - norm - activation layer of a convolutional stem (Xiao et al. 2021)."""

    out_channels: int
    kernel_size: int
    stride: int
    norm_layer: Callable = nn.BatchNorm2d
    activation_layer: Callable = nn.ReLU


class MLPBlock(MLP):
    """The position-wise feed-forward part: Linear(in, mlp) - GELU - Dropout - Linear(mlp,
    in) - Dropout; weights Xavier-uniform, biases N(0, 1e-6^2)."""

    def __init__(self, in_dim, mlp_dim, dropout):
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """x + Dropout(MHA(LN(x))), then that + MLP(LN(that)) (pre-LN)."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=LAYER_NORM):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):
        _check_sequence(input, "EncoderBlock")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Add the learned position embeddings (N(0, 0.02^2), as BERT), dropout, the blocks,
    a final LayerNorm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                 attention_dropout, norm_layer=LAYER_NORM):
        super().__init__()
        self.pos_embedding = nn.Parameter(empty(1, seq_length, hidden_dim))
        nn.init.normal_(self.pos_embedding, std=0.02)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):
        _check_sequence(input, "Encoder")
        if tuple(input.shape[1:]) != tuple(self.pos_embedding.shape[1:]):
            raise ValueError(f"Encoder: expected (batch, {self.pos_embedding.shape[1]}, "
                             f"{self.pos_embedding.shape[2]}) tokens, got {tuple(input.shape)}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """torchvision's VisionTransformer (image_size, patch_size, num_layers, num_heads,
    hidden_dim, mlp_dim, dropout, attention_dropout, num_classes, representation_size,
    norm_layer, conv_stem_configs) plus ``in_channels`` (3; 1 for grey images)."""

    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
                 dropout=0.0, attention_dropout=0.0, num_classes=1000,
                 representation_size=None, norm_layer=LAYER_NORM,
                 conv_stem_configs=None, in_channels=3):
        super().__init__()
        for name, value in (("image_size", image_size), ("patch_size", patch_size),
                            ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                            ("mlp_dim", mlp_dim), ("in_channels", in_channels)):
            positive_int("VisionTransformer", name, value)
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size {image_size} is not divisible by "
                             f"patch_size {patch_size}")
        if hidden_dim % num_heads:
            raise ValueError(f"VisionTransformer: hidden_dim {hidden_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.image_size, self.patch_size = image_size, patch_size
        self.hidden_dim, self.mlp_dim = hidden_dim, mlp_dim
        self.dropout, self.attention_dropout = dropout, attention_dropout
        self.num_classes, self.representation_size = num_classes, representation_size
        self.norm_layer = norm_layer
        self.in_channels = in_channels

        if conv_stem_configs is not None:
            self.conv_proj = nn.Sequential()
            prev = in_channels
            for i, cfg in enumerate(conv_stem_configs):
                self.conv_proj.add_module(f"conv_bn_relu_{i}", Conv2dNormActivation(
                    prev, cfg.out_channels, kernel_size=cfg.kernel_size, stride=cfg.stride,
                    norm_layer=cfg.norm_layer, activation_layer=cfg.activation_layer))
                prev = cfg.out_channels
            self.conv_proj.add_module("conv_last", nn.Conv2d(prev, hidden_dim, kernel_size=1))
        else:
            self.conv_proj = nn.Conv2d(in_channels, hidden_dim, kernel_size=patch_size,
                                       stride=patch_size)

        self.seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(empty(1, 1, hidden_dim))
        nn.init.zeros_(self.class_token)
        self.encoder = Encoder(self.seq_length, num_layers, num_heads, hidden_dim, mlp_dim,
                               dropout, attention_dropout, norm_layer)

        heads = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)
        self._init_weights()

    def _init_weights(self):
        """Patch projection truncated N(0, 1/fan_in); a conv stem's last 1x1 conv N(0,
        2/out); pre-logits truncated N(0, 1/fan_in); the head zero (torchvision's rule)."""
        if isinstance(self.conv_proj, nn.Conv2d):
            fan_in = self.conv_proj.in_channels * self.patch_size ** 2
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            nn.init.zeros_(self.conv_proj.bias)
        else:
            last = self.conv_proj.conv_last
            nn.init.normal_(last.weight, std=math.sqrt(2.0 / last.out_channels))
            nn.init.zeros_(last.bias)
        if "pre_logits" in self.heads._modules:
            pre = self.heads.pre_logits
            nn.init.trunc_normal_(pre.weight, std=math.sqrt(1 / pre.in_features))
            nn.init.zeros_(pre.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        """(N, C, H, W) images -> (N, patches, hidden) patch embeddings, row by row."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"VisionTransformer: expected images (N, {self.in_channels}, "
                             f"{self.image_size}, {self.image_size}), got {tuple(x.shape)}")
        n, _, h, w = x.shape
        if h != self.image_size or w != self.image_size:
            raise ValueError(f"VisionTransformer: wrong image size {h} x {w}; this model takes "
                             f"{self.image_size} x {self.image_size}")
        x = self.conv_proj(x)
        return x.reshape(n, self.hidden_dim, -1).permute(0, 2, 1)

    def forward(self, x):
        x = self._process_input(x)
        tokens = cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.heads(self.encoder(tokens)[:, 0])


def _check_sequence(x, who):
    if x.ndim != 3:
        raise ValueError(f"{who}: expected (batch_size, seq_length, hidden_dim), got shape "
                         f"{tuple(x.shape)}")


def _vision_transformer(name, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights,
                        kwargs, image_size=224):
    _check_weights(name, weights, kwargs)
    image_size = kwargs.pop("image_size", image_size)
    return VisionTransformer(image_size=image_size, patch_size=patch_size,
                             num_layers=num_layers, num_heads=num_heads,
                             hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs)


@register_model()
def vit_b_16(*, weights=None, progress=True, **kwargs):
    """ViT-B/16; ``kwargs`` (image_size=224, num_classes, dropout, in_channels, ...) go to
    ``VisionTransformer``."""
    return _vision_transformer("vit_b_16", 16, 12, 12, 768, 3072, weights, kwargs)


@register_model()
def vit_b_32(*, weights=None, progress=True, **kwargs):
    """ViT-B/32 (see ``vit_b_16``)."""
    return _vision_transformer("vit_b_32", 32, 12, 12, 768, 3072, weights, kwargs)


@register_model()
def vit_l_16(*, weights=None, progress=True, **kwargs):
    """ViT-L/16 (see ``vit_b_16``)."""
    return _vision_transformer("vit_l_16", 16, 24, 16, 1024, 4096, weights, kwargs)


@register_model()
def vit_l_32(*, weights=None, progress=True, **kwargs):
    """ViT-L/32 (see ``vit_b_16``)."""
    return _vision_transformer("vit_l_32", 32, 24, 16, 1024, 4096, weights, kwargs)


@register_model()
def vit_h_14(*, weights=None, progress=True, **kwargs):
    """ViT-H/14 (see ``vit_b_16``)."""
    return _vision_transformer("vit_h_14", 14, 32, 16, 1280, 5120, weights, kwargs)


@register_model()
def vit_mini(*, weights=None, progress=True, **kwargs):
    """A small ViT for 28 x 28 images (not in torchvision): 4 x 4 patches (7 x 7 = 49 words
    plus the class token), 6 layers, hidden 64, 4 heads, MLP 128."""
    return _vision_transformer("vit_mini", 4, 6, 4, 64, 128, weights, kwargs, image_size=28)
