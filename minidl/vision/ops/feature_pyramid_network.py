"""Feature Pyramid Network (Lin et al. 2017; torchvision's ``ops.feature_pyramid_network``).

For maps C_1 ... C_n (finest first), a 1 x 1 "inner" convolution brings each to
``out_channels``; from the coarsest down, the running top-down map is upsampled (nearest) to
the next finer map's size and added to its inner output, and a 3 x 3 "layer" convolution
smooths every sum into P_i. ``extra_blocks`` may append maps: ``LastLevelMaxPool`` adds
"pool", P_n subsampled by 2 (Faster R-CNN's P6); ``LastLevelP6P7`` adds two stride-2
3 x 3 convolutions (RetinaNet). Convolutions: kaiming-uniform (a = 1), bias 0.
"""
from collections import OrderedDict

from ... import nn
from ...nn import functional as F
from .misc import Conv2dNormActivation

__all__ = ["FeaturePyramidNetwork", "ExtraFPNBlock", "LastLevelMaxPool", "LastLevelP6P7"]


class ExtraFPNBlock(nn.Module):
    """Base of the extra FPN blocks: ``forward(results, x, names)`` -> (results, names),
    extended with more maps and their names."""

    def forward(self, results, x, names):
        raise NotImplementedError(f"{type(self).__name__} must define forward(results, x, "
                                  "names)")


class FeaturePyramidNetwork(nn.Module):
    """``inner_blocks`` / ``layer_blocks`` (one 1 x 1 and one 3 x 3 ``Conv2dNormActivation``
    without activation per input map); ``forward(x)`` maps an ordered dict of maps (finest
    first, channels ``in_channels_list``) to an ordered dict of ``out_channels`` maps with
    the same names (plus the extra blocks')."""

    def __init__(self, in_channels_list, out_channels, extra_blocks=None, norm_layer=None):
        super().__init__()
        # imported here: minidl.vision.models imports this module (detection.backbone_utils)
        self.inner_blocks = nn.ModuleList()
        self.layer_blocks = nn.ModuleList()
        for in_channels in in_channels_list:
            if in_channels == 0:
                raise ValueError("in_channels=0 is currently not supported")
            self.inner_blocks.append(Conv2dNormActivation(
                in_channels, out_channels, kernel_size=1, padding=0, norm_layer=norm_layer,
                activation_layer=None))
            self.layer_blocks.append(Conv2dNormActivation(
                out_channels, out_channels, kernel_size=3, norm_layer=norm_layer,
                activation_layer=None))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
        if extra_blocks is not None and not isinstance(extra_blocks, ExtraFPNBlock):
            raise TypeError(f"extra_blocks should be of type ExtraFPNBlock not "
                            f"{type(extra_blocks)}")
        self.extra_blocks = extra_blocks

    def get_result_from_inner_blocks(self, x, idx):
        return self.inner_blocks[idx](x)

    def get_result_from_layer_blocks(self, x, idx):
        return self.layer_blocks[idx](x)

    def forward(self, x):
        if not isinstance(x, dict) or len(x) != len(self.inner_blocks):
            raise ValueError(f"FeaturePyramidNetwork: expects a dict of "
                             f"{len(self.inner_blocks)} feature maps, got "
                             f"{len(x) if isinstance(x, dict) else type(x).__name__}")
        names = list(x.keys())
        x = list(x.values())
        last_inner = self.get_result_from_inner_blocks(x[-1], -1)
        results = [self.get_result_from_layer_blocks(last_inner, -1)]
        for idx in range(len(x) - 2, -1, -1):
            inner_lateral = self.get_result_from_inner_blocks(x[idx], idx)
            top_down = F.interpolate(last_inner, size=tuple(inner_lateral.shape[-2:]),
                                     mode="nearest")
            last_inner = inner_lateral + top_down
            results.insert(0, self.get_result_from_layer_blocks(last_inner, idx))
        if self.extra_blocks is not None:
            results, names = self.extra_blocks(results, x, names)
        return OrderedDict(zip(names, results))


class LastLevelMaxPool(ExtraFPNBlock):
    """Appends "pool": the last map subsampled by 2 (``max_pool2d`` of kernel 1, stride 2)."""

    def forward(self, x, y, names):
        names.append("pool")
        x.append(F.max_pool2d(x[-1], kernel_size=1, stride=2, padding=0))
        return x, names


class LastLevelP6P7(ExtraFPNBlock):
    """Appends "p6" and "p7": stride-2 3 x 3 convolutions, p6 from the last FPN map when
    ``in_channels == out_channels`` else from the last input map, p7 from ReLU(p6)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.p6 = nn.Conv2d(in_channels, out_channels, 3, 2, 1)
        self.p7 = nn.Conv2d(out_channels, out_channels, 3, 2, 1)
        for module in (self.p6, self.p7):
            nn.init.kaiming_uniform_(module.weight, a=1)
            nn.init.constant_(module.bias, 0)
        self.use_P5 = in_channels == out_channels

    def forward(self, p, c, names):
        x = p[-1] if self.use_P5 else c[-1]
        p6 = self.p6(x)
        p7 = self.p7(F.relu(p6))
        p.extend([p6, p7])
        names.extend(["p6", "p7"])
        return p, names
