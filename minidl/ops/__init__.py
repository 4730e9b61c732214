"""Layer 3: differentiable kernels, one concept per module (``arithmetic``, ``view``,
``conv`` ...); each module's ``__all__`` lists its torch-level functions.

Importing this package installs Tensor's methods from the one table in ``tensor_methods``.
"""
from . import (
    _traced,  # noqa: F401  (records kernels' backwards for create_graph)
    conv_reference,  # noqa: F401  (the textbook conv2d the fast one is tested against)
    tensor_methods,  # noqa: F401  (installs Tensor's methods)
)
