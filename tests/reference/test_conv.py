"""conv1d / conv2d / conv3d against torch (outputs and gradients for input, weight and bias)
and against the textbook im2col convolution of minidl.ops.conv_reference."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minidl
import minidl.nn.functional as F
from minidl.ops import conv_gemm, conv_reference
from tests.reference.harness import compare, gradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


@pytest.fixture(params=["dense", "runs", "wide-dense", "wide-runs"])
def layout(request, monkeypatch):
    """Run a test with each im2col column layout (runs: wherever the stride is 1), one GEMM
    per image or (wide) one per block. The dense variants also work one image per block and
    compute stride-1 input gradients by col2im; the runs variants take the whole batch in
    one block and the flipped-kernel convolution wherever it applies."""
    dense = request.param.endswith("dense")
    monkeypatch.setattr(conv_gemm, "RUNS_MAX_WASTE", 0 if dense else np.inf)
    monkeypatch.setattr(conv_gemm, "WIDE_MAX_COLUMNS", np.inf if "wide" in request.param else 0)
    for name in ("BLOCK_BYTES", "WIDE_BLOCK_BYTES"):
        monkeypatch.setattr(conv_gemm, name, 0 if dense else 2 ** 62)
    monkeypatch.setattr(conv_gemm, "FLIP_MAX_CHANNEL_RATIO", 0 if dense else np.inf)
    return request.param

# (input shape, weight shape, options)
CONV2D = [
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ((2, 3, 9, 8), (5, 3, 3, 2), dict(stride=2, padding=(1, 0))),
    ((2, 3, 9, 8), (5, 3, 3, 3), dict(stride=(2, 3), padding=2, dilation=(2, 1))),
    ((2, 3, 8, 8), (4, 3, 2, 2), dict(padding="same")),                 # even kernel: pad right
    ((2, 3, 8, 7), (4, 3, 4, 3), dict(padding="same", dilation=(1, 2))),
    ((2, 3, 8, 7), (4, 3, 3, 3), dict(padding="valid")),
    ((2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((2, 4, 7, 7), (4, 1, 3, 3), dict(groups=4, padding=1)),             # depthwise
    ((2, 4, 7, 7), (8, 1, 3, 3), dict(groups=4, stride=2)),              # depthwise x2
    ((2, 6, 5, 5), (4, 6, 1, 1), {}),                                    # pointwise
    ((3, 6, 6), (4, 3, 3, 3), dict(padding=1)),                          # unbatched
    ((2, 1, 5, 5), (2, 1, 5, 5), {}),                                    # kernel == input
    ((2, 2, 4, 9), (3, 2, 1, 4), dict(stride=(1, 4))),
    ((2, 4, 8, 7), (4, 2, 4, 3), dict(groups=2, padding="same", dilation=(1, 2))),
    ((2, 3, 5, 5), (3, 3, 2, 2), dict(padding=2)),                       # pad > kernel - 1
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV2D, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_conv2d(case, bias, dtype, layout):
    xs, ws, kw = case
    rng = np.random.default_rng(len(xs) + ws[0])
    inputs = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if bias:
        inputs.append(rng.standard_normal(ws[0]))
    compare(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), inputs, dtype=dtype,
            noncontiguous=bias)


CONV1D = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 4), dict(stride=3, padding=2, dilation=2)),
    ((2, 4, 9), (4, 1, 3), dict(groups=4, padding="same")),
    ((2, 4, 9), (6, 2, 2), dict(groups=2, padding="same")),
    ((3, 8), (2, 3, 3), dict(padding=(1,))),                            # unbatched
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CONV1D, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_conv1d(case, dtype, layout):
    xs, ws, kw = case
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])]
    compare(lambda *a: F.conv1d(*a, **kw), lambda *a: TF.conv1d(*a, **kw), inputs, dtype=dtype,
            noncontiguous=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [
    ((2, 2, 5, 6, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
    ((2, 4, 4, 4, 4), (4, 2, 3, 3, 3), dict(groups=2, padding="same", dilation=(1, 1, 2))),
], ids=str)
def test_conv3d(case, dtype, layout):
    xs, ws, kw = case
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])]
    compare(lambda *a: F.conv3d(*a, **kw), lambda *a: TF.conv3d(*a, **kw), inputs, dtype=dtype)


@pytest.mark.parametrize("route", ["flip", "col2im"])
@pytest.mark.parametrize("name, xs, ws, kw", [
    ("conv2d", (5, 3, 6, 5), (4, 3, 3, 3), dict(padding=1)),
    ("conv2d", (5, 3, 7, 6), (4, 3, 3, 2), dict(stride=2, padding=(1, 0))),
    ("conv2d", (5, 4, 5, 5), (4, 1, 1, 1), dict(groups=4, padding=1)),     # 1x1: no copy
    ("conv_transpose2d", (5, 3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1)),
], ids=str)
def test_blocks_with_a_partial_last_block(name, xs, ws, kw, route, layout, monkeypatch):
    """Five images in blocks of two: the padded input and the columns live in buffers reused
    from block to block, so a stale value or a wrong last-block slice would show here."""
    monkeypatch.setattr(conv_gemm, "block_images", lambda column_bytes, block_bytes: 2)
    monkeypatch.setattr(conv_gemm, "FLIP_MAX_CHANNEL_RATIO", np.inf if route == "flip" else 0)
    rng = np.random.default_rng(8)
    groups = kw.get("groups", 1)
    bias = ws[1] * groups if name == "conv_transpose2d" else ws[0]
    inputs = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(bias)]
    compare(lambda *a: getattr(F, name)(*a, **kw), lambda *a: getattr(TF, name)(*a, **kw),
            inputs)


def test_torch_level_names_and_grad_subsets():
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    assert minidl.conv2d is F.conv2d and minidl.conv1d is F.conv1d
    assert minidl.conv_transpose2d is F.conv_transpose2d
    # gradient only for the weight (input is data), and only for the input (frozen weight)
    for req in ([False, True, True], [True, False, False]):
        mx, mw, mb = (minidl.tensor(a).requires_grad_(r) for a, r in zip((x, w, b), req))
        tx, tw, tb = (torch.tensor(a).requires_grad_(r) for a, r in zip((x, w, b), req))
        F.conv2d(mx, mw, mb, padding=1).sum().backward()
        TF.conv2d(tx, tw, tb, padding=1).sum().backward()
        for m, t in zip((mx, mw, mb), (tx, tw, tb)):
            assert (m.grad is None) == (t.grad is None)
            if t.grad is not None:
                np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_empty_batch_and_integer_input(layout):
    w = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    out = F.conv2d(minidl.zeros(0, 3, 5, 5, dtype=minidl.float64),
                   minidl.tensor(w, dtype=minidl.float64))
    assert tuple(out.shape) == (0, 2, 4, 4)
    x = np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4) % 7
    compare(lambda a, b: F.conv2d(a, b, stride=2), lambda a, b: TF.conv2d(a, b, stride=2),
            [x, w], grad=False)


def test_output_is_contiguous_and_keeps_float32():
    x = minidl.randn(2, 3, 8, 8)
    y = F.conv2d(x, minidl.randn(4, 3, 3, 3), minidl.randn(4), stride=2, padding=1)
    assert y.dtype == minidl.float32 and y.is_contiguous()


@pytest.mark.parametrize("fn, xs, ws, kw", [
    ("conv2d", (1, 2, 5, 4), (3, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2))),
    ("conv2d", (2, 4, 4, 4), (4, 2, 2, 2), dict(groups=2, padding="same")),
    ("conv2d", (4, 4, 4), (4, 1, 3, 3), dict(groups=4, padding=1)),
    ("conv1d", (2, 2, 7), (3, 2, 3), dict(stride=2, padding=1, dilation=2)),
    ("conv3d", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(padding=(1, 0, 0))),
], ids=str)
def test_gradcheck(fn, xs, ws, kw, layout):
    rng = np.random.default_rng(4)
    f = getattr(F, fn)
    gradcheck(lambda x, w, b: f(x, w, b, **kw),
              [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])])


TRANSPOSED = [
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (2, 4, 5, 4), (4, 2, 3, 2), dict(stride=(2, 3), padding=(2, 0),
                                                          dilation=(1, 2), output_padding=(1, 2))),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), dict(groups=2, padding=3)),
    ("conv_transpose2d", (2, 4, 6, 6), (4, 1, 4, 4), dict(groups=4, stride=2, padding=1)),
    ("conv_transpose2d", (2, 3, 4, 4), (3, 5, 2, 2), dict(dilation=3, output_padding=2)),
    ("conv_transpose2d", (4, 5, 5), (4, 3, 3, 3), dict(stride=2)),                 # unbatched
    ("conv_transpose1d", (2, 4, 7), (4, 3, 4), dict(stride=3, padding=1, output_padding=2)),
    ("conv_transpose3d", (2, 2, 3, 4, 3), (2, 3, 2, 3, 2),
     dict(stride=(1, 2, 2), padding=(0, 1, 1))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, xs, ws, kw", TRANSPOSED, ids=str)
def test_conv_transpose(name, xs, ws, kw, dtype, layout):
    rng = np.random.default_rng(6)
    groups = kw.get("groups", 1)
    inputs = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * groups)]
    compare(lambda *a: getattr(F, name)(*a, **kw), lambda *a: getattr(TF, name)(*a, **kw), inputs,
            dtype=dtype, noncontiguous=True)


@pytest.mark.parametrize("name, xs, ws, kw", [
    ("conv_transpose2d", (1, 2, 3, 3), (2, 2, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (2, 2, 4), (2, 1, 3), dict(groups=2, dilation=2)),
], ids=str)
def test_conv_transpose_gradcheck(name, xs, ws, kw, layout):
    rng = np.random.default_rng(7)
    f = getattr(F, name)
    gradcheck(lambda x, w, b: f(x, w, b, **kw), [rng.standard_normal(xs), rng.standard_normal(ws),
                                                 rng.standard_normal(ws[1] * kw.get("groups", 1))])


@pytest.mark.parametrize("kw, match", [
    (dict(x=(2, 5, 5, 5)), r"Given transposed=1, weight of size \[4, 3, 3, 3\], expected "
     r"input\[2, 5, 5, 5\] to have 4 channels, but got 5 channels instead"),
    (dict(output_padding=1), r"output padding must be smaller than either stride or dilation"),
    (dict(b=(4,)), r"expected bias to be 1-dimensional with 3 elements"),
    (dict(groups=3), r"Given groups=3, expected weight to be divisible by 3"),
], ids=str)
def test_conv_transpose_bad_arguments(kw, match):
    kw = dict(kw)
    x = np.zeros(kw.pop("x", (2, 4, 5, 5)), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    b = kw.pop("b", None)
    b = None if b is None else np.zeros(b, np.float32)
    with pytest.raises(RuntimeError):
        TF.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                            None if b is None else torch.from_numpy(b), **kw)
    with pytest.raises(RuntimeError, match=match):
        F.conv_transpose2d(minidl.from_numpy(x), minidl.from_numpy(w),
                           None if b is None else minidl.from_numpy(b), **kw)
    with pytest.raises(TypeError, match="'padding' must be an int or a tuple"):
        F.conv_transpose2d(minidl.from_numpy(x), minidl.from_numpy(w), padding="same")


BAD = [
    (dict(x=(2, 1, 28, 28), w=(6, 3, 5, 5)), r"Given groups=1, weight of size \[6, 3, 5, 5\], "
     r"expected input\[2, 1, 28, 28\] to have 3 channels, but got 1 channels instead"),
    (dict(x=(2, 3, 4, 4), w=(6, 3, 5, 5)), r"padded input size per channel: \(4 x 4\). "
     r"Kernel size: \(5 x 5\)"),
    (dict(x=(2, 3, 8, 8), w=(6, 3, 3, 3), padding="full"), r"Invalid padding string: 'full'"),
    (dict(x=(2, 3, 8, 8), w=(6, 3, 3, 3), padding="same", stride=2),
     r"padding='same' is not supported for strided convolutions"),
    (dict(x=(2, 4, 8, 8), w=(6, 2, 3, 3), groups=4), r"Given groups=4, expected weight to be "
     r"divisible by 4"),
    (dict(x=(2, 4, 8, 8), w=(6, 2, 3, 3), groups=2, b=(5,)), r"expected bias to be 1-dimensional "
     r"with 6 elements, but got bias of size \[5\]"),
    (dict(x=(8, 8), w=(6, 4, 3, 3)), r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
     r"conv2d, but got input of size: \[8, 8\]"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3)), r"expected weight to be 4-dimensional"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), stride=0), r"non-positive stride"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), padding=-1), r"negative padding"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), dilation=0), r"non-positive dilation"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), groups=0), r"non-positive groups"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), stride=(1, 1, 1)), r"stride to be a single integer "
     r"value or a list of 2 values"),
    (dict(x=(2, 4, 8, 8), w=(6, 4, 3, 3), xdtype="float64"), r"input type \(float64\) and "
     r"weight type \(float32\) should be the same"),
]


@pytest.mark.parametrize("case, match", BAD, ids=lambda c: c if isinstance(c, str) else None)
def test_bad_arguments_raise_like_torch(case, match):
    case = dict(case)
    xs, ws, bs = case.pop("x"), case.pop("w"), case.pop("b", None)
    xdt = case.pop("xdtype", "float32")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(xdt), rng.standard_normal(ws).astype(np.float32)
    b = None if bs is None else rng.standard_normal(bs).astype(np.float32)
    with pytest.raises(Exception) as torch_error:
        TF.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                  None if b is None else torch.from_numpy(b), **case)
    with pytest.raises(torch_error.type, match=match):
        F.conv2d(minidl.from_numpy(x), minidl.from_numpy(w),
                 None if b is None else minidl.from_numpy(b), **case)


def test_non_tensor_arguments_are_type_errors():
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        F.conv2d(np.zeros((1, 1, 3, 3)), minidl.zeros(1, 1, 2, 2))
    with pytest.raises(TypeError, match="argument 'groups' must be int"):
        F.conv2d(minidl.zeros(1, 2, 3, 3), minidl.zeros(2, 1, 2, 2), groups=2.0)


# ------------------------------------------------------------------ the textbook reference
# Layer-sized convolutions (a batch of 28 x 28 maps): kernels 3 and 5, stride 1 and 2,
# padding, dilation 2, groups 2.
LAYERS = [
    ((4, 8, 28, 28), (16, 8, 3, 3), dict(padding=1)),
    ((4, 8, 28, 28), (16, 8, 5, 5), dict(padding=2)),
    ((4, 8, 28, 28), (16, 8, 3, 3), dict(stride=2, padding=1)),
    ((4, 8, 28, 28), (8, 8, 5, 5), dict(stride=2)),
    ((4, 8, 28, 28), (16, 8, 3, 3), dict(padding=2, dilation=2)),
    ((4, 8, 28, 28), (16, 4, 3, 3), dict(padding=1, groups=2)),
    ((4, 8, 28, 28), (16, 4, 5, 5), dict(stride=2, padding=(2, 1), dilation=(2, 1), groups=2)),
]


def _layer(xs, ws, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])


@pytest.mark.parametrize("xs, ws, kw", LAYERS, ids=str)
def test_reference_conv2d_matches_torch(xs, ws, kw):
    """conv_reference.conv2d and its col2im backward against torch, in float64."""
    x, w, b = _layer(xs, ws, 10)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = TF.conv2d(tx, tw, tb, **kw)
    g = np.random.default_rng(11).standard_normal(tuple(ty.shape))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(conv_reference.conv2d(x, w, b, **kw), ty.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(conv_reference.conv2d_backward(x, w, g, **kw),
                            (tx.grad, tw.grad, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("dtype, tol", [("float64", dict(rtol=1e-10, atol=1e-11)),
                                        ("float32", dict(rtol=1e-4, atol=1e-4))])
@pytest.mark.parametrize("xs, ws, kw", LAYERS, ids=str)
def test_fast_conv2d_matches_the_reference(xs, ws, kw, dtype, tol, layout):
    """F.conv2d's output and its input, weight and bias gradients, in every column layout,
    against the textbook im2col convolution (computed in float64 from the same inputs)."""
    x, w, b = (a.astype(dtype) for a in _layer(xs, ws, 12))
    mx, mw, mb = (minidl.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(mx, mw, mb, **kw)
    g = np.random.default_rng(13).standard_normal(tuple(y.shape)).astype(dtype)
    y.backward(minidl.tensor(g))
    x, w, b, g = (a.astype(np.float64) for a in (x, w, b, g))
    np.testing.assert_allclose(y.detach().numpy(), conv_reference.conv2d(x, w, b, **kw), **tol)
    for ours, ref in zip((mx.grad, mw.grad, mb.grad),
                         conv_reference.conv2d_backward(x, w, g, **kw)):
        np.testing.assert_allclose(ours.numpy(), ref, **tol)


@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), ((2, 3), (3, 1))],
                         ids=str)
def test_col2im_is_the_adjoint_of_im2col(stride, dilation):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: col2im sends each column entry back
    to where im2col read it from (so the reference's input gradient is right)."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 11, 10))
    cols = conv_reference.im2col(x, (3, 2), stride, dilation)
    c = rng.standard_normal(cols.shape)
    back = conv_reference.col2im(c, x.shape, (3, 2), stride, dilation)
    np.testing.assert_allclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)
    oh, ow = (conv_reference.out_size(n, k, s, d) for n, k, s, d in
              zip(x.shape[2:], (3, 2), np.broadcast_to(stride, 2), np.broadcast_to(dilation, 2)))
    assert cols.shape == (2, 3 * 3 * 2, oh * ow)
