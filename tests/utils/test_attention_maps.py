"""``minidl.utils.attention_maps.record_attention``: the weights a layer computes when asked,
its outputs unchanged, the hooks gone afterwards."""
import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.utils.attention_maps import record_attention


def test_records_what_need_weights_would_return():
    minidl.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).eval()
    x = minidl.randn(2, 5, 16)
    pad = minidl.tensor([[False] * 5, [False, False, False, True, True]])
    with minidl.no_grad():
        plain = layer(x, src_key_padding_mask=pad)
        with record_attention(layer.self_attn) as maps:
            recorded = layer(x, src_key_padding_mask=pad)
        _, expected = layer.self_attn(x, x, x, key_padding_mask=pad)
        with record_attention(layer.self_attn, average_attn_weights=False) as heads:
            layer(x, src_key_padding_mask=pad)
    np.testing.assert_allclose(recorded.numpy(), plain.numpy(), atol=1e-6)
    assert len(maps.weights) == 1 and maps.layer_of == [layer.self_attn]
    np.testing.assert_allclose(maps.weights[0].numpy(), expected.numpy(), atol=1e-6)
    assert heads.weights[0].shape == (2, 4, 5, 5)
    assert not maps.weights[0].numpy()[1, :, 3:].any()
    layer(x)
    assert len(maps.weights) == 1  # the hooks left with the context


def test_positional_need_weights_false_is_overridden():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    q = minidl.randn(1, 3, 8)
    with record_attention(mha) as maps:
        out, w = mha(q, q, q, None, False)
    assert w is not None and maps.weights[0].shape == (1, 3, 3)


def test_refuses_what_it_cannot_record():
    with pytest.raises(ValueError, match="at least one"):
        record_attention()
    with pytest.raises(TypeError, match="nn.MultiheadAttention layers, got Linear"):
        record_attention(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="average_attn_weights"):
        record_attention(nn.MultiheadAttention(4, 1), average_attn_weights=1)
