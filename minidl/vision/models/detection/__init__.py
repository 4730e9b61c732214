"""Building blocks of object detectors (torchvision's ``models.detection``): ``ImageList``
and ``AnchorGenerator`` (``anchor_utils``), ``BoxCoder``, ``Matcher`` and
``BalancedPositiveNegativeSampler`` (``_utils``). The detection models themselves are not
built yet; mean average precision is in ``minidl.vision.detection_metrics``."""
from . import _utils, anchor_utils  # noqa: F401
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher  # noqa: F401
from .anchor_utils import AnchorGenerator, ImageList  # noqa: F401

__all__ = ["ImageList", "AnchorGenerator", "BoxCoder", "Matcher",
           "BalancedPositiveNegativeSampler"]
