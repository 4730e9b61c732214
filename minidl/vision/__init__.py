"""Computer vision, torchvision's counterpart: ``datasets``, ``transforms``, ``models``,
``utils``."""
from . import datasets, transforms, models, utils  # noqa: F401
from .utils import make_grid, save_image  # noqa: F401
