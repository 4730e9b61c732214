"""Cases for ``nn.TransformerEncoderLayer`` / ``DecoderLayer`` / ``Encoder`` / ``Decoder``
/ ``Transformer``. Base calls: d_model 4, 2 heads, feed-forward 6, dropout 0 on ``b``
(2, 3, 4) read as (S, N, E); the decoders and Transformer take ``b`` as both target and
source. The encoder's nested-tensor keywords only act in eval mode without gradients, so
their cases run there, against torch with the same weights."""
import numpy as np
import torch as real_torch

from .checks import ByName, Custom, Differs, Refused, Warns, each

_LAYERS = "nn.TransformerEncoderLayer nn.TransformerDecoderLayer"
_LAYERED = f"{_LAYERS} nn.Transformer"
_X = np.random.default_rng(0).standard_normal((3, 5, 4))
_ALIGNED = np.zeros((3, 5), bool)
_ALIGNED[0, 3:] = True
_ALIGNED[2, 4] = True
_PAD = _ALIGNED.copy()
_PAD[1, 1] = True  # not left-aligned


def _encoder_outputs(lib, pad=_PAD, **kw):
    """A batch_first encoder's output in eval mode without gradients (torch's weights)."""
    real_torch.manual_seed(0)
    reference = real_torch.nn.TransformerEncoder(
        real_torch.nn.TransformerEncoderLayer(4, 2, 6, 0.0, batch_first=True), 1, **kw).eval()
    encoder = lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(4, 2, 6, 0.0, batch_first=True), 1, **kw).eval()
    encoder.load_state_dict({k: v.numpy().copy() for k, v in reference.state_dict().items()})
    outs = []
    for module, space in ((encoder, lib), (reference, real_torch)):
        with space.no_grad():
            outs.append(module(space.tensor(_X, dtype=space.float32),
                               src_key_padding_mask=space.tensor(pad)).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-5)
    return outs[0]


def _nested(torch):
    """enable_nested_tensor: padded positions come out 0 (torch's nested path), as torch."""
    on = _encoder_outputs(torch, _ALIGNED)
    off = _encoder_outputs(torch, _ALIGNED, enable_nested_tensor=False)
    np.testing.assert_allclose(on[~_ALIGNED], off[~_ALIGNED], rtol=1e-5)
    assert (on[_ALIGNED] == 0).all() and not (off[_ALIGNED] == 0).any()


def _mask_check(torch):
    """mask_check=False packs a not-left-aligned mask as torch does: the first n_b positions."""
    checked, unchecked = _encoder_outputs(torch), _encoder_outputs(torch, mask_check=False)
    assert not (checked[1, 4] == 0).any() and (unchecked[1, 4] == 0).all()


def _d_model(torch):
    model = torch.nn.Transformer(d_model=6, nhead=2, num_encoder_layers=1,
                                 num_decoder_layers=1, dim_feedforward=8)
    assert tuple(model.encoder.layers[0].linear1.weight.shape) == (8, 6)
    assert model.d_model == 6 and tuple(model.decoder.norm.weight.shape) == (6,)


_ENC = "nn.TransformerEncoderLayer(4, 2, 6, 0.0)"
_DEC = "nn.TransformerDecoderLayer(4, 2, 6, 0.0)"

TRANSFORMER_CASES = {
    **each(_LAYERED, "dim_feedforward", Differs("8")),
    **each(_LAYERED, "dropout", Differs("0.5"), Refused("1.5", ValueError, "dropout")),
    **each(_LAYERED, "activation", Differs("'gelu'"), Differs("torch.tanh"),
           Refused("'tanh'", RuntimeError, "tanh"), Refused("3", TypeError, "activation")),
    **each(_LAYERED, "layer_norm_eps", Differs("0.5")),
    **each(_LAYERED, "batch_first", Differs("True"), Refused("1", TypeError, "batch_first")),
    **each(_LAYERED, "norm_first", Differs("True"), Refused("1", TypeError, "norm_first")),
    ("nn.Transformer", "d_model"): [Custom(_d_model, "d_model sizes every layer")],
    ("nn.Transformer", "nhead"): [Differs("1"), Refused("3", AssertionError, "embed_dim")],
    **each("nn.Transformer", "num_encoder_layers", Differs("2")),
    **each("nn.Transformer", "num_decoder_layers", Differs("2")),
    ("nn.Transformer", "custom_encoder"): [
        Differs(f"nn.TransformerEncoder({_ENC}, 1, nn.Identity())"),
        Refused("3", TypeError, "custom_encoder")],
    ("nn.Transformer", "custom_decoder"): [
        Differs(f"nn.TransformerDecoder({_DEC}, 1, nn.Identity())"),
        Refused("3", TypeError, "custom_decoder")],
    **each("nn.TransformerEncoder nn.TransformerDecoder", "num_layers", ByName(),
           Differs("1"), Refused("0", ValueError, "num_layers")),
    **each("nn.TransformerEncoder nn.TransformerDecoder", "norm", Differs("nn.LayerNorm(4)"),
           Refused("3", TypeError, "norm")),
    ("nn.TransformerEncoder", "enable_nested_tensor"): [
        Custom(_nested, "the nested-tensor path zeroes the padded positions, as torch's"),
        Warns("True", "use_nested_tensor is False because")],
    ("nn.TransformerEncoder", "mask_check"): [
        Custom(_mask_check, "mask_check keeps a not-left-aligned mask off the nested path")],
}
