"""Image transforms with torchvision's names (``minidl.vision.transforms``)."""
from . import functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
