"""MobileNetV2 (Sandler et al., 2018): inverted residuals with linear bottlenecks.

An ``InvertedResidual`` block expands the channels ``t`` times with a 1x1 convolution,
filters each channel separately with a 3x3 *depthwise* convolution (``groups`` = channels:
9 multiply-accumulates per pixel and channel instead of 9 x channels), and projects back
down with a 1x1 convolution without activation (the linear bottleneck); the input is added
when the shapes match. Activations are ReLU6.

::

    features.0: conv 3x3/2, 32                                   224 -> 112
    features.1-17: blocks (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2)
                                         (6,96,3,1) (6,160,3,2) (6,320,1,1)  -> 7 x 7
    features.18: conv 1x1, 1280 - global average pool - dropout 0.2 - linear classes

3,504,872 parameters for 1000 classes (``width_mult=1.0``), as torchvision.
"""
from ... import nn
from ...nn import functional as F
from ...ops.view import flatten
from ._api import register_model
from ._utils import Conv2dNormActivation, _check_weights, _make_divisible

__all__ = ["MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2"]


class InvertedResidual(nn.Module):
    """[1x1 expand - BN - ReLU6] - 3x3 depthwise (stride) - BN - ReLU6 - 1x1 project - BN,
    plus the input when ``stride == 1`` and ``inp == oup``."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 with torchvision's arguments (num_classes, width_mult,
    inverted_residual_setting as [t, c, n, s] rows, round_nearest, block, norm_layer,
    dropout) plus ``in_channels`` and ``small_input``.

    ``small_input=True`` (28 x 28 / 32 x 32 images): the first convolution
    (``features.0``) has stride 1 instead of 2, so the network downsamples by 16 instead of
    32 (28 -> 14 -> 7 -> 4 -> 2 at the last blocks). Key names are unchanged.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None,
                 round_nearest=8, block=None, norm_layer=None, dropout=0.2, in_channels=3,
                 small_input=False):
        super().__init__()
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        input_channel, last_channel = 32, 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element "
                             f"list, got {inverted_residual_setting}")
        self.small_input = small_input
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(in_channels, input_channel,
                                         stride=1 if small_input else 2,
                                         norm_layer=norm_layer, activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1,
                                      expand_ratio=t, norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(flatten(x, 1))


@register_model()
def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    """MobileNetV2; ``kwargs`` go to ``MobileNetV2`` (num_classes, width_mult,
    round_nearest, dropout, in_channels, small_input...)."""
    _check_weights("mobilenet_v2", weights, kwargs)
    return MobileNetV2(**kwargs)
