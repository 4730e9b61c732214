"""Cases for the recurrent layers ``nn.RNN`` / ``LSTM`` / ``GRU``, the cells and their bases.
Base calls: the layers on ``b`` (2, 3, 4) read as (T, N, input) = (2, 3, 4), the cells on
``x`` (3, 4). ``RNNBase`` and ``RNNCellBase`` have no forward (as torch's): their keywords
are checked on the parameters they build and the attributes the subclasses' forward reads.
"""
import numpy as np

from .checks import Custom, Differs, Refused, RefusesUnknown, Warns, each

_LAYERS = "nn.RNN nn.LSTM nn.GRU"


def _shapes(module):
    return {n: tuple(p.shape) for n, p in module.named_parameters()}


def _base(torch, **kw):
    return torch.nn.RNNBase("LSTM", 4, 3, **kw)


def _refused(fn, error, name):
    try:
        fn()
    except error as e:
        assert name in str(e), f"the error does not name {name}: {e}"
        return
    raise AssertionError(f"accepted: {fn}")


def _rnn_base_keywords(torch):
    """Each keyword of RNNBase shapes the parameters or sets what forward reads."""
    assert _shapes(torch.nn.RNNBase("GRU", 4, 3))["weight_ih_l0"] == (9, 4)
    assert _shapes(torch.nn.RNNBase("RNN_TANH", 5, 2))["weight_hh_l0"] == (2, 2)
    _refused(lambda: torch.nn.RNNBase("CNN", 4, 3), ValueError, "CNN")
    assert "weight_ih_l1" in _shapes(_base(torch, num_layers=2))
    assert "bias_ih_l0" not in _shapes(_base(torch, bias=False))
    assert "weight_hh_l0_reverse" in _shapes(_base(torch, bidirectional=True))
    assert _shapes(_base(torch, proj_size=2))["weight_hr_l0"] == (2, 3)
    assert _base(torch, batch_first=True).batch_first is True
    assert _base(torch, dropout=0.5, num_layers=2).dropout == 0.5
    assert _base(torch, dtype=torch.float64).weight_ih_l0.dtype == torch.float64
    _refused(lambda: _base(torch, device="cuda"), RuntimeError, "cuda")
    _refused(lambda: _base(torch, batch_first=1), TypeError, "batch_first")


def _cell_base_keywords(torch):
    """RNNCellBase(input_size, hidden_size, bias, num_chunks) builds (chunks * hidden, ...)
    weights, biases only with bias, in ``dtype``, on the CPU only."""
    cell = torch.nn.RNNCellBase(4, 3, False, 2, dtype=torch.float64)
    assert _shapes(cell) == {"weight_ih": (6, 4), "weight_hh": (6, 3)}
    assert cell.bias_ih is None and cell.weight_hh.dtype == torch.float64
    assert _shapes(torch.nn.RNNCellBase(4, 3, True, 1))["bias_hh"] == (3,)
    _refused(lambda: torch.nn.RNNCellBase(4, 3, True, 1, device="cuda"), RuntimeError, "cuda")


def _no_projection(torch):
    """RNN and GRU refuse proj_size with torch's ValueError; other keywords by name."""
    for layer in (torch.nn.RNN, torch.nn.GRU):
        _refused(lambda layer=layer: layer(4, 3, proj_size=2), ValueError, "proj_size")


def _projected_states(torch):
    out, (h, c) = torch.nn.LSTM(4, 3, proj_size=2)(torch.tensor(np.ones((2, 1, 4),
                                                                         np.float32)))
    assert tuple(out.shape) == (2, 1, 2) and tuple(h.shape) == (1, 1, 2)
    assert tuple(c.shape) == (1, 1, 3)


_BASE_WHY = "RNNBase's keywords shape its parameters / set the attributes forward reads"
_CELL_WHY = "RNNCellBase's keywords shape its parameters"

RNN_CASES = {
    **{("nn.RNNBase", kw): [Custom(_rnn_base_keywords, _BASE_WHY)] for kw in (
        "mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
        "bidirectional", "proj_size", "device", "dtype")},
    **{("nn.RNNCellBase", kw): [Custom(_cell_base_keywords, _CELL_WHY)] for kw in (
        "input_size", "hidden_size", "bias", "num_chunks", "device", "dtype")},
    **each(_LAYERS, "num_layers", Differs("2"), Refused("0", ValueError, "num_layers")),
    **each(_LAYERS, "batch_first", Differs("True"), Refused("1", TypeError, "batch_first")),
    **each(_LAYERS, "bidirectional", Differs("True")),
    **each(_LAYERS, "dropout", Differs("0.5", base="4, 3, num_layers=2 | b"),
           Warns("0.5", "num_layers greater than 1"), Refused("1.5", ValueError, "dropout")),
    **each("nn.RNN nn.GRU", "kwargs", RefusesUnknown(),
           Custom(_no_projection, "proj_size is refused with torch's ValueError")),
    ("nn.RNN", "nonlinearity"): [Differs("'relu'"), Refused("'sigmoid'", ValueError)],
    ("nn.LSTM", "proj_size"): [
        Differs("2"), Custom(_projected_states, "proj_size: h_n and the output have proj_size "
                                                "features, c_n hidden_size"),
        Refused("3", ValueError, "proj_size"), Refused("-1", ValueError, "proj_size")],
    ("nn.RNNCell", "nonlinearity"): [Differs("'relu'"), Refused("'sine'", RuntimeError, "sine")],
}
