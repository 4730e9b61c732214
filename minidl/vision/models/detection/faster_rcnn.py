"""Faster R-CNN (Ren et al. 2015) with torchvision's classes, arguments, defaults and
state_dict keys (``detection.faster_rcnn``).

``FasterRCNN(backbone, num_classes, ...)``: a ``GeneralizedRCNN`` whose RPN
(``rpn_*`` arguments) proposes boxes on the backbone's maps and whose RoI heads (``box_*``)
classify and refine them. The backbone needs an ``out_channels`` attribute and returns one
map (named "0") or an ordered dict of maps. ``num_classes`` counts the background. The
defaults are torchvision's: anchors 32 ... 512 on five maps and RoIAlign from four ("0" ...
"3"), i.e. an FPN backbone; a single-map backbone passes its own ``rpn_anchor_generator``
and ``box_roi_pool``. Extra keywords go to ``GeneralizedRCNNTransform`` (``size_divisible``,
``fixed_size``, ``_skip_resize``); any other is refused by name.

``fasterrcnn_resnet50_fpn``: torchvision's COCO model (91 classes), a ResNet-50 with an FPN
(maps "0" ... "3", "pool"); 41,755,286 parameters as torchvision's pretrained model counts
them (with FrozenBatchNorm2d), 41,808,406 here and in torchvision without weights, where
the batch norms are ``BatchNorm2d`` and every layer trains.

``fasterrcnn_mini``: for 96 x 96 grey scenes (993,893 parameters for 11 classes) -- a
six-layer conv / batch-norm / ReLU backbone of stride 8 (channels 16, 16, 32, 32, 64, 64; a
12 x 12 map), anchors of 16, 24, 32 px with aspect ratios (h / w) 1 and 2, no resize
(min_size = max_size = 96), in training 300 proposals before and 150 after NMS and 64
sampled RoIs per image (torchvision's COCO settings: 2000, 2000, 512), and a 256-wide
``TwoMLPHead``; tuned on the scenes' validation split.
"""
from .... import nn
from ....nn import functional as F
from ...ops.poolers import MultiScaleRoIAlign
from .._api import register_model
from .._utils import Conv2dNormActivation, _check_weights
from ..resnet import resnet50
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .generalized_rcnn import GeneralizedRCNN
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork, RPNHead
from .transform import GeneralizedRCNNTransform

__all__ = ["FasterRCNN", "TwoMLPHead", "FastRCNNPredictor", "fasterrcnn_resnet50_fpn",
           "fasterrcnn_mini"]


def _default_anchorgen():
    anchor_sizes = ((32,), (64,), (128,), (256,), (512,))
    return AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))


class FasterRCNN(GeneralizedRCNN):
    """Faster R-CNN; see the module docstring and torchvision's ``FasterRCNN`` for the
    arguments (same names, order and defaults)."""

    def __init__(self, backbone, num_classes=None, min_size=800, max_size=1333,
                 image_mean=None, image_std=None, rpn_anchor_generator=None, rpn_head=None,
                 rpn_pre_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000,
                 rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=1000,
                 rpn_nms_thresh=0.7, rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3,
                 rpn_batch_size_per_image=256, rpn_positive_fraction=0.5, rpn_score_thresh=0.0,
                 box_roi_pool=None, box_head=None, box_predictor=None, box_score_thresh=0.05,
                 box_nms_thresh=0.5, box_detections_per_img=100, box_fg_iou_thresh=0.5,
                 box_bg_iou_thresh=0.5, box_batch_size_per_image=512, box_positive_fraction=0.25,
                 bbox_reg_weights=None, **kwargs):
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the "
                             "number of output channels (assumed to be the same for all the "
                             "levels)")
        if not isinstance(rpn_anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(f"rpn_anchor_generator should be of type AnchorGenerator or None "
                            f"instead of {type(rpn_anchor_generator)}")
        if not isinstance(box_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError(f"box_roi_pool should be of type MultiScaleRoIAlign or None instead "
                            f"of {type(box_roi_pool)}")
        if num_classes is not None and box_predictor is not None:
            raise ValueError("num_classes should be None when box_predictor is specified")
        if num_classes is None and box_predictor is None:
            raise ValueError("num_classes should not be None when box_predictor is not "
                             "specified")
        out_channels = backbone.out_channels
        if rpn_anchor_generator is None:
            rpn_anchor_generator = _default_anchorgen()
        if rpn_head is None:
            rpn_head = RPNHead(out_channels, rpn_anchor_generator.num_anchors_per_location()[0])
        rpn = RegionProposalNetwork(
            rpn_anchor_generator, rpn_head, rpn_fg_iou_thresh, rpn_bg_iou_thresh,
            rpn_batch_size_per_image, rpn_positive_fraction,
            dict(training=rpn_pre_nms_top_n_train, testing=rpn_pre_nms_top_n_test),
            dict(training=rpn_post_nms_top_n_train, testing=rpn_post_nms_top_n_test),
            rpn_nms_thresh, score_thresh=rpn_score_thresh)
        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(featmap_names=["0", "1", "2", "3"], output_size=7,
                                              sampling_ratio=2)
        if box_head is None:
            resolution = box_roi_pool.output_size[0]
            box_head = TwoMLPHead(out_channels * resolution ** 2, 1024)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(1024, num_classes)
        roi_heads = RoIHeads(box_roi_pool, box_head, box_predictor, box_fg_iou_thresh,
                             box_bg_iou_thresh, box_batch_size_per_image, box_positive_fraction,
                             bbox_reg_weights, box_score_thresh, box_nms_thresh,
                             box_detections_per_img)
        if image_mean is None:
            image_mean = [0.485, 0.456, 0.406]
        if image_std is None:
            image_std = [0.229, 0.224, 0.225]
        transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        super().__init__(backbone, rpn, roi_heads, transform)


class TwoMLPHead(nn.Module):
    """Flatten, then ``fc6`` and ``fc7`` (Linear + ReLU each): the box head of FPN models."""

    def __init__(self, in_channels, representation_size):
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        x = x.flatten(start_dim=1)
        return F.relu(self.fc7(F.relu(self.fc6(x))))


class FastRCNNPredictor(nn.Module):
    """``cls_score`` (num_classes logits) and ``bbox_pred`` (4 deltas per class)."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x):
        if x.dim() == 4 and list(x.shape[2:]) != [1, 1]:
            raise AssertionError(f"x has the wrong shape, expecting the last two dimensions to "
                                 f"be [1,1] instead of {list(x.shape[2:])}")
        x = x.flatten(start_dim=1)
        return self.cls_score(x), self.bbox_pred(x)


def _mini_backbone(in_channels, width):
    """Conv-BN-ReLU x 6, channels w, w, 2w, 2w, 4w, 4w, stride 2 at layers 1, 3, 5."""
    plan = [(width, 2), (width, 1), (2 * width, 2), (2 * width, 1), (4 * width, 2),
            (4 * width, 1)]
    layers, channels = [], in_channels
    for out, stride in plan:
        layers.append(Conv2dNormActivation(channels, out, kernel_size=3, stride=stride))
        channels = out
    backbone = nn.Sequential(*layers)
    backbone.out_channels = channels
    return backbone


# The scenes' objects are 12 - 29 px (sqrt of the box area) with h / w mostly 0.85 - 2.8.
MINI_DEFAULTS = dict(min_size=96, max_size=96, image_mean=(0.036,), image_std=(0.163,),
                     rpn_pre_nms_top_n_train=300, rpn_pre_nms_top_n_test=300,
                     rpn_post_nms_top_n_train=150, rpn_post_nms_top_n_test=100,
                     box_batch_size_per_image=64)


@register_model()
def fasterrcnn_mini(*, weights=None, progress=True, num_classes=11, in_channels=1, width=16,
                    representation_size=256, anchor_sizes=(16, 24, 32),
                    aspect_ratios=(1.0, 2.0), **kwargs):
    """Faster R-CNN for small grey scenes (96 x 96 by default); ``width`` sets the backbone's
    channels (w, 2w, 4w), ``representation_size`` the box head's; other keywords go to
    ``FasterRCNN`` (defaults in ``MINI_DEFAULTS``; ``image_mean`` / ``image_std`` repeat
    the scene statistics per channel)."""
    _check_weights("fasterrcnn_mini", weights, kwargs)
    backbone = _mini_backbone(in_channels, width)
    options = {**MINI_DEFAULTS, "image_mean": MINI_DEFAULTS["image_mean"] * in_channels,
               "image_std": MINI_DEFAULTS["image_std"] * in_channels, **kwargs}
    anchors = AnchorGenerator((tuple(anchor_sizes),), (tuple(aspect_ratios),))
    roi_pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    box_head = TwoMLPHead(backbone.out_channels * 7 * 7, representation_size)
    predictor = FastRCNNPredictor(representation_size, num_classes)
    return FasterRCNN(backbone, None, rpn_anchor_generator=anchors, box_roi_pool=roi_pool,
                      box_head=box_head, box_predictor=predictor, **options)


@register_model()
def fasterrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                            weights_backbone=None, trainable_backbone_layers=None, in_channels=3,
                            **kwargs):
    """Faster R-CNN with a ResNet-50-FPN backbone (torchvision's builder; ``weights`` and
    ``weights_backbone`` must be None, so every backbone layer trains)."""
    _check_weights("fasterrcnn_resnet50_fpn", weights, kwargs)
    _check_weights("resnet50 (weights_backbone)", weights_backbone,
                   {"pretrained": kwargs.pop("pretrained_backbone", False)})
    if in_channels != 3 and ("image_mean" not in kwargs or "image_std" not in kwargs):
        raise ValueError(f"fasterrcnn_resnet50_fpn(): in_channels={in_channels} needs "
                         "image_mean and image_std with one value per channel")
    trainable = _validate_trainable_layers(False, trainable_backbone_layers, 5, 3)
    backbone = resnet50(weights=None, progress=progress, norm_layer=nn.BatchNorm2d,
                        in_channels=in_channels)
    backbone = _resnet_fpn_extractor(backbone, trainable)
    return FasterRCNN(backbone, num_classes=91 if num_classes is None else num_classes,
                      **kwargs)
