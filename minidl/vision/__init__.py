"""Computer vision, torchvision's counterpart: ``datasets``, ``transforms``, ``models``,
``utils``, ``ops`` (stochastic depth, MLP), ``attention_maps`` (where a ViT looks), and
``filters`` (classic image filtering through conv2d)."""
from . import attention_maps, datasets, detection_metrics, filters, models, ops, transforms, utils  # noqa: F401
from .utils import make_grid, save_image  # noqa: F401
