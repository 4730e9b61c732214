"""Backbones with a feature pyramid for the detectors (torchvision's
``detection.backbone_utils``): ``BackboneWithFPN`` runs the named stages of a classifier
(``IntermediateLayerGetter``) into a ``FeaturePyramidNetwork``; ``resnet_fpn_backbone``
builds one from a ResNet, its stages layer1 ... layer4 (channels 256 ... 2048 for
ResNet-50) giving the maps "0" ... "3" of 256 channels plus "pool".

``trainable_layers`` k leaves the last k of (layer4, layer3, layer2, layer1, conv1) trainable
(k = 5 also bn1) and freezes the rest (``requires_grad = False``). ``norm_layer`` defaults
to ``FrozenBatchNorm2d``, as torchvision's; ``fasterrcnn_resnet50_fpn`` without weights
passes ``BatchNorm2d``, as torchvision does.
"""
import warnings

from .... import nn
from ...ops.feature_pyramid_network import ExtraFPNBlock, FeaturePyramidNetwork, LastLevelMaxPool
from ...ops.misc import FrozenBatchNorm2d
from .. import resnet
from .._utils import IntermediateLayerGetter, _check_weights

__all__ = ["BackboneWithFPN", "resnet_fpn_backbone"]

RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
           "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2")


class BackboneWithFPN(nn.Module):
    """``body`` (an ``IntermediateLayerGetter`` of ``backbone`` for ``return_layers``) then
    ``fpn`` (``in_channels_list`` -> ``out_channels``, ``extra_blocks`` default
    ``LastLevelMaxPool``); ``out_channels`` is the FPN's."""

    def __init__(self, backbone, return_layers, in_channels_list, out_channels,
                 extra_blocks=None, norm_layer=None):
        super().__init__()
        if extra_blocks is None:
            extra_blocks = LastLevelMaxPool()
        self.body = IntermediateLayerGetter(backbone, return_layers=return_layers)
        self.fpn = FeaturePyramidNetwork(in_channels_list=in_channels_list,
                                         out_channels=out_channels, extra_blocks=extra_blocks,
                                         norm_layer=norm_layer)
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def resnet_fpn_backbone(*, backbone_name, weights, norm_layer=FrozenBatchNorm2d, trainable_layers=3,
                        returned_layers=None, extra_blocks=None):
    """A ResNet named ``backbone_name`` (``weights`` must be None) with an FPN on the stages
    ``returned_layers`` (default [1, 2, 3, 4])."""
    if backbone_name not in RESNETS:
        raise ValueError(f"resnet_fpn_backbone(): backbone_name must be one of "
                         f"{', '.join(RESNETS)}, got {backbone_name!r}")
    _check_weights(backbone_name, weights, {})
    backbone = getattr(resnet, backbone_name)(weights=None, norm_layer=norm_layer)
    return _resnet_fpn_extractor(backbone, trainable_layers, returned_layers, extra_blocks)


def _resnet_fpn_extractor(backbone, trainable_layers, returned_layers=None, extra_blocks=None,
                          norm_layer=None):
    if trainable_layers < 0 or trainable_layers > 5:
        raise ValueError(f"Trainable layers should be in the range [0,5], got {trainable_layers}")
    layers_to_train = ["layer4", "layer3", "layer2", "layer1", "conv1"][:trainable_layers]
    if trainable_layers == 5:
        layers_to_train.append("bn1")
    for name, parameter in backbone.named_parameters():
        if all(not name.startswith(layer) for layer in layers_to_train):
            parameter.requires_grad_(False)
    if extra_blocks is None:
        extra_blocks = LastLevelMaxPool()
    if not isinstance(extra_blocks, ExtraFPNBlock):
        raise TypeError(f"extra_blocks should be of type ExtraFPNBlock not {type(extra_blocks)}")
    if returned_layers is None:
        returned_layers = [1, 2, 3, 4]
    if min(returned_layers) <= 0 or max(returned_layers) >= 5:
        raise ValueError(f"Each returned layer should be in the range [1,4]. Got {returned_layers}")
    return_layers = {f"layer{k}": str(v) for v, k in enumerate(returned_layers)}
    in_channels_stage2 = backbone.inplanes // 8
    in_channels_list = [in_channels_stage2 * 2 ** (i - 1) for i in returned_layers]
    return BackboneWithFPN(backbone, return_layers, in_channels_list, 256,
                           extra_blocks=extra_blocks, norm_layer=norm_layer)


def _validate_trainable_layers(is_trained, trainable_backbone_layers, max_value, default_value):
    """All ``max_value`` layers train when nothing is pretrained (a warning if another value
    was asked); else the asked value (default ``default_value``) within [0, max_value]."""
    if not is_trained:
        if trainable_backbone_layers is not None:
            warnings.warn("Changing trainable_backbone_layers has no effect if neither "
                          "pretrained nor pretrained_backbone have been set to True, falling "
                          f"back to trainable_backbone_layers={max_value} so that all layers "
                          "are trainable", stacklevel=3)
        trainable_backbone_layers = max_value
    if trainable_backbone_layers is None:
        trainable_backbone_layers = default_value
    if trainable_backbone_layers < 0 or trainable_backbone_layers > max_value:
        raise ValueError(f"Trainable backbone layers should be in the range [0,{max_value}], "
                         f"got {trainable_backbone_layers} ")
    return trainable_backbone_layers
