"""``Transformer`` (torch's ``torch.nn.modules.transformer``): an encoder stack and a decoder
stack, each with a final LayerNorm (Vaswani et al., 2017, "Attention Is All You Need").
The layers and stacks live in ``transformer_encoder`` / ``transformer_decoder`` and are
re-exported here, as torch has them in this module."""
from .. import functional as F
from .. import init
from .module import Module
from .normalization import LayerNorm
from .transformer_decoder import TransformerDecoder, TransformerDecoderLayer
from .transformer_encoder import (
    TransformerEncoder,
    TransformerEncoderLayer,
    _check_flag,
    square_subsequent_mask,
)

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


class Transformer(Module):
    """``encoder`` (``num_encoder_layers`` TransformerEncoderLayers and a LayerNorm) and
    ``decoder`` (likewise), or ``custom_encoder`` / ``custom_decoder``; every parameter of
    more than one dimension is then re-initialised with ``xavier_uniform_`` (torch's
    ``_reset_parameters``)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        _check_flag(batch_first, "batch_first")
        factory = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        for name, custom in (("custom_encoder", custom_encoder),
                             ("custom_decoder", custom_decoder)):
            if custom is not None and not isinstance(custom, Module):
                raise TypeError(f"{name} should be a Module or None, got "
                                f"{type(custom).__name__}")
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **factory), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **factory), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """``src`` (S, E) / (S, N, E) / (N, S, E) with batch_first, ``tgt`` likewise with T
        -> the decoder's output, shaped as ``tgt``. Masks: ``src_mask`` (S, S),
        ``tgt_mask`` (T, T), ``memory_mask`` (T, S), key padding masks (N, S) / (N, T) /
        (N, S), bool (True: not attended) or additive float; ``*_is_causal`` hints."""
        batched = src.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The (sz, sz) causal mask: float -inf above the diagonal, 0.0 elsewhere."""
        return square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
