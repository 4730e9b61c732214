"""One-step recurrent cells ``RNNCell``, ``LSTMCell``, ``GRUCell`` (torch's signatures):
the gates of ``RNN`` / ``LSTM`` / ``GRU`` for a single time step, on (N, in) or unbatched
(in,) inputs. See ``ops.recurrent`` for the formulas."""
import math

from ... import _creation
from ...backend import check_device, get_default_dtype
from ...ops.recurrent import input_projection, recurrent_layer
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """``weight_ih`` (G*H, input_size), ``weight_hh`` (G*H, H) and, with ``bias``, ``bias_ih``
    / ``bias_hh`` (G*H,) for G = ``num_chunks`` gates; all ~ U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        check_device(device)
        dtype = dtype or get_default_dtype()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(_creation.empty(rows, input_size, dtype=dtype))
        self.weight_hh = Parameter(_creation.empty(rows, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_creation.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(_creation.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, states, name):
        """Check the arguments, run one step of ``mode``; returns the new states."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for i, s in enumerate(states or ()):
            if s.dim() not in (1, 2):
                what = "hidden" if len(states) == 1 else f"hx[{i}]"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            states = None if states is None else tuple(s.unsqueeze(0) for s in states)
        n = 2 if mode == "LSTM" else 1
        if states is None:
            zeros = _creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            states = (zeros,) * n
        self._check(input, states)
        xg, b_hh = input_projection(mode, input, self.weight_ih, self.bias_ih, self.bias_hh)
        _, h, c = recurrent_layer(mode, xg, self.weight_hh, b_hh, states[0],
                                  states[1] if n == 2 else None, None, [input.shape[0]])
        out = (h, c) if n == 2 else (h,)
        return out if batched else tuple(s.squeeze(0) for s in out)

    def _check(self, input, states):
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"input dtype ({input.dtype}) does not match the weights' "
                               f"dtype ({self.weight_ih.dtype})")
        for i, s in enumerate(states):
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                                   f"batch size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, "
                                   f"expected {self.hidden_size}")
            if s.dtype != input.dtype:
                raise RuntimeError(f"hidden{i} dtype ({s.dtype}) does not match the input "
                                   f"dtype ({input.dtype})")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). ``RNNCell(input_size,
    hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None)``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, None if hx is None else (hx,), "RNNCell")[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; ``forward(input, hx=None)`` with hx = (h, c) returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx should be a tuple (h, c), got {type(hx).__name__}")
        return self._step("LSTM", input, None if hx is None else tuple(hx), "LSTMCell")


class GRUCell(RNNCellBase):
    """One GRU step; ``forward(input, hx=None)`` returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, None if hx is None else (hx,), "GRUCell")[0]
