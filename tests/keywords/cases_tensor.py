"""Cases for tensors: creation, layout, elementwise, shape and reduction functions, Tensor
methods, save / load and summary."""
import warnings

import numpy as np

from .checks import ByName, Custom, Differs, Equals, Holds, NoOp, Refused, each

_STRIDED = "x.T"  # not contiguous: preserve_format keeps its layout
_SYNC = "a CPU-to-CPU copy is synchronous, as in torch"


def _contiguous(r):
    """A row-major result (``empty``'s are summarised as (shape, dtype, stride, grad))."""
    if isinstance(r, tuple):
        shape, _, stride, _ = r
        return stride == tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
    return r.is_contiguous()


def _layout(*names, base=_STRIDED):
    """contiguous_format gives a row-major result; channels_last is refused (``base``: a
    non-contiguous input, where the callables' own base calls are contiguous)."""
    return each(" ".join(names), "memory_format",
                Holds("torch.contiguous_format", _contiguous, base=base),
                Refused("torch.channels_last", RuntimeError, "memory_format"))


TENSOR_CASES = {
    # ------------------------------------------------------------------- memory layout
    **_layout("torch.zeros_like", "torch.ones_like", "torch.empty_like", "torch.rand_like",
              "torch.randn_like", "torch.full_like", "torch.randint_like", base=None),
    **_layout("clone", "Tensor.int", "Tensor.long", "Tensor.short", "Tensor.char",
              "Tensor.byte", "Tensor.bool"),
    **_layout("Tensor.float", "Tensor.double", "Tensor.half", base="i.T"),
    ("Tensor.contiguous", "memory_format"): [
        NoOp("torch.contiguous_format", "contiguous_format is contiguous()'s default",
             base=_STRIDED),
        Refused("torch.preserve_format", RuntimeError, "memory_format"),
        Refused("torch.channels_last", RuntimeError, "memory_format")],
    ("Tensor.is_contiguous", "memory_format"): [
        Differs("torch.channels_last",
                base="img.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)")],
    ("torch.empty", "memory_format"): [
        Refused("torch.preserve_format", RuntimeError, "memory_format"),
        Refused("torch.channels_last", RuntimeError, "memory_format")],
    **{(f"Tensor.{name}", kw): [Equals(value, f"x, {value}", base="x")] for name, kw, value in (
        ("view", "size", "(12,)"), ("reshape", "shape", "(4, 3)"), ("expand", "size", "(2, 3, 4)"),
        ("permute", "dims", "(1, 0)"), ("flip", "dims", "(0,)"), ("tile", "dims", "(2, 1)"),
        ("repeat", "repeats", "(2, 1)"))},
    # ----------------------------------------------------------------- devices, copies
    **{("Tensor.cuda", kw): [Refused(value, RuntimeError, "CPU only")] for kw, value in (
        ("device", "'cuda'"), ("non_blocking", "True"), ("memory_format", "None"))},
    ("torch.Generator", "device"): [
        Holds("'cpu'", lambda r: str(r.device) == "cpu", not_default=False),
        Refused("'cuda'", RuntimeError, "cuda")],
    ("torch.device", "type"): [ByName(), Holds("'cuda'", lambda r: r.type == "cuda"),
                               Refused("'gpu'", RuntimeError, "Expected one of")],
    ("torch.device", "index"): [Differs("1")],
    ("Tensor.to", "non_blocking"): [NoOp("True", _SYNC, base="x, torch.float64")],
    ("Tensor.to", "copy"): [Custom(lambda torch: _to_copies(torch),
                                   "copy=True returns a new tensor, else self")],
    ("Tensor.copy_", "non_blocking"): [NoOp("True", _SYNC)],
    ("Tensor.type", "non_blocking"): [NoOp("True", _SYNC, base="x, torch.float64")],
    ("Tensor.numpy", "force"): [Custom(lambda torch: _numpy_force(torch),
                                       "force=True gives a grad-requiring tensor's array")],
    # ----------------------------------------------------------------------- factories
    **each("torch.tensor torch.empty torch.rand torch.randn torch.randperm", "pin_memory",
           Refused("True", RuntimeError, "pin_memory")),
    **each("torch.randint torch.randperm", "requires_grad",
           Refused("True", RuntimeError, "gradients")),
    ("torch.empty", "out"): [Custom(lambda torch: _empty_out(torch),
                                    "the out tensor, resized, is returned")],
    ("torch.Tensor", "data"): [ByName()],
    ("torch.Tensor", "_version_counter"): [
        Custom(lambda torch: _shares_version(torch),
               "a tensor made with another's version counter moves with it")],
    ("torch.memory_format", "name"): [ByName()],
    ("torch.asarray", "copy"): [Custom(lambda torch: _asarray_copies(torch),
                                       "copy=True copies, copy=False shares memory")],
    ("torch.arange", "end"): [Differs("4.0")], ("torch.arange", "step"): [Differs("1.0")],
    ("torch.eye", "m"): [Differs("4")], ("torch.logspace", "base"): [Differs("2.0")],
    ("torch.randint", "high"): [Differs("5")], ("torch.randint", "size"): [Differs("(2,)")],
    ("torch.randint_like", "low"): [Differs("5", base="x.T, high=10")],
    ("torch.randint_like", "high"): [Differs("15")],
    ("torch.normal", "std"): [Differs("3.0")], ("torch.normal", "size"): [Differs("(2,)")],
    ("torch.inference_mode", "mode"): [Differs("False")],
    # -------------------------------------------------------------------- elementwise
    **each("allclose isclose", "rtol", Differs("0.9", base="x, x * 1.5")),
    **each("allclose isclose", "atol", Differs("0.9", base="x, x + 0.1")),
    **each("allclose isclose", "equal_nan", Differs("True", base="x.log(), x.log()")),
    **each("clamp clip clamp_ clip_", "min", Differs("0.0")),
    **each("clamp clip clamp_ clip_", "max", Differs("0.0")),
    **each("nan_to_num nan_to_num_", "nan", Differs("5.0", base="x.log()")),
    **each("nan_to_num nan_to_num_", "posinf", Differs("5.0", base="1 / (x * 0)")),
    **each("nan_to_num nan_to_num_", "neginf", Differs("-5.0", base="-1 / (x * 0)")),
    ("torch.where", "input"): [Differs("y")], ("torch.where", "other"): [Differs("x")],
    **each("max min", "other", Differs("y", base="x")),
    **each("max min median prod", "keepdim", Differs("True", base="x, 1")),
    ("torch.einsum", "equation"): [Differs("'ij->i'")],
    ("Tensor.uniform_", "a"): [Differs("-3.0")], ("Tensor.uniform_", "b"): [Differs("3.0")],
    **each("Tensor.normal_ Tensor.log_normal_", "mean", Differs("3.0")),
    **each("Tensor.normal_ Tensor.log_normal_", "std", Differs("0.1")),
    ("Tensor.cauchy_", "median"): [Differs("3.0")], ("Tensor.cauchy_", "sigma"): [Differs("0.1")],
    # ------------------------------------------------------------------------- shape
    **each("squeeze", "dim", Differs("0", base="x[None, :, None]")),
    **each("chunk", "dim", Differs("1", base="x, 2")),
    **each("unbind", "dim", Differs("1", base="x")),
    **each("diagonal", "dim1", Differs("2", base="b")),
    **each("diagonal", "dim2", Differs("2", base="b")),
    **each("diag_embed", "dim1", Differs("0", base="b")),
    **each("diag_embed", "dim2", Differs("0", base="b")),
    **each("flatten", "start_dim", Differs("1", base="b")),
    **each("flatten", "end_dim", Differs("1", base="b")),
    **each("roll", "dims", Differs("0")), **each("rot90", "dims", Differs("(1, 0)")),
    **each("repeat_interleave", "repeats", Differs("3")),
    **each("repeat_interleave", "output_size",
           Holds("24", lambda r: r.shape == (24,), not_default=False),
           Refused("5", RuntimeError, "output_size")),
    ("torch.tensordot", "dims"): [Differs("([1], [0])", base="x, m, 0")],
    ("torch.meshgrid", "indexing"): [Differs("'xy'", base="u, v")],
    # ------------------------------------------------------------ indexing and sorting
    **each("scatter scatter_", "src", Differs("x")),
    **each("scatter scatter_", "value", Differs("2.5", base="x, 1, idx, value=0.5")),
    **each("scatter scatter_", "reduce", Refused("'add'", NotImplementedError, "reduce"),
           Refused("'multiply'", NotImplementedError, "reduce")),
    **each("gather", "sparse_grad", Refused("True", NotImplementedError, "sparse_grad")),
    **each("searchsorted", "right", Differs("True", base="x.sort(1)[0], x")),
    **each("searchsorted", "side", Differs("'right'", base="x.sort(1)[0], x")),
    **each("searchsorted", "sorter", Differs("x.argsort(1)", base="x, y")),
    **each("sort argsort", "stable",
           Holds("True", lambda r: _stable_ties(r), not_default=False,
                 base="torch.tensor([2, 1, 2, 1, 2, 1] * 3)")),
    **each("topk", "sorted", Holds("False", lambda r: r[0].shape == (3, 2), not_default=False)),
    **each("unique", "sorted", NoOp("False", "the CPU returns sorted values either way, "
                                             "as torch does")),
    # ---------------------------------------------------------------------- reductions
    **each("std var std_mean var_mean", "unbiased", Differs("False")),
    **each("std var std_mean var_mean", "correction", Differs("0")),
    **each("torch.log_softmax torch.softmax F.log_softmax F.softmax F.softmin", "_stacklevel",
           Custom(lambda torch: _stacklevel(torch), "where the implicit-dim warning points")),
    # -------------------------------------------------------------------- save / load
    ("torch.load", "map_location"): [NoOp("'cpu'", "the CPU is the only device"),
                                     Refused("'cuda'", RuntimeError, "cuda")],
    ("torch.load", "weights_only"): [NoOp("False", "a checkpoint holds only tensors and "
                                                   "containers, which weights_only=True loads")],
    ("torch.load", "mmap"): [Refused("True", ValueError, "mmap")],
    ("torch.load", "pickle_load_args"): [Refused("1", ValueError)],
    **each("torch.load torch.save", "pickle_module",
           Refused("__import__('pickle')", ValueError, "pickle")),
    ("torch.save", "pickle_protocol"): [Refused("2", ValueError, "pickle_protocol")],
    ("torch.save", "_use_new_zipfile_serialization"): [
        Refused("False", ValueError, "_use_new_zipfile_serialization")],
    # ----------------------------------------------------------------- minidl.summary
    ("torch.summary", "input_size"): [Differs("(2, 4)")],
    ("torch.summary", "dtypes"): [Differs("[torch.float64]", from_error=True,
                                          base="nn.Linear(4, 2).double(), (4,)")],
    ("torch.summary", "batch_size"): [Differs("3")],
    ("torch.summary", "depth"): [
        Differs("1", base="nn.Sequential(nn.Sequential(nn.Linear(4, 2))), (4,)")],
    ("torch.summary", "input_data"): [Differs("x", base="nn.Linear(4, 2)", from_error=True),
                                      Refused("x", ValueError, "input_data")],
}


def _to_copies(torch):
    x = torch.ones(2)
    assert x.to(torch.float32) is x
    y = x.to(torch.float32, copy=True)
    assert y is not x and not np.shares_memory(y._data, x._data) and y.tolist() == [1.0, 1.0]


def _numpy_force(torch):
    w = torch.ones(2, requires_grad=True)
    try:
        w.numpy()
    except RuntimeError:
        pass
    else:
        raise AssertionError("numpy() of a tensor that requires grad should fail")
    assert w.numpy(force=True).tolist() == [1.0, 1.0]


def _empty_out(torch):
    out = torch.ones(5, dtype=torch.int64)
    assert torch.empty(3, 4, out=out) is out and out.shape == (3, 4) and out.dtype == torch.int64


def _shares_version(torch):
    a = torch.ones(2)
    b = torch.Tensor(a._data, _version_counter=a._vc)
    a.add_(1)
    assert b._version == a._version == 1


def _asarray_copies(torch):
    a = np.ones(3, np.float32)
    assert np.shares_memory(torch.asarray(a, copy=False)._data, a)
    assert not np.shares_memory(torch.asarray(a, copy=True)._data, a)


def _stable_ties(result):
    order = result[1] if isinstance(result, tuple) else result
    return order.tolist()[:9] == [1, 3, 5, 7, 9, 11, 13, 15, 17]


def _stacklevel(torch):
    """_stacklevel=1 points the implicit-dim warning at the line that warns, in the library."""
    for name in ("softmax", "log_softmax", "softmin"):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(torch.nn.functional, name)(torch.ones(2, 2), _stacklevel=1)
        assert w and "implicit" in str(w[0].message).lower()
        assert w[0].filename.endswith("activation.py"), w[0].filename
