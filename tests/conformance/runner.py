"""Run one OpInfo entry's samples through torch and minidl and record what differs.

A sample's checks are of five kinds (the keys of expected_failures.toml):

- ``raises``: minidl raised on a sample torch accepts;
- ``values``: an output's values, shape or structure differ;
- ``dtype``: an output's dtype (or a Python scalar's type) differs;
- ``grad``: for differentiable float64 samples, the input gradients of
  ``sum(out_i * cotangent_i)`` (a fixed seeded random cotangent per output) differ;
- ``gradgrad``: for the same samples, second derivatives: with the first gradients recorded
  (``create_graph=True``, cotangents that require grad), the gradients of
  ``sum(grad_i * w_i)`` (fixed seeded random ``w_i``) with respect to the inputs and the
  cotangents differ -- a Hessian-vector product and, through the cotangents, a
  Jacobian-vector product;
- ``errors``: on an OpInfo error input, torch raises ``error_type`` and minidl raises nothing
  or an exception that is not an instance of that type (messages are not compared).

Tolerances are torch.testing.assert_close's defaults (float64 rtol 1e-7, atol 1e-7), except
float32, raised from rtol 1.3e-6 / atol 1e-5 to rtol 1e-5 / atol 5e-5: minidl computes through
NumPy, whose reductions (and convolutions over ~1000-term sums) round differently from torch's
kernels by a few ulp.
NaNs compare equal to NaNs. The values of the ops in NOT_COMPARABLE (random draws,
uninitialised memory) and of the samples asking for dropout (``dropout_p > 0``) cannot be
compared, nor gradients through a random mask: for them only the structure, shapes and
dtypes are. At most MAX_SAMPLES samples per (op, dtype) and
MAX_ERROR_INPUTS error inputs per op run, a fixed subset chosen by a generator seeded with
the op's id.
"""
import math
import random
import types
from dataclasses import dataclass, field

import numpy as np
import torch

import minidl
from tests.conformance.convert import Unsupported, dtype_name, result_array, to_minidl

KINDS = ("raises", "values", "dtype", "grad", "gradgrad", "errors")
MAX_SAMPLES = 6
MAX_ERROR_INPUTS = 8
DTYPES = (torch.float32, torch.float64, torch.int64, torch.bool)
TOLERANCES = {
    torch.float16: dict(rtol=1e-3, atol=1e-5),
    torch.float32: dict(rtol=1e-5, atol=5e-5),
    torch.float64: dict(rtol=1e-7, atol=1e-7),
}
EXACT = dict(rtol=0.0, atol=0.0)
# random draws (minidl's stream is not torch's) and uninitialised memory
NOT_COMPARABLE = {
    "bernoulli", "multinomial", "normal", "normal/in_place", "normal/number_mean", "rand_like",
    "randint", "randint_like", "randn", "randn_like", "empty", "empty_like", "new_empty",
    "nn.functional.dropout", "nn.functional.alpha_dropout", "nn.functional.dropout2d",
    "nn.functional.dropout3d", "nn.functional.feature_alpha_dropout/with_train"}


# ops that are deterministic unless a sample asks for dropout: op id -> does this sample draw
RANDOM_SAMPLES = {
    "nn.functional.scaled_dot_product_attention": lambda s: s.kwargs.get("dropout_p", 0) > 0,
    # (query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
    #  add_zero_attn, dropout_p, ...): dropout only when training (default True)
    "nn.functional.multi_head_attention_forward":
        lambda s: s.kwargs.get("training", True) and s.args[9] > 0,
}


def _random_sample(op, sample):
    """A sample of an otherwise deterministic op that draws a random dropout mask: its
    values and gradients cannot be compared either."""
    draws = RANDOM_SAMPLES.get(op_id(op))
    return draws is not None and bool(draws(sample))
# op id -> (OpReport, {kind: reason} listed for it): filled by the tests, read by conftest.
RESULTS = {}


def op_id(op):
    """'name' or 'name/variant': the key used by the tests and expected_failures.toml."""
    return f"{op.name}/{op.variant_test_name}" if op.variant_test_name else op.name


def _resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _method(name):
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    return call


def minidl_callable(op):
    """(callable, how) running op's sample on minidl, or None when minidl lacks the op's name.

    A torch function maps to the minidl function of the same dotted name, a Tensor method to
    the minidl method; OpInfo's own wrapper lambdas are re-run with ``torch`` bound to minidl.
    A torch function minidl only has as a Tensor method is called as that method.
    """
    own = _resolve(minidl, op.name)
    if not (callable(own) and not isinstance(own, minidl.dtype)) \
            and not hasattr(minidl.Tensor, op.name):
        return None
    torch_fn = _resolve(torch, op.name)
    if torch_fn is not None and op.op is torch_fn:
        if callable(own) and not isinstance(own, minidl.dtype):
            return own, f"minidl.{op.name}"
    elif op.method_variant is not None and op.op is op.method_variant:
        pass
    elif isinstance(op.op, types.FunctionType) and "torch" in op.op.__code__.co_names:
        f = op.op
        rebound = types.FunctionType(f.__code__, {**f.__globals__, "torch": minidl}, f.__name__,
                                     f.__defaults__, f.__closure__)
        return rebound, "OpInfo's wrapper with torch -> minidl"
    elif isinstance(op.op, types.FunctionType):
        return op.op, "OpInfo's wrapper"
    if callable(getattr(minidl.Tensor, op.name, None)):
        return _method(op.name), f"Tensor.{op.name}"
    return None


class Mismatch(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def _flat(m, t, path, pairs, problems, values=True):
    """Compare minidl result m with torch result t; tensor pairs -> pairs, issues -> problems
    (``values=False``: structure, shapes and dtypes only)."""
    if isinstance(t, torch.Tensor):
        if not isinstance(m, minidl.Tensor):
            problems.append(("values", f"{path}: minidl gave {type(m).__name__}, torch a tensor"))
            return
        if tuple(m.shape) != tuple(t.shape):
            problems.append(("values", f"{path}: shape {tuple(m.shape)} != torch {tuple(t.shape)}"))
            return
        pairs.append((m, t))
        if values:
            try:
                torch.testing.assert_close(torch.from_numpy(result_array(m)), t.detach(),
                                           check_dtype=False, equal_nan=True,
                                           **TOLERANCES.get(t.dtype, EXACT))
            except AssertionError as e:
                lines = [s for s in str(e).splitlines() if s.strip()]
                problems.append(("values", f"{path}: " + " ".join(lines[:3])))
        if dtype_name(m.dtype) != dtype_name(t.dtype):
            problems.append(("dtype", f"{path}: dtype {m.dtype} != torch {t.dtype}"))
    elif isinstance(t, (tuple, list)) and not isinstance(t, torch.Size):
        if not isinstance(m, (tuple, list)) or len(m) != len(t):
            problems.append(("values", f"{path}: minidl gave {type(m).__name__} "
                                       f"of {len(m) if isinstance(m, (tuple, list)) else '-'}, "
                                       f"torch {type(t).__name__} of {len(t)}"))
            return
        for i, (mi, ti) in enumerate(zip(m, t)):
            _flat(mi, ti, f"{path}[{i}]", pairs, problems, values)
    elif isinstance(t, torch.Size):
        if not isinstance(m, tuple) or tuple(m) != tuple(t):
            problems.append(("values", f"{path}: {m!r} != torch {t!r}"))
    else:
        same = (math.isclose(m, t, rel_tol=1e-6, abs_tol=1e-6) or (m != m and t != t)
                if isinstance(t, float) and isinstance(m, (int, float)) else m == t)
        if not same:
            problems.append(("values", f"{path}: {m!r} != torch {t!r}"))
        elif type(m) is not type(t):
            problems.append(("dtype", f"{path}: {type(m).__name__} != torch {type(t).__name__}"))


def _grad_problems(pairs, leaves, seed):
    """Input gradients of sum(out * cotangent) through every differentiable output, then
    the gradients of sum(grad * w) with respect to the inputs and cotangents."""
    diff = [(m, t) for m, t in pairs if t.requires_grad and t.dtype.is_floating_point]
    if not diff or not leaves:
        return []
    for m, _ in diff:
        if not m.requires_grad:
            return [("grad", "an output does not require grad where torch's does")]
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(tuple(t.shape)) for _, t in diff]
    t_vs = [torch.from_numpy(c).to(t.dtype).requires_grad_()
            for (_, t), c in zip(diff, cotangents)]
    m_vs = [minidl.from_numpy(c).to(m.dtype).requires_grad_()
            for (m, _), c in zip(diff, cotangents)]
    t_loss = sum((t * v).sum() for (_, t), v in zip(diff, t_vs))
    t_grads = torch.autograd.grad(t_loss, [t for t, _ in leaves], allow_unused=True,
                                  create_graph=True)
    m_loss = sum((m * v).sum() for (m, _), v in zip(diff, m_vs))
    try:
        m_grads = minidl.autograd.grad(m_loss, [m for _, m in leaves], allow_unused=True,
                                       create_graph=True)
    except Exception as e:  # any failure of minidl's backward is a grad mismatch
        return [("grad", f"backward raised {type(e).__name__}: {e}")]
    problems = []
    _compare_grads(m_grads, t_grads, "grad of input", problems)
    if problems:
        return [("grad", msg) for _, msg in problems]
    return [("gradgrad", msg) for _, msg in _second_problems(m_grads, t_grads, leaves, m_vs,
                                                             t_vs, rng)]


def _compare_grads(m_grads, t_grads, what, problems):
    for i, (mg, tg) in enumerate(zip(m_grads, t_grads)):
        if tg is None:
            if mg is not None and np.any(result_array(mg)):
                problems.append((None, f"{what} {i}: nonzero where torch's is None"))
            continue
        if mg is None:
            mg = minidl.zeros(tuple(tg.shape), dtype=getattr(minidl, dtype_name(tg.dtype)))
        _flat(mg.detach(), tg.detach(), f"{what} {i}", [], problems)


def _second_problems(m_grads, t_grads, leaves, m_vs, t_vs, rng):
    used = [i for i, tg in enumerate(t_grads) if tg is not None and tg.requires_grad]
    if not used:
        return []
    ws = {i: rng.standard_normal(tuple(t_grads[i].shape)) for i in used}
    t_loss = sum((t_grads[i] * torch.from_numpy(ws[i]).to(t_grads[i].dtype)).sum() for i in used)
    t_wrt = [t for t, _ in leaves] + t_vs
    try:
        t_second = torch.autograd.grad(t_loss, t_wrt, allow_unused=True)
    except NotImplementedError:  # torch has no double backward here (e.g. cdist): no oracle
        return []
    except RuntimeError as e:  # e.g. "derivative for aten::hardsigmoid_backward is not
        if "is not implemented" in str(e):  # implemented": torch has no second derivative
            return []
        raise
    m_used = [i for i in used if m_grads[i] is not None and m_grads[i].requires_grad]
    if len(m_used) != len(used):
        return [(None, "a first gradient is not differentiable (no graph) where torch's is")]
    m_loss = sum((m_grads[i] * minidl.from_numpy(ws[i]).to(m_grads[i].dtype)).sum()
                 for i in used)
    try:
        m_second = minidl.autograd.grad(m_loss, [m for _, m in leaves] + m_vs, allow_unused=True)
    except Exception as e:
        return [(None, f"double backward raised {type(e).__name__}: {e}")]
    problems = []
    _compare_grads(m_second, t_second, "second derivative wrt input", problems)
    return problems


@dataclass
class OpReport:
    """What one OpInfo entry's run found: per-sample kinds that failed, and skips."""
    how: str
    samples: list = field(default_factory=list)  # one set of failed kinds per sample run
    unsupported: int = 0
    messages: dict = field(default_factory=dict)  # kind -> first few failure descriptions

    def add(self, label, problems):
        self.samples.append({kind for kind, _ in problems})
        for kind, message in problems:
            shown = self.messages.setdefault(kind, [])
            if len(shown) < 4:
                shown.append(f"{label}: {message}"[:300])

    @property
    def failing(self):
        return set().union(*self.samples) if self.samples else set()


def _subset(items, key, limit):
    if len(items) <= limit:
        return list(enumerate(items))
    chosen = sorted(random.Random(key).sample(range(len(items)), limit))
    return [(i, items[i]) for i in chosen]


def _run_sample(fn, op, sample, dtype, label, report):
    leaves = []
    if sample.kwargs.get("sparse"):  # a sparse gradient: minidl has no sparse tensors
        report.unsupported += 1
        return
    try:
        m_in = to_minidl([sample.input, list(sample.args), sample.kwargs], leaves)
    except Unsupported:
        report.unsupported += 1
        return
    try:
        t_out = op.op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # a sample this torch build refuses is not minidl's to match
        report.unsupported += 1
        return
    try:
        m_out = fn(m_in[0], *m_in[1], **m_in[2])
    except Exception as e:  # any exception on a valid sample is the finding
        report.add(label, [("raises", f"{type(e).__name__}: {e}")])
        return
    pairs, problems = [], []
    comparable = op_id(op) not in NOT_COMPARABLE and not _random_sample(op, sample)
    _flat(m_out, t_out, "output", pairs, problems, values=comparable)
    if comparable and dtype == torch.float64 and op.supports_autograd:
        problems += _grad_problems(pairs, leaves, seed=len(report.samples))
    report.add(label, problems)


def _run_error_input(fn, op, error, report):
    sample = error.sample_input
    try:
        m_in = to_minidl([sample.input, list(sample.args), sample.kwargs], [])
    except Unsupported:
        report.unsupported += 1
        return
    try:
        op.op(sample.input, *sample.args, **sample.kwargs)
    except error.error_type:
        pass
    except Exception:  # torch raising another type: OpInfo out of date, skip
        report.unsupported += 1
        return
    else:
        report.unsupported += 1  # this torch build accepts it
        return
    want = error.error_type.__name__
    try:
        fn(m_in[0], *m_in[1], **m_in[2])
    except error.error_type:
        report.add("error input", [])
        return
    except Exception as e:  # the wrong exception type is the finding
        report.add("error input", [("errors", f"{type(e).__name__} where torch raises {want}: "
                                              f"{error.error_regex!r}")])
        return
    report.add("error input", [("errors", f"accepted where torch raises {want}: "
                                          f"{error.error_regex!r}")])


def run_op(op):
    """Run op's seeded sample subset in each supported dtype, then its error inputs."""
    fn, how = minidl_callable(op)
    report = OpReport(how)
    supported = op.supported_dtypes("cpu")
    for dtype in (d for d in DTYPES if d in supported):
        grad = dtype == torch.float64 and op.supports_autograd
        torch.manual_seed(0)
        minidl.manual_seed(0)  # random ops: the same (minidl) draws every run
        samples = list(op.sample_inputs("cpu", dtype, requires_grad=grad))
        for i, sample in _subset(samples, f"{op_id(op)}/{dtype}", MAX_SAMPLES):
            _run_sample(fn, op, sample, dtype, f"{dtype_name(dtype)} sample {i}", report)
    if op.error_inputs_func is not None:
        torch.manual_seed(0)
        errors = list(op.error_inputs("cpu"))
        for _, error in _subset(errors, f"{op_id(op)}/errors", MAX_ERROR_INPUTS):
            _run_error_input(fn, op, error, report)
    return report
