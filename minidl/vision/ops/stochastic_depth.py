"""Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth").

In training, a residual branch is dropped whole with probability ``p``: its output is
multiplied by m / (1 - p), m ~ Bernoulli(1 - p), drawn once per sample (``mode="row"``)
or once for the batch (``mode="batch"``); so the block is, in expectation, the identity
plus its branch. In evaluation the branch passes unchanged. torchvision's
``ops.stochastic_depth`` and ``ops.StochasticDepth``.
"""
from ... import nn
from ...ops._util import check_tensor
from ...ops.dropout import Dropout, _check_p, _dropout_mask

__all__ = ["stochastic_depth", "StochasticDepth"]

MODES = ("batch", "row")


def stochastic_depth(input, p, mode, training=True):
    """``input`` times a keep-mask scaled by 1 / (1 - p): shape (N, 1, ..., 1) for
    ``mode="row"``, one value for ``mode="batch"``; ``input`` itself when not training or
    ``p == 0``."""
    check_tensor(input, "stochastic_depth")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in MODES:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode!r}")
    if not training or p == 0.0:
        return input
    shape = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" else (1,) * input.ndim
    return Dropout.apply(input, _dropout_mask(shape, p, input._data.dtype))


class StochasticDepth(nn.Module):
    """``stochastic_depth`` as a layer; it drops only in training mode."""

    def __init__(self, p, mode):
        super().__init__()
        _check_p(p)
        if mode not in MODES:
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode!r}")
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
