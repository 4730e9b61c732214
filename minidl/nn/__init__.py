"""Layer 4: ``minidl.nn`` -- modules, parameters, init, losses and the functional namespace."""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from .parameter import Parameter, Buffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import utils  # noqa: F401
from . import modules  # noqa: F401
