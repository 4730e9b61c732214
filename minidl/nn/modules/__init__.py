"""``minidl.nn.modules`` (``torch.nn.modules``): ``Module`` and the layers, one file per family
(``minidl.nn.modules.conv``, ``...loss._Loss``, ``...utils._pair``); ``minidl.nn`` re-exports
the classes listed here."""
from . import (
    activation,
    batchnorm,
    causal_conv,
    container,
    conv,
    conv_lstm,
    distance,
    dropout,
    flatten,
    instancenorm,
    linear,
    loss,
    metric_loss,
    module,
    multihead_attention,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    positional_encoding,
    rnn,
    sparse,
    transformer,
    upsampling,
    utils,  # noqa: F401 (minidl.nn.modules.utils, as torch's)
)
from .activation import *  # noqa: F401,F403
from .batchnorm import *  # noqa: F401,F403
from .causal_conv import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_lstm import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .instancenorm import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .metric_loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .multihead_attention import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .positional_encoding import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403

__all__ = [name for family in (module, container, linear, conv, pooling, activation, dropout,
                               sparse, batchnorm, instancenorm, normalization, flatten, padding,
                               upsampling, pixelshuffle, loss, metric_loss, distance, conv_lstm,
                               causal_conv, rnn, positional_encoding, transformer,
                               multihead_attention)
           for name in family.__all__]
