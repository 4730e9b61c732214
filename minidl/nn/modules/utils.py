"""``torch.nn.modules.utils``: the tuple helpers layers use for their size arguments."""
from ..conv import _ntuple, _pair, _single, _triple  # noqa: F401

_quadruple = _ntuple(4)
