"""Layer 4: ``minidl.nn`` -- modules, parameters, init, losses and the functional namespace."""
from . import functional, init, modules, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter  # noqa: F401
