"""``torchvision.transforms.v2``'s batch-mixing transforms under their v2 names (the
implementation is ``transforms.mix``)."""
from .mix import CutMix, MixUp

__all__ = ["MixUp", "CutMix"]
