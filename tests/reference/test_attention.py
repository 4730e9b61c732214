"""Scaled dot-product attention against torch: outputs and gradients of query, key, value
and a float mask (float32 / float64), boolean and float masks (broadcast), is_causal,
scale, L != S, Ev != E, 3-D / 4-D inputs, grouped-query heads, fully masked rows, dropout
(statistics, determinism under minidl.manual_seed), and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]
rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def sdpa(lib, **kw):
    fn = (F if lib is minidl else TF).scaled_dot_product_attention
    return lambda q, k, v, mask=None: fn(q, k, v, attn_mask=mask, **kw)


def check(inputs, dtype, **kw):
    compare(sdpa(minidl, **kw), sdpa(torch, **kw), inputs, dtype=dtype)


SHAPES = {  # (query, key, value): 3-D and 4-D, L != S, Ev != E, broadcast batch dims
    "3d": ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
    "4d": ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
    "2d_unbatched": ((3, 4), (5, 4), (5, 2)),
    "broadcast_batch": ((2, 2, 3, 4), (1, 2, 5, 4), (2, 1, 5, 3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", SHAPES.values(), ids=SHAPES.keys())
def test_plain_and_causal_and_scale(shapes, dtype):
    inputs = [normal(*s) for s in shapes]
    check(inputs, dtype)
    check(inputs, dtype, is_causal=True)
    check(inputs, dtype, scale=0.37)


FLOAT_MASKS = [(3, 5), (2, 1, 3, 5), (1, 5), (5,)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask_shape", FLOAT_MASKS, ids=str)
def test_float_mask_gets_gradient(mask_shape, dtype):
    q, k, v = normal(2, 2, 3, 4), normal(2, 2, 5, 4), normal(2, 2, 5, 6)
    check([q, k, v, normal(*mask_shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bool_mask_with_fully_masked_row_gives_zeros(dtype):
    mask = rng.random((2, 1, 3, 5)) > 0.4
    mask[:, :, 0] = True
    mask[1, 0, 2] = False  # every key masked: torch's CPU kernels give a zero row
    q, k, v = normal(2, 2, 3, 4), normal(2, 2, 5, 4), normal(2, 2, 5, 6)
    out, _ = compare(sdpa(minidl), sdpa(torch), [q, k, v, mask], dtype=dtype)
    assert not np.any(out[0]._data[1, :, 2])


def test_float_mask_of_minus_inf_row_and_causal_wider_than_long():
    mask = np.zeros((3, 5))
    mask[1] = -np.inf
    check([normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 6), mask], "float64")
    check([normal(2, 5, 4), normal(2, 3, 4), normal(2, 3, 6)], "float64", is_causal=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_grouped_query_attention(dtype):
    q, k, v = normal(2, 6, 3, 4), normal(2, 3, 5, 4), normal(2, 1, 5, 2)
    check([q, k, v], dtype, enable_gqa=True)
    check([q, k, v, rng.random((3, 5)) > 0.3], dtype, enable_gqa=True, scale=0.5)
    check([normal(4, 3, 4), normal(2, 5, 4), normal(1, 5, 3)], dtype, enable_gqa=True)  # 3-D


def test_float32_mask_with_float64_inputs_gets_its_gradient():
    q, k, v, mask = normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 6), normal(3, 5)
    outs, grads = [], []
    for lib in (minidl, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        m = lib.tensor(mask.astype(np.float32), requires_grad=True)
        out = sdpa(lib)(*ts, m)
        out.sum().backward()
        outs.append(out.detach().numpy())
        grads.append(m.grad.numpy())
        assert str(out.dtype).endswith("float64") and str(m.grad.dtype).endswith("float32")
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_float32_stays_float32():
    q = minidl.tensor(normal(2, 3, 4).astype(np.float32))
    assert F.scaled_dot_product_attention(q, q, q).dtype == minidl.float32


def _dropout_run(seed, p, requires_grad=False):
    minidl.manual_seed(seed)
    q, k = (minidl.tensor(np.zeros((200, n, 8)), requires_grad=requires_grad) for n in (4, 8))
    v = minidl.tensor(np.eye(8)[None].repeat(200, 0), requires_grad=requires_grad)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=p), (q, k, v)


def test_dropout_statistics_and_determinism():
    p = 0.25
    out, _ = _dropout_run(3, p)
    # uniform weights 1/8 on the identity: each entry is 0 or 1 / (8 (1 - p))
    vals = out._data
    kept = np.isclose(vals, 1 / (8 * (1 - p)))
    assert np.all(kept | (vals == 0))
    assert abs(1 - kept.mean() - p) < 0.02
    again, _ = _dropout_run(3, p)
    np.testing.assert_array_equal(again._data, vals)
    other, _ = _dropout_run(4, p)
    assert not np.array_equal(other._data, vals)


def test_dropout_backward_uses_the_forward_mask():
    out, (q, k, v) = _dropout_run(5, 0.5, requires_grad=True)
    out.sum().backward()
    # dV = (P * D)^T 1: each row holds the column sums of the dropped weights, which with
    # V = I are the column sums of the output
    np.testing.assert_allclose(v.grad._data[..., 0], out._data.sum(axis=-2), rtol=1e-12)
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).abs().sum().item() == 0


@pytest.mark.parametrize("args, kwargs, match", [
    ((normal(4), normal(4), normal(4)), {}, "at least 2-D"),
    ((normal(3, 4), normal(5, 3), normal(5, 4)), {}, "share E"),
    ((normal(3, 4), normal(5, 4), normal(6, 4)), {}, "share S"),
    ((normal(3, 4), normal(5, 4), normal(5, 4).astype(np.float32)), {}, "same dtype"),
    ((normal(3, 4), normal(5, 4), normal(5, 4)), {"attn_mask": np.ones((3, 5), np.int64)},
     "attn_mask"),
    ((normal(3, 4).astype(np.float32), normal(5, 4).astype(np.float32),
      normal(5, 4).astype(np.float32)), {"attn_mask": normal(3, 5)}, "attn_mask"),
    ((normal(3, 4), normal(5, 4), normal(5, 4)), {"attn_mask": np.ones((4, 5), bool)},
     "attn_mask of shape"),
    ((normal(3, 4), normal(5, 4), normal(5, 4)), {"attn_mask": np.ones((2, 3, 5), bool)},
     "attn_mask of shape"),
    ((normal(3, 4), normal(5, 4), normal(5, 4)),
     {"attn_mask": np.ones((3, 5), bool), "is_causal": True}, "is_causal"),
    ((normal(3, 4), normal(5, 4), normal(5, 4)), {"dropout_p": 1.5}, "dropout probability"),
    ((normal(2, 4, 3, 4), normal(2, 3, 5, 4), normal(2, 3, 5, 4)), {"enable_gqa": True},
     "enable_gqa"),
    ((normal(2, 4, 3, 4), normal(2, 2, 5, 4), normal(2, 2, 5, 4)), {}, "broadcast"),
    ((normal(3, 4).astype(np.int64),) * 3, {}, "floating point"),
])
def test_errors_name_the_argument(args, kwargs, match):
    kwargs = {k: minidl.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises((RuntimeError, ValueError), match=match):
        F.scaled_dot_product_attention(*[minidl.tensor(a) for a in args], **kwargs)
    with pytest.raises(TypeError, match="'key'"):
        F.scaled_dot_product_attention(minidl.tensor(normal(3, 4)), normal(5, 4), normal(5, 4))


def test_dropout_gradients_by_finite_differences():
    def fn(q, k, v, mask):
        minidl.manual_seed(7)  # the same keep-mask at every evaluation
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.3)
    gradcheck(fn, [normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 3), normal(3, 5)])
