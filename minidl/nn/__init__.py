"""Layer 4: modules, parameters, init and the functional namespace (being written)."""
from . import functional  # noqa: F401
