"""Building blocks of object detectors (torchvision's ``models.detection``): ``ImageList``
(``image_list``), ``AnchorGenerator`` (``anchor_utils``), ``BoxCoder``, ``Matcher`` and
``BalancedPositiveNegativeSampler`` (``_utils``); the YOLO v1 detector (``yolo``: ``YOLOv1``,
``yolo_v1``, ``yolo_v1_mini``; its loss in ``yolo_loss``); Faster R-CNN (``faster_rcnn``:
``FasterRCNN``, ``TwoMLPHead``, ``FastRCNNPredictor``, ``fasterrcnn_mini``,
``fasterrcnn_resnet50_fpn``; its parts in ``transform``, ``rpn``, ``roi_heads``,
``generalized_rcnn``, ``backbone_utils``). Mean average precision is in
``minidl.vision.detection_metrics``."""
from . import (  # noqa: F401
    _utils,
    anchor_utils,
    backbone_utils,
    faster_rcnn,
    generalized_rcnn,
    image_list,
    roi_heads,
    rpn,
    transform,
)
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher  # noqa: F401
from .anchor_utils import AnchorGenerator  # noqa: F401
from .backbone_utils import BackboneWithFPN, resnet_fpn_backbone  # noqa: F401
from .faster_rcnn import (  # noqa: F401
    FasterRCNN,
    FastRCNNPredictor,
    TwoMLPHead,
    fasterrcnn_mini,
    fasterrcnn_resnet50_fpn,
)
from .generalized_rcnn import GeneralizedRCNN  # noqa: F401
from .image_list import ImageList  # noqa: F401
from .roi_heads import RoIHeads  # noqa: F401
from .rpn import RegionProposalNetwork, RPNHead  # noqa: F401
from .transform import GeneralizedRCNNTransform  # noqa: F401
from .yolo import YOLOv1, yolo_v1, yolo_v1_mini  # noqa: F401
from .yolo_loss import yolo_v1_loss  # noqa: F401

__all__ = ["ImageList", "AnchorGenerator", "BoxCoder", "Matcher",
           "BalancedPositiveNegativeSampler", "YOLOv1", "yolo_v1", "yolo_v1_mini",
           "yolo_v1_loss", "FasterRCNN", "TwoMLPHead", "FastRCNNPredictor", "fasterrcnn_mini",
           "GeneralizedRCNN", "RoIHeads", "RegionProposalNetwork", "RPNHead",
           "GeneralizedRCNNTransform", "fasterrcnn_resnet50_fpn", "BackboneWithFPN",
           "resnet_fpn_backbone"]
