"""``minidl.nn.modules``: torch's module paths (``torch.nn.modules.loss._Loss``,
``torch.nn.modules.utils._pair``, ...) as aliases of the files in ``minidl.nn``."""
import sys

from .. import (activation, batchnorm, container, conv, dropout, flatten, instancenorm,  # noqa: F401
                linear, loss, module, normalization, padding, pooling, sparse)
from ..activation import *  # noqa: F401,F403
from ..batchnorm import *  # noqa: F401,F403
from ..container import *  # noqa: F401,F403
from ..conv import *  # noqa: F401,F403
from ..dropout import *  # noqa: F401,F403
from ..flatten import *  # noqa: F401,F403
from ..instancenorm import *  # noqa: F401,F403
from ..linear import *  # noqa: F401,F403
from ..loss import *  # noqa: F401,F403
from ..module import Module  # noqa: F401
from ..normalization import *  # noqa: F401,F403
from ..padding import *  # noqa: F401,F403
from ..pooling import *  # noqa: F401,F403
from ..sparse import *  # noqa: F401,F403
from . import utils  # noqa: F401

for _name in ("activation", "batchnorm", "container", "conv", "dropout", "flatten",
              "instancenorm", "linear", "loss", "module", "normalization", "padding", "pooling",
              "sparse"):
    sys.modules[f"{__name__}.{_name}"] = globals()[_name]
del _name
