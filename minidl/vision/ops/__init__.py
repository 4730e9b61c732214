"""Operators and small blocks for vision models (torchvision's ``ops``): stochastic depth,
``MLP``, ``Permute``, the box operations (IoU family, conversion, NMS), detection losses,
RoI pooling (``roi_align``, ``roi_pool``, ``MultiScaleRoIAlign``) and the
``FeaturePyramidNetwork``."""
from .box_losses import (  # noqa: F401
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    sigmoid_focal_loss,
)
from .boxes import (  # noqa: F401
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from .feature_pyramid_network import FeaturePyramidNetwork  # noqa: F401
from .misc import MLP, Conv2dNormActivation, FrozenBatchNorm2d, Permute  # noqa: F401
from .poolers import MultiScaleRoIAlign  # noqa: F401
from .roi import RoIAlign, RoIPool, roi_align, roi_pool  # noqa: F401
from .stochastic_depth import StochasticDepth, stochastic_depth  # noqa: F401

__all__ = ["stochastic_depth", "StochasticDepth", "MLP", "Permute", "Conv2dNormActivation",
           "FrozenBatchNorm2d",
           "box_convert", "box_area", "box_iou", "generalized_box_iou", "distance_box_iou",
           "complete_box_iou", "clip_boxes_to_image", "remove_small_boxes", "masks_to_boxes",
           "nms", "batched_nms", "generalized_box_iou_loss", "distance_box_iou_loss",
           "complete_box_iou_loss", "sigmoid_focal_loss", "roi_align", "RoIAlign", "roi_pool",
           "RoIPool", "MultiScaleRoIAlign", "FeaturePyramidNetwork"]
