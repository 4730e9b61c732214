"""Computer vision, torchvision's counterpart: ``datasets``, ``transforms``, ``models``,
``utils``, ``ops`` (stochastic depth, MLP, boxes, NMS, RoI pooling), ``attention_maps``
(where a ViT looks), ``detection_metrics`` (mean average precision), ``sliding_windows``
(a classifier made fully convolutional), and ``filters`` (classic image filtering through
conv2d)."""
from . import (  # noqa: F401
    attention_maps,
    datasets,
    detection_metrics,
    filters,
    models,
    ops,
    sliding_windows,
    transforms,
    utils,
)
from .utils import make_grid, save_image  # noqa: F401
