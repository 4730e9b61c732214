"""Shared pieces of the segmentation models: torchvision's ``_SimpleSegmentationModel`` (a
backbone, a classifier head and an optional auxiliary head, upsampled to the input size) and
the bilinear kernels that initialise learned up-sampling (Long et al. 2015, section 3.3).
"""
from collections import OrderedDict

import numpy as np

from .... import nn
from ....autograd import no_grad
from ....nn import functional as F
from ....tensor import Tensor

__all__ = ["bilinear_kernel", "init_bilinear_", "check_divisible"]


class _SimpleSegmentationModel(nn.Module):
    """``forward(x)`` -> ``OrderedDict(out=..., aux=...)``: the backbone's ``'out'`` (and
    ``'aux'``) features through ``classifier`` (``aux_classifier``), each resized to the
    input's height and width by bilinear interpolation (``align_corners=False``)."""

    def __init__(self, backbone, classifier, aux_classifier=None):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x):
        if not isinstance(x, Tensor) or x.dim() != 4:
            raise ValueError(f"{type(self).__name__} expects images (N, C, H, W), got "
                             f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        size = tuple(x.shape[-2:])
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = F.interpolate(self.classifier(features["out"]), size=size,
                                      mode="bilinear", align_corners=False)
        if self.aux_classifier is not None:
            result["aux"] = F.interpolate(self.aux_classifier(features["aux"]), size=size,
                                          mode="bilinear", align_corners=False)
        return result


def bilinear_kernel(kernel_size):
    """The (k, k) bilinear interpolation kernel of up-sampling factor ``ceil(k / 2)``:
    ``(1 - |i - c| / f) (1 - |j - c| / f)`` with centre ``c = f - 1`` (odd k) or
    ``f - 1/2`` (even k). A ``ConvTranspose2d`` with this kernel, stride f and padding
    ``f // 2`` (k = 2f) is bilinear up-sampling with half-pixel centres
    (``F.interpolate(..., align_corners=False)``) away from the border, and with zeros
    beyond it at the border."""
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    taps = 1 - np.abs(np.arange(kernel_size) - centre) / factor
    return np.outer(taps, taps)


def init_bilinear_(conv):
    """Set a ``ConvTranspose2d`` (in channels = out channels, square kernel, groups 1) to
    bilinear up-sampling of every channel on its own: its weight is the kernel on the
    diagonal, zero elsewhere; its bias (if any) zero. Returns ``conv``."""
    c_in, c_out, kh, kw = conv.weight.shape
    if c_in != c_out or kh != kw or conv.groups != 1:
        raise ValueError(f"init_bilinear_ needs a ConvTranspose2d with as many input as output "
                         f"channels, a square kernel and groups=1; got weight "
                         f"{tuple(conv.weight.shape)}, groups={conv.groups}")
    weight = np.zeros((c_in, c_out, kh, kw), dtype=conv.weight.detach().numpy().dtype)
    weight[np.arange(c_in), np.arange(c_in)] = bilinear_kernel(kh)
    with no_grad():
        conv.weight.copy_(Tensor(weight))
        if conv.bias is not None:
            conv.bias.zero_()
    return conv


def check_divisible(model, x, multiple):
    """Refuse an input whose height or width is not a multiple of ``multiple`` (the model's
    total down-sampling), naming the model and the sizes."""
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f"{model} expects images (N, C, H, W), got "
                         f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"{model} needs a height and width that are multiples of {multiple}, "
                         f"got {h} x {w} (pad the image, e.g. to "
                         f"{-(-h // multiple) * multiple} x {-(-w // multiple) * multiple})")
