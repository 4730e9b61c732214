"""Feature networks for neural style transfer: each maps an RGB image batch with values in
[0, 1] to a dict {layer name: activation}, after ImageNet mean / std normalisation.

* ``VGGFeatures`` -- torchvision's VGG-19 ``features`` (Gatys et al. 2016). Layer
  ``convX_Y`` is the rectified response of that convolution (the ReLU right after it, as in
  the paper's Caffe network, whose ReLUs work in place); the convolution indices in
  ``features`` are conv1_1 = 0, conv2_1 = 5, conv3_1 = 10, conv4_1 = 19, conv4_2 = 21,
  conv5_1 = 28. ``pooling="avg"`` swaps the 2 x 2 max-pools for average pools, which the
  paper found to give slightly better results. ``load_vgg19_features`` reads torchvision's
  VGG-19 ``state_dict`` (``torch.save`` .pth or .safetensors) into those layers.
* ``RandomMultiScaleFeatures`` -- the weight-free default: one layer of random filters at
  several scales, after Ustyuzhaninov, Brendel, Gatys & Bethge, "What does it take to
  generate natural textures?" (ICLR 2017; "Texture synthesis using shallow convolutional
  networks with random filters", 2016), whose multi-scale single-layer network of random
  filters of sizes 3 ... 55 pixels already synthesises natural-looking textures from Gram
  matrices, without any training. The
  large filters are made cheap "a trous" (Holschneider et al. 1989): level s blurs the
  image with a 2^s x 2^s box (s dilated 2 x 2 box filters) and applies ``kernel_size`` x
  ``kernel_size`` filters dilated by 2^s, so it sees patches of about ``kernel_size`` * 2^s
  pixels, at every pixel (no subsampling, hence no aliasing grid). Filters are drawn
  uniformly, made zero-mean and unit-norm; no bias; ReLU; zero padding keeps every level at
  (almost) the image's size.
"""
import os

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn import functional as F
from ..serialization import load
from ..tensor import Tensor
from .models.vgg import cfgs, make_layers

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "VGG19_LAYERS", "VGGFeatures",
           "RandomMultiScaleFeatures", "load_vgg19_features", "normalize_imagenet"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg19_layer_names():
    """{"conv1_1": 0, "conv1_2": 2, ...}: each convolution's index in VGG-19 ``features``."""
    names, block, conv, index = {}, 1, 0, 0
    for v in cfgs["E"]:
        if v == "M":
            block, conv, index = block + 1, 0, index + 1
            continue
        conv += 1
        names[f"conv{block}_{conv}"] = index
        index += 2  # the convolution and its ReLU
    return names


VGG19_LAYERS = _vgg19_layer_names()


def normalize_imagenet(image):
    """(image - mean) / std per RGB channel, torchvision's ImageNet statistics."""
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"expected an RGB image batch of shape (B, 3, H, W), got shape "
                         f"{tuple(image.shape)}")
    mean = Tensor(np.array(IMAGENET_MEAN).reshape(1, 3, 1, 1)).to(image.dtype)
    std = Tensor(np.array(IMAGENET_STD).reshape(1, 3, 1, 1)).to(image.dtype)
    return (image - mean) / std


def _frozen(module):
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()


class VGGFeatures(nn.Module):
    """The chosen layers' activations of a VGG-19 ``features`` Sequential.

    ``features``: ``vgg19().features`` or ``load_vgg19_features(path)``; ``layers``: names
    from ``VGG19_LAYERS``. Only the layers up to the deepest one asked for are kept; the
    weights are frozen (gradients flow to the image only).
    """

    def __init__(self, features, layers, pooling="max"):
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown:
            raise ValueError(f"unknown VGG-19 layer(s) {unknown}; known: "
                             f"{', '.join(VGG19_LAYERS)}")
        if not layers:
            raise ValueError("VGGFeatures needs at least one layer")
        self.outputs = {VGG19_LAYERS[name] + 1: name for name in layers}  # the ReLU's index
        kept = []
        for i, module in enumerate(features):
            if i > max(self.outputs):
                break
            if pooling == "avg" and isinstance(module, nn.MaxPool2d):
                module = nn.AvgPool2d(kernel_size=2, stride=2)
            kept.append(module)
        self.features = _frozen(nn.Sequential(*kept))
        self.description = (f"VGG-19 ({pooling}-pooling), layers "
                            f"{', '.join(self.outputs.values())}")

    def forward(self, image):
        x, out = normalize_imagenet(image), {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self.outputs:
                out[self.outputs[i]] = x
        return out


class RandomMultiScaleFeatures(nn.Module):
    """Rectified responses to random filters at several scales (see the module docstring).

    Layers ``scale0`` (3 x 3 ... ``kernel_size`` pixels) ... ``scale{levels-1}``; each has
    ``channels`` feature maps. The filters are fixed by ``seed``.
    """

    def __init__(self, levels=5, channels=128, kernel_size=7, seed=0):
        super().__init__()
        for name, v in (("levels", levels), ("channels", channels),
                        ("kernel_size", kernel_size)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        rng = np.random.default_rng(seed)
        self.kernel_size = kernel_size
        self.convs = nn.ModuleList()
        for s in range(levels):
            w = rng.uniform(-1.0, 1.0, (channels, 3, kernel_size, kernel_size))
            w -= w.mean(axis=(1, 2, 3), keepdims=True)
            w /= np.sqrt((w * w).sum(axis=(1, 2, 3), keepdims=True))
            conv = nn.Conv2d(3, channels, kernel_size, padding=(kernel_size // 2) * 2**s,
                             dilation=2**s, bias=False)
            with no_grad():
                conv.weight.copy_(Tensor(w.astype(np.float32)))
            self.convs.append(conv)
        self.register_buffer("box", Tensor(np.full((3, 1, 2, 2), 0.25, np.float32)))
        _frozen(self)
        self.layer_names = [f"scale{s}" for s in range(levels)]
        self.description = (f"random multi-scale filters ({levels} scales x {channels} "
                            f"{kernel_size}x{kernel_size} filters, seed {seed})")

    def forward(self, image):
        x, out = normalize_imagenet(image), {}
        for s, conv in enumerate(self.convs):
            if s:  # blur: after s steps a 2^s x 2^s box
                x = F.conv2d(x, self.box.to(x.dtype), dilation=2 ** (s - 1), groups=3)
            out[f"scale{s}"] = F.relu(conv(x))
        return out


def _vgg19_shapes():
    """{"0.weight": (64, 3, 3, 3), "0.bias": (64,), ...}: VGG-19 ``features``' parameters."""
    shapes, in_channels, index = {}, 3, 0
    for v in cfgs["E"]:
        if v == "M":
            index += 1
            continue
        shapes[f"{index}.weight"], shapes[f"{index}.bias"] = (v, in_channels, 3, 3), (v,)
        in_channels, index = v, index + 2
    return shapes


def load_vgg19_features(path):
    """``vgg19().features`` holding the weights of a torchvision VGG-19 ``state_dict`` file.

    ``path``: a ``torch.save`` file (.pth / .pt, read by ``minidl.load``'s restricted
    unpickler) or a .safetensors file. Keys are torchvision's (``features.0.weight`` ...);
    ``classifier.*`` keys are ignored. A file whose keys or shapes are not VGG-19's is
    refused with a ValueError naming what does not fit.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist")
    try:
        state = load(path, map_location="cpu")
    except Exception as e:  # any unreadable file: say which and why, not a deep traceback
        raise ValueError(f"cannot read the weights file {path!r}: {e}") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise ValueError(f"{path!r} does not hold a state_dict (a dict of named tensors) but "
                         f"a {type(state).__name__}")
    expected = _vgg19_shapes()
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    other = sorted(k for k in state if not k.startswith(("features.", "classifier.")))
    missing = [f"features.{k}" for k in expected if k not in features]
    unexpected = [f"features.{k}" for k in features if k not in expected] + other
    if missing or unexpected:
        raise ValueError(f"{path!r} is not a VGG-19 state_dict (torchvision's vgg19 keys): "
                         f"missing {missing[:4]}{' ...' if len(missing) > 4 else ''}, "
                         f"unexpected {unexpected[:4]}"
                         f"{' ...' if len(unexpected) > 4 else ''}")
    for key, shape in expected.items():
        got = tuple(features[key].shape)
        if got != shape:
            raise ValueError(f"{path!r} is not a VGG-19 state_dict: features.{key} has shape "
                             f"{got}, VGG-19 has {shape}")
    module = make_layers(cfgs["E"])
    module.load_state_dict({k: Tensor(np.asarray(v.numpy(), np.float32))
                            for k, v in features.items()})
    return module
