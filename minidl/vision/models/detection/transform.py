"""Input and output transform of the R-CNN detectors (torchvision's ``detection.transform``).

``GeneralizedRCNNTransform`` normalises each (C, H, W) image, (x - mean) / std per channel,
resizes it by s = min(min_size / min(H, W), max_size / max(H, W)) (bilinear,
``align_corners=False``, output side floor(side s)), or to ``fixed_size`` (width, height),
and pads the batch with zeros at the bottom / right to a multiple of ``size_divisible``
(an ``ImageList`` keeps each image's resized size). Target boxes follow the resize, each
coordinate times new size / old size along its axis; ``postprocess`` maps predicted boxes
back to the original image sizes. In training a ``min_size`` tuple picks one size per
image at random (multi-scale training); in eval the last one is used.
"""
import math

import numpy as np

from .... import nn
from ....backend.random import rng
from ....nn import functional as F
from ....ops._util import check_tensor
from ....ops.join import stack
from ....tensor import Tensor
from .image_list import ImageList

__all__ = ["GeneralizedRCNNTransform", "resize_boxes"]


def resize_boxes(boxes, original_size, new_size):
    """xyxy ``boxes`` (N, 4) from an image of ``original_size`` (H, W) to ``new_size``:
    x times W_new / W, y times H_new / H (the ratios in float32, as torchvision)."""
    ratio_h, ratio_w = (float(np.float32(new) / np.float32(old))
                        for new, old in zip(new_size, original_size))
    x1, y1, x2, y2 = boxes.unbind(1)
    return stack((x1 * ratio_w, y1 * ratio_h, x2 * ratio_w, y2 * ratio_h), dim=1)


def _resize_image(image, min_size, max_size, fixed_size):
    """(C, H, W) ``image`` resized bilinearly by the scale that fits min_size / max_size,
    or to ``fixed_size`` (width, height)."""
    h, w = image.shape[-2:]
    if fixed_size is not None:
        size = (int(fixed_size[1]), int(fixed_size[0]))
    else:
        scale = min(min_size / min(h, w), max_size / max(h, w))
        size = (int(math.floor(h * scale)), int(math.floor(w * scale)))
    if size == (h, w):   # bilinear at scale 1 with half-pixel centres is the identity
        return image
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False)[0]


class GeneralizedRCNNTransform(nn.Module):
    """Normalise, resize and batch images (and resize their targets' boxes) for an R-CNN;
    ``postprocess`` maps detections back to the input sizes.

    ``kwargs`` takes only torchvision's private ``_skip_resize`` (no resize in training);
    any other keyword is refused by name.
    """

    def __init__(self, min_size, max_size, image_mean, image_std, size_divisible=32,
                 fixed_size=None, **kwargs):
        super().__init__()
        self._skip_resize = bool(kwargs.pop("_skip_resize", False))
        if kwargs:
            raise TypeError(f"GeneralizedRCNNTransform(): unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        if not isinstance(min_size, (list, tuple)):
            min_size = (min_size,)
        if not min_size or any(s <= 0 for s in min_size) or max_size <= 0:
            raise ValueError(f"GeneralizedRCNNTransform(): 'min_size' {min_size!r} and "
                             f"'max_size' {max_size!r} must be positive")
        if len(image_mean) != len(image_std) or any(s == 0 for s in image_std):
            raise ValueError(f"GeneralizedRCNNTransform(): 'image_mean' {list(image_mean)} and "
                             f"'image_std' {list(image_std)} need one value per channel, std "
                             "non-zero")
        if fixed_size is not None and len(fixed_size) != 2:
            raise ValueError(f"GeneralizedRCNNTransform(): 'fixed_size' must be (width, height), "
                             f"got {fixed_size!r}")
        self.min_size = tuple(min_size)
        self.max_size = max_size
        self.image_mean = image_mean
        self.image_std = image_std
        self.size_divisible = size_divisible
        self.fixed_size = fixed_size

    def forward(self, images, targets=None):
        images = list(images)
        if targets is not None:
            targets = [dict(t) for t in targets]
        for i, image in enumerate(images):
            check_tensor(image, "GeneralizedRCNNTransform", f"images[{i}]")
            if image.dim() != 3:
                raise ValueError(f"images is expected to be a list of 3d tensors of shape "
                                 f"[C, H, W], got {tuple(image.shape)}")
            image = self.normalize(image)
            image, target = self.resize(image, targets[i] if targets is not None else None)
            images[i] = image
            if targets is not None:
                targets[i] = target
        image_sizes = [tuple(int(s) for s in img.shape[-2:]) for img in images]
        batched = self.batch_images(images, size_divisible=self.size_divisible)
        return ImageList(batched, image_sizes), targets

    def normalize(self, image):
        if not image.is_floating_point():
            raise TypeError(f"Expected input images to be of floating type (in range [0, 1]), "
                            f"but found type {image.dtype} instead")
        if image.shape[0] != len(self.image_mean):
            raise ValueError(f"GeneralizedRCNNTransform: an image of {image.shape[0]} channels "
                             f"but image_mean / image_std have {len(self.image_mean)} values")
        dtype = image.dtype.np
        mean = Tensor(np.asarray(self.image_mean, dtype)[:, None, None])
        std = Tensor(np.asarray(self.image_std, dtype)[:, None, None])
        return (image - mean) / std

    def torch_choice(self, k):
        """One element of ``k`` drawn uniformly with minidl's generator."""
        return k[int(rng().uniform(0.0, float(len(k))))]

    def resize(self, image, target=None):
        h, w = image.shape[-2:]
        if self.training:
            if self._skip_resize:
                return image, target
            size = self.torch_choice(self.min_size)
        else:
            size = self.min_size[-1]
        image = _resize_image(image, size, self.max_size, self.fixed_size)
        if target is None:
            return image, target
        if "masks" in target or "keypoints" in target:
            raise NotImplementedError("GeneralizedRCNNTransform: targets with 'masks' or "
                                      "'keypoints' need Mask / Keypoint R-CNN, not built")
        target["boxes"] = resize_boxes(target["boxes"], (h, w), image.shape[-2:])
        return image, target

    def max_by_axis(self, the_list):
        return [max(sizes) for sizes in zip(*the_list)]

    def batch_images(self, images, size_divisible=32):
        """One (N, C, H_max, W_max) tensor, H_max and W_max rounded up to a multiple of
        ``size_divisible``, each image zero-padded at the bottom and right."""
        max_size = self.max_by_axis([list(img.shape) for img in images])
        stride = float(size_divisible)
        max_size[1] = int(math.ceil(max_size[1] / stride) * stride)
        max_size[2] = int(math.ceil(max_size[2] / stride) * stride)
        if any(img.shape[0] != max_size[0] for img in images):
            raise ValueError(f"GeneralizedRCNNTransform: the images have different channel "
                             f"counts {[img.shape[0] for img in images]}")
        padded = [img if tuple(img.shape) == tuple(max_size) else
                  F.pad(img, (0, max_size[2] - img.shape[2], 0, max_size[1] - img.shape[1]))
                  for img in images]
        return stack(padded, dim=0)

    def postprocess(self, result, image_shapes, original_image_sizes):
        if self.training:
            return result
        for pred, im_s, o_im_s in zip(result, image_shapes, original_image_sizes):
            pred["boxes"] = resize_boxes(pred["boxes"], im_s, o_im_s)
        return result

    def __repr__(self):
        indent = "\n    "
        return (f"{self.__class__.__name__}({indent}Normalize(mean={self.image_mean}, "
                f"std={self.image_std}){indent}Resize(min_size={self.min_size}, "
                f"max_size={self.max_size}, mode='bilinear')\n)")
