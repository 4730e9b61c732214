"""Tensor basics, creation functions and printing, checked against torch."""
import numpy as np
import pytest
import torch

import minidl


@pytest.mark.parametrize("values, kw", [
    ([1.0, 2.5, -3.25], {}), ([[1.0, 2.0], [3.0, 4.0]], {}), ([1, 2, 3], {}),
    ([True, False], {}), (3.5, {}), (7, {}), ([1e-5, 1.0], {}), ([1e10, 1.0], {}),
    ([0.1, 0.2], {"dtype": "float64"}), ([1, 2], {"dtype": "int32"}),
    ([1.0, 2.0], {"requires_grad": True}),
    ([[0.5] * 3] * 2, {}), (float("nan"), {}), ([[]], {}),
])
def test_repr_matches_torch(values, kw):
    mkw = {k: getattr(minidl, v) if k == "dtype" else v for k, v in kw.items()}
    tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
    assert repr(minidl.tensor(values, **mkw)).replace("minidl.", "torch.") == \
        repr(torch.tensor(values, **tkw))


def test_repr_shows_grad_fn():
    x = minidl.ones(2, requires_grad=True)
    assert repr(x * 2) == "tensor([2., 2.], grad_fn=<MulBackward0>)"


@pytest.mark.parametrize("data", [[1, 2], [1.0, 2], [True, False], 3, 2.5,
                                  np.arange(3, dtype=np.int32), np.ones(2, np.float64),
                                  [[1, 2], [3, 4]]])
def test_tensor_infers_dtype_like_torch(data):
    assert minidl.tensor(data).dtype.name == str(torch.tensor(data).dtype).split(".")[1]


@pytest.mark.parametrize("a, b", [
    (("int64", (2,)), 2.5), (("int32", (2,)), ("int64", ())), (("float32", (2,)), ("float64", ())),
    (("bool", (2,)), 1), (("uint8", (2,)), ("int8", (2,))), (("int64", (2,)), ("float16", ())),
    (("float32", (2,)), ("float64", (2,))), (("bool", (2,)), True), (("int32", (2,)), 3),
])
def test_type_promotion_matches_torch(a, b):
    def make(lib, spec):
        if isinstance(spec, tuple):
            return lib.ones(spec[1], dtype=getattr(lib, spec[0]))
        return spec
    m = minidl.backend.result_type(make(minidl, a), make(minidl, b))
    t = torch.result_type(make(torch, a), make(torch, b))
    assert m.name == str(t).split(".")[1]


def test_creation_shapes_dtypes_and_values():
    assert minidl.zeros(2, 3).shape == (2, 3) == tuple(minidl.ones((2, 3)).shape)
    assert minidl.zeros(2, 3).dtype == minidl.float32
    assert minidl.arange(5).dtype == minidl.int64
    assert minidl.arange(0, 1, 0.25).tolist() == [0, .25, .5, .75]
    assert minidl.arange(1, 2.5, 0.5).tolist() == torch.arange(1, 2.5, 0.5).tolist()
    np.testing.assert_allclose(minidl.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    assert minidl.eye(3, 2).tolist() == torch.eye(3, 2).tolist()
    assert minidl.full((2,), 7).dtype == minidl.int64
    assert minidl.full((2,), 7.0).dtype == minidl.float32
    assert minidl.randint(0, 10, (100,)).dtype == minidl.int64
    assert sorted(minidl.randperm(10).tolist()) == list(range(10))
    assert minidl.zeros_like(minidl.ones(2, dtype=minidl.float64)).dtype == minidl.float64
    assert minidl.full_like(minidl.ones(3), 2.0).tolist() == [2.0] * 3


@pytest.mark.parametrize("args, dtype", [
    ((-1, 1, 25), "float32"), ((-3.3, 7.1, 100001), "float32"), ((0.0, 1e-3, 50), "float32"),
    ((0, 1, 7), "float16"), ((-3.3, 7.1, 1001), "float64"), ((0, 1e-3, 77), "float64"),
    ((0, 10, 4), "int64"), ((5, -5, 11), "int32"), ((0, 100, 33), "int64"), ((2, 3, 1), "float32"),
    ((2, 3, 0), "float32")])
def test_linspace_is_bit_exact_with_torch(args, dtype):
    """torch computes the two halves from the two ends, with one rounding per value."""
    mine = minidl.linspace(*args, dtype=getattr(minidl, dtype)).numpy()
    theirs = torch.linspace(*args, dtype=getattr(torch, dtype)).numpy()
    assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)


def test_random_numbers_are_reproducible_and_well_distributed():
    minidl.manual_seed(0)
    a = minidl.randn(20000)
    minidl.manual_seed(0)
    b = minidl.randn(20000)
    assert a.tolist() == b.tolist()
    assert abs(a.numpy().mean()) < 0.03 and abs(a.numpy().std() - 1) < 0.03
    u = minidl.rand(20000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    g = minidl.Generator().manual_seed(3)
    assert minidl.randperm(5, generator=g).tolist() == \
        minidl.randperm(5, generator=minidl.Generator().manual_seed(3)).tolist()


def test_from_numpy_shares_memory_and_numpy_refuses_grad():
    arr = np.zeros(3, np.float32)
    t = minidl.from_numpy(arr)
    arr[0] = 5
    assert t[0].item() == 5 if hasattr(t, "__getitem__") else t.numpy()[0] == 5
    with pytest.raises(RuntimeError, match="requires grad"):
        minidl.ones(1, requires_grad=True).numpy()


def test_conversions_and_metadata():
    t = minidl.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.size() == (2, 2) and t.size(-1) == 2 and t.numel() == 4 and t.dim() == 2
    assert t.shape.numel() == 4 and repr(t.shape) == "minidl.Size([2, 2])"
    assert minidl.tensor([2.5]).item() == 2.5 and float(minidl.tensor(2.5)) == 2.5
    assert int(minidl.tensor(3)) == 3 and len(t) == 2
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(2)
    assert t.stride() == (2, 1) and t.is_floating_point() and t.device.type == "cpu"


def test_unsupported_dtypes_and_devices_are_refused_clearly():
    with pytest.raises(TypeError, match="unsupported dtype"):
        minidl.from_numpy(np.zeros(2, np.complex64))
    with pytest.raises(RuntimeError, match="CPU only"):
        minidl.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="negative dimension"):
        minidl.zeros(-1)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (3, 0), (1, 0, 1)])
def test_empty_tensors_report_torchs_strides(shape):
    assert minidl.zeros(*shape).stride() == torch.zeros(*shape).stride()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_of_a_0d_tensor_keeps_its_dtype(dtype):
    p = minidl.tensor(0.5, dtype=getattr(minidl, dtype))
    out = minidl.bernoulli(p)
    assert out.shape == () and out.dtype == p.dtype
    assert torch.bernoulli(torch.tensor(0.5, dtype=getattr(torch, dtype))).dtype == \
        getattr(torch, dtype)
