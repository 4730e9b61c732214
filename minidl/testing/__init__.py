"""``torch.testing``: comparing results in tests."""
from .comparison import assert_close  # noqa: F401

__all__ = ["assert_close"]
