"""minidl: a deep-learning framework from first principles on NumPy, with PyTorch's API."""
from .backend import (dtype, float16, float32, float64, int8, int16, int32, int64, uint8, bool,  # noqa: F401
                      half, float, double, short, int, long, get_default_dtype, set_default_dtype,
                      device, Generator, manual_seed, default_generator, memory_format,
                      preserve_format, contiguous_format, channels_last, channels_last_3d)
from .backend.random import seed, initial_seed, get_rng_state, set_rng_state  # noqa: F401
from .backend.threads import set_num_threads, get_num_threads  # noqa: F401
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode  # noqa: F401
from .autograd import is_inference_mode_enabled  # noqa: F401
from .backend.dtype_info import finfo, iinfo, promote_types, can_cast, result_type  # noqa: F401
from .backend.device import get_default_device, set_default_device  # noqa: F401
from math import pi, e, inf, nan  # noqa: F401
from .tensor import Tensor, Size, is_tensor  # noqa: F401
from ._tensor_str import set_printoptions  # noqa: F401
from ._creation import *  # noqa: F401,F403
from . import ops  # noqa: F401  (installs Tensor methods)
from .ops.cast import *  # noqa: F401,F403
from .ops.conversion import *  # noqa: F401,F403
from .ops.arithmetic import *  # noqa: F401,F403
from .ops.powers import *  # noqa: F401,F403
from .ops.unary import *  # noqa: F401,F403
from .ops.trigonometric import *  # noqa: F401,F403
from .ops.inverse_hyperbolic import *  # noqa: F401,F403
from .ops.logit import *  # noqa: F401,F403
from .ops.rounding import *  # noqa: F401,F403
from .ops.binary import *  # noqa: F401,F403
from .ops.compare import *  # noqa: F401,F403
from .ops.fill import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.extrema import *  # noqa: F401,F403
from .ops.vector_norm import *  # noqa: F401,F403
from .ops.view import *  # noqa: F401,F403
from .ops.permute import *  # noqa: F401,F403
from .ops.expand import *  # noqa: F401,F403
from .ops.join import *  # noqa: F401,F403
from .ops.split import *  # noqa: F401,F403
from .ops.differences import *  # noqa: F401,F403
from .ops.small_products import *  # noqa: F401,F403
from .ops.cumulative_extrema import *  # noqa: F401,F403
from .ops.statistics import *  # noqa: F401,F403
from .ops.membership import *  # noqa: F401,F403
from .ops.flip_roll import *  # noqa: F401,F403
from .ops.diagonal import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.masked import *  # noqa: F401,F403
from .ops.gather import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403
from .ops.histogram import *  # noqa: F401,F403
from .ops.pad import *  # noqa: F401,F403
from .ops.embedding import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.einsum import *  # noqa: F401,F403
from .ops.conv import *  # noqa: F401,F403
from .ops.pool import *  # noqa: F401,F403
from .ops.adaptive_pool import *  # noqa: F401,F403
from .ops.norm import *  # noqa: F401,F403
from .ops.cross_entropy import *  # noqa: F401,F403
from .ops.loss import *  # noqa: F401,F403
from .ops.distance import cosine_similarity, pairwise_distance, cdist, pdist  # noqa: F401
from .ops.activation import *  # noqa: F401,F403
from .ops.rectifiers import *  # noqa: F401,F403
from .ops.smooth_activations import *  # noqa: F401,F403
from .ops.shrink import *  # noqa: F401,F403
from .ops.dropout import *  # noqa: F401,F403
from .ops.interpolate import *  # noqa: F401,F403
from .ops.pixel_shuffle import *  # noqa: F401,F403
from .ops.unpool import *  # noqa: F401,F403
from .serialization import save, load  # noqa: F401,E402
from .utils.summary import summary  # noqa: F401,E402
from . import autograd, nn, optim, utils, vision  # noqa: F401,E402
from .autograd import functional as _functional  # noqa: F401,E402  (built on the ops)
from . import accelerator, amp, backends, cpu, cuda, mps, testing  # noqa: F401,E402
from .amp import GradScaler, autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401,E402
from .accelerator import get_device_module  # noqa: F401,E402
from ._compile import compile  # noqa: F401,E402
from .as_torch import install_as_torch  # noqa: F401,E402
from .backend.flags import *  # noqa: F401,F403,E402

__version__ = "0.1.0"
