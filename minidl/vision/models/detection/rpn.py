"""Region Proposal Network (Ren et al. 2015, "Faster R-CNN", section 3.1; torchvision's
``detection.rpn``).

``RPNHead``: a 3 x 3 convolution + ReLU shared by all maps, then per anchor one objectness
logit (1 x 1 conv) and four box deltas (1 x 1 conv); weights N(0, 0.01), biases 0.

``RegionProposalNetwork``: per image, the deltas decode the anchors into proposals; the
``pre_nms_top_n`` highest objectness logits of each map are kept, clipped to the image,
boxes under 1e-3 px and sigmoid scores under ``score_thresh`` dropped, NMS at
``nms_thresh`` per map, and the ``post_nms_top_n`` best kept (training / testing values).
The proposals carry no gradient. In training an anchor is positive when its IoU with a
ground truth is >= ``fg_iou_thresh`` or it is that ground truth's best anchor, negative
below ``bg_iou_thresh``, ignored between; ``batch_size_per_image`` anchors, at most
``positive_fraction`` positive, are sampled. The losses (eq. 1 of the paper):

- ``loss_objectness``: mean binary cross-entropy of the sampled anchors' logits;
- ``loss_rpn_box_reg``: the smooth-L1 (beta 1/9) of the positive anchors' deltas against
  their BoxCoder targets (weights 1, 1, 1, 1), summed and divided by the sampled count.
"""
import numpy as np

from .... import nn
from ....autograd.grad_mode import no_grad
from ....nn import functional as F
from ....ops.join import cat
from ....tensor import Tensor
from ...ops import boxes as box_ops
from .._utils import Conv2dNormActivation
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator  # noqa: F401  (re-exported, as torchvision's)
from .image_list import ImageList

__all__ = ["RPNHead", "RegionProposalNetwork", "concat_box_prediction_layers"]


class RPNHead(nn.Module):
    """``conv`` (``conv_depth`` 3 x 3 conv + ReLU blocks), ``cls_logits`` (A channels) and
    ``bbox_pred`` (4 A channels) for ``num_anchors`` = A anchors per location.
    ``forward(x)`` takes a list of maps and returns (logits, deltas), one of each per map."""

    def __init__(self, in_channels, num_anchors, conv_depth=1):
        super().__init__()
        self.conv = nn.Sequential(*[Conv2dNormActivation(in_channels, in_channels,
                                                         kernel_size=3, norm_layer=None)
                                    for _ in range(conv_depth)])
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, kernel_size=1, stride=1)
        self.bbox_pred = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=1, stride=1)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                if layer.bias is not None:
                    nn.init.constant_(layer.bias, 0)

    def forward(self, x):
        logits, bbox_reg = [], []
        for feature in x:
            t = self.conv(feature)
            logits.append(self.cls_logits(t))
            bbox_reg.append(self.bbox_pred(t))
        return logits, bbox_reg


def permute_and_flatten(layer, N, A, C, H, W):  # noqa: N803 (torchvision's names)
    """(N, A C, H, W) -> (N, H W A, C): location-major, then anchor, as the anchors."""
    return layer.view(N, -1, C, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, C)


def concat_box_prediction_layers(box_cls, box_regression):
    """Per-map (N, A C, H, W) logits and (N, 4 A, H, W) deltas as (N sum H W A, C) and
    (N sum H W A, 4), image-major, then map, location, anchor."""
    cls_flat, reg_flat = [], []
    for cls_level, reg_level in zip(box_cls, box_regression):
        n, axc, h, w = cls_level.shape
        a = reg_level.shape[1] // 4
        cls_flat.append(permute_and_flatten(cls_level, n, a, axc // a, h, w))
        reg_flat.append(permute_and_flatten(reg_level, n, a, 4, h, w))
    return cat(cls_flat, dim=1).flatten(0, -2), cat(reg_flat, dim=1).reshape(-1, 4)


class RegionProposalNetwork(nn.Module):
    """The RPN: ``forward(images, features, targets=None)`` -> (proposals, losses), a list
    of (P_i, 4) proposals per image and, in training, {"loss_objectness",
    "loss_rpn_box_reg"}. ``pre_nms_top_n`` / ``post_nms_top_n`` are dicts with the keys
    "training" and "testing"."""

    def __init__(self, anchor_generator, head, fg_iou_thresh, bg_iou_thresh,
                 batch_size_per_image, positive_fraction, pre_nms_top_n, post_nms_top_n,
                 nms_thresh, score_thresh=0.0):
        super().__init__()
        for name, value in (("pre_nms_top_n", pre_nms_top_n),
                            ("post_nms_top_n", post_nms_top_n)):
            if not isinstance(value, dict) or not {"training", "testing"} <= set(value):
                raise ValueError(f"RegionProposalNetwork(): '{name}' must be a dict with the "
                                 f"keys 'training' and 'testing', got {value!r}")
        self.anchor_generator = anchor_generator
        self.head = head
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh,
                                                  allow_low_quality_matches=True)
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(batch_size_per_image,
                                                                       positive_fraction)
        self._pre_nms_top_n = pre_nms_top_n
        self._post_nms_top_n = post_nms_top_n
        self.nms_thresh = nms_thresh
        self.score_thresh = score_thresh
        self.min_size = 1e-3

    def pre_nms_top_n(self):
        return self._pre_nms_top_n["training" if self.training else "testing"]

    def post_nms_top_n(self):
        return self._post_nms_top_n["training" if self.training else "testing"]

    def assign_targets_to_anchors(self, anchors, targets):
        """Per image, float32 labels (1 positive, 0 negative, -1 ignored) of the anchors and
        the ground truth box each is matched to (zeros for an image without objects)."""
        labels, matched_gt_boxes = [], []
        for anchors_per_image, targets_per_image in zip(anchors, targets):
            gt_boxes = targets_per_image["boxes"]
            n = anchors_per_image.shape[0]
            if gt_boxes.numel() == 0:
                matched = Tensor(np.zeros((n, 4), np.float32))
                labels_per_image = np.zeros(n, np.float32)
            else:
                matched_idxs = self.proposal_matcher(
                    self.box_similarity(gt_boxes, anchors_per_image)).numpy()
                matched = gt_boxes.detach()[Tensor(np.maximum(matched_idxs, 0))]
                labels_per_image = (matched_idxs >= 0).astype(np.float32)
                labels_per_image[matched_idxs == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0.0
                labels_per_image[matched_idxs == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1.0
            labels.append(Tensor(labels_per_image))
            matched_gt_boxes.append(matched)
        return labels, matched_gt_boxes

    def _get_top_n_idx(self, objectness, num_anchors_per_level):
        """(N, sum k_l) indices of the ``pre_nms_top_n`` highest logits of each level."""
        picked, offset = [], 0
        for ob in np.split(objectness, np.cumsum(num_anchors_per_level)[:-1], axis=1):
            k = min(self.pre_nms_top_n(), ob.shape[1])
            picked.append(np.argsort(-ob, axis=1, kind="stable")[:, :k] + offset)
            offset += ob.shape[1]
        return np.concatenate(picked, axis=1)

    def filter_proposals(self, proposals, objectness, image_shapes, num_anchors_per_level):
        """Per image, the proposals (P_i, 4) kept after top-n, clipping, size and score
        filters and NMS per level, with their sigmoid objectness (P_i,)."""
        num_images = proposals.shape[0]
        objectness = objectness.detach().numpy().reshape(num_images, -1)
        levels = np.concatenate([np.full(n, i, np.int64)
                                 for i, n in enumerate(num_anchors_per_level)])
        top_n_idx = self._get_top_n_idx(objectness, num_anchors_per_level)
        rows = np.arange(num_images)[:, None]
        objectness = objectness[rows, top_n_idx]
        levels = levels[top_n_idx]
        boxes_all = proposals.detach().numpy()[rows, top_n_idx]
        scores_all = 1.0 / (1.0 + np.exp(-objectness.astype(np.float64)))
        final_boxes, final_scores = [], []
        for boxes, scores, lvl, img_shape in zip(boxes_all, scores_all, levels, image_shapes):
            boxes = box_ops.clip_boxes_to_image(Tensor(boxes), img_shape).numpy()
            scores = scores.astype(boxes.dtype)
            keep = box_ops.remove_small_boxes(Tensor(boxes), self.min_size).numpy()
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = np.flatnonzero(scores >= self.score_thresh)
            boxes, scores, lvl = boxes[keep], scores[keep], lvl[keep]
            keep = box_ops.batched_nms(Tensor(boxes), Tensor(scores), Tensor(lvl),
                                       self.nms_thresh).numpy()[:self.post_nms_top_n()]
            final_boxes.append(Tensor(boxes[keep]))
            final_scores.append(Tensor(scores[keep]))
        return final_boxes, final_scores

    def compute_loss(self, objectness, pred_bbox_deltas, labels, regression_targets):
        """(objectness loss, box loss) over the anchors the sampler draws."""
        sampled_pos, sampled_neg = self.fg_bg_sampler(labels)
        pos_inds = np.flatnonzero(np.concatenate([m.numpy() for m in sampled_pos]))
        neg_inds = np.flatnonzero(np.concatenate([m.numpy() for m in sampled_neg]))
        sampled_inds = Tensor(np.concatenate([pos_inds, neg_inds]))
        pos_inds = Tensor(pos_inds)
        objectness = objectness.flatten()
        labels = cat(labels, dim=0)
        regression_targets = cat(regression_targets, dim=0)
        box_loss = F.smooth_l1_loss(pred_bbox_deltas[pos_inds], regression_targets[pos_inds],
                                    beta=1 / 9, reduction="sum") / sampled_inds.numel()
        objectness_loss = F.binary_cross_entropy_with_logits(objectness[sampled_inds],
                                                             labels[sampled_inds])
        return objectness_loss, box_loss

    def forward(self, images, features, targets=None):
        if not isinstance(images, ImageList):
            raise TypeError(f"RegionProposalNetwork: 'images' must be an ImageList, got "
                            f"{type(images).__name__}")
        features = list(features.values())
        objectness, pred_bbox_deltas = self.head(features)
        anchors = self.anchor_generator(images, features)
        num_images = len(anchors)
        num_anchors_per_level = [int(np.prod(o.shape[1:])) for o in objectness]
        objectness, pred_bbox_deltas = concat_box_prediction_layers(objectness,
                                                                    pred_bbox_deltas)
        with no_grad():
            proposals = self.box_coder.decode(pred_bbox_deltas.detach(), anchors)
        proposals = proposals.view(num_images, -1, 4)
        boxes, _ = self.filter_proposals(proposals, objectness, images.image_sizes,
                                         num_anchors_per_level)
        losses = {}
        if self.training:
            if targets is None:
                raise ValueError("targets should not be None")
            labels, matched_gt_boxes = self.assign_targets_to_anchors(anchors, targets)
            with no_grad(), np.errstate(divide="ignore", invalid="ignore"):
                # background anchors are matched to an all-zero box (log 0): never positives
                regression_targets = self.box_coder.encode(matched_gt_boxes, anchors)
            loss_objectness, loss_rpn_box_reg = self.compute_loss(
                objectness, pred_bbox_deltas, labels, regression_targets)
            losses = {"loss_objectness": loss_objectness, "loss_rpn_box_reg": loss_rpn_box_reg}
        return boxes, losses
