"""torchvision's FCN (``models.segmentation.fcn``): a dilated ResNet backbone and a
convolutional head, scored at 1/8 of the input and resized to it bilinearly.

Long, Shelhamer & Darrell 2015, "Fully Convolutional Networks for Semantic Segmentation",
in torchvision's form: ResNet-50 / 101 with ``replace_stride_with_dilation=[False, True,
True]`` (layer3 and layer4 dilate instead of striding, so the features stay at stride 8),
``FCNHead`` on layer4 (2048 channels) and, with ``aux_loss=True``, an auxiliary
``FCNHead`` on layer3 (1024 channels). Parameter counts and ``state_dict`` keys are
torchvision 0.28's:

=================  ===============  ==================
builder            aux_loss=True    aux_loss=False
=================  ===============  ==================
fcn_resnet50       35,322,218       32,957,013
fcn_resnet101      54,314,346       51,949,141
=================  ===============  ==================

(21 classes; torchvision's pretrained weights carry the auxiliary head.)
"""
from .... import nn
from .._api import register_model
from .._utils import IntermediateLayerGetter, _check_weights
from ..resnet import resnet50, resnet101
from ._utils import _SimpleSegmentationModel

__all__ = ["FCN", "FCNHead", "fcn_resnet50", "fcn_resnet101"]


class FCN(_SimpleSegmentationModel):
    """Fully convolutional network: ``backbone`` returns an ``OrderedDict`` with ``'out'``
    (and ``'aux'``); ``classifier`` / ``aux_classifier`` score them; ``forward`` returns
    ``OrderedDict(out=..., aux=...)`` of class scores at the input's size (bilinear)."""


class FCNHead(nn.Sequential):
    """3x3 convolution to ``in_channels // 4`` (no bias) - BatchNorm - ReLU - Dropout(0.1) -
    1x1 convolution to ``channels`` (the class scores)."""

    def __init__(self, in_channels, channels):
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, channels, 1),
        )


def resnet_segmentation_parts(arch, resnet, weights, num_classes, aux_loss, weights_backbone,
                              in_channels, kwargs):
    """``(features, num_classes, aux)`` of a torchvision segmentation builder on a ResNet:
    the arguments checked (no downloads: ``weights`` / ``weights_backbone`` None; unknown
    keywords refused by name), ``num_classes`` defaulted to 21 and the dilated backbone's
    ``IntermediateLayerGetter`` (layer4 as ``'out'``, layer3 as ``'aux'`` with
    ``aux_loss``)."""
    pretrained_backbone = kwargs.pop("pretrained_backbone", False)  # torchvision's legacy name
    _check_weights(arch, weights, kwargs)
    if weights_backbone is not None or pretrained_backbone:
        asked = (f"weights_backbone={weights_backbone!r}" if weights_backbone is not None
                 else "pretrained_backbone=True")
        raise ValueError(f"{arch}: {asked} asks for pretrained backbone weights, which "
                         f"torchvision downloads from the network; minidl only accepts "
                         f"weights_backbone=None (load a converted state_dict instead)")
    if kwargs:
        raise TypeError(f"{arch}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}"
                        f" (it takes weights, progress, num_classes, aux_loss, "
                        f"weights_backbone, in_channels)")
    num_classes = 21 if num_classes is None else num_classes
    aux = bool(aux_loss)
    backbone = resnet(weights=None, replace_stride_with_dilation=[False, True, True],
                      in_channels=in_channels)
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    return IntermediateLayerGetter(backbone, return_layers=return_layers), num_classes, aux


def _build(arch, resnet, weights, num_classes, aux_loss, weights_backbone, in_channels,
           kwargs):
    features, num_classes, aux = resnet_segmentation_parts(
        arch, resnet, weights, num_classes, aux_loss, weights_backbone, in_channels, kwargs)
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    return FCN(features, FCNHead(2048, num_classes), aux_classifier)


@register_model()
def fcn_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                 weights_backbone=None, in_channels=3, **kwargs):
    """FCN with a dilated ResNet-50 backbone (torchvision's ``fcn_resnet50``).

    ``num_classes`` defaults to 21 (Pascal VOC); ``aux_loss`` adds the auxiliary head on
    layer3; ``weights`` / ``weights_backbone`` must be None (no downloads); ``in_channels``
    (minidl) sets the backbone's input channels. ``progress`` has no effect without a
    download."""
    return _build("fcn_resnet50", resnet50, weights, num_classes, aux_loss, weights_backbone,
                  in_channels, kwargs)


@register_model()
def fcn_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                  weights_backbone=None, in_channels=3, **kwargs):
    """FCN with a dilated ResNet-101 backbone (torchvision's ``fcn_resnet101``); arguments
    as ``fcn_resnet50``."""
    return _build("fcn_resnet101", resnet101, weights, num_classes, aux_loss,
                  weights_backbone, in_channels, kwargs)
