"""torchvision's DeepLabV3 (``models.segmentation.deeplabv3``): a dilated ResNet backbone and
atrous spatial pyramid pooling, scored at 1/8 of the input and resized to it bilinearly.

Chen, Papandreou, Schroff & Adam 2017, "Rethinking Atrous Convolution for Semantic Image
Segmentation". ASPP looks at layer4's features (stride 8, as in ``fcn``) through five
parallel branches -- a 1x1 convolution, three 3x3 convolutions of dilation 12, 24 and 36
(``atrous_rates``) and image pooling (global average, 1x1 convolution, resized back) --
each to 256 maps with BatchNorm and ReLU; they are concatenated, projected by a 1x1
convolution to 256 and dropped out (p = 0.5). ``DeepLabHead`` adds a 3x3 convolution and the
1x1 class scores. With ``aux_loss=True`` the auxiliary ``FCNHead`` scores layer3. Parameter
counts and ``state_dict`` keys are torchvision 0.28's:

======================  ===============  ==================
builder                 aux_loss=True    aux_loss=False
======================  ===============  ==================
deeplabv3_resnet50      42,004,074       39,638,869
deeplabv3_resnet101     60,996,202       58,630,997
======================  ===============  ==================

(21 classes.) The MobileNetV3 variants (``deeplabv3_mobilenet_v3_large``, ``lraspp``) need
MobileNetV3, which minidl's zoo does not have.
"""
from .... import nn
from ....nn import functional as F
from ....ops.join import cat
from .._api import register_model
from ..resnet import resnet50, resnet101
from ._utils import _SimpleSegmentationModel
from .fcn import FCNHead, resnet_segmentation_parts

__all__ = ["DeepLabV3", "DeepLabHead", "ASPP", "ASPPConv", "ASPPPooling", "deeplabv3_resnet50",
           "deeplabv3_resnet101"]


class DeepLabV3(_SimpleSegmentationModel):
    """DeepLabV3: ``backbone`` returns an ``OrderedDict`` with ``'out'`` (and ``'aux'``);
    ``classifier`` (a ``DeepLabHead``) / ``aux_classifier`` score them; ``forward`` returns
    ``OrderedDict(out=..., aux=...)`` of class scores at the input's size (bilinear)."""


def _conv_bn_relu(in_channels, out_channels, kernel_size, dilation=1):
    padding = dilation * (kernel_size // 2)
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                      dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class ASPPConv(nn.Sequential):
    """3x3 convolution of dilation ``dilation`` (padding = dilation: same size, no bias) -
    BatchNorm - ReLU."""

    def __init__(self, in_channels, out_channels, dilation):
        super().__init__(*_conv_bn_relu(in_channels, out_channels, 3, dilation))


class ASPPPooling(nn.Sequential):
    """Image-level features: global average pooling - 1x1 convolution - BatchNorm - ReLU,
    resized back to the input's height and width (bilinear, ``align_corners=False``)."""

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), *_conv_bn_relu(in_channels, out_channels, 1))

    def forward(self, x):
        size = tuple(x.shape[-2:])
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: ``convs`` = [1x1 branch, one ``ASPPConv`` per rate of
    ``atrous_rates``, ``ASPPPooling``], concatenated and ``project``-ed (1x1 convolution -
    BatchNorm - ReLU - Dropout(0.5)) to ``out_channels``."""

    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        branches = [nn.Sequential(*_conv_bn_relu(in_channels, out_channels, 1))]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in tuple(atrous_rates)]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(*_conv_bn_relu(len(branches) * out_channels, out_channels,
                                                    1), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(cat([branch(x) for branch in self.convs], 1))


class DeepLabHead(nn.Sequential):
    """``ASPP(in_channels, atrous_rates)`` - 3x3 convolution (256, no bias) - BatchNorm -
    ReLU - 1x1 convolution to ``num_classes``."""

    def __init__(self, in_channels, num_classes, atrous_rates=(12, 24, 36)):
        super().__init__(ASPP(in_channels, atrous_rates), *_conv_bn_relu(256, 256, 3),
                         nn.Conv2d(256, num_classes, 1))


def _build(arch, resnet, weights, num_classes, aux_loss, weights_backbone, in_channels,
           kwargs):
    features, num_classes, aux = resnet_segmentation_parts(
        arch, resnet, weights, num_classes, aux_loss, weights_backbone, in_channels, kwargs)
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    return DeepLabV3(features, DeepLabHead(2048, num_classes), aux_classifier)


@register_model()
def deeplabv3_resnet50(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                       weights_backbone=None, in_channels=3, **kwargs):
    """DeepLabV3 with a dilated ResNet-50 backbone (torchvision's ``deeplabv3_resnet50``).

    ``num_classes`` defaults to 21 (Pascal VOC); ``aux_loss`` adds the auxiliary head on
    layer3; ``weights`` / ``weights_backbone`` must be None (no downloads); ``in_channels``
    (minidl) sets the backbone's input channels. ``progress`` has no effect without a
    download."""
    return _build("deeplabv3_resnet50", resnet50, weights, num_classes, aux_loss,
                  weights_backbone, in_channels, kwargs)


@register_model()
def deeplabv3_resnet101(*, weights=None, progress=True, num_classes=None, aux_loss=None,
                        weights_backbone=None, in_channels=3, **kwargs):
    """DeepLabV3 with a dilated ResNet-101 backbone (torchvision's ``deeplabv3_resnet101``);
    arguments as ``deeplabv3_resnet50``."""
    return _build("deeplabv3_resnet101", resnet101, weights, num_classes, aux_loss,
                  weights_backbone, in_channels, kwargs)
