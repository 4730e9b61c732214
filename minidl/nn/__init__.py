"""Layer 4: ``minidl.nn`` -- modules, parameters, init, losses and the functional namespace."""
from . import functional  # noqa: F401
from . import init  # noqa: F401
from .parameter import Parameter, Buffer  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from .linear import Identity, Linear, Bilinear  # noqa: F401
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .pooling import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import Embedding  # noqa: F401
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: F401
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
from .normalization import LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .padding import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from . import utils  # noqa: F401
from . import modules  # noqa: F401
