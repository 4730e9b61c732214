"""Run one ModuleInfo entry's inputs through a torch module and the minidl module of the same
name, with the same weights, and record what differs (the kinds of runner.py).

For each seeded subset of the entry's ModuleInputs, in float32 and float64, in train mode
and -- where ModuleInfo says they differ -- eval mode: torch builds the module, minidl builds
its own from the same constructor arguments and loads torch's ``state_dict``; both run the
forward input. Outputs must match; in float64 so must the gradients of the inputs and of
every parameter, and the second derivatives (the ``grad`` / ``gradgrad`` checks of
runner.py, parameters counted as inputs). A constructor or forward that torch refuses in a
ModuleErrorInput must be refused by minidl with the same exception type.
"""
import numpy as np
import torch

import minidl
from tests.conformance.convert import Unsupported, dtype_name, to_minidl
from tests.conformance.runner import OpReport, _flat, _grad_problems, _subset

MAX_INPUTS = 4
# module id -> (OpReport, {kind: reason} listed for it): filled by the tests, read by conftest.
RESULTS = {}
DTYPES = (torch.float32, torch.float64)
NOT_COMPARABLE = {"nn.Dropout", "nn.Dropout1d", "nn.Dropout2d", "nn.Dropout3d",
                  "nn.AlphaDropout", "nn.FeatureAlphaDropout", "nn.RReLU"}


def module_id(info):
    return info.name


def minidl_module(info):
    """minidl's class of the same name, or None."""
    return getattr(minidl.nn, info.module_cls.__name__, None)


def _state(t_mod):
    return {k: minidl.from_numpy(v.detach().numpy().copy()) for k, v in t_mod.state_dict().items()}


def _build(info, cls, module_input, dtype, training, leaves):
    c = module_input.constructor_input
    torch.manual_seed(0)
    t_mod = info.module_cls(*c.args, **c.kwargs).to(dtype)
    t_mod.train(training)
    m_args, m_kwargs = to_minidl([list(c.args), c.kwargs], [])
    m_mod = cls(*m_args, **m_kwargs).to(getattr(minidl, dtype_name(dtype)))
    m_mod.train(training)
    m_mod.load_state_dict(_state(t_mod))
    if dtype == torch.float64:
        named = dict(m_mod.named_parameters())
        for name, p in t_mod.named_parameters():
            if p.requires_grad:
                leaves.append((p, named[name]))
    return t_mod, m_mod


def _run_input(info, cls, module_input, dtype, training, label, report):
    if module_input.forward_input is None:
        report.unsupported += 1
        return
    leaves = []
    f = module_input.forward_input
    try:
        m_in = to_minidl([list(f.args), f.kwargs], leaves)
    except Unsupported:
        report.unsupported += 1
        return
    try:
        t_mod, m_mod = _build(info, cls, module_input, dtype, training, leaves)
        t_out = t_mod(*f.args, **f.kwargs)
    except Unsupported:
        report.unsupported += 1
        return
    except Exception as e:
        if "t_mod" in locals():
            report.add(label, [("raises", f"{type(e).__name__}: {e}")])
        else:
            report.unsupported += 1  # torch itself refuses this constructor here
        return
    try:
        m_out = m_mod(*m_in[0], **m_in[1])
    except Exception as e:
        report.add(label, [("raises", f"{type(e).__name__}: {e}")])
        return
    pairs, problems = [], []
    comparable = info.name not in NOT_COMPARABLE
    _flat(m_out, t_out, "output", pairs, problems, values=comparable)
    if comparable and dtype == torch.float64:
        problems += _grad_problems(pairs, leaves, seed=len(report.samples))
    report.add(label, problems)


def _run_error_input(info, cls, error, report):
    m = error.module_error_input
    c, f = m.constructor_input, m.forward_input
    try:
        m_c = to_minidl([list(c.args), c.kwargs], [])
        m_f = to_minidl([list(f.args), f.kwargs], []) if f is not None else None
    except Unsupported:
        report.unsupported += 1
        return
    try:
        t_mod = info.module_cls(*c.args, **c.kwargs)
        if f is not None:
            t_mod(*f.args, **f.kwargs)
    except error.error_type:
        pass
    except Exception:
        report.unsupported += 1
        return
    else:
        report.unsupported += 1
        return
    want = error.error_type.__name__
    try:
        m_mod = cls(*m_c[0], **m_c[1])
        if m_f is not None:
            m_mod(*m_f[0], **m_f[1])
    except error.error_type:
        report.add("error input", [])
        return
    except Exception as e:
        report.add("error input", [("errors", f"{type(e).__name__} where torch raises {want}: "
                                              f"{error.error_regex!r}")])
        return
    report.add("error input", [("errors", f"accepted where torch raises {want}: "
                                          f"{error.error_regex!r}")])


def run_module(info):
    cls = minidl_module(info)
    report = OpReport(f"minidl.nn.{cls.__name__}")
    modes = (True, False) if info.train_and_eval_differ else (True,)
    for dtype in (d for d in DTYPES if d in info.supported_dtypes("cpu")):
        for training in modes:
            torch.manual_seed(0)
            inputs = info.module_inputs_func(info, device="cpu", dtype=dtype,
                                             requires_grad=dtype == torch.float64,
                                             training=training)
            mode = "train" if training else "eval"
            for i, mi in _subset(inputs, f"{info.name}/{dtype}/{mode}", MAX_INPUTS):
                _run_input(info, cls, mi, dtype, training, f"{dtype_name(dtype)} {mode} input {i}",
                           report)
    if info.module_error_inputs_func is not None:
        errors = info.module_error_inputs_func(info, device="cpu", dtype=torch.float32,
                                               requires_grad=False, training=True)
        for _, error in _subset(errors, f"{info.name}/errors", 8):
            _run_error_input(info, cls, error, report)
    return report


def array(m):
    return np.asarray(m.detach().numpy())
