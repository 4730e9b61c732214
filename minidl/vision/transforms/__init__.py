"""Image transforms with torchvision's names (``minidl.vision.transforms``).

``functional`` holds the stateless functions, the classes here the (random) transforms;
``batch`` holds minidl's per-sample batched augmentations for training loops.
"""
from . import batch, functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
