"""``TransformerEncoderLayer`` and ``TransformerEncoder`` (torch's signatures, submodule names
and results), plus the helpers the decoder and ``Transformer`` share.

A layer is self-attention then a position-wise feed-forward network, each wrapped in a
residual connection with LayerNorm after it (Vaswani et al., 2017, "Attention Is All You
Need") or, with ``norm_first``, before it (Xiong et al., 2020, "On Layer Normalization in
the Transformer Architecture", Fig. 1).
"""
import copy
import warnings

import numpy as np

from ... import _creation
from ...autograd.grad_mode import is_grad_enabled
from .. import functional as F
from .activation import GELU, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .multihead_attention import MultiheadAttention
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]


def _activation_fn(activation):
    """'relu' / 'gelu' -> F.relu / F.gelu (torch's RuntimeError for another string); a
    callable is used as it is."""
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be a bool, got {type(value).__name__}")


def _clones(module, n):
    """``n`` deep copies of ``module`` in a ModuleList (torch's ``_get_clones``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"num_layers should be a positive integer, got {n!r}")
    return ModuleList([copy.deepcopy(module) for _ in range(int(n))])


def square_subsequent_mask(sz, device=None, dtype=None):
    """The (sz, sz) causal mask: float -inf above the diagonal, 0 elsewhere."""
    if isinstance(sz, bool) or not isinstance(sz, (int, np.integer)) or sz < 0:
        raise TypeError(f"generate_square_subsequent_mask(): sz must be a non-negative "
                        f"integer, got {sz!r}")
    return _creation.full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(1)


def _as_float_mask(mask):
    """A bool mask as the additive float mask torch compares (True -> -inf), else as is."""
    if mask is None or mask.is_floating_point():
        return mask
    return _creation.zeros(tuple(mask.shape)).masked_fill(mask, float("-inf"))


def seq_len(x, batch_first):
    """The sequence length of ``x``: (S, E), (N, S, E) with batch_first, else (S, N, E)."""
    return x.shape[0] if x.dim() == 2 else x.shape[1 if batch_first else 0]


def detect_is_causal(mask, is_causal, size):
    """torch's ``_detect_is_causal_mask``: ``is_causal`` when given, else whether ``mask`` is
    exactly the (size, size) causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    mask = _as_float_mask(mask)
    sz = size if size is not None else mask.shape[-2]
    if tuple(mask.shape) != (sz, sz):
        return False
    causal = np.triu(np.full((sz, sz), -np.inf), 1)
    return bool(np.array_equal(mask.detach().numpy(), causal))


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network (``linear1`` -> activation -> ``dropout``
    -> ``linear2``), each with dropout (``dropout1`` / ``dropout2``), a residual connection
    and LayerNorm (``norm1`` / ``norm2``), post-norm or, with ``norm_first``, pre-norm."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        _check_flag(batch_first, "batch_first")
        _check_flag(norm_first, "norm_first")
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src``: (S, E), (S, N, E), or (N, S, E) with batch_first; ``src_mask`` (S, S) or
        (N * nhead, S, S), bool (True: not attended) or additive float;
        ``src_key_padding_mask`` (N, S) likewise; ``is_causal``: a hint that ``src_mask``
        is the causal mask."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _check_stack_args(layer, name, norm):
    """The layer and final norm of an encoder / decoder stack must be Modules (torch's
    errors)."""
    if not isinstance(layer, Module):
        raise TypeError(f"{name} should be a Module, got {type(layer).__name__}")
    if norm is not None and not isinstance(norm, Module):
        raise TypeError(f"norm should be a Module or None, got {type(norm).__name__}")


def _why_no_nested(layer):
    """torch's reasons (at construction) for not taking the nested-tensor path, or ''."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    attn = layer.self_attn
    for broken, why in (
            (layer.norm_first, "encoder_layer.norm_first was True"),
            (not attn.batch_first, "encoder_layer.self_attn.batch_first was not True(use "
                                   "batch_first for better inference performance)"),
            (not attn._qkv_same_embed_dim,
             "encoder_layer.self_attn._qkv_same_embed_dim was not True"),
            (attn.in_proj_bias is None, "encoder_layer.self_attn was passed bias=False"),
            (not layer.activation_relu_or_gelu,
             "encoder_layer.activation_relu_or_gelu was not True"),
            (layer.norm1.eps != layer.norm2.eps,
             "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"),
            (attn.num_heads % 2 == 1, "encoder_layer.self_attn.num_heads is odd")):
        if broken:
            return why
    return ""


def _left_aligned(valid):
    """Whether every row of the (N, S) bool ``valid`` is True...True False...False."""
    return bool((np.diff(valid.astype(np.int8), axis=1) <= 0).all())


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0`` ...), then ``norm``.

    ``enable_nested_tensor`` is torch's inference optimisation: where torch would pack the
    input into a nested tensor (batch_first post-norm relu/gelu layers with an even number
    of heads and biases, eval mode, no gradient needed, a ``src_key_padding_mask`` and no
    ``mask``), each sequence is run on its first ``n_b`` positions only (``n_b`` its
    number of unpadded keys) and the padded positions of the output are 0 before ``norm``
    -- torch's results, computed densely with the equivalent padding mask. ``mask_check``
    (default True) takes that path only when every padding mask row is left-aligned
    (``False...False True...True``); without it, torch's behaviour for other masks too.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        _check_stack_args(encoder_layer, "encoder_layer", norm)
        _check_flag(enable_nested_tensor, "enable_nested_tensor")
        _check_flag(mask_check, "mask_check")
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", stacklevel=2)
            self.use_nested_tensor = False

    def _nested_lengths(self, src, mask, src_key_padding_mask):
        """The unpadded length of each sequence where torch takes the nested path, else
        None."""
        first = self.layers[0]
        if (not self.use_nested_tensor or first.training or src.dim() != 3
                or src_key_padding_mask is None or mask is not None):
            return None
        padded = src_key_padding_mask.detach().numpy()
        valid = ~padded if padded.dtype == np.bool_ else padded == 0
        if self.mask_check and not _left_aligned(valid):
            return None
        attn = first.self_attn
        tensors = [src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                   attn.out_proj.bias, first.norm1.weight, first.norm1.bias, first.norm2.weight,
                   first.norm2.bias, first.linear1.weight, first.linear1.bias,
                   first.linear2.weight, first.linear2.bias]
        if is_grad_enabled() and any(t.requires_grad for t in tensors):
            return None
        return valid.sum(1)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """``src`` through each layer in turn, then ``norm``; ``is_causal=None`` detects
        whether ``mask`` is the causal mask (torch's ``_detect_is_causal_mask``)."""
        lengths = self._nested_lengths(src, mask, src_key_padding_mask)
        padding = src_key_padding_mask
        if lengths is not None:
            beyond = np.arange(src.shape[1])[None, :] >= lengths[:, None]
            padding = _creation.tensor(beyond)
        first = self.layers[0]
        is_causal = detect_is_causal(mask, is_causal, seq_len(src, first.self_attn.batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=padding)
        if lengths is not None:
            output = output.masked_fill(padding.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output
