"""``torch.amp``: automatic mixed precision -- the autocast region and the loss scaler."""
from .autocast_mode import (  # noqa: F401
    autocast,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
