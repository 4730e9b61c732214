"""Cases for the sequence pieces torch lacks: ``nn.CausalConv1d`` and
``data.SlidingWindowDataset`` (checked in minidl only; the generic rules cover bias, dtype,
device and stride)."""
import numpy as np

from .checks import Custom, Differs


def _dilated_taps(torch):
    """With kernel_size=3 and dilation=d, output t depends on inputs t, t - d, t - 2d only."""
    for d in (1, 2, 3):
        conv = torch.nn.CausalConv1d(1, 1, 3, dilation=d, bias=False)
        x = torch.randn(1, 1, 12, requires_grad=True)
        conv(x)[0, 0, 9].backward()
        reached = np.flatnonzero(x.grad.numpy()[0, 0])
        assert reached.tolist() == [9 - 2 * d, 9 - d, 9], (d, reached)


CAUSAL_CONV_CASES = {
    ("nn.CausalConv1d", "dilation"): [
        Differs("2"),
        Custom(_dilated_taps, "dilation spaces the taps: output t reads t, t - d, t - 2d")],
    ("data.SlidingWindowDataset", "horizon"): [Differs("2")],
}
