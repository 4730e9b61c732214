"""Layer 1: the autograd engine (``minidl.autograd`` mirrors ``torch.autograd``)."""
from . import function  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .function import Function, Kernel  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
