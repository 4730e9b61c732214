"""Neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional
Neural Networks", CVPR 2016): optimise the pixels of an image so that its features match a
content image's on one layer and the feature correlations (Gram matrices) of a style image
on several layers.

With F the generated image's activations of a layer (N channels x M = H W positions), P the
content image's and A the style image's Gram matrix of the same layer:

* content cost  L_c = 1/2 sum (F - P)^2  (the paper's eq. 1, ``normalization="paper"``,
  the default) or 1/(4 n_H n_W n_C) sum (F - P)^2 (the deeplearning.ai course's form,
  ``normalization="course"``);
* Gram matrix   G = F F^T / M, normalised by the layer size M = H W;
* style cost    E_l = 1/(4 N^2) sum (G - A)^2 per layer, which is exactly the paper's
  1/(4 N^2 M^2) sum (F F^T - A')^2 (eq. 4) written with the normalised Gram matrices;
  L_s = sum_l w_l E_l (eq. 5);
* total variation TV = sum of the squared differences between vertically and horizontally
  neighbouring pixels (``kind="absolute"``: of their absolute values, anisotropic TV);
* total  alpha L_c + beta L_s + tv_weight TV (the paper's eq. 7 plus the TV prior).

``stylize`` minimises the total with L-BFGS (strong-Wolfe line search, as the paper) or
Adam, keeping the pixels in [0, 1]: L-BFGS optimises unconstrained logits u with image =
sigmoid(u) (a projection would break its line search and curvature pairs; the start is
clipped to [0.01, 0.99] first), Adam the pixels themselves, clamped after every step.
"""
import numpy as np

from .. import optim
from .._creation import from_numpy
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["gram_matrix", "content_cost", "style_layer_cost", "style_cost", "total_variation",
           "StyleTransferLoss", "stylize", "OPTIMIZERS", "LBFGS_ITERATIONS"]

OPTIMIZERS = ("lbfgs", "adam")
LBFGS_ITERATIONS = 10  # L-BFGS iterations per LBFGS.step call (one record each)
SIGMOID_MARGIN = 0.01  # L-BFGS starts from logit(clip(init, margin, 1 - margin))


def _check_features(features, name):
    if not isinstance(features, Tensor) or features.ndim != 4:
        raise ValueError(f"{name} must be a 4-d tensor (B, C, H, W) of activations, got "
                         f"{getattr(features, 'shape', type(features).__name__)}")


def gram_matrix(features):
    """G = F F^T / (H W) per image: (B, C, H, W) activations -> (B, C, C)."""
    _check_features(features, "features")
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def content_cost(features, target, normalization="paper"):
    """1/2 sum (F - P)^2 (``"paper"``) or 1/(4 n_H n_W n_C) sum (F - P)^2 (``"course"``)."""
    _check_features(features, "features")
    if tuple(features.shape) != tuple(target.shape):
        raise ValueError(f"content features {tuple(features.shape)} and target "
                         f"{tuple(target.shape)} differ in shape")
    d = features - target
    squares = (d * d).sum()
    if normalization == "paper":
        return squares * 0.5
    if normalization == "course":
        _, c, h, w = features.shape
        return squares / (4 * c * h * w)
    raise ValueError(f"normalization must be 'paper' or 'course', got {normalization!r}")


def style_layer_cost(features, target_gram):
    """E_l = 1/(4 N^2) sum (G - A)^2 with normalised Gram matrices (= the paper's eq. 4)."""
    g = gram_matrix(features)
    if tuple(g.shape) != tuple(target_gram.shape):
        raise ValueError(f"Gram matrix {tuple(g.shape)} and style target "
                         f"{tuple(target_gram.shape)} differ in shape")
    d = g - target_gram
    n = features.shape[1]
    return (d * d).sum() / (4 * n * n)


def style_cost(features, target_grams, layer_weights):
    """L_s = sum_l w_l E_l over the layers of ``layer_weights`` {name: w_l}."""
    total = None
    for name, weight in layer_weights.items():
        term = style_layer_cost(features[name], target_grams[name]) * weight
        total = term if total is None else total + term
    return total


def total_variation(image, kind="squared"):
    """Sum of squared (``"squared"``) or absolute (``"absolute"``) differences between
    vertically and horizontally neighbouring pixels, over the batch and channels."""
    _check_features(image, "image")
    dh = image[:, :, 1:, :] - image[:, :, :-1, :]
    dw = image[:, :, :, 1:] - image[:, :, :, :-1]
    if kind == "squared":
        return (dh * dh).sum() + (dw * dw).sum()
    if kind == "absolute":
        return dh.abs().sum() + dw.abs().sum()
    raise ValueError(f"kind must be 'squared' or 'absolute', got {kind!r}")


class StyleTransferLoss:
    """``loss(image) -> (total, {"content", "style", "tv"})`` against fixed targets.

    ``extractor``: a module mapping an image in [0, 1] to {layer: activation} (see
    ``minidl.vision.style_features``); ``style_layers``: {layer: w_l} or a sequence of
    layers (equal weights 1 / L, as the paper). The targets are computed once, here.
    """

    def __init__(self, extractor, content, style, content_layer, style_layers,
                 content_weight=1.0, style_weight=1e3, tv_weight=0.0,
                 content_normalization="paper", tv_kind="squared"):
        if not isinstance(style_layers, dict):
            style_layers = {name: 1.0 / len(style_layers) for name in style_layers}
        if not style_layers:
            raise ValueError("style_layers must name at least one layer")
        for name, w in (("content_weight", content_weight), ("style_weight", style_weight),
                        ("tv_weight", tv_weight)):
            if not w >= 0:
                raise ValueError(f"{name} must be >= 0, got {w}")
        self.extractor, self.content_layer, self.style_weights = (
            extractor, content_layer, dict(style_layers))
        self.weights = (float(content_weight), float(style_weight), float(tv_weight))
        self.content_normalization, self.tv_kind = content_normalization, tv_kind
        with no_grad():
            content_features, style_features = extractor(content), extractor(style)
        missing = sorted({content_layer, *style_layers} - set(content_features))
        if missing:
            raise ValueError(f"the feature network has no layer(s) {missing}; it gives "
                             f"{', '.join(content_features)}")
        self.content_target = content_features[content_layer].detach()
        self.style_targets = {name: gram_matrix(style_features[name]).detach()
                              for name in style_layers}

    def __call__(self, image):
        features = self.extractor(image)
        parts = {"content": content_cost(features[self.content_layer], self.content_target,
                                         self.content_normalization),
                 "style": style_cost(features, self.style_targets, self.style_weights),
                 "tv": total_variation(image, self.tv_kind)}
        alpha, beta, gamma = self.weights
        total = parts["content"] * alpha + parts["style"] * beta + parts["tv"] * gamma
        return total, parts


def _record(step, total, parts):
    return {"step": step, "total": float(total.item()),
            **{k: float(v.item()) for k, v in parts.items()}}


def stylize(loss, init, steps, optimizer="lbfgs", lr=None, callback=None):
    """Minimise ``loss`` (a ``StyleTransferLoss``) over the image, starting from ``init``.

    ``steps``: optimizer iterations (Adam steps or L-BFGS iterations, each L-BFGS
    iteration taking one or more evaluations in its line search); ``lr``: Adam's learning
    rate (default 0.02, in pixel units of [0, 1]) or L-BFGS's initial step (default 1).
    ``callback(record)`` sees every record. Returns ``(image, history)``: the image in
    [0, 1] and the costs ``{"step", "total", "content", "style", "tv"}`` after 0, ...,
    ``steps`` iterations (every step for Adam, every ``LBFGS_ITERATIONS`` for L-BFGS).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    start = np.asarray(init.detach().numpy(), np.float64)
    if optimizer == "adam":
        param = from_numpy(np.clip(start, 0.0, 1.0).astype(np.float32))
        opt = optim.Adam([param.requires_grad_(True)], lr=0.02 if lr is None else lr)

        def pixels():
            return param
    else:
        start = np.clip(start, SIGMOID_MARGIN, 1.0 - SIGMOID_MARGIN)
        param = from_numpy(np.log(start / (1.0 - start)).astype(np.float32))
        opt = optim.LBFGS([param.requires_grad_(True)], lr=1.0 if lr is None else lr,
                          line_search_fn="strong_wolfe")

        def pixels():
            return param.sigmoid()
    history, done, fresh = [], 0, [True]

    def note(total, parts):
        history.append(_record(done, total, parts))
        if callback is not None:
            callback(history[-1])

    def closure():
        opt.zero_grad()
        total, parts = loss(pixels())
        total.backward()
        if fresh[0]:  # the first evaluation of a step: the costs after ``done`` iterations
            fresh[0] = False
            note(total, parts)
        return total

    while done < steps:
        fresh[0] = True
        if optimizer == "adam":
            closure()
            opt.step()
            with no_grad():
                param.clamp_(0.0, 1.0)
            advanced = 1
        else:
            opt.param_groups[0]["max_iter"] = n = min(LBFGS_ITERATIONS, steps - done)
            opt.param_groups[0]["max_eval"] = n * 5 // 4 + 25  # room for the line search
            before = opt.state[param].get("n_iter", 0)
            opt.step(closure)
            advanced = opt.state[param]["n_iter"] - before
            if advanced == 0:  # the gradient is at L-BFGS's tolerance: converged
                break
        done += advanced
    with no_grad():
        image = pixels().detach()
        note(*loss(image))
    return image, history
