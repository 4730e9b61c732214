"""Helpers shared by the model builders: the ``weights`` check, channel rounding, conv-norm-act.

``Conv2dNormActivation`` lives where torchvision has it, in ``vision.ops.misc``.
``IntermediateLayerGetter`` (torchvision's ``models._utils``) turns a classifier into a
backbone that returns the feature maps of named children (segmentation, detection).
"""
from collections import OrderedDict

from ... import nn
from ..ops.misc import Conv2dNormActivation  # noqa: F401 (the builders' import)

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
