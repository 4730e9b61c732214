"""Convolutional LSTM (Shi et al. 2015, "Convolutional LSTM Network: A Machine Learning
Approach for Precipitation Nowcasting"): ``ConvLSTMCell`` and the multi-layer ``ConvLSTM``.

torch has no ConvLSTM; these mirror ``nn.LSTMCell`` / ``nn.LSTM`` with every matrix product
replaced by a 2-D convolution with 'same' padding (``*`` below), so that the states keep the
input's height and width::

    i = sigmoid(W_xi * x + b_ii + W_hi * h + b_hi [+ W_ci . c])
    f = sigmoid(W_xf * x + b_if + W_hf * h + b_hf [+ W_cf . c])
    g = tanh(W_xg * x + b_ig + W_hg * h + b_hg)
    c' = f . c + i . g
    o = sigmoid(W_xo * x + b_io + W_ho * h + b_ho [+ W_co . c'])
    h' = o . tanh(c')

(``.``: elementwise product; the bracketed peephole terms only with ``peephole``). The gates
are torch's, in torch's order: ``weight_ih`` (4 * hidden, in, kh, kw) stacks W_xi, W_xf, W_xg,
W_xo and ``weight_hh`` (4 * hidden, hidden, kh, kw) the W_h*, so a 1x1 kernel on a 1x1 map is
exactly ``nn.LSTMCell`` with the same weights. Parameter names follow torch: ``weight_ih``,
``weight_hh``, ``bias_ih``, ``bias_hh`` (+ ``weight_ci``, ``weight_cf``, ``weight_co``) in the
cell; the same with the suffix ``_l{k}`` for layer k of ``ConvLSTM``, as ``nn.LSTM``.
Initialisation as torch's LSTM, with the hidden convolution's fan-in for its hidden size:
every parameter ~ U(-1/sqrt(hidden * kh * kw), 1/sqrt(hidden * kh * kw)).

Peepholes: ``peephole=(H, W)`` gives the paper's per-position weights W_c* of shape
(hidden, H, W) -- the input's spatial size is then fixed; ``peephole=True`` gives one weight
per channel, (hidden, 1, 1), broadcast over the positions, for any input size.
"""
import math
import numbers
import warnings

from ...ops.join import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from .linear import _empty
from .module import Module

__all__ = ["ConvLSTMCell", "ConvLSTM"]


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _odd_kernel(kernel_size):
    """(kh, kw) from an int or a pair; 'same' padding needs odd sizes."""
    pair = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else \
        (kernel_size, kernel_size)
    if len(pair) != 2:
        raise ValueError(f"kernel_size must be an int or a pair (kh, kw), got {kernel_size!r}")
    pair = tuple(_positive_int(k, "kernel_size") for k in pair)
    if any(k % 2 == 0 for k in pair):
        raise ValueError(f"kernel_size must be odd for the 'same' padding that keeps the "
                         f"state's height and width, got {kernel_size!r}")
    return pair


def _peephole_shape(peephole, hidden):
    """The peephole weights' shape: None (no peepholes), (hidden, 1, 1) or (hidden, H, W)."""
    if peephole is False:
        return None
    if peephole is True:
        return (hidden, 1, 1)
    if isinstance(peephole, (tuple, list)) and len(peephole) == 2:
        return (hidden,) + tuple(_positive_int(s, "peephole") for s in peephole)
    raise ValueError(f"peephole must be False, True (per-channel weights) or the input's "
                     f"spatial size (H, W) (the paper's per-position weights), got {peephole!r}")


def _register_weights(module, suffix, in_channels, hidden, kernel, bias, peephole, device,
                      dtype):
    """Register one layer's parameters under torch's names plus ``suffix``; their names."""
    names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
    setattr(module, names[0], _empty((4 * hidden, in_channels) + kernel, device, dtype))
    setattr(module, names[1], _empty((4 * hidden, hidden) + kernel, device, dtype))
    for name in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
        if bias:
            setattr(module, name, _empty((4 * hidden,), device, dtype))
            names.append(name)
        else:
            module.register_parameter(name, None)
    shape = _peephole_shape(peephole, hidden)
    for gate in "ifo":
        name = f"weight_c{gate}{suffix}"
        if shape is None:
            module.register_parameter(name, None)
        else:
            setattr(module, name, _empty(shape, device, dtype))
            names.append(name)
    return names


def _reset(module, hidden_sizes, kernel):
    """Every parameter ~ U(-1/sqrt(fan), 1/sqrt(fan)), fan = the layer's hidden * kh * kw."""
    for names, hidden in zip(module._all_weights, hidden_sizes):
        bound = 1 / math.sqrt(hidden * kernel[0] * kernel[1])
        for name in names:
            init.uniform_(getattr(module, name), -bound, bound)


def _update(gates, c, peep):
    """(h', c') from the gates' pre-activations (N, 4 * hidden, H, W) and the cell state c
    (None: zero); ``peep`` = (W_ci, W_cf, W_co) or None."""
    i, f, g, o = gates.chunk(4, 1)
    if peep is not None and c is not None:
        i, f = i + peep[0] * c, f + peep[1] * c
    i, g = i.sigmoid(), g.tanh()
    c_next = i * g if c is None else f.sigmoid() * c + i * g
    if peep is not None:
        o = o + peep[2] * c_next
    return o.sigmoid() * c_next.tanh(), c_next


def _check_spatial(owner, peep, size):
    if peep is not None and tuple(peep[0].shape[1:]) not in ((1, 1), size):
        raise ValueError(f"{owner}: the per-position peepholes were made for spatial size "
                         f"{tuple(peep[0].shape[1:])}, but the input is {size}")


def _check_state(owner, hx, shape):
    """hx must be a pair (h_0, c_0) of tensors of ``shape``."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise ValueError(f"{owner}: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
    for k, (name, t) in enumerate(zip(("h_0", "c_0"), hx)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{owner}: hx[{k}] ({name}) must be a Tensor, got "
                            f"{type(t).__name__}")
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{owner}: expected hx[{k}] ({name}) of shape {tuple(shape)}, "
                             f"got {tuple(t.shape)}")


def _check_input(owner, input, dims, in_channels):
    if not isinstance(input, Tensor):
        raise TypeError(f"{owner}: input must be a Tensor, got {type(input).__name__}")
    if input.dim() not in dims:
        raise ValueError(f"{owner}: expected input to be {dims[0]}D or {dims[1]}D, got "
                         f"{input.dim()}D tensor of shape {tuple(input.shape)}")
    if input.shape[-3] != in_channels:
        raise ValueError(f"{owner}: input has {input.shape[-3]} channels (dim "
                         f"{input.dim() - 3} of {tuple(input.shape)}), expected "
                         f"in_channels={in_channels}")


class ConvLSTMCell(Module):
    """One ConvLSTM step: ``(h', c') = cell(input, (h, c))``, like ``nn.LSTMCell``.

    input (N, in_channels, H, W) or unbatched (in_channels, H, W); hx = (h, c), each
    (N, hidden_channels, H, W) (unbatched: without N), zeros when None. The four gates come
    from one convolution of the channel concatenation [x, h].
    """

    def __init__(self, in_channels, hidden_channels, kernel_size, bias=True, peephole=False,
                 device=None, dtype=None):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.hidden_channels = _positive_int(hidden_channels, "hidden_channels")
        self.kernel_size = _odd_kernel(kernel_size)
        self.bias = bool(bias)
        self.peephole = tuple(peephole) if isinstance(peephole, list) else peephole
        self._all_weights = [_register_weights(self, "", self.in_channels,
                                               self.hidden_channels, self.kernel_size, bias,
                                               peephole, device, dtype)]
        self.reset_parameters()

    def reset_parameters(self):
        _reset(self, [self.hidden_channels], self.kernel_size)

    def _peep(self):
        return None if self.weight_ci is None else (self.weight_ci, self.weight_cf,
                                                    self.weight_co)

    def forward(self, input, hx=None):
        owner = type(self).__name__
        _check_input(owner, input, (3, 4), self.in_channels)
        batched = input.dim() == 4
        x = input if batched else input.unsqueeze(0)
        size = tuple(x.shape[2:])
        _check_spatial(owner, self._peep(), size)
        padding = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        if hx is None:  # h = 0: only the input part
            gates, c = F.conv2d(x, self.weight_ih, bias, padding=padding), None
        else:
            _check_state(owner, hx, (x.shape[0],) * batched + (self.hidden_channels,) + size)
            h, c = (t if batched else t.unsqueeze(0) for t in hx)
            gates = F.conv2d(cat([x, h], 1), cat([self.weight_ih, self.weight_hh], 1), bias,
                             padding=padding)
        h, c = _update(gates, c, self._peep())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def extra_repr(self):
        s = f"{self.in_channels}, {self.hidden_channels}, kernel_size={self.kernel_size}"
        if not self.bias:
            s += ", bias=False"
        if self.peephole is not False:
            s += f", peephole={self.peephole}"
        return s


class ConvLSTM(Module):
    """A stack of ConvLSTM layers over a sequence, like ``nn.LSTM``.

    input (T, N, C, H, W) (``batch_first``: (N, T, C, H, W)) or unbatched (T, C, H, W).
    Returns ``(output, (h_n, c_n))``: output the last layer's h at every step, (T, N,
    hidden, H, W) (``batch_first``: (N, T, ...)); h_n, c_n the final states of every layer,
    (num_layers, N, hidden, H, W) -- never batch-first, as in torch. ``hidden_channels`` is
    an int or a list of one int per layer (``num_layers`` of them); with a list, h_n, c_n
    and the hx passed in are tuples of one (N, hidden_l, H, W) tensor per layer. ``dropout``
    is applied to the outputs of every layer but the last, in training mode.

    Speed: the input part of the gates is one convolution over all T * N frames of a layer;
    each step adds one convolution of h for all four gates (none at the first step when hx
    is None, h_0 being zero).
    """

    def __init__(self, in_channels, hidden_channels, kernel_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, peephole=False, device=None, dtype=None):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.num_layers = _positive_int(num_layers, "num_layers")
        if isinstance(hidden_channels, (tuple, list)):
            if len(hidden_channels) != self.num_layers:
                raise ValueError(f"hidden_channels lists {len(hidden_channels)} layers but "
                                 f"num_layers={num_layers}")
            sizes = [_positive_int(h, "hidden_channels") for h in hidden_channels]
            self.hidden_channels = list(sizes)
        else:
            self.hidden_channels = _positive_int(hidden_channels, "hidden_channels")
            sizes = [self.hidden_channels] * self.num_layers
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        self.kernel_size = _odd_kernel(kernel_size)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.peephole = tuple(peephole) if isinstance(peephole, list) else peephole
        self._sizes = sizes
        self._all_weights = [
            _register_weights(self, f"_l{k}", self.in_channels if k == 0 else sizes[k - 1],
                              sizes[k], self.kernel_size, bias, peephole, device, dtype)
            for k in range(self.num_layers)]
        self.reset_parameters()

    def reset_parameters(self):
        _reset(self, self._sizes, self.kernel_size)

    def _layer(self, k):
        """(weight_ih, weight_hh, bias_ih, bias_hh, peepholes or None) of layer k."""
        w_ih, w_hh, b_ih, b_hh, *peep = (getattr(self, f"{name}_l{k}") for name in (
            "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf",
            "weight_co"))
        return w_ih, w_hh, b_ih, b_hh, None if peep[0] is None else tuple(peep)

    def _initial_states(self, owner, hx, n, size, batched):
        """[(h_0, c_0) of each layer, batched], or [(None, None)] * layers for zeros."""
        if hx is None:
            return [(None, None)] * self.num_layers
        per_layer = isinstance(self.hidden_channels, list)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ValueError(f"{owner}: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
        if per_layer:
            for k, (name, states) in enumerate(zip(("h_0", "c_0"), hx)):
                if not isinstance(states, (tuple, list)) or len(states) != self.num_layers:
                    raise ValueError(f"{owner}: with a list of hidden_channels, hx[{k}] ({name}) "
                                     f"must be a tuple of {self.num_layers} tensors, one per "
                                     f"layer")
            pairs = list(zip(*hx))
        else:
            _check_state(owner, hx, (self.num_layers,) + (n,) * batched +
                         (self.hidden_channels,) + size)
            pairs = list(zip(hx[0].unbind(0), hx[1].unbind(0)))
        for k, (pair, hidden) in enumerate(zip(pairs, self._sizes)):
            _check_state(f"{owner} layer {k}", pair, (n,) * batched + (hidden,) + size)
        return [tuple(t if batched else t.unsqueeze(0) for t in pair) for pair in pairs]

    def forward(self, input, hx=None):
        owner = type(self).__name__
        _check_input(owner, input, (4, 5), self.in_channels)
        batched = input.dim() == 5
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        steps, n, size = x.shape[0], x.shape[1], tuple(x.shape[3:])
        if steps == 0:
            raise ValueError(f"{owner}: the input sequence is empty (0 time steps)")
        states = self._initial_states(owner, hx, n, size, batched)
        padding = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
        finals = []
        for k, (h, c) in enumerate(states):
            w_ih, w_hh, b_ih, b_hh, peep = self._layer(k)
            _check_spatial(owner, peep, size)
            bias = None if b_ih is None else b_ih + b_hh
            frames = x.reshape((steps * n,) + tuple(x.shape[2:]))
            xg = F.conv2d(frames, w_ih, bias, padding=padding)
            outputs = []
            for gates in xg.reshape((steps, n) + tuple(xg.shape[1:])).unbind(0):
                if h is not None:
                    gates = gates + F.conv2d(h, w_hh, None, padding=padding)
                h, c = _update(gates, c, peep)
                outputs.append(h)
            finals.append((h, c))
            x = stack(outputs)
            if self.dropout and self.training and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        if not batched:
            output = x.squeeze(1)
            finals = [(h.squeeze(0), c.squeeze(0)) for h, c in finals]
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        h_n, c_n = (tuple(t) for t in zip(*finals))
        if not isinstance(self.hidden_channels, list):
            h_n, c_n = stack(list(h_n)), stack(list(c_n))
        return output, (h_n, c_n)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.hidden_channels}, kernel_size={self.kernel_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.peephole is not False:
            s += f", peephole={self.peephole}"
        return s
