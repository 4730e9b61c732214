"""Computer vision, torchvision's counterpart: ``datasets``, ``transforms``, ``models``,
``utils``, and ``filters`` (classic image filtering through conv2d)."""
from . import datasets, filters, models, transforms, utils  # noqa: F401
from .utils import make_grid, save_image  # noqa: F401
