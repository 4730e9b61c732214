"""Building blocks of object detectors (torchvision's ``models.detection``): ``ImageList``
(``image_list``), ``AnchorGenerator`` (``anchor_utils``), ``BoxCoder``, ``Matcher`` and
``BalancedPositiveNegativeSampler`` (``_utils``). The detection models themselves are not
built yet; mean average precision is in ``minidl.vision.detection_metrics``."""
from . import _utils, anchor_utils, image_list  # noqa: F401
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher  # noqa: F401
from .anchor_utils import AnchorGenerator  # noqa: F401
from .image_list import ImageList  # noqa: F401

__all__ = ["ImageList", "AnchorGenerator", "BoxCoder", "Matcher",
           "BalancedPositiveNegativeSampler"]
