"""Cases for ``nn.ConvLSTMCell`` and ``nn.ConvLSTM``, layers torch lacks (checked in minidl
only; the generic rules cover bias, dtype and device, and the required sizes go by name).
Base calls: the cell on ``img`` (2, 3, 6, 6), the layer on ``vol`` read as a sequence
(T, N, C, H, W) = (1, 2, 4, 4, 4) -- batch-first, (N, T) = (1, 2)."""
import numpy as np

from .checks import Custom, Differs, Refused, Warns

_TWO_LAYERS = "4, 3, 3, num_layers=2 | vol"


def _per_position_peepholes(torch):
    """peephole=(H, W) gives (hidden, H, W) weights, one per position: changing the weight
    at one position changes the state only there at the first step (h_0 = 0, so only the
    output gate's W_co . c' peeks there)."""
    cell = torch.nn.ConvLSTMCell(1, 2, 1, peephole=(3, 3))
    x = torch.randn(1, 1, 3, 3)
    before = cell(x)[0].detach().numpy()
    with torch.no_grad():
        cell.weight_co[:, 1, 2] += 1.0
    changed = np.abs(cell(x)[0].detach().numpy() - before).sum(axis=(0, 1)) > 0
    assert changed.tolist() == [[False] * 3, [False, False, True], [False] * 3]


CONV_LSTM_CASES = {
    ("nn.ConvLSTMCell", "peephole"): [
        Differs("True"), Differs("(6, 6)"),
        Custom(_per_position_peepholes, "peephole=(H, W): the paper's per-position weights"),
        Refused("(5, 5)", ValueError, "peephole"), Refused("'yes'", ValueError, "peephole")],
    ("nn.ConvLSTM", "peephole"): [
        Differs("True"), Differs("(4, 4)"), Refused("(5, 5)", ValueError, "peephole")],
    ("nn.ConvLSTM", "num_layers"): [Differs("2"), Refused("0", ValueError, "num_layers")],
    ("nn.ConvLSTM", "batch_first"): [Differs("True")],
    ("nn.ConvLSTM", "dropout"): [
        Differs("0.5", base=_TWO_LAYERS), Warns("0.5", "num_layers greater than 1"),
        Refused("1.5", ValueError, "dropout")],
}
