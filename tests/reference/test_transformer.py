"""nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder / Transformer against
torch's: torch's state_dict loaded into the minidl module (whose parameter names must be
torch's), the same inputs; outputs and the gradients of the inputs and of every parameter
compared in eval mode, float64 and float32, over norm_first, batch_first, gelu, a callable
activation, bias=False, attention / key padding / causal masks, unbatched input and the
encoder's nested-tensor path; construction (deep copies, xavier init, refusals)."""
import warnings

import numpy as np
import pytest
import torch

import minidl
from tests.reference.harness import TOL, assert_close

D, H, FF = 4, 2, 6
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]


def _build(lib, kind, n_layers, **kw):
    nn = lib.nn
    if kind == "enc_layer":
        return nn.TransformerEncoderLayer(D, H, FF, **kw)
    if kind == "dec_layer":
        return nn.TransformerDecoderLayer(D, H, FF, **kw)
    if kind == "encoder":
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, **kw), n_layers,
                                     nn.LayerNorm(D))
    if kind == "decoder":
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, FF, **kw), n_layers,
                                     nn.LayerNorm(D))
    return nn.Transformer(D, H, n_layers, n_layers, FF, **kw)


def _pair(kind, dtype, n_layers=2, **kw):
    """(minidl module, torch module) in eval mode with torch's weights loaded into minidl."""
    torch.manual_seed(0)
    t = _build(torch, kind, n_layers, **kw).to(getattr(torch, dtype)).eval()
    m = _build(minidl, kind, n_layers, **kw).to(getattr(minidl, dtype)).eval()
    state = t.state_dict()
    for v in state.values():  # the LayerNorms away from 1 / 0, so their gradients matter
        if v.dim() == 1:
            v.add_(torch.randn(v.shape, dtype=v.dtype) * 0.1)
    assert list(m.state_dict()) == list(state)
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in state.items()})
    return m, t


def _seqs(batch_first, n=2, lengths=(3, 5), unbatched=False):
    rng = np.random.default_rng(1)
    if unbatched:
        return [rng.standard_normal((s, D)) for s in lengths]
    return [rng.standard_normal((n, s, D) if batch_first else (s, n, D)) for s in lengths]


def run_both(kind, arrays, dtype="float64", masks=None, n_layers=2, **kw):
    """Forward both modules on ``arrays`` (+ ``masks``: name -> array or bool), then backward
    of the same random upstream gradient; compare the output and every gradient."""
    m_mod, t_mod = _pair(kind, dtype, n_layers, **kw)
    tol = TOL[dtype]
    outs, leaves = [], []
    for lib, mod in ((minidl, m_mod), (torch, t_mod)):
        xs = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        extra = {k: lib.tensor(v.astype(dtype) if v.dtype.kind == "f" else v)
                 if isinstance(v, np.ndarray) else v for k, v in (masks or {}).items()}
        out = mod(*xs, **extra)
        g = np.random.default_rng(2).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(g))
        outs.append(out)
        leaves.append((xs, dict(mod.named_parameters())))
    assert_close(outs[0], outs[1], what="output", **tol)
    for i, (a, b) in enumerate(zip(leaves[0][0], leaves[1][0])):
        assert_close(a.grad, b.grad, what=f"grad of input {i}", **tol)
    assert list(leaves[0][1]) == list(leaves[1][1])
    for name, p in leaves[1][1].items():
        assert_close(leaves[0][1][name].grad, p.grad, what=f"grad of {name}", **tol)
    return outs


STYLES = [dict(), dict(norm_first=True), dict(batch_first=True),
          dict(batch_first=True, norm_first=True, activation="gelu")]
STYLE_IDS = ["post", "pre", "batch_first", "pre_gelu_batch_first"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize("kind", ["enc_layer", "encoder"])
def test_encoder(kind, kw, dtype):
    run_both(kind, _seqs(kw.get("batch_first", False), lengths=(5,)), dtype, **kw)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", STYLES, ids=STYLE_IDS)
@pytest.mark.parametrize("kind", ["dec_layer", "decoder", "transformer"])
def test_decoder_and_transformer(kind, kw, dtype):
    src, tgt = _seqs(kw.get("batch_first", False), lengths=(5, 3))
    run_both(kind, [tgt, src] if kind != "transformer" else [src, tgt], dtype, **kw)


def _padding(n, s):
    pad = np.zeros((n, s), bool)
    pad[0, -2:] = True
    return pad


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_masks(batch_first):
    """Causal target mask (float, detected as causal), bool source mask, key padding masks
    for source, target and memory, a memory mask."""
    src, tgt = _seqs(batch_first, lengths=(5, 3))
    src_mask = np.zeros((5, 5), bool)
    src_mask[1, 3] = True
    masks = {"src_mask": src_mask,
             "tgt_mask": minidl.nn.Transformer.generate_square_subsequent_mask(3).numpy(),
             "memory_mask": np.where(np.eye(3, 5, 1) > 0, -1.5, 0.0),
             "src_key_padding_mask": _padding(2, 5), "tgt_key_padding_mask": _padding(2, 3),
             "memory_key_padding_mask": _padding(2, 5)}
    run_both("transformer", [src, tgt], masks=masks, batch_first=batch_first)


@pytest.mark.parametrize("is_causal", [None, True])
def test_encoder_causal(is_causal):
    (x,) = _seqs(False, lengths=(4,))
    mask = minidl.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    run_both("encoder", [x], masks={"mask": mask, "is_causal": is_causal})
    run_both("decoder", _seqs(False, lengths=(4, 3)),
             masks={"tgt_mask": mask, "tgt_is_causal": is_causal})


def test_variants():
    """A callable activation, bias=False, layer_norm_eps, unbatched input, one layer."""
    run_both("encoder", _seqs(False, lengths=(5,)), activation="gelu", layer_norm_eps=0.3,
             n_layers=1)
    run_both("dec_layer", _seqs(False, lengths=(3, 5)), bias=False)
    run_both("transformer", _seqs(False, lengths=(5, 3), unbatched=True), n_layers=1)
    torch.manual_seed(0)
    t_mod = torch.nn.TransformerEncoderLayer(D, H, FF, activation=torch.tanh).double().eval()
    m_mod = minidl.nn.TransformerEncoderLayer(D, H, FF, activation=minidl.tanh).double().eval()
    m_mod.load_state_dict({k: v.numpy().copy() for k, v in t_mod.state_dict().items()})
    (x,) = _seqs(False, lengths=(5,))
    assert_close(m_mod(minidl.tensor(x)), t_mod(torch.tensor(x)), **TOL["float64"])


@pytest.mark.parametrize("mask_check", [True, False])
def test_nested_tensor_path(mask_check):
    """Eval, no grad, batch_first, key padding: torch packs a nested tensor and pads the
    output with zeros; minidl gives the same, also for a not-left-aligned mask."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, D))
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = True
    pad[1, 1] = True  # not left-aligned
    results = []
    torch.manual_seed(0)
    enc_t = _build(torch, "encoder", 2, batch_first=True).double().eval()
    enc_t.mask_check = mask_check
    enc_m = _build(minidl, "encoder", 2, batch_first=True).double().eval()
    enc_m.mask_check = mask_check
    enc_m.load_state_dict({k: v.numpy().copy() for k, v in enc_t.state_dict().items()})
    for lib, enc in ((minidl, enc_m), (torch, enc_t)):
        with lib.no_grad():
            results.append(enc(lib.tensor(x), src_key_padding_mask=lib.tensor(pad)))
    assert_close(results[0], results[1], **TOL["float64"])
    aligned = pad.copy()
    aligned[1, 1] = False
    with minidl.no_grad():
        nested = enc_m(minidl.tensor(x), src_key_padding_mask=minidl.tensor(aligned))
        enc_m.use_nested_tensor = False
        dense = enc_m(minidl.tensor(x), src_key_padding_mask=minidl.tensor(aligned))
    valid = ~aligned
    np.testing.assert_allclose(nested.numpy()[valid], dense.numpy()[valid], rtol=1e-10)
    assert not np.allclose(nested.numpy()[~valid], dense.numpy()[~valid])


def test_construction():
    layer = minidl.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = minidl.nn.TransformerEncoder(layer, 3)
    assert any("batch_first was not True" in str(w.message) for w in caught)
    assert not enc.use_nested_tensor and enc.enable_nested_tensor
    assert len(enc.layers) == 3 and enc.layers[0] is not layer
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[2].linear1.weight.detach().numpy(),
                                  layer.linear1.weight.detach().numpy())
    model = minidl.nn.Transformer(8, 2, 1, 1, 16, dtype=minidl.float64)
    w = model.encoder.layers[0].linear1.weight.detach()
    bound = np.sqrt(6 / (8 + 16))
    assert w.dtype == minidl.float64 and np.abs(w.numpy()).max() <= bound
    assert np.abs(w.numpy()).max() > 0.8 * bound  # xavier_uniform_, not Linear's init
    assert model.d_model == 8 and model.nhead == 2 and model.batch_first is False
    mask = minidl.nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer
                                  .generate_square_subsequent_mask(3).numpy())
    assert mask.dtype == minidl.float32
    assert minidl.nn.Transformer.generate_square_subsequent_mask(
        2, dtype=minidl.float64).dtype == minidl.float64
    for bad in (-1, 2.5, True):
        with pytest.raises(TypeError, match="sz must be a non-negative integer"):
            minidl.nn.Transformer.generate_square_subsequent_mask(bad)
    custom = minidl.nn.TransformerEncoder(layer, 1)
    for activation, why in ((minidl.nn.GELU(), None), (minidl.nn.ReLU(), None),
                            ("gelu", None), (minidl.tanh, "activation_relu_or_gelu")):
        fast = minidl.nn.TransformerEncoderLayer(D, H, FF, activation=activation,
                                                 batch_first=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            enc = minidl.nn.TransformerEncoder(fast, 1)
        assert enc.use_nested_tensor is (why is None)
        assert why is None or why in str(caught[0].message)
    assert minidl.nn.Transformer(D, H, custom_encoder=custom).encoder is custom


@pytest.mark.parametrize("build, error, name", [
    (lambda nn: nn.TransformerEncoderLayer(D, H, activation="tanh"), RuntimeError, "tanh"),
    (lambda nn: nn.TransformerEncoderLayer(D, H, activation=3), TypeError, "activation"),
    (lambda nn: nn.TransformerDecoderLayer(D, H, batch_first=1), TypeError, "batch_first"),
    (lambda nn: nn.TransformerEncoderLayer(D, H, norm_first="no"), TypeError, "norm_first"),
    (lambda nn: nn.TransformerEncoderLayer(D, 3), AssertionError, "embed_dim"),
    (lambda nn: nn.TransformerEncoder(nn.Linear(2, 2), 0), ValueError, "num_layers"),
    (lambda nn: nn.TransformerDecoder("layer", 2), TypeError, "decoder_layer"),
    (lambda nn: nn.TransformerEncoder(nn.Linear(2, 2), 1, norm=3), TypeError, "norm"),
    (lambda nn: nn.Transformer(D, H, custom_decoder=4), TypeError, "custom_decoder"),
])
def test_refusals(build, error, name):
    with pytest.raises(error, match=name):
        build(minidl.nn)


def test_forward_errors():
    model = minidl.nn.Transformer(D, H, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number"):
        model(minidl.zeros(5, 2, D), minidl.zeros(3, 1, D))
    with pytest.raises(RuntimeError, match="d_model"):
        model(minidl.zeros(5, 2, D), minidl.zeros(3, 2, D + 1))
