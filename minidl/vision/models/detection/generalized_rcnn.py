"""``GeneralizedRCNN`` (torchvision's ``detection.generalized_rcnn``): transform, backbone,
region proposal network and RoI heads, run in that order.

Training: ``model(images, targets)`` -> the dict of the heads' losses (their sum is the
loss to minimise). Eval: ``model(images)`` -> one {"boxes", "labels", "scores"} dict per
image, boxes in the input image's pixels. ``images``: a list of (C, H, W) float tensors or
one (N, C, H, W) tensor; ``targets``: a list of {"boxes": (K, 4) xyxy, "labels": (K,)
int64}. Boxes with x2 <= x1 or y2 <= y1 are refused, naming the image.
"""
from collections import OrderedDict

import numpy as np

from .... import nn
from ....ops._util import check_tensor
from ....tensor import Tensor

__all__ = ["GeneralizedRCNN"]


def _check_targets(targets, num_images):
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts (one per image), got "
                        f"{type(targets).__name__}")
    if len(targets) != num_images:
        raise ValueError(f"{len(targets)} targets for {num_images} images: give one dict per "
                         "image")
    for i, target in enumerate(targets):
        if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
            raise ValueError(f"targets[{i}] must be a dict with 'boxes' and 'labels'")
        boxes = target["boxes"]
        if not isinstance(boxes, Tensor):
            raise AssertionError(f"Expected target boxes to be of type Tensor, got "
                                 f"{type(boxes)}.")
        if boxes.ndim != 2 or boxes.shape[-1] != 4:
            raise AssertionError(f"Expected target boxes to be a tensor of shape [N, 4], got "
                                 f"{list(boxes.shape)}.")
        labels = target["labels"]
        check_tensor(labels, "GeneralizedRCNN", f"targets[{i}]['labels']")
        if labels.shape != (boxes.shape[0],):
            raise ValueError(f"targets[{i}]: 'labels' must have shape ({boxes.shape[0]},) for "
                             f"{boxes.shape[0]} boxes, got {tuple(labels.shape)}")


def _check_degenerate(targets):
    for target_idx, target in enumerate(targets):
        boxes = target["boxes"].detach().numpy()
        degenerate = (boxes[:, 2:] <= boxes[:, :2]).any(axis=1)
        if degenerate.any():
            degen_bb = boxes[np.flatnonzero(degenerate)[0]].tolist()
            raise AssertionError(f"All bounding boxes should have positive height and width. "
                                 f"Found invalid box {degen_bb} for target at index "
                                 f"{target_idx}.")


class GeneralizedRCNN(nn.Module):
    """``transform`` -> ``backbone`` -> ``rpn`` -> ``roi_heads`` -> ``transform.postprocess``."""

    def __init__(self, backbone, rpn, roi_heads, transform):
        super().__init__()
        self.transform = transform
        self.backbone = backbone
        self.rpn = rpn
        self.roi_heads = roi_heads

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def forward(self, images, targets=None):
        if isinstance(images, Tensor):
            if images.ndim != 4:
                raise ValueError(f"images must be a list of (C, H, W) tensors or one "
                                 f"(N, C, H, W) tensor, got shape {tuple(images.shape)}")
            images = list(images.unbind(0))
        if not isinstance(images, (list, tuple)) or not images:
            raise TypeError("images must be a non-empty list of (C, H, W) tensors or one "
                            "(N, C, H, W) tensor")
        for i, img in enumerate(images):
            check_tensor(img, "GeneralizedRCNN", f"images[{i}]")
            if img.ndim != 3:
                raise ValueError(f"images[{i}] must be (C, H, W), got shape "
                                 f"{tuple(img.shape)}")
        if self.training:
            if targets is None:
                raise AssertionError("targets should not be none when in training mode")
            _check_targets(targets, len(images))
        elif targets is not None:
            _check_targets(targets, len(images))
        original_image_sizes = [tuple(int(s) for s in img.shape[-2:]) for img in images]
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, Tensor):
            features = OrderedDict([("0", features)])
        proposals, proposal_losses = self.rpn(images, features, targets)
        detections, detector_losses = self.roi_heads(features, proposals, images.image_sizes,
                                                     targets)
        detections = self.transform.postprocess(detections, images.image_sizes,
                                                original_image_sizes)
        losses = {**detector_losses, **proposal_losses}
        return self.eager_outputs(losses, detections)
