"""max_unpool{1,2,3}d against torch: outputs, input gradients, inverting max pooling,
colliding indices, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from tests.reference.harness import compare, gradcheck

DTYPES = ["float32", "float64"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _pooled(shape, k, n=2, seed=0, **kw):
    """(values, int64 indices) of torch's max_pool{n}d with return_indices on random data."""
    pool = getattr(TF, f"max_pool{n}d")
    y, i = pool(torch.from_numpy(_rand(shape, seed)), k, return_indices=True, **kw)
    return y.numpy(), i.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, shape, k, kw, out", [
    (2, (2, 3, 6, 6), 2, {}, None),
    (2, (2, 3, 7, 8), 3, dict(stride=2, padding=1), (7, 8)),
    (2, (2, 3, 7, 7), 3, dict(stride=2, padding=1), None),
    (2, (2, 3, 7, 7), 2, {}, (7, 7)),
    (2, (2, 3, 7, 7), 2, {}, (2, 3, 7, 7)),
    (2, (3, 5, 4), (2, 1), dict(stride=(2, 1)), None),
    (1, (2, 3, 9), 2, {}, (9,)),
    (1, (3, 8), 3, dict(stride=2, padding=1), None),
    (3, (1, 2, 4, 4, 6), 2, {}, None),
], ids=str)
def test_max_unpool(n, shape, k, kw, out, dtype):
    y, idx = _pooled(shape, k, n, **kw)
    fn = f"max_unpool{n}d"
    # (torch's backward refuses non-contiguous gradients here; minidl's is checked below)
    compare(lambda a, i: getattr(F, fn)(a, i, k, output_size=out, **kw),
            lambda a, i: getattr(TF, fn)(a, i, k, output_size=out, **kw), [y, idx], dtype=dtype)
    y = y.astype(dtype)
    runs = [getattr(F, fn)(minidl.from_numpy(a), minidl.from_numpy(i), k, output_size=out, **kw)
            for a, i in [(y, idx), (np.asfortranarray(y), np.asfortranarray(idx))]]
    np.testing.assert_array_equal(runs[0].detach().numpy(), runs[1].detach().numpy())


def test_max_unpool_inverts_minidl_max_pool_and_gradcheck():
    x = minidl.tensor(_rand((2, 2, 6, 6)))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    u = F.max_unpool2d(y, idx, 2)
    assert (F.max_pool2d(u, 2).numpy() == y.numpy()).all()
    assert (u.numpy() != 0).sum() == y.numel()
    # (windows that overlap can name one position twice: the gather then is torch's
    # convention, not the derivative of "the later value stays", so they are left out here)
    yv, iv = _pooled((1, 2, 4, 6), (2, 3))
    gradcheck(lambda a: F.max_unpool2d(a, minidl.from_numpy(iv), (2, 3)), [yv])
    yv, iv = _pooled((1, 2, 7), 3, 1)
    gradcheck(lambda a: F.max_unpool1d(a, minidl.from_numpy(iv), 3, output_size=[7]), [yv])


def test_max_unpool_colliding_indices():
    # torch leaves the winner of colliding indices unspecified (it varies between runs);
    # minidl keeps the last value. The gradient gathers at the index for every input, as
    # in torch.
    x = minidl.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    y = F.max_unpool2d(x, minidl.zeros(1, 1, 2, 2, dtype=minidl.int64), 2)
    assert y.detach().numpy()[0, 0, 0, 0] == 4.0 and (y.detach().numpy().ravel()[1:] == 0).all()
    y.backward(minidl.arange(16.0).reshape(1, 1, 4, 4) + 1)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("kw, exc, match", [
    (dict(indices=lambda i: i.astype(np.int32)), RuntimeError, "should be type int64"),
    (dict(indices=lambda i: i[:, :2]), RuntimeError,
     r"same as that of the input tensor \(\[2, 3, 3, 3\]\).*\[2, 2, 3, 3\]"),
    (dict(indices=lambda i: i + 100), RuntimeError,
     r"invalid max index: 1\d\d \(output volumes are of size 6x6\)"),
    (dict(indices=lambda i: i - 100), RuntimeError, r"invalid max index: -\d+"),
    (dict(output_size=(9, 9)), ValueError, r"invalid output_size .*dim 0 must be between 4 and 8"),
    (dict(output_size=(1, 7, 7)), ValueError, "2 or 4 elements, but it has a length of '3'"),
    (dict(stride=1, padding=3), ValueError, "non-negative spatial dimensions"),
    (dict(values=lambda y: y[0, 0]), RuntimeError, "Expected 3D or 4D"),
    (dict(values=lambda y: y.astype(np.int64), indices=lambda i: i), NotImplementedError,
     "not implemented for dtype"),
])
def test_max_unpool_errors(kw, exc, match):
    y, i = _pooled((2, 3, 6, 6), 2)
    y = kw.get("values", lambda v: v)(y)
    i = kw.get("indices", lambda v: v)(i)
    if y.ndim != i.ndim:
        i = i[0, 0]
    args = dict(stride=kw.get("stride"), padding=kw.get("padding", 0),
                output_size=kw.get("output_size"))
    with pytest.raises(exc, match=match):
        F.max_unpool2d(minidl.from_numpy(y), minidl.from_numpy(i), 2, **args)
    with pytest.raises(exc):
        TF.max_unpool2d(torch.from_numpy(y), torch.from_numpy(i), 2, **args)
