"""Second derivatives through the recurrent layers (the fused ``RecurrentLayer`` kernel, whose
double backward re-runs its composed reference): every mode (RNN tanh / relu, LSTM with and
without projections, GRU), forward and reverse directions, packed batches whose size shrinks
over the steps, bias or not, and a cell -- against torch (see harness.py).

The layer is built in each library and its parameters replaced by the case's tensors (as
torch.func.functional_call does), so that the weights are inputs of the case. gradgradcheck
runs in fast mode (random projections of the finite-difference Jacobian; the full one costs
seconds per case), the Hessian-vector products are compared with torch's in full."""
import numpy as np
import pytest

from tests.autograd.gradgrad.harness import Case, check

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape) * 0.7


def layer(kind, names, lengths=None, **kw):
    """fn(lib, x, *states, *weights) running ``nn.<kind>(**kw)`` with those weights; states
    are h_0 (and c_0 for an LSTM) and ``names`` the parameters replaced, in order."""
    n_states = 2 if kind == "LSTM" else 1

    def fn(lib, x, *rest):
        lib.manual_seed(0)
        module = getattr(lib.nn, kind)(**kw).double()
        states, weights = rest[:n_states], rest[n_states:]
        for name, w in zip(names, weights):
            delattr(module, name)
            setattr(module, name, w)
        hx = tuple(states) if kind == "LSTM" else states[0]
        if lengths is not None:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, final = module(x, hx)
        out = out.data if lengths is not None else out
        return (out,) + (tuple(final) if kind == "LSTM" else (final,))
    return fn


def names(suffixes=("",), bias=True, proj=False):
    base = ["weight_ih_l0{}", "weight_hh_l0{}"] + (["bias_ih_l0{}", "bias_hh_l0{}"] if bias
                                                   else []) + (["weight_hr_l0{}"] if proj else [])
    return [n.format(s) for s in suffixes for n in base]


def cell(kind):
    def fn(lib, x, h, *weights):
        lib.manual_seed(0)
        module = getattr(lib.nn, kind)(2, 2).double()
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            delattr(module, name)
            setattr(module, name, w)
        out = module(x, (h, h * 0.5) if kind == "LSTMCell" else h)
        return tuple(out) if kind == "LSTMCell" else out
    return fn


FAST = dict(kwargs=dict(fast_mode=True))

CASES = [
    Case("lstm", layer("LSTM", names(), input_size=2, hidden_size=2),
         (r(3, 2, 2), r(1, 2, 2), r(1, 2, 2), r(8, 2), r(8, 2), r(8), r(8)), **FAST),
    Case("lstm projection packed", layer("LSTM", names(proj=True), lengths=[2, 3],
                                         input_size=2, hidden_size=3, proj_size=2),
         (r(3, 2, 2), r(1, 2, 2), r(1, 2, 3), r(12, 2), r(12, 2), r(12), r(12), r(2, 3)), **FAST),
    Case("gru bidirectional", layer("GRU", names(("", "_reverse")), input_size=2, hidden_size=2,
                                    bidirectional=True),
         (r(3, 2, 2), r(2, 2, 2), r(6, 2), r(6, 2), r(6), r(6), r(6, 2), r(6, 2), r(6), r(6)),
         **FAST),
    Case("gru packed no bias", layer("GRU", names(bias=False), lengths=[1, 3], input_size=2,
                                     hidden_size=2, bias=False),
         (r(3, 2, 2), r(1, 2, 2), r(6, 2), r(6, 2)), **FAST),
    Case("rnn tanh reverse packed", layer("RNN", names(("", "_reverse")), lengths=[3, 2],
                                          input_size=2, hidden_size=2, bidirectional=True),
         (r(3, 2, 2), r(2, 2, 2), r(2, 2), r(2, 2), r(2), r(2), r(2, 2), r(2, 2), r(2), r(2)),
         **FAST),
    Case("rnn relu", layer("RNN", names(), input_size=2, hidden_size=3, nonlinearity="relu"),
         (r(3, 2, 2) + 1.0, r(1, 2, 3), r(3, 2), r(3, 3), r(3) + 0.5, r(3)), **FAST),
    Case("lstm cell", cell("LSTMCell"), (r(2, 2), r(2, 2), r(8, 2), r(8, 2), r(8), r(8)), **FAST),
    Case("gru cell", cell("GRUCell"), (r(2, 2), r(2, 2), r(6, 2), r(6, 2), r(6), r(6)), **FAST),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_second_derivatives_match_torch(case):
    check(case)
