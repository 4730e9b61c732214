"""Semantic segmentation models (torchvision's ``models.segmentation``, and the course's).

- ``FCN``, ``FCNHead``, ``fcn_resnet50``, ``fcn_resnet101``: torchvision's FCN on a dilated
  ResNet (``fcn``), torchvision 0.28's parameter counts and ``state_dict`` keys;
- ``FCN8s``, ``fcn8s_mini``: Long et al.'s FCN-8s with learned, bilinear-initialised
  up-sampling and pool3 / pool4 skips, sized for 96 x 96 grey scenes (``fcn8s``);
- ``UNet``, ``unet_mini``: Ronneberger et al.'s U-Net (``unet``);
- ``DeepLabV3``, ``DeepLabHead``, ``ASPP``, ``deeplabv3_resnet50``, ``deeplabv3_resnet101``:
  torchvision's DeepLabV3 (atrous spatial pyramid pooling on the dilated ResNet;
  ``deeplabv3``).

Every model returns per-pixel class scores at the input's size (torchvision's FCN as
``OrderedDict(out=..., aux=...)``, the others as one tensor). The MobileNetV3 models
(``deeplabv3_mobilenet_v3_large``, ``lraspp_mobilenet_v3_large``) are not built: the zoo has
no MobileNetV3. Metrics: ``minidl.vision.segmentation_metrics``; training: ``minidl train fcn`` /
``minidl train unet`` (``minidl.vision.segmentation_task``).
"""
from ._utils import bilinear_kernel, init_bilinear_  # noqa: F401
from .deeplabv3 import (  # noqa: F401
    ASPP,
    ASPPConv,
    ASPPPooling,
    DeepLabHead,
    DeepLabV3,
    deeplabv3_resnet50,
    deeplabv3_resnet101,
)
from .fcn import FCN, FCNHead, fcn_resnet50, fcn_resnet101  # noqa: F401
from .fcn8s import FCN8s, fcn8s_mini  # noqa: F401
from .unet import DoubleConv, UNet, unet_mini  # noqa: F401

__all__ = ["FCN", "FCNHead", "fcn_resnet50", "fcn_resnet101", "FCN8s", "fcn8s_mini", "UNet",
           "DoubleConv", "unet_mini", "bilinear_kernel", "init_bilinear_", "DeepLabV3",
           "DeepLabHead", "ASPP", "ASPPConv", "ASPPPooling", "deeplabv3_resnet50",
           "deeplabv3_resnet101"]
