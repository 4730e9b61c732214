"""``CausalConv1d``: a 1-D convolution whose output at step t sees only the inputs at steps <= t.

torch has no such layer; this one is ``nn.Conv1d`` (same weight / bias parameters, shapes and
initialisation, so a ``Conv1d`` state dict loads into it) with the input zero-padded on the
left only, by ``(kernel_size - 1) * dilation`` steps:

    y[n, f, t] = b[f] + sum_{c, j} w[f, c, j] x[n, c, t - (K - 1 - j) d],   x[.., s < 0] = 0

so the output has the input's length and y[t] is a function of x[0..t]. Stacking such layers
with dilations 1, 2, 4, ... grows the receptive field exponentially (WaveNet, van den Oord et
al. 2016; the TCN of Bai, Kolter & Koltun 2018).
"""
from ...tensor import Tensor
from .. import functional as F
from .conv import Conv1d

__all__ = ["CausalConv1d"]


def _positive_int(value, name):
    """``value`` (an int or a 1-tuple of one) as an int >= 1, or a clear error naming ``name``."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"CausalConv1d: {name} must be a positive int (or a 1-tuple of one), "
                        f"not {value!r}")
    if value < 1:
        raise ValueError(f"CausalConv1d: {name} must be >= 1, but got {name}={value}")
    return value


class CausalConv1d(Conv1d):
    """Causal 1-D convolution over (N, C_in, L) or (C_in, L) inputs; the output has length L.

    Args: in_channels, out_channels, kernel_size, dilation (the spacing of the kernel's taps),
    bias, device, dtype -- as ``nn.Conv1d``; stride is 1, groups 1 and the only padding is the
    causal one, ``self.causal_padding = (kernel_size - 1) * dilation`` zeros on the left.
    ``self.receptive_field = causal_padding + 1`` input steps reach each output step.
    """

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1, bias=True,
                 device=None, dtype=None):
        kernel_size = _positive_int(kernel_size, "kernel_size")
        dilation = _positive_int(dilation, "dilation")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            _positive_int(value, name)
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation, bias=bias,
                         device=device, dtype=dtype)
        self.causal_padding = (kernel_size - 1) * dilation
        self.receptive_field = self.causal_padding + 1

    def forward(self, input):
        if isinstance(input, Tensor):  # anything else gets conv1d's own TypeError
            if input.dim() not in (2, 3):
                raise RuntimeError(f"CausalConv1d: expected a 2D (C, L) or 3D (N, C, L) input, "
                                   f"but got input of size {list(input.shape)}")
            if input.shape[-1] == 0:
                raise RuntimeError(f"CausalConv1d: the input has no time steps (size "
                                   f"{list(input.shape)})")
            input = F.pad(input, (self.causal_padding, 0))
        return super().forward(input)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s
