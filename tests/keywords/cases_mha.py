"""Cases for ``nn.MultiheadAttention`` and ``F.multi_head_attention_forward``. Base calls:
embed_dim 4, 2 heads on ``b`` (2, 3, 4) as query, key and value. Each keyword is checked
against torch with the same weights: the output (and weights) it gives, or the parameters
it builds, or its refusal."""
import numpy as np
import torch as real_torch

from .checks import Custom

_R = np.random.default_rng(0)
_Q, _K, _V = _R.standard_normal((3, 3, 2, 4))
_K5 = _R.standard_normal((3, 2, 5))


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _pair(torch, ctor=(4, 2), **kw):
    real_torch.manual_seed(0)
    ref = real_torch.nn.MultiheadAttention(*ctor, **kw)
    with real_torch.no_grad():
        for p in ref.parameters():
            p.normal_()
    mod = torch.nn.MultiheadAttention(*ctor, **kw)
    mod.load_state_dict({k: v.detach().numpy().copy() for k, v in ref.state_dict().items()})
    return ref, mod


def _both(torch, kw, call=None, inputs=(_Q, _K, _V)):
    ref, mod = _pair(torch, **kw)
    ref.eval()
    mod.eval()
    call = call or {}
    out = []
    for m, space in ((mod, torch), (ref, real_torch)):
        args = [space.tensor(a, dtype=space.float32) for a in inputs]
        extra = {k: space.tensor(v) if isinstance(v, np.ndarray) else v for k, v in call.items()}
        o, w = m(*args, **extra)
        out.append((o.detach().numpy(), None if w is None else w.detach().numpy()))
    _close(out[0][0], out[1][0])
    assert (out[0][1] is None) == (out[1][1] is None)
    if out[0][1] is not None:
        _close(out[0][1], out[1][1])
    return out[0]


def _module_keywords(torch):
    """Each constructor keyword builds torch's parameters and gives torch's output."""
    base = _both(torch, {})[0]
    for kw in ({"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
               {"batch_first": True}):
        assert not np.allclose(_both(torch, kw)[0], base), kw
    kv = _both(torch, {"kdim": 5, "vdim": 5}, inputs=(_Q, _K5, _K5))[0]
    assert kv.shape == base.shape
    _, mod = _pair(torch, kdim=5, vdim=3)
    assert mod.in_proj_weight is None and tuple(mod.v_proj_weight.shape) == (4, 3)
    assert "in_proj_bias" not in dict(_pair(torch, bias=False)[1].named_parameters())
    torch.manual_seed(0)
    _, mod = _pair(torch, dropout=0.9)
    x = torch.tensor(_Q, dtype=torch.float32)
    assert not np.allclose(mod(x, x, x)[0].detach().numpy(), mod.eval()(x, x, x)[0].detach()
                           .numpy())
    assert torch.nn.MultiheadAttention(4, 2, dtype=torch.float64).in_proj_weight.dtype == \
        torch.float64
    try:
        torch.nn.MultiheadAttention(4, 2, device="cuda")
    except (RuntimeError, ValueError, TypeError) as e:
        assert "cuda" in str(e)
    else:
        raise AssertionError("device='cuda' accepted")


def _functional_keywords(torch):
    """The forward keywords the module passes on, and the functional-only ones (static_k /
    static_v, separate projection weights), give torch's results."""
    mask = np.triu(np.ones((3, 3), bool), 1)
    kpm = np.zeros((2, 3), bool)
    kpm[1, 2] = True
    for call in ({"need_weights": False}, {"average_attn_weights": False},
                 {"attn_mask": mask}, {"key_padding_mask": kpm},
                 {"attn_mask": mask, "is_causal": True, "need_weights": False}):
        _both(torch, {}, call)
    _both(torch, {"kdim": 5, "vdim": 5}, {"need_weights": False}, inputs=(_Q, _K5, _K5))
    _both(torch, {"dropout": 0.5}, {"need_weights": True})
    ref, mod = _pair(torch)
    sk = _R.standard_normal((4, 5, 2))
    outs = []
    for m, space in ((mod, torch), (ref, real_torch)):
        x = space.tensor(_Q, dtype=space.float32)
        s = space.tensor(sk, dtype=space.float32)
        o, w = space.nn.functional.multi_head_attention_forward(
            x, x, x, 4, 2, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.5,
            m.out_proj.weight, m.out_proj.bias, training=False, static_k=s, static_v=s)
        outs.append((o.detach().numpy(), w.detach().numpy()))
    _close(outs[0][0], outs[1][0])
    assert outs[0][1].shape == (2, 3, 5)
    try:
        mod(torch.tensor(_Q), torch.tensor(_Q), torch.tensor(_Q), is_causal=True)
    except RuntimeError as e:
        assert "is_causal" in str(e)
    else:
        raise AssertionError("is_causal without attn_mask accepted")


_MODULE_WHY = "MultiheadAttention's keywords build torch's parameters and outputs"
_F_WHY = "multi_head_attention_forward's keywords give torch's outputs"

MHA_CASES = {
    **{("nn.MultiheadAttention", kw): [Custom(_module_keywords, _MODULE_WHY)] for kw in (
        "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim", "batch_first",
        "device", "dtype")},
    **{("F.multi_head_attention_forward", kw): [Custom(_functional_keywords, _F_WHY)]
       for kw in ("training", "key_padding_mask", "need_weights", "attn_mask",
                  "use_separate_proj_weight", "q_proj_weight", "k_proj_weight",
                  "v_proj_weight", "static_k", "static_v", "average_attn_weights",
                  "is_causal")},
}
