"""``out=`` against torch: every function that takes ``out`` in both libraries, called the
same way in each, with out tensors of the right and wrong shapes and dtypes and with
inputs that require grad. Both must accept or refuse alike; an accepted call must return
``out``, holding torch's values in out's dtype, and warn about a resize just where torch does.
"""
import inspect
import warnings

import numpy as np
import pytest
import torch

import minidl
from tests.keywords.calls import BASE
from tests.keywords.harness import make_ns, resolve, split_args

_RANDOM = {"rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "empty"}
_BASE = {"sum": "x, 1", "prod": "x, 1"}  # torch takes out= only with a dim
# torch's composite ops (and floor_divide, which has no derivative formula) skip the check that
# out= is not differentiated through; minidl makes it for every op whose result requires grad
_UNCHECKED_IN_TORCH = {"diag", "inner", "tensordot", "floor_divide"}
# arange's float step 0.5 truncated to 0: torch refuses it into int64 but fills int32 with 0s
_TORCH_QUIRKS = {("arange", "int32")}


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_arange_step_truncated_to_zero_is_refused_for_every_integer_out(dtype):
    # torch refuses it into int64 but fills an int32 out with zeros; minidl refuses both
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        minidl.arange(0, 3, 0.5, out=minidl.zeros(6, dtype=getattr(minidl, dtype)))
    if dtype == "int64":
        with pytest.raises(ValueError, match="step must be nonzero"):
            torch.arange(0, 3, 0.5, out=torch.zeros(6, dtype=torch.int64))


def _takes_out(name):
    f = getattr(minidl, name, None)
    return callable(f) and "out" in inspect.signature(f).parameters


NAMES = sorted(n for n in (q[len("torch."):] for q in BASE if q.startswith("torch."))
               if _takes_out(n) and hasattr(torch, n) and not n.endswith("_"))

# (shape of out: 'same' / 'empty' / 'wrong', dtype of out: None = the result's, or a name)
SCENARIOS = [("same", None), ("empty", None), ("wrong", None), ("same", "float64"),
             ("same", "int64"), ("same", "bool"), ("same", "int32")]


def _call(lib, name, make_out, grad=False, no_grad=False):
    """(result or exception, the out tensors, resize warnings) of ``name`` in ``lib``."""
    ns = make_ns(lib, grad)
    base = _BASE.get(name, BASE["torch." + name])
    args, kwargs = eval(f"_split({base})", {**ns, "_split": split_args})
    f = resolve("torch." + name, lib)
    lib.manual_seed(0)
    reference = f(*args, **kwargs) if make_out else None
    outs = make_out(lib, reference) if make_out else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if no_grad:
                with lib.no_grad():
                    result = f(*args, **kwargs, out=outs)
            else:
                lib.manual_seed(0)
                result = f(*args, **kwargs, out=outs)
        except (RuntimeError, TypeError, ValueError, NotImplementedError) as e:
            result = e
    resized = [w for w in caught if "resized" in str(w.message)]
    return result, outs, resized


def _maker(shape, dtype):
    def make(lib, reference):
        refs = tuple(reference) if isinstance(reference, tuple) else (reference,)
        made = []
        for r in refs:
            d = getattr(lib, dtype) if dtype and r.dtype.is_floating_point else r.dtype
            size = {"same": tuple(r.shape), "empty": (0,), "wrong": (7,)}[shape]
            made.append(lib.zeros(size, dtype=d))
        return tuple(made) if isinstance(reference, tuple) else made[0]
    return make


def _array(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t._data)


@pytest.mark.parametrize("name, shape, dtype", [
    (name, shape, dtype) for name in NAMES for shape, dtype in SCENARIOS
    if (name, dtype) not in _TORCH_QUIRKS])
def test_out_as_torch(name, shape, dtype):
    (m_res, m_out, m_warn), (t_res, t_out, t_warn) = (_call(lib, name, _maker(shape, dtype))
                                                      for lib in (minidl, torch))
    refused = isinstance(m_res, Exception), isinstance(t_res, Exception)
    assert refused[0] == refused[1], \
        f"{name}(out={shape}/{dtype}): minidl {m_res!r}, torch {t_res!r}"
    if refused[0]:
        return
    m_outs = m_out if isinstance(m_out, tuple) else (m_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    returned = tuple(m_res) if isinstance(m_out, tuple) else (m_res,)
    assert all(r is o for r, o in zip(returned, m_outs)), f"{name} did not return out"
    assert bool(m_warn) == bool(t_warn), f"{name}: resize warning {m_warn} vs torch {t_warn}"
    for m, t in zip(m_outs, t_outs):
        assert tuple(m.shape) == tuple(t.shape)
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        if name not in _RANDOM:
            np.testing.assert_allclose(_array(m).astype(np.float64),
                                       _array(t).astype(np.float64), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in _RANDOM])
def test_no_autograd_through_out(name):
    """An input that requires grad is an error in grad mode (where torch says so), and fine
    under no_grad."""
    refused = {}
    for lib in (torch, minidl):
        result, _, _ = _call(lib, name, _maker("same", None), grad=True)
        refused[lib] = isinstance(result, RuntimeError) and \
            "automatic differentiation" in str(result)
        quiet, _, _ = _call(lib, name, _maker("same", None), grad=True, no_grad=True)
        assert not isinstance(quiet, Exception), f"{lib.__name__}.{name} under no_grad: {quiet!r}"
    assert refused[minidl] == (refused[torch] or name in _UNCHECKED_IN_TORCH), \
        f"{name}: refused {refused}"


def test_out_requiring_grad_is_an_error():
    for lib in (minidl, torch):
        with pytest.raises(RuntimeError, match="automatic differentiation"):
            lib.add(lib.ones(2), 1, out=lib.zeros(2, requires_grad=True))


def test_multi_result_out_is_a_named_tuple_of_the_outs():
    x = minidl.tensor([[1.0, 3.0], [4.0, 2.0]])
    values, indices = minidl.empty(0), minidl.empty(0, dtype=minidl.int64)
    r = minidl.max(x, 1, out=(values, indices))
    assert r.values is values and r.indices is indices
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="out"):
        minidl.max(x, 1, out=values)
    with pytest.raises(TypeError, match="out"):
        minidl.add(x, 1, out=(values,))


@pytest.mark.parametrize("maker, args", [("zeros", (3,)), ("ones", (2, 2)), ("arange", (5,)),
                                         ("full", ((3,), 2.5)), ("linspace", (0, 4, 5)),
                                         ("eye", (3,)), ("randperm", (4,))])
def test_factories_take_the_dtype_of_out(maker, args):
    for lib in (minidl, torch):
        out = lib.empty(0, dtype=lib.int64)
        assert getattr(lib, maker)(*args, out=out) is out and out.dtype == lib.int64
        with pytest.raises(RuntimeError, match="does not match dtype of out"):
            getattr(lib, maker)(*args, dtype=lib.float32, out=lib.empty(0, dtype=lib.int64))


def test_out_may_be_an_input():
    for lib in (minidl, torch):
        x = lib.tensor([1.0, 2.0])
        version = x._version
        assert lib.add(x, x, out=x) is x and x.tolist() == [2.0, 4.0]
        assert x._version > version
