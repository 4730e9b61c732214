"""Computer vision (torchvision's counterpart): ``datasets``, ``transforms``, ``models``."""
from . import datasets, transforms, models  # noqa: F401
