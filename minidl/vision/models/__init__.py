"""Model architectures with torchvision's conventions (``minidl.vision.models``).

Every builder is registered by name: ``list_models()``, ``get_model('lenet5', num_classes=10)``.
"""
from ._api import register_model, list_models, get_model, get_model_builder  # noqa: F401
from .lenet import LeNet5, lenet5  # noqa: F401
from .mlp import MLP, mlp  # noqa: F401

__all__ = ["register_model", "list_models", "get_model", "get_model_builder", "LeNet5",
           "lenet5", "MLP", "mlp"]
