"""Convolutional sliding windows: a classifier turned fully convolutional (OverFeat,
Sermanet et al. 2014, arXiv:1312.6229; Long et al. 2015, arXiv:1411.4038).

A classifier ``features -> flatten -> Linear ...`` whose flatten sees a C x h x w map is
rewritten so that the first Linear (weight ``out x C*h*w``) becomes ``Conv2d(C, out,
kernel_size=(h, w))`` with the weight reshaped to ``out x C x h x w`` (flatten is row-major
over C, H, W), and every later Linear ``out x in`` becomes a 1 x 1 convolution. On an
image larger than the classifier's input the result scores every window of the input's
size at once, one window per output position, at a stride equal to the product of the
strides of the feature layers (``total_stride``; 4 for LeNet-5's two 2 x 2 max pools): the
window of output position (i, j) starts at pixel (i * s_h, j * s_w). The shared
convolutions over overlapping windows are computed once instead of once per window.

``sliding_window_scores`` is the slow reference: crop each window and run the classifier.

Border effects: zero padding (or ``ceil_mode``) inside ``features`` acts once at the border
of the large image, not around every window, so a window's score uses its real
neighbouring pixels where the classifier on the crop saw padding. With padding-free
features the two agree everywhere; LeNet5's first convolution pads by 2, so with it they
agree on the windows whose 2-pixel margin in the image is zero (or outside the image).
"""
import copy

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..ops.join import stack
from ..tensor import Tensor
from ..utils.modes import eval_mode

__all__ = ["to_fully_convolutional", "sliding_window_scores", "total_stride",
           "blank_margin_windows"]

# Layers that act on each position (or each channel) alone: valid on a map of any size.
_POINTWISE = (nn.ReLU, nn.SELU, nn.SiLU, nn.Mish, nn.Hardsigmoid, nn.Hardswish, nn.Sigmoid,
              nn.Tanh, nn.LogSigmoid, nn.Softsign, nn.Tanhshrink, nn.LeakyReLU, nn.GELU,
              nn.ELU, nn.Softplus, nn.Hardtanh, nn.Threshold, nn.Hardshrink, nn.PReLU,
              nn.Identity, nn.Dropout, nn.AlphaDropout)
_FEATURE_LAYERS = _POINTWISE + (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm2d,
                                nn.Dropout2d, nn.LocalResponseNorm)
_ADAPTIVE_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def _pair(v, name):
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or not all(isinstance(p, (int, np.integer)) and p > 0 for p in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {v!r}")
    return tuple(int(p) for p in pair)


def _unnest(named):
    """(name, module) pairs with nested Sequentials expanded into their layers."""
    out = []
    for name, m in named:
        if isinstance(m, nn.Sequential):
            out += _unnest((f"{name}[{i}]", sub) for i, sub in enumerate(m))
        else:
            out.append((name, m))
    return out


def _layers(model):
    """The model as (name, layer) pairs, with an implicit flatten as ``None``."""
    if isinstance(model, nn.Sequential):
        return _unnest((f"[{i}]", m) for i, m in enumerate(model))
    children = dict(model.named_children())
    if "features" not in children or "classifier" not in children:
        raise TypeError(f"to_fully_convolutional() takes an nn.Sequential or a model with "
                        f"'features' and 'classifier' children, got {type(model).__name__} "
                        f"with children {list(children)}")
    extra = [n for n in children if n not in ("features", "avgpool", "flatten", "classifier")]
    if extra:
        raise TypeError(f"to_fully_convolutional(): {type(model).__name__} has children "
                        f"{extra} besides features, avgpool, flatten and classifier; only "
                        f"features -> [avgpool] -> [flatten] -> classifier is supported")
    order = [(n, children[n]) for n in ("features", "avgpool", "flatten") if n in children]
    classifier = _unnest([("classifier", children["classifier"])])
    if "flatten" not in children and not any(isinstance(m, nn.Flatten) for _, m in classifier):
        order.append(("flatten(x, 1)", None))  # done in forward, as torchvision's models do
    return _unnest(order) + classifier


def _unsupported(name, layer, where):
    return TypeError(f"to_fully_convolutional(): layer {name} ({type(layer).__name__}) is not "
                     f"supported {where}")


def _check_running_stats(name, layer):
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and layer.running_mean is None:
        raise _unsupported(name, layer, "with track_running_stats=False (it normalises with "
                           "the statistics of the batch, so a window's score depends on the "
                           "others)")


def _pointwise_after_flatten(name, layer):
    """A layer after the flatten as its equivalent on an (N, F, rows, cols) map."""
    _check_running_stats(name, layer)
    if isinstance(layer, (nn.Softmax, nn.LogSoftmax, nn.Softmin)):
        if layer.dim not in (1, -1, None):
            raise _unsupported(name, layer, f"with dim={layer.dim} (needs dim=1 or -1)")
        return type(layer)(dim=1)
    if isinstance(layer, nn.BatchNorm1d):
        bn = nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum, layer.affine,
                            layer.track_running_stats, dtype=layer.running_mean.dtype
                            if layer.running_mean is not None else None)
        bn.load_state_dict(layer.state_dict())
        return bn
    if isinstance(layer, _POINTWISE):
        return copy.deepcopy(layer)
    raise _unsupported(name, layer, "after the flatten (Linear, pointwise activations, "
                       "Dropout, BatchNorm1d, Softmax/LogSoftmax over dim 1 are)")


def _linear_as_conv(linear, in_channels, kernel_size):
    w = linear.weight
    conv = nn.Conv2d(in_channels, linear.out_features, kernel_size,
                     bias=linear.bias is not None, dtype=w.dtype)
    with no_grad():
        conv.weight.copy_(w.detach().reshape(linear.out_features, in_channels, *kernel_size))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias.detach())
    return conv


def _dtype_of(model):
    params = list(model.parameters())
    return params[0].dtype if params else None


def _probe(input_size, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal((1, *input_size))
    probe = Tensor(x.astype(np.float32))
    return probe if dtype is None else probe.to(dtype)


def to_fully_convolutional(model, input_size):
    """The classifier ``model`` as an equivalent fully convolutional ``nn.Sequential``.

    ``model`` is an ``nn.Sequential``, or a model with children ``features``, optionally
    ``avgpool`` and ``flatten``, and ``classifier``, run in that order (torchvision's and
    ``LeNet5``'s layout; checked numerically). Before the flatten: Conv2d, MaxPool2d,
    AvgPool2d, BatchNorm2d, LocalResponseNorm, pointwise activations, dropout; an adaptive
    pool is dropped when it is the identity at ``input_size`` and refused otherwise. The
    flatten is ``Flatten()`` (start_dim=1, end_dim=-1). After it: Linear layers (the first
    becomes ``Conv2d(C, out, (h, w))``, later ones 1 x 1 convolutions), pointwise
    activations, dropout, BatchNorm1d (as BatchNorm2d), Softmax/LogSoftmax over dim 1.

    ``input_size`` is the classifier's (C, H, W), e.g. (1, 28, 28): the window size. A copy
    is returned, in eval mode; ``model`` is unchanged. Any other layer raises a TypeError
    naming it. See the module docstring for the border effect of padding.
    """
    input_size = tuple(int(s) for s in input_size)
    if len(input_size) != 3 or min(input_size) < 1:
        raise ValueError(f"input_size must be (channels, height, width), got {input_size}")
    layers = _layers(model)
    at = next((i for i, (_, m) in enumerate(layers) if m is None or isinstance(m, nn.Flatten)),
              None)
    if at is None:
        raise TypeError(f"to_fully_convolutional(): {type(model).__name__} has no Flatten "
                        f"layer between its convolutions and its Linear layers")
    flatten = layers[at][1]
    if flatten is not None and (flatten.start_dim, flatten.end_dim) not in ((1, -1), (1, 3)):
        raise _unsupported(layers[at][0], flatten, f"with start_dim={flatten.start_dim}, "
                           f"end_dim={flatten.end_dim} (needs Flatten(1, -1))")
    dtype = _dtype_of(model)
    x = _probe(input_size, dtype)
    convolutional = []
    with no_grad(), eval_mode(model):
        for name, layer in layers[:at]:
            if isinstance(layer, _ADAPTIVE_POOLS):
                if tuple(layer(x).shape) != tuple(x.shape):
                    raise _unsupported(name, layer, f"unless it is the identity at input_size "
                                       f"{input_size} (it maps {tuple(x.shape[1:])} to "
                                       f"{tuple(layer(x).shape[1:])}); it would pool every "
                                       f"window of a larger image together")
                continue
            if not isinstance(layer, _FEATURE_LAYERS):
                raise _unsupported(name, layer, "before the flatten (Conv2d, MaxPool2d, "
                                   "AvgPool2d, BatchNorm2d, pointwise activations, dropout are)")
            if getattr(layer, "return_indices", False):
                raise _unsupported(name, layer, "with return_indices=True")
            _check_running_stats(name, layer)
            x = layer(x)
            convolutional.append(copy.deepcopy(layer))
    channels, size = int(x.shape[1]), tuple(int(s) for s in x.shape[2:])
    first = True
    for name, layer in layers[at + 1:]:
        if isinstance(layer, nn.Linear):
            needed = channels * size[0] * size[1] if first else channels
            if layer.in_features != needed:
                shape = f"{channels} x {size[0]} x {size[1]} = {needed}" if first else needed
                raise ValueError(f"to_fully_convolutional(): input_size {input_size} gives "
                                 f"{shape} features before {name}, but it takes in_features="
                                 f"{layer.in_features}: input_size must be the classifier's "
                                 f"window size")
            convolutional.append(_linear_as_conv(layer, channels, size if first else (1, 1)))
            channels, first = layer.out_features, False
        else:
            convolutional.append(_pointwise_after_flatten(name, layer))
    if first:
        raise TypeError(f"to_fully_convolutional(): {type(model).__name__} has no Linear layer "
                        f"after its flatten")
    result = nn.Sequential(*convolutional).eval()
    with no_grad(), eval_mode(model):
        expected, got = model(_probe(input_size, dtype)), result(_probe(input_size, dtype))
    if tuple(got.shape) != (*expected.shape, 1, 1) or not np.allclose(
            got.numpy().reshape(expected.shape), expected.numpy(), rtol=1e-4, atol=1e-5):
        raise TypeError(f"to_fully_convolutional(): {type(model).__name__}'s forward does not "
                        f"compute its layers in the supported order (features -> [avgpool] -> "
                        f"flatten -> classifier): the rewritten network disagrees with it")
    return result


def total_stride(model):
    """(s_h, s_w): the product of the strides of every Conv2d and 2-D pool in ``model``,
    i.e. how far apart in the input neighbouring output positions are."""
    s_h = s_w = 1
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            h, w = _pair(m.stride, "stride")
            s_h, s_w = s_h * h, s_w * w
    return s_h, s_w


def sliding_window_scores(model, image, window, stride, batch_size=256):
    """Scores (classes, rows, cols) of ``model`` on every ``window`` crop of ``image``.

    ``image`` is (C, H, W); the crop of position (i, j) is ``image[:, i*s_h : i*s_h + h,
    j*s_w : j*s_w + w]`` for window (h, w) and stride (s_h, s_w), with rows =
    (H - h) // s_h + 1 (cols likewise). The crops run through ``model`` in eval mode
    without gradients, ``batch_size`` at a time; ``model``'s training flags are restored.
    """
    if not isinstance(image, Tensor) or image.ndim != 3:
        raise ValueError(f"sliding_window_scores(): image must be a (C, H, W) Tensor, got "
                         f"{type(image).__name__} of shape {getattr(image, 'shape', None)}")
    (h, w), (s_h, s_w) = _pair(window, "window"), _pair(stride, "stride")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    height, width = int(image.shape[1]), int(image.shape[2])
    if h > height or w > width:
        raise ValueError(f"sliding_window_scores(): window {(h, w)} is larger than the image "
                         f"({height} x {width})")
    rows, cols = (height - h) // s_h + 1, (width - w) // s_w + 1
    corners = [(i * s_h, j * s_w) for i in range(rows) for j in range(cols)]
    scores = []
    with no_grad(), eval_mode(model):
        for start in range(0, len(corners), batch_size):
            crops = [image[:, r:r + h, c:c + w] for r, c in corners[start:start + batch_size]]
            try:
                out = model(stack(crops))
            except RuntimeError as e:
                if start:
                    raise
                raise ValueError(f"sliding_window_scores(): the model does not take "
                                 f"{image.shape[0]} x {h} x {w} windows: {e}") from e
            if out.ndim != 2:
                raise ValueError(f"sliding_window_scores(): the model must return (batch, "
                                 f"classes) scores, got shape {tuple(out.shape)}")
            scores.append(out.numpy())
    scores = np.concatenate(scores).reshape(rows, cols, -1)
    return Tensor(np.ascontiguousarray(scores.transpose(2, 0, 1)))


def blank_margin_windows(image, window, stride, margin):
    """Bool (rows, cols): the windows whose ``margin``-pixel ring around them is zero in
    ``image`` (C, H, W) or lies outside it. A network whose first convolution zero-pads by
    ``margin`` (and pads nowhere else) scores exactly these windows as their crops."""
    (h, w), (s_h, s_w) = _pair(window, "window"), _pair(stride, "stride")
    pixels = image.numpy() if isinstance(image, Tensor) else np.asarray(image)
    if pixels.ndim != 3:
        raise ValueError(f"blank_margin_windows(): image must be (C, H, W), got shape "
                         f"{pixels.shape}")
    nonzero = np.pad(np.any(pixels != 0, axis=0), margin)
    rows, cols = (pixels.shape[1] - h) // s_h + 1, (pixels.shape[2] - w) // s_w + 1
    blank = np.zeros((rows, cols), dtype=bool)
    for i in range(rows):
        for j in range(cols):
            ring = nonzero[i * s_h:i * s_h + h + 2 * margin, j * s_w:j * s_w + w + 2 * margin]
            blank[i, j] = ring.sum() == ring[margin:margin + h, margin:margin + w].sum()
    return blank
