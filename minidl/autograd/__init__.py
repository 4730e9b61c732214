"""Layer 1: the autograd engine (``minidl.autograd`` mirrors ``torch.autograd``)."""
from .function import Function, Kernel  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from . import function  # noqa: F401
