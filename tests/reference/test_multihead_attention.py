"""nn.MultiheadAttention / F.multi_head_attention_forward against torch with the weights
copied: outputs, attention weights and gradients of the inputs and every parameter
(float32 / float64), batch_first, kdim / vdim, add_bias_kv, add_zero_attn, bias=False,
boolean and float masks (2-D / 3-D attn_mask, key_padding_mask), is_causal, the
need_weights=False path, unbatched input, dropout in eval / train, init and the errors."""
import numpy as np
import pytest
import torch

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

DTYPES = ["float32", "float64"]
TOL = {"float32": 2e-5, "float64": 1e-10}
E_, H, L, S, N = 8, 2, 3, 4, 2


def pair(dtype, **kw):
    """A torch module and a minidl one holding the same weights (random biases too)."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E_, H, dtype=getattr(torch, dtype), **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.normal_()
    mm = nn.MultiheadAttention(E_, H, dtype=getattr(minidl, dtype), **kw)
    state = {k: minidl.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    mm.load_state_dict(state)
    return tm, mm


def inputs(dtype, shapes, seed=1):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return ([torch.tensor(a, requires_grad=True) for a in arrays],
            [minidl.tensor(a, requires_grad=True) for a in arrays])


def masks(t_mask, lib):
    if t_mask is None:
        return None
    return t_mask if lib is torch else minidl.tensor(t_mask.numpy())


def run_both(dtype, shapes, module_kw=None, call_kw=None, tmask=None, tkpm=None):
    tm, mm = pair(dtype, **(module_kw or {}))
    tx, mx = inputs(dtype, shapes)
    call_kw = call_kw or {}
    t_out, t_w = tm(*tx, attn_mask=tmask, key_padding_mask=tkpm, **call_kw)
    m_out, m_w = mm(*mx, attn_mask=masks(tmask, minidl), key_padding_mask=masks(tkpm, minidl),
                    **call_kw)
    tol = TOL[dtype]
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)
    if t_w is None:
        assert m_w is None
    else:
        np.testing.assert_allclose(m_w.detach().numpy(), t_w.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(2).standard_normal(tuple(t_out.shape)).astype(dtype)
    (t_out * torch.tensor(g)).sum().backward()
    (m_out * minidl.tensor(g)).sum().backward()
    for t, m in zip(tx, mx):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=tol * 10,
                                   atol=tol * 10)
    m_params = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(m_params[name].grad.numpy(), p.grad.numpy(),
                                   rtol=tol * 10, atol=tol * 10, err_msg=name)
    return m_out, m_w


QKV = [(L, N, E_), (S, N, E_), (S, N, E_)]
CASES = {
    "default": ({}, {}),
    "no_weights": ({}, {"need_weights": False}),
    "per_head_weights": ({}, {"average_attn_weights": False}),
    "no_bias": ({"bias": False}, {}),
    "bias_kv": ({"add_bias_kv": True}, {}),
    "zero_attn": ({"add_zero_attn": True}, {}),
    "bias_kv_zero_attn_no_weights": ({"add_bias_kv": True, "add_zero_attn": True},
                                     {"need_weights": False}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_against_torch(dtype, case):
    run_both(dtype, QKV, *case)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_kdim_vdim_batch_first(dtype, need_weights):
    run_both(dtype, [(N, L, E_), (N, S, 5), (N, S, 3)],
             {"kdim": 5, "vdim": 3, "batch_first": True}, {"need_weights": need_weights})


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("kind", ["bool2d", "float2d", "bool3d", "float3d", "kpm_bool",
                                  "kpm_float", "both"])
def test_masks(kind, unbatched, need_weights):
    gen = torch.Generator().manual_seed(3)
    heads = H if unbatched else N * H
    mask3 = torch.rand(heads, L, S, generator=gen) > 0.6
    mask3[..., 0] = False
    mask2 = mask3[0]
    kpm = torch.zeros(1 if unbatched else N, S, dtype=torch.bool)
    kpm[..., -1] = True
    attn, key_pad = {
        "bool2d": (mask2, None), "float2d": (torch.randn(L, S, generator=gen).double(), None),
        "bool3d": (mask3, None), "float3d": (torch.randn(heads, L, S, generator=gen).double(),
                                             None),
        "kpm_bool": (None, kpm), "kpm_float": (None, kpm.double() * -5.0),
        "both": (mask2, kpm)}[kind]
    if unbatched:
        key_pad = None if key_pad is None else key_pad[0]
        if attn is not None and attn.dim() == 3:
            attn = attn[:H]
    shapes = [(s[0], s[2]) for s in QKV] if unbatched else QKV
    run_both("float64", shapes, {}, {"need_weights": need_weights}, attn, key_pad)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_is_causal_hint(need_weights, with_kpm):
    causal = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
    kpm = torch.zeros(N, L, dtype=torch.bool)
    kpm[1, -1] = True
    run_both("float64", [(L, N, E_)] * 3, {}, {"need_weights": need_weights, "is_causal": True},
             causal, kpm if with_kpm else None)


def test_functional_matches_torch_with_static_kv():
    tm, mm = pair("float64")
    tx, mx = inputs("float64", QKV)
    rng = np.random.default_rng(5)
    sk, sv = rng.standard_normal((2, N * H, 6, E_ // H))
    args = lambda m, lib: (m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias, None,  # noqa: E731
                           None, False, 0.0, m.out_proj.weight, m.out_proj.bias)
    t_out, t_w = torch.nn.functional.multi_head_attention_forward(
        *tx, *args(tm, torch), static_k=torch.tensor(sk), static_v=torch.tensor(sv))
    m_out, m_w = F.multi_head_attention_forward(
        *mx, *args(mm, minidl), static_k=minidl.tensor(sk), static_v=minidl.tensor(sv))
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(m_w.detach().numpy(), t_w.detach().numpy(), atol=1e-10)


def test_dropout_eval_equals_torch_and_train_drops():
    tm, mm = pair("float64", dropout=0.5)
    tx, mx = inputs("float64", QKV)
    tm.eval()
    mm.eval()
    out_eval, w_eval = mm(*mx)
    np.testing.assert_allclose(out_eval.detach().numpy(), tm(*tx)[0].detach().numpy(),
                               atol=1e-10)
    mm.train()
    minidl.manual_seed(0)
    out_a, w_a = mm(*mx)
    minidl.manual_seed(0)
    out_b, _ = mm(*mx)
    np.testing.assert_array_equal(out_a.detach().numpy(), out_b.detach().numpy())
    assert not np.allclose(out_a.detach().numpy(), out_eval.detach().numpy())
    w_train = w_a.detach().numpy()
    assert np.any(w_train == 0) or not np.allclose(w_train, w_eval.detach().numpy())


def test_init_layout_and_state_dict_keys():
    tm = torch.nn.MultiheadAttention(E_, H, add_bias_kv=True, kdim=5, vdim=3)
    mm = nn.MultiheadAttention(E_, H, add_bias_kv=True, kdim=5, vdim=3)
    assert {k: tuple(v.shape) for k, v in mm.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert mm.in_proj_weight is None and mm.head_dim == E_ // H
    m2 = nn.MultiheadAttention(64, 4)
    w = m2.in_proj_weight.detach().numpy()
    bound = np.sqrt(6.0 / (3 * 64 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m2.in_proj_bias.detach().numpy().any()
    assert not m2.out_proj.bias.detach().numpy().any()
    assert list(dict(m2.named_parameters())) == list(dict(
        torch.nn.MultiheadAttention(64, 4).named_parameters()))


def test_errors_name_the_argument():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    mm = nn.MultiheadAttention(E_, H)
    _, (q, k, v) = inputs("float32", QKV)
    with pytest.raises(ValueError, match="attn_mask"):
        mm(q, k, v, attn_mask=minidl.zeros(L, L))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mm(q, k, v, key_padding_mask=minidl.zeros(N, L, dtype=minidl.bool))
    with pytest.raises(RuntimeError, match="is_causal"):
        mm(q, k, v, is_causal=True)
    with pytest.raises(ValueError, match="embed_dim"):
        mm(minidl.zeros(L, N, 4), k, v)
    with pytest.raises(ValueError, match="batch size"):
        mm(q, minidl.zeros(S, 3, E_), minidl.zeros(S, 3, E_))
    with pytest.raises(ValueError, match="query, key and value"):
        mm(q, k[0], v[0])
    with pytest.raises(TypeError, match="attn_mask"):
        mm(q, k, v, attn_mask=minidl.zeros(L, S, dtype=minidl.int64))
