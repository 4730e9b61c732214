"""Cases for ``nn.PositionalEncoding`` and ``nn.LearnedPositionalEncoding``, layers torch
lacks (checked in minidl only; d_model, required, goes by name). Base call: the layer with
d_model=4 on ``b`` (2, 3, 4), read as (L, N, d_model) = (2, 3, 4); batch_first reads it as
(N, L) = (2, 3)."""
from .checks import Custom, Differs, Refused


def _sinusoid_rows(torch):
    """max_len only sizes the table: the rows of positions 0..L-1 do not depend on it."""
    short, long = torch.nn.PositionalEncoding(6, max_len=3), torch.nn.PositionalEncoding(6)
    assert tuple(short.pe.shape) == (3, 6) and tuple(long.pe.shape) == (5000, 6)
    assert (short.pe.numpy() == long.pe.numpy()[:3]).all()


_LAYERS = "nn.PositionalEncoding nn.LearnedPositionalEncoding"
POSITIONAL_CASES = {}
for _name in _LAYERS.split():
    POSITIONAL_CASES.update({
        (_name, "dropout"): [Differs("0.5"), Refused("1.5", ValueError, "dropout")],
        (_name, "max_len"): [Differs("3"), Refused("1", ValueError, "max_len"),
                             Refused("0", ValueError, "max_len")],
        (_name, "batch_first"): [Differs("True")],
    })
POSITIONAL_CASES[("nn.PositionalEncoding", "max_len")].append(
    Custom(_sinusoid_rows, "max_len sizes the buffer pe; its rows do not depend on it"))
