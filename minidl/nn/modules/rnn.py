"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` (torch's signatures, parameters and results);
the cells live in ``rnn_cell`` and are re-exported here, as in ``torch.nn.modules.rnn``.

Each layer and direction projects its whole input sequence with one matmul
(x W_ih^T + b_ih) and runs the recurrence with ``ops.recurrent.recurrent_layer``; stacked
layers read the previous layer's output (both directions concatenated), with dropout
between layers in training. Elman (1990); LSTM: Hochreiter & Schmidhuber (1997) with the
forget gate of Gers et al. (2000), projections: Sak et al. (2014); GRU: Cho et al. (2014).
"""
import math
import numbers
import warnings

from ... import _creation
from ...backend import check_device, get_default_dtype
from ...ops.join import cat, stack
from ...ops.recurrent import input_projection, recurrent_layer
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from .rnn_cell import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_type(value, kind, name):
    if not isinstance(value, kind):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")


def _refuse_extra(name, kwargs):
    """RNN / GRU take no projection (torch: a ValueError) and no other keyword."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNNBase(Module):
    """The parameters and the forward pass shared by RNN, LSTM and GRU.

    Per layer k and direction (suffix ``_reverse``): ``weight_ih_l{k}`` (G*H, in),
    ``weight_hh_l{k}`` (G*H, Hr), ``bias_ih_l{k}`` / ``bias_hh_l{k}`` (G*H,) and, for an LSTM
    with ``proj_size`` > 0, ``weight_hr_l{k}`` (proj_size, H); G gates, Hr = proj_size or H,
    in = input_size for layer 0 else Hr * num_directions. All ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        check_device(device)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        _check_type(bias, bool, "bias")
        _check_type(batch_first, bool, "batch_first")
        _check_type(input_size, int, "input_size")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        _check_type(hidden_size, int, "hidden_size")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        dtype = dtype or get_default_dtype()
        gates = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                fan_in = input_size if layer == 0 else real_hidden * directions
                shapes = [("weight_ih_l{}{}", (gates, fan_in)), ("weight_hh_l{}{}", (gates,
                                                                                   real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gates,)), ("bias_hh_l{}{}", (gates,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = [name.format(layer, suffix) for name, _ in shapes]
                for name, (_, shape) in zip(names, shapes):
                    setattr(self, name, Parameter(_creation.empty(*shape, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters as one list per layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op: torch packs the weights for cuDNN here; minidl runs on the CPU."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks
    def _state_shapes(self, batch):
        """The shapes of h_0 and (LSTM) c_0 for ``batch`` sequences."""
        n = self.num_layers * (2 if self.bidirectional else 1)
        return (n, batch, self.proj_size or self.hidden_size), (n, batch, self.hidden_size)

    def check_input(self, input, batch_sizes):
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _check_states(self, input, states, batch):
        for i, (state, shape) in enumerate(zip(states, self._state_shapes(batch))):
            name = "hidden" if len(states) == 1 else f"hidden[{i}]"
            if tuple(state.shape) != shape:
                raise RuntimeError(f"Expected {name} size {shape}, got {list(state.shape)}")
            if state.dtype != input.dtype:
                raise RuntimeError(f"Expected {name} of dtype {input.dtype} like the input, "
                                   f"got {state.dtype}")

    # ----------------------------------------------------------------- forward
    def _states(self, hx):
        """hx as a tuple of state tensors (h_0,) or (h_0, c_0)."""
        if self.mode != "LSTM":
            return (hx,)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM: hx should be a tuple (h_0, c_0), got {type(hx).__name__}")
        return tuple(hx)

    def _forward(self, input, hx):
        """Shared forward: returns (output, states) with states a tuple (h_n,) / (h_n, c_n)."""
        lstm = self.mode == "LSTM"
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            steps = [int(b) for b in batch_sizes._data]
            batch = steps[0]
            states = None if hx is None else tuple(
                s if sorted_indices is None else s.index_select(1, sorted_indices)
                for s in self._states(hx))
            self.check_input(data, batch_sizes)
            x = data
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                                 f"{'tensor ' if name == 'RNN' else ''}instead")
            batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not batched:
                input = input.unsqueeze(batch_dim)
            states = None if hx is None else self._states(hx)
            want = 3 if batched else 2
            if states is not None and any(s.dim() != want for s in states):
                dims = ", ".join(f"{s.dim()}-D" for s in states)
                what = "hx and cx" if lstm else "hx"
                got = f"({dims}) tensors" if lstm else f"{dims} tensor"
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got "
                                   f"{got}")
            if states is not None and not batched:
                states = tuple(s.unsqueeze(1) for s in states)
            self.check_input(input, None)
            x = input.transpose(0, 1) if self.batch_first else input
            if x.shape[0] == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            batch = x.shape[1]
            steps = [batch] * x.shape[0]
            x = x.reshape(x.shape[0] * batch, x.shape[2])
        if states is None:
            shapes = self._state_shapes(batch)[:2 if lstm else 1]
            states = tuple(_creation.zeros(*s, dtype=x.dtype) for s in shapes)
        self._check_states(x, states, batch)
        y, final = self._run_layers(x, states, steps)
        if isinstance(input, PackedSequence):
            if unsorted_indices is not None:
                final = tuple(s.index_select(1, unsorted_indices) for s in final)
            return PackedSequence(y, batch_sizes, sorted_indices, unsorted_indices), final
        y = y.reshape(len(steps), batch, y.shape[-1])
        if self.batch_first:
            y = y.transpose(0, 1)
        if not batched:
            y = y.squeeze(batch_dim)
            final = tuple(s.squeeze(1) for s in final)
        return y, final

    def _weights(self, layer, direction):
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of one layer and direction,
        None for those it lacks."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, name + suffix, None) for name in (
            "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _run_layers(self, x, states, steps):
        """All layers and directions over the step layout ``x`` (N, in)."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                xg, b_hh = input_projection(self.mode, x, w_ih, b_ih, b_hh)
                y, h, c = recurrent_layer(self.mode, xg, w_hh, b_hh, states[0][k],
                                          states[1][k] if len(states) > 1 else None, w_hr,
                                          steps, reverse=direction == 1)
                outs.append(y)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        final = (stack(h_n),) if len(states) == 1 else (stack(h_n), stack(c_n))
        return x, final


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu);
    ``forward(input, hx=None)`` returns (output, h_n). ``proj_size`` is refused as torch
    does (a ValueError), any other unknown keyword with a TypeError."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        _refuse_extra("RNN", kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """LSTM: gates i, f, g, o = chunks of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh;
    c_t = s(f) c_{t-1} + s(i) tanh(g), h_t = s(o) tanh(c_t) (times W_hr^T with proj_size).

    ``forward(input, hx=None)`` with hx = (h_0, c_0) returns (output, (h_n, c_n)).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._forward(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """GRU: r, z, n gates; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h_t = (1 - z) * n + z * h_{t-1}; ``forward(input, hx=None)`` returns (output, h_n).
    ``proj_size`` is refused as by RNN.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        _refuse_extra("GRU", kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        output, (h_n,) = self._forward(input, hx)
        return output, h_n
