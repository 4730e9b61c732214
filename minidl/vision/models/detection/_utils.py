"""Training helpers of two-stage detectors (torchvision's ``detection._utils``).

``BoxCoder``: the box regression targets of R-CNN (Girshick et al. 2014, appendix C):
for a proposal P (centre px, py, size pw, ph) and its ground truth G,
dx = wx (gx - px) / pw, dy = wy (gy - py) / ph, dw = ww log(gw / pw), dh = wh log(gh / ph);
widths are x2 - x1 (no +1). Decoding inverts it, with dw, dh clamped at ``bbox_xform_clip``
before the exponential. Both are minidl ops, so gradients flow to the codes and the boxes.

``Matcher``: each prediction gets the ground truth of highest quality (IoU) if it reaches
``high_threshold``, else BETWEEN_THRESHOLDS (-2) or BELOW_LOW_THRESHOLD (-1); with
``allow_low_quality_matches`` every prediction that ties for the best IoU of some ground
truth keeps its best match (Faster R-CNN, Ren et al. 2015, section 3.1.2).

``BalancedPositiveNegativeSampler``: per image, up to ``batch_size_per_image`` elements,
at most the ``positive_fraction`` of them positive, drawn at random (minidl's seeded
generator, so the picks differ from torch's).
"""
import math

import numpy as np

from ....backend.random import rng
from ....ops._util import check_tensor
from ....ops.join import cat, stack
from ....tensor import Tensor

__all__ = ["BoxCoder", "Matcher", "BalancedPositiveNegativeSampler"]

# Largest dw, dh that decoding exponentiates: a box at most 1000 / 16 times its reference.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def _check_box_rows(boxes, fn, arg):
    check_tensor(boxes, fn, arg)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{fn}(): '{arg}' must have shape (N, 4), got {tuple(boxes.shape)}")
    return boxes


def _centres_and_sizes(boxes):
    """(cx, cy, w, h), each (N, 1), of xyxy ``boxes`` (N, 4)."""
    widths = boxes[:, 2:3] - boxes[:, 0:1]
    heights = boxes[:, 3:4] - boxes[:, 1:2]
    return boxes[:, 0:1] + 0.5 * widths, boxes[:, 1:2] + 0.5 * heights, widths, heights


class BoxCoder:
    """Encode boxes as (dx, dy, dw, dh) offsets from reference boxes and decode them back;
    ``weights`` = (wx, wy, ww, wh) scale the four offsets."""

    def __init__(self, weights, bbox_xform_clip=BBOX_XFORM_CLIP):
        if len(weights) != 4:
            raise ValueError(f"BoxCoder(): 'weights' must be 4 numbers (wx, wy, ww, wh), "
                             f"got {weights!r}")
        self.weights = weights
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        """``encode_single`` on the concatenated lists; one (N_i, 4) target per image."""
        if len(reference_boxes) != len(proposals):
            raise ValueError(f"BoxCoder.encode(): {len(reference_boxes)} images of "
                             f"reference_boxes but {len(proposals)} of proposals")
        boxes_per_image = [len(b) for b in reference_boxes]
        targets = self.encode_single(cat(list(reference_boxes), dim=0),
                                     cat(list(proposals), dim=0))
        return targets.split(boxes_per_image, 0)

    def encode_single(self, reference_boxes, proposals):
        """Targets (N, 4) that carry each of ``proposals`` (N, 4) onto the matching row of
        ``reference_boxes`` (N, 4), both xyxy."""
        _check_box_rows(reference_boxes, "BoxCoder.encode_single", "reference_boxes")
        _check_box_rows(proposals, "BoxCoder.encode_single", "proposals")
        if reference_boxes.shape[0] != proposals.shape[0]:
            raise ValueError(f"BoxCoder.encode_single(): {reference_boxes.shape[0]} "
                             f"reference_boxes but {proposals.shape[0]} proposals")
        wx, wy, ww, wh = (float(w) for w in self.weights)
        px, py, pw, ph = _centres_and_sizes(proposals)
        gx, gy, gw, gh = _centres_and_sizes(reference_boxes)
        return cat([wx * (gx - px) / pw, wy * (gy - py) / ph,
                    ww * (gw / pw).log(), wh * (gh / ph).log()], dim=1)

    def decode(self, rel_codes, boxes):
        """``decode_single`` on the concatenated ``boxes`` list: (sum N_i, k, 4)."""
        if not isinstance(boxes, (list, tuple)):
            raise TypeError(f"BoxCoder.decode(): 'boxes' must be a list or tuple of (N_i, 4) "
                            f"tensors, got {type(boxes).__name__}")
        check_tensor(rel_codes, "BoxCoder.decode", "rel_codes")
        box_sum = sum(b.shape[0] for b in boxes)
        if box_sum > 0:
            if rel_codes.numel() % (4 * box_sum):
                raise ValueError(f"BoxCoder.decode(): 'rel_codes' of shape "
                                 f"{tuple(rel_codes.shape)} do not split into {box_sum} rows "
                                 "of 4 k codes")
            rel_codes = rel_codes.reshape(box_sum, -1)
        pred_boxes = self.decode_single(rel_codes, cat(list(boxes), dim=0))
        return pred_boxes.reshape(box_sum, -1, 4) if box_sum > 0 else pred_boxes

    def decode_single(self, rel_codes, boxes):
        """Boxes (N, 4 k) from codes (N, 4 k) applied to xyxy ``boxes`` (N, 4): centre
        p + d p_size, size p_size exp(min(d_size, bbox_xform_clip))."""
        check_tensor(rel_codes, "BoxCoder.decode_single", "rel_codes")
        _check_box_rows(boxes, "BoxCoder.decode_single", "boxes")
        if (rel_codes.ndim != 2 or rel_codes.shape[0] != boxes.shape[0]
                or rel_codes.shape[1] % 4):
            raise ValueError(f"BoxCoder.decode_single(): 'rel_codes' must have shape (N, 4 k) "
                             f"with N = {boxes.shape[0]} boxes, got {tuple(rel_codes.shape)}")
        boxes = boxes.to(rel_codes.dtype)
        ctr_x, ctr_y, widths, heights = _centres_and_sizes(boxes)
        wx, wy, ww, wh = (float(w) for w in self.weights)
        dx, dy = rel_codes[:, 0::4] / wx, rel_codes[:, 1::4] / wy
        dw = (rel_codes[:, 2::4] / ww).clamp(max=self.bbox_xform_clip)
        dh = (rel_codes[:, 3::4] / wh).clamp(max=self.bbox_xform_clip)
        pred_x, pred_y = dx * widths + ctr_x, dy * heights + ctr_y
        half_w, half_h = 0.5 * dw.exp() * widths, 0.5 * dh.exp() * heights
        corners = (pred_x - half_w, pred_y - half_h, pred_x + half_w, pred_y + half_h)
        return stack(corners, dim=2).flatten(1)


class Matcher:
    """Assign to each of N predictions one of M ground truths from an (M, N) quality matrix:
    the int64 index (N,) of the best ground truth when its quality is >= ``high_threshold``,
    ``BETWEEN_THRESHOLDS`` when in [low_threshold, high_threshold), ``BELOW_LOW_THRESHOLD``
    below ``low_threshold``."""

    BELOW_LOW_THRESHOLD = -1
    BETWEEN_THRESHOLDS = -2

    def __init__(self, high_threshold, low_threshold, allow_low_quality_matches=False):
        if low_threshold > high_threshold:
            raise ValueError(f"Matcher(): low_threshold ({low_threshold}) should be <= "
                             f"high_threshold ({high_threshold})")
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, match_quality_matrix):
        check_tensor(match_quality_matrix, "Matcher", "match_quality_matrix")
        if match_quality_matrix.ndim != 2:
            raise ValueError(f"Matcher: 'match_quality_matrix' must be (M ground truths, "
                             f"N predictions), got shape {tuple(match_quality_matrix.shape)}")
        if match_quality_matrix.numel() == 0:
            if match_quality_matrix.shape[0] == 0:
                raise ValueError("No ground-truth boxes available for one of the images "
                                 "during training")
            raise ValueError("No proposal boxes available for one of the images during "
                             "training")
        quality = match_quality_matrix.detach().numpy()
        best_gt = quality.argmax(axis=0)
        best_quality = quality[best_gt, np.arange(quality.shape[1])]
        matches = best_gt.astype(np.int64)
        matches[best_quality < self.low_threshold] = self.BELOW_LOW_THRESHOLD
        between = (best_quality >= self.low_threshold) & (best_quality < self.high_threshold)
        matches[between] = self.BETWEEN_THRESHOLDS
        if self.allow_low_quality_matches:
            self._restore_low_quality_matches(matches, best_gt, quality)
        return Tensor(matches)

    @staticmethod
    def _restore_low_quality_matches(matches, best_gt, quality):
        """For each ground truth, the predictions of its highest quality (all ties) take back
        their best ground truth, however low the quality."""
        best_for_each_gt = quality.max(axis=1, keepdims=True)
        _, predictions = np.nonzero(quality == best_for_each_gt)
        matches[predictions] = best_gt[predictions]


class BalancedPositiveNegativeSampler:
    """Sample, per image, ``batch_size_per_image`` elements with at most
    ``positive_fraction`` of them positive (matched index >= 1) and the rest negative
    (index 0); index -1 is ignored. Returns two lists of uint8 masks (positives,
    negatives), one per image."""

    def __init__(self, batch_size_per_image, positive_fraction):
        if int(batch_size_per_image) != batch_size_per_image or batch_size_per_image < 0:
            raise ValueError(f"BalancedPositiveNegativeSampler(): 'batch_size_per_image' must "
                             f"be a non-negative integer, got {batch_size_per_image!r}")
        if not 0 <= positive_fraction <= 1:
            raise ValueError(f"BalancedPositiveNegativeSampler(): 'positive_fraction' must be "
                             f"in [0, 1], got {positive_fraction!r}")
        self.batch_size_per_image = batch_size_per_image
        self.positive_fraction = positive_fraction

    def __call__(self, matched_idxs):
        pos_masks, neg_masks = [], []
        for i, matched in enumerate(matched_idxs):
            check_tensor(matched, "BalancedPositiveNegativeSampler", f"matched_idxs[{i}]")
            if matched.ndim != 1:
                raise ValueError(f"BalancedPositiveNegativeSampler: 'matched_idxs[{i}]' must "
                                 f"be 1-D (one index per element), got {tuple(matched.shape)}")
            labels = matched.detach().numpy()
            positive = np.flatnonzero(labels >= 1)
            negative = np.flatnonzero(labels == 0)
            num_pos = min(positive.size,
                          int(self.batch_size_per_image * self.positive_fraction))
            num_neg = min(negative.size, self.batch_size_per_image - num_pos)
            generator = rng()
            picked_pos = positive[generator.permutation(positive.size)[:num_pos]]
            picked_neg = negative[generator.permutation(negative.size)[:num_neg]]
            pos_mask = np.zeros(labels.shape, np.uint8)
            neg_mask = np.zeros(labels.shape, np.uint8)
            pos_mask[picked_pos] = 1
            neg_mask[picked_neg] = 1
            pos_masks.append(Tensor(pos_mask))
            neg_masks.append(Tensor(neg_mask))
        return pos_masks, neg_masks
