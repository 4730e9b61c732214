"""Helpers shared by the model builders: the ``weights`` check, channel rounding, conv-norm-act.

``Conv2dNormActivation`` is torchvision's ``torchvision.ops.misc.Conv2dNormActivation`` (a
``Sequential`` of convolution, normalization and activation, so its state_dict keys are
``0.weight``, ``1.weight``, ... as in torchvision); MobileNetV2 is built from it.
``IntermediateLayerGetter`` (torchvision's ``models._utils``) turns a classifier into a
backbone that returns the feature maps of named children (segmentation, detection).
"""
from collections import OrderedDict

from ... import nn

__all__ = ["Conv2dNormActivation", "IntermediateLayerGetter"]


def _check_weights(arch, weights, kwargs):
    """Accept ``weights=None`` (and the legacy ``pretrained=False``); refuse anything else.

    torchvision downloads pretrained weights from the network; minidl builds every model
    offline from random initialisation. A torchvision state_dict converted to NumPy arrays
    loads with ``model.load_state_dict`` (the key names and shapes are torchvision's).
    """
    pretrained = kwargs.pop("pretrained", False)
    if weights is None and not pretrained:
        return
    asked = f"weights={weights!r}" if weights is not None else "pretrained=True"
    raise ValueError(
        f"{arch}: {asked} asks for pretrained weights, which torchvision downloads from the "
        f"network; minidl builds models offline and only accepts weights=None. To use "
        f"torchvision's weights, save its state_dict as NumPy arrays and load them with "
        f"model.load_state_dict(...) (minidl uses torchvision's key names and shapes).")


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never
    more than 10% below ``v`` -- the channel rounding of the MobileNet papers."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` -> normalization -> activation, as torchvision's ``Conv2dNormActivation``.

    ``padding`` defaults to ``(kernel_size - 1) // 2 * dilation`` ("same" for odd kernels);
    the convolution has a bias only when there is no normalization layer (``bias=None``).
    ``norm_layer`` / ``activation_layer`` may be None to leave the layer out.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            # activations run out of place in minidl (same values; torch's inplace only
            # saves memory, and in minidl would cost an extra copy)
            layers.append(activation_layer())
        super().__init__(*layers)
        self.out_channels = out_channels


class IntermediateLayerGetter(nn.ModuleDict):
    """The children of ``model`` up to the last one named in ``return_layers``, run in order;
    ``forward`` returns an ``OrderedDict`` {``return_layers[name]``: output of child
    ``name``} (torchvision's). Only direct children can be returned, and the model's own
    ``forward`` is not used: the children must run one after the other."""

    def __init__(self, model, return_layers):
        if not isinstance(return_layers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in return_layers.items()):
            raise TypeError(f"return_layers must be a dict of child name -> output name "
                            f"(str -> str), got {return_layers!r}")
        names = [name for name, _ in model.named_children()]
        if not set(return_layers).issubset(names):
            missing = sorted(set(return_layers) - set(names))
            raise ValueError(f"return_layers are not present in model: {', '.join(missing)} "
                             f"(its children: {', '.join(names)})")
        wanted, layers = dict(return_layers), OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            wanted.pop(name, None)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out
