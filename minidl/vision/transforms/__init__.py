"""Image transforms with torchvision's names (``minidl.vision.transforms``).

``functional`` holds the stateless functions, the classes here the (random) transforms;
``batch`` holds minidl's per-sample batched augmentations for training loops, ``mix``
MixUp, CutMix and Mosaic (``v2`` re-exports the first two under torchvision.transforms.v2).
"""
from . import batch, functional, mix, v2  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
