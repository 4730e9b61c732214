"""The box head of Fast / Faster R-CNN (Girshick 2015; Ren et al. 2015; torchvision's
``detection.roi_heads``, boxes only).

Training: the ground truths join the proposals; a proposal whose best IoU with a ground
truth is >= ``fg_iou_thresh`` takes that object's label, below ``bg_iou_thresh`` it is
background (0), between it is ignored; ``batch_size_per_image`` proposals, at most
``positive_fraction`` of them objects, are sampled; their regression targets are the
BoxCoder offsets (weights ``bbox_reg_weights``, default (10, 10, 5, 5)) to the matched box.
``fastrcnn_loss``: the mean cross-entropy over the sampled proposals (``loss_classifier``)
and the smooth-L1 (beta 1/9) of the true class's deltas of the object proposals, summed and
divided by the number of sampled proposals (``loss_box_reg``).

Inference (``postprocess_detections``): each class's deltas decode its own box, clipped to
the image; softmax scores; every (proposal, class != 0) pair is a candidate; candidates
with score <= ``score_thresh`` or a side under 0.01 px are dropped, NMS at ``nms_thresh``
runs per class, and the ``detections_per_img`` best remain, by descending score.
"""
import numpy as np

from .... import nn
from ....autograd.grad_mode import no_grad
from ....backend.dtypes import float32, float64, int64
from ....nn import functional as F
from ....ops.join import cat
from ....tensor import Tensor
from ...ops import boxes as box_ops
from . import _utils as det_utils

__all__ = ["RoIHeads", "fastrcnn_loss"]

_MASK_AND_KEYPOINT_ARGS = ("mask_roi_pool", "mask_head", "mask_predictor", "keypoint_roi_pool",
                           "keypoint_head", "keypoint_predictor")


def fastrcnn_loss(class_logits, box_regression, labels, regression_targets):
    """(classification loss, box loss) of the sampled proposals: ``class_logits`` (N, K),
    ``box_regression`` (N, 4 K), per-image int64 ``labels`` and (n_i, 4) targets."""
    labels = cat(list(labels), dim=0)
    regression_targets = cat(list(regression_targets), dim=0)
    n, num_classes = class_logits.shape
    label_values = labels.numpy()
    if label_values.size and (label_values.min() < 0 or label_values.max() >= num_classes):
        raise ValueError(f"fastrcnn_loss(): labels must lie in [0, {num_classes}) for "
                         f"{num_classes} class logits, got values in "
                         f"[{label_values.min()}, {label_values.max()}]")
    classification_loss = F.cross_entropy(class_logits, labels)
    pos = np.flatnonzero(label_values > 0)
    box_regression = box_regression.reshape(n, box_regression.shape[-1] // 4, 4)
    box_loss = F.smooth_l1_loss(box_regression[Tensor(pos), Tensor(label_values[pos])],
                                regression_targets[Tensor(pos)], beta=1 / 9, reduction="sum")
    return classification_loss, box_loss / labels.numel()


class RoIHeads(nn.Module):
    """Pool each proposal (``box_roi_pool``), run ``box_head`` and ``box_predictor``
    (class logits, per-class deltas). ``forward(features, proposals, image_shapes,
    targets=None)`` -> (detections, losses): in training {} and {"loss_classifier",
    "loss_box_reg"}; in eval one {"boxes", "labels", "scores"} per image and {}.
    The Mask / Keypoint R-CNN heads are not built: their arguments must stay None."""

    def __init__(self, box_roi_pool, box_head, box_predictor, fg_iou_thresh, bg_iou_thresh,
                 batch_size_per_image, positive_fraction, bbox_reg_weights, score_thresh,
                 nms_thresh, detections_per_img, mask_roi_pool=None, mask_head=None,
                 mask_predictor=None, keypoint_roi_pool=None, keypoint_head=None,
                 keypoint_predictor=None):
        super().__init__()
        extra = dict(zip(_MASK_AND_KEYPOINT_ARGS, (mask_roi_pool, mask_head, mask_predictor,
                                                   keypoint_roi_pool, keypoint_head,
                                                   keypoint_predictor)))
        given = [name for name, value in extra.items() if value is not None]
        if given:
            raise NotImplementedError(f"RoIHeads(): {', '.join(given)} (Mask / Keypoint R-CNN) "
                                      "are not built in minidl; leave them None")
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh,
                                                  allow_low_quality_matches=False)
        self.fg_bg_sampler = det_utils.BalancedPositiveNegativeSampler(batch_size_per_image,
                                                                       positive_fraction)
        if bbox_reg_weights is None:
            bbox_reg_weights = (10.0, 10.0, 5.0, 5.0)
        self.box_coder = det_utils.BoxCoder(bbox_reg_weights)
        self.box_roi_pool = box_roi_pool
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        for name in _MASK_AND_KEYPOINT_ARGS:
            setattr(self, name, None)

    def has_mask(self):
        return False

    def has_keypoint(self):
        return False

    def assign_targets_to_proposals(self, proposals, gt_boxes, gt_labels):
        """Per image, the matched ground-truth index (clamped to >= 0) and the int64 label
        (class, 0 background, -1 ignored) of each proposal."""
        matched_idxs, labels = [], []
        for proposals_in_image, gt_boxes_in_image, gt_labels_in_image in zip(
                proposals, gt_boxes, gt_labels):
            n = proposals_in_image.shape[0]
            if gt_boxes_in_image.numel() == 0:
                clamped = np.zeros(n, np.int64)
                labels_in_image = np.zeros(n, np.int64)
            else:
                matched = self.proposal_matcher(
                    box_ops.box_iou(gt_boxes_in_image, proposals_in_image)).numpy()
                clamped = np.maximum(matched, 0)
                labels_in_image = gt_labels_in_image.numpy()[clamped].astype(np.int64)
                labels_in_image[matched == self.proposal_matcher.BELOW_LOW_THRESHOLD] = 0
                labels_in_image[matched == self.proposal_matcher.BETWEEN_THRESHOLDS] = -1
            matched_idxs.append(Tensor(clamped))
            labels.append(Tensor(labels_in_image))
        return matched_idxs, labels

    def subsample(self, labels):
        """Per image, the int64 indices of the sampled proposals (positives and negatives)."""
        sampled_pos, sampled_neg = self.fg_bg_sampler(labels)
        return [Tensor(np.flatnonzero(p.numpy() | n.numpy()))
                for p, n in zip(sampled_pos, sampled_neg)]

    def add_gt_proposals(self, proposals, gt_boxes):
        return [cat((proposal, gt_box)) for proposal, gt_box in zip(proposals, gt_boxes)]

    def check_targets(self, targets):
        if targets is None:
            raise ValueError("targets should not be None")
        if not all("boxes" in t for t in targets):
            raise ValueError("Every element of targets should have a boxes key")
        if not all("labels" in t for t in targets):
            raise ValueError("Every element of targets should have a labels key")

    def select_training_samples(self, proposals, targets):
        """(sampled proposals, their matched ground-truth indices, labels, regression
        targets), one entry per image."""
        self.check_targets(targets)
        dtype = proposals[0].dtype
        gt_boxes = [t["boxes"].detach().to(dtype) for t in targets]
        gt_labels = [t["labels"] for t in targets]
        proposals = self.add_gt_proposals(proposals, gt_boxes)
        matched_idxs, labels = self.assign_targets_to_proposals(proposals, gt_boxes, gt_labels)
        sampled_inds = self.subsample(labels)
        matched_gt_boxes = []
        for img_id, img_sampled_inds in enumerate(sampled_inds):
            proposals[img_id] = proposals[img_id][img_sampled_inds]
            labels[img_id] = labels[img_id][img_sampled_inds]
            matched_idxs[img_id] = matched_idxs[img_id][img_sampled_inds]
            gt_boxes_in_image = gt_boxes[img_id]
            if gt_boxes_in_image.numel() == 0:
                gt_boxes_in_image = Tensor(np.zeros((1, 4), dtype.np))
            matched_gt_boxes.append(gt_boxes_in_image[matched_idxs[img_id]])
        with no_grad():
            regression_targets = self.box_coder.encode(matched_gt_boxes, proposals)
        return proposals, matched_idxs, labels, regression_targets

    def postprocess_detections(self, class_logits, box_regression, proposals, image_shapes):
        """Per image, the boxes (D, 4), scores (D,) and int64 labels (D,) kept after the
        score threshold, the small-box filter, per-class NMS and the per-image cap."""
        num_classes = class_logits.shape[-1]
        boxes_per_image = [p.shape[0] for p in proposals]
        pred_boxes = self.box_coder.decode(box_regression, list(proposals))
        pred_boxes = pred_boxes.reshape(-1, num_classes, 4).numpy()
        pred_scores = F.softmax(class_logits, -1).numpy()
        splits = np.cumsum(boxes_per_image)[:-1]
        all_boxes, all_scores, all_labels = [], [], []
        for boxes, scores, image_shape in zip(np.split(pred_boxes, splits),
                                              np.split(pred_scores, splits), image_shapes):
            boxes = box_ops.clip_boxes_to_image(Tensor(boxes), image_shape).numpy()
            labels = np.broadcast_to(np.arange(num_classes, dtype=np.int64), scores.shape)
            boxes = boxes[:, 1:].reshape(-1, 4)
            scores = scores[:, 1:].reshape(-1)
            labels = labels[:, 1:].reshape(-1)
            inds = np.flatnonzero(scores > self.score_thresh)
            boxes, scores, labels = boxes[inds], scores[inds], labels[inds]
            keep = box_ops.remove_small_boxes(Tensor(boxes), min_size=1e-2).numpy()
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            keep = box_ops.batched_nms(Tensor(boxes), Tensor(scores), Tensor(labels),
                                       self.nms_thresh).numpy()[:self.detections_per_img]
            all_boxes.append(Tensor(boxes[keep]))
            all_scores.append(Tensor(scores[keep]))
            all_labels.append(Tensor(labels[keep]))
        return all_boxes, all_scores, all_labels

    def forward(self, features, proposals, image_shapes, targets=None):
        if targets is not None:
            for t in targets:
                if t["boxes"].dtype not in (float32, float64):
                    raise TypeError(f"target boxes must of float type, instead got "
                                    f"{t['boxes'].dtype}")
                if t["labels"].dtype != int64:
                    raise TypeError(f"target labels must of int64 type, instead got "
                                    f"{t['labels'].dtype}")
        if self.training:
            proposals, _, labels, regression_targets = self.select_training_samples(
                proposals, targets)
        box_features = self.box_roi_pool(features, proposals, image_shapes)
        box_features = self.box_head(box_features)
        class_logits, box_regression = self.box_predictor(box_features)
        result, losses = [], {}
        if self.training:
            loss_classifier, loss_box_reg = fastrcnn_loss(class_logits, box_regression, labels,
                                                          regression_targets)
            losses = {"loss_classifier": loss_classifier, "loss_box_reg": loss_box_reg}
        else:
            boxes, scores, labels = self.postprocess_detections(class_logits, box_regression,
                                                                proposals, image_shapes)
            result = [{"boxes": b, "labels": lab, "scores": s}
                      for b, lab, s in zip(boxes, labels, scores)]
        return result, losses
