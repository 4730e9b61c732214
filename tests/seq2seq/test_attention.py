"""masked_softmax against a hand computation; additive and scaled dot-product attention
against torch re-implementations of the same formulas (outputs and every gradient)."""
import math

import numpy as np
import pytest
import torch

import minidl
from minidl.text import AdditiveAttention, DotProductAttention, masked_softmax
from tests.reference.harness import assert_close

TOL = dict(rtol=1e-4, atol=1e-5)


def test_masked_softmax_matches_a_hand_computation():
    scores = np.array([[[1.0, 2.0, 3.0, 4.0]], [[0.5, -1.0, 2.0, 0.0]]], dtype=np.float32)
    w = masked_softmax(minidl.tensor(scores), minidl.tensor([2, 3])).numpy()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(w[0, 0], [e[0] / e.sum(), e[1] / e.sum(), 0, 0], rtol=1e-6)
    e = np.exp([0.5, -1.0, 2.0])
    np.testing.assert_allclose(w[1, 0], [*(e / e.sum()), 0], rtol=1e-6)


def test_masked_softmax_zero_beyond_valid_lengths_rows_sum_to_one():
    rng = np.random.default_rng(0)
    scores = minidl.tensor(rng.standard_normal((3, 4, 6)).astype(np.float32) * 5)
    for lens in ([1, 6, 3], [[1, 2, 3, 4], [6, 6, 5, 1], [2, 2, 2, 2]]):
        w = masked_softmax(scores, minidl.tensor(lens)).numpy()
        per_query = np.broadcast_to(np.array(lens).reshape(3, -1), (3, 4))
        for n in range(3):
            for q in range(4):
                assert np.all(w[n, q, per_query[n, q]:] == 0)
                assert np.all(w[n, q, :per_query[n, q]] > 0)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(masked_softmax(scores).numpy(), scores.softmax(-1).numpy())


def test_masked_softmax_masked_scores_get_no_gradient():
    scores = minidl.randn(2, 1, 5, requires_grad=True)
    (masked_softmax(scores, minidl.tensor([2, 4])) * minidl.randn(2, 1, 5)).sum().backward()
    g = scores.grad.numpy()
    assert np.all(g[0, 0, 2:] == 0) and np.all(g[1, 0, 4:] == 0) and np.any(g[0, 0, :2] != 0)


def test_masked_softmax_refuses_bad_lengths():
    with pytest.raises(ValueError, match=r"valid_lens=\) must have shape \(2,\)"):
        masked_softmax(minidl.randn(2, 3, 4), minidl.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="3-D"):
        masked_softmax(minidl.randn(2, 4), minidl.tensor([1, 2]))


def _torch_masked_softmax(scores, lens):
    keep = torch.arange(scores.shape[-1])[None, None, :] < lens.reshape(len(lens), -1, 1)
    return scores.masked_fill(~keep, -1e30).softmax(-1)


def _torch_pairs(module):
    return {name: torch.tensor(p.detach().numpy(), requires_grad=True)
            for name, p in module.named_parameters()}


def _check(layer, torch_fn, q, k, v, lens):
    rng = np.random.default_rng(1)
    mq, mk, mv = (minidl.tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    params = _torch_pairs(layer)
    out = layer(mq, mk, mv, minidl.tensor(lens))
    ref, ref_w = torch_fn(params, tq, tk, tv, torch.tensor(lens))
    assert out.shape == (q.shape[0], q.shape[1], v.shape[2])
    assert layer.attention_weights.shape == (q.shape[0], q.shape[1], k.shape[1])
    assert_close(out, ref, what="output", **TOL)
    assert_close(layer.attention_weights, ref_w, what="weights", **TOL)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(minidl.tensor(g))
    ref.backward(torch.tensor(g))
    for name, m, t in (("queries", mq, tq), ("keys", mk, tk), ("values", mv, tv)):
        assert_close(m.grad, t.grad, what=f"grad of {name}", **TOL)
    for name, p in layer.named_parameters():
        assert_close(p.grad, params[name].grad, what=f"grad of {name}", **TOL)


def test_additive_attention_matches_torch():
    minidl.manual_seed(0)
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 5)).astype(np.float32)
    k = rng.standard_normal((2, 4, 6)).astype(np.float32)
    v = rng.standard_normal((2, 4, 7)).astype(np.float32)
    layer = AdditiveAttention(key_size=6, query_size=5, num_hiddens=8)

    def reference(p, q, k, v, lens):
        features = torch.tanh((q @ p["W_q.weight"].T).unsqueeze(2) +
                              (k @ p["W_k.weight"].T).unsqueeze(1))
        w = _torch_masked_softmax((features @ p["w_v.weight"].T).squeeze(-1), lens)
        return w @ v, w
    _check(layer, reference, q, k, v, [2, 4])
    layer.zero_grad()
    _check(layer, reference, q, k, v, [[1, 2, 3], [4, 4, 1]])


def test_dot_product_attention_matches_torch():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 6)).astype(np.float32)
    k = rng.standard_normal((2, 5, 6)).astype(np.float32)
    v = rng.standard_normal((2, 5, 4)).astype(np.float32)

    def reference(p, q, k, v, lens):
        w = _torch_masked_softmax(q @ k.transpose(1, 2) / math.sqrt(6), lens)
        return w @ v, w
    _check(DotProductAttention(), reference, q, k, v, [3, 5])
    _check(DotProductAttention(), reference, q, k, v, [[1, 2, 3], [5, 4, 2]])


def test_attention_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="same feature size"):
        DotProductAttention()(minidl.randn(2, 1, 3), minidl.randn(2, 4, 5), minidl.randn(2, 4, 5))
    with pytest.raises(ValueError, match="same number of positions"):
        AdditiveAttention(3, 3, 4)(minidl.randn(2, 1, 3), minidl.randn(2, 4, 3),
                                   minidl.randn(2, 5, 3))
