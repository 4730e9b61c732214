"""Upsample / UpsamplingNearest2d / UpsamplingBilinear2d, PixelShuffle / PixelUnshuffle,
MaxUnpool1d/2d/3d and LocalResponseNorm against torch's layers: outputs, input gradients,
reprs and (empty) state."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import minidl
import minidl.nn as nn
from tests.reference.harness import TOL, as_pair, assert_close

DTYPES = ["float32", "float64"]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run_both(md, tl, inputs, dtype="float32", noncontiguous=False):
    """Same inputs through both layers; compare outputs and the float inputs' gradients."""
    tol = TOL[dtype]
    pairs = [as_pair(x, dtype, True, noncontiguous) for x in inputs]
    m_out = md(*[p[0] for p in pairs])
    t_out = tl(*[p[1] for p in pairs])
    assert_close(m_out, t_out, **tol)
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(dtype)
    m_out.backward(minidl.from_numpy(g.copy()))
    t_out.backward(torch.from_numpy(g.copy()))
    for (m, t) in pairs:
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert_close(m.grad, t.grad, what="input grad", **tol)
    assert md.state_dict() == {} and list(md.parameters()) == []
    assert repr(md) == repr(tl)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, kw, shape", [
    ((), dict(scale_factor=2), (2, 3, 4, 5)),
    ((), dict(scale_factor=2.0, mode="bilinear"), (2, 3, 4, 5)),
    ((), dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True), (1, 2, 4, 5)),
    (((6, 3),), dict(mode="bilinear", align_corners=False), (2, 3, 4, 5)),
    ((7,), dict(mode="linear"), (2, 3, 5)),
    ((), dict(scale_factor=1.7, mode="nearest-exact", recompute_scale_factor=True), (2, 3, 5)),
    ((), dict(scale_factor=2, mode="trilinear"), (1, 2, 2, 3, 2)),
    ((), dict(size=(2, 3), mode="area"), (1, 2, 5, 7)),
], ids=str)
def test_upsample(args, kw, shape, dtype):
    run_both(nn.Upsample(*args, **kw), tnn.Upsample(*args, **kw), [_rand(shape)], dtype,
             noncontiguous=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, kw", [("UpsamplingNearest2d", dict(scale_factor=2)),
                                     ("UpsamplingNearest2d", dict(size=(5, 7))),
                                     ("UpsamplingBilinear2d", dict(scale_factor=2)),
                                     ("UpsamplingBilinear2d", dict(size=5))], ids=str)
def test_fixed_mode_upsampling(cls, kw, dtype):
    md, tl = getattr(nn, cls)(**kw), getattr(tnn, cls)(**kw)
    run_both(md, tl, [_rand((2, 3, 3, 4))], dtype)
    assert md.mode == tl.mode and md.align_corners == tl.align_corners


def test_upsample_attributes_and_reprs():
    for kw in [dict(scale_factor=2), dict(size=(3, 4), mode="bilinear"),
               dict(scale_factor=(2, 3)), dict(scale_factor=2.0, mode="bilinear",
                                                align_corners=False, recompute_scale_factor=True)]:
        md, tl = nn.Upsample(**kw), tnn.Upsample(**kw)
        assert repr(md) == repr(tl)
        for name in ["size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                     "name"]:
            assert getattr(md, name) == getattr(tl, name), name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, shape", [(2, (2, 8, 3, 4)), (3, (9, 2, 2))], ids=str)
def test_pixel_shuffle_layers(r, shape, dtype):
    run_both(nn.PixelShuffle(r), tnn.PixelShuffle(r), [_rand(shape)], dtype, noncontiguous=True)
    unshape = shape[:-3] + (shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)
    run_both(nn.PixelUnshuffle(r), tnn.PixelUnshuffle(r), [_rand(unshape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, shape, args", [
    (2, (2, 3, 6, 6), (2,)),
    (2, (2, 3, 7, 7), (3, 2, 1)),
    (1, (2, 3, 9), (3, 3)),
    (3, (1, 2, 4, 4, 4), (2,)),
], ids=str)
def test_max_unpool_layers(n, shape, args, dtype):
    # MaxPool(return_indices=True) -> MaxUnpool in each library, gradients through both.
    pool = f"MaxPool{n}d"
    unpool = f"MaxUnpool{n}d"
    x = _rand(shape)
    mx, tx = as_pair(x, dtype, True, False)
    my, mi = getattr(nn, pool)(*args, return_indices=True)(mx)
    ty, ti = getattr(tnn, pool)(*args, return_indices=True)(tx)
    md, tl = getattr(nn, unpool)(*args), getattr(tnn, unpool)(*args)
    size = list(shape)
    m_out, t_out = md(my, mi, output_size=size), tl(ty, ti, output_size=size)
    assert_close(m_out, t_out, **TOL[dtype])
    g = _rand(tuple(t_out.shape), 2).astype(dtype)
    m_out.backward(minidl.from_numpy(g.copy()))
    t_out.backward(torch.from_numpy(g.copy()))
    assert_close(mx.grad, tx.grad, what="input grad", **TOL[dtype])
    assert repr(md) == repr(tl)
    assert (md.kernel_size, md.stride, md.padding) == (tl.kernel_size, tl.stride, tl.padding)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("args, shape", [((2,), (2, 5, 4, 4)), ((5, 1e-2, 0.75, 2.0), (2, 7, 3)),
                                         ((3, 0.5, 0.5, 1), (1, 4, 2, 3, 2))], ids=str)
def test_local_response_norm_layer(args, shape, dtype):
    run_both(nn.LocalResponseNorm(*args), tnn.LocalResponseNorm(*args), [_rand(shape) * 2],
             dtype)


def test_layers_in_a_model_train_like_torch():
    # A tiny decoder: LRN -> conv -> pixel shuffle -> bilinear upsampling, weights shared.
    tm = tnn.Sequential(tnn.LocalResponseNorm(3), tnn.Conv2d(4, 8, 3, padding=1),
                        tnn.PixelShuffle(2), tnn.Upsample(scale_factor=2, mode="bilinear"))
    mm = nn.Sequential(nn.LocalResponseNorm(3), nn.Conv2d(4, 8, 3, padding=1),
                       nn.PixelShuffle(2), nn.Upsample(scale_factor=2, mode="bilinear"))
    mm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    x = _rand((2, 4, 3, 3)).astype(np.float32)
    m_out, t_out = mm(minidl.from_numpy(x)), tm(torch.from_numpy(x))
    assert_close(m_out, t_out, **TOL["float32"])
    m_out.sum().backward()
    t_out.sum().backward()
    assert_close(mm[1].weight.grad, tm[1].weight.grad, what="conv weight grad", **TOL["float32"])
    assert repr(mm) == repr(tm)
