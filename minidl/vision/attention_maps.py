"""Where a Vision Transformer looks: the attention of its class token over the patches.

In a ViT (Dosovitskiy et al. 2021) the class token's output is what the head classifies;
row 0 of each encoder layer's attention (averaged over heads) says how much it reads of
each patch. Two maps per image, each one value per patch (``image_size / patch_size``
squared):

- ``"last"``: the last layer's class-token row, a_L[0, 1:].
- ``"rollout"``: attention rollout (Abnar & Zuidema 2020), which follows the attention
  through the residual connections of every layer: R = prod_l (A_l + I) / 2 with each
  factor's rows renormalised, and the map is R[0, 1:].

Each map is scaled to sum to 1 over the patches.
"""
import numpy as np

from ..autograd import no_grad
from ..utils.attention_maps import record_attention
from ..utils.modes import eval_mode

__all__ = ["class_token_attention", "plot_class_token_attention", "MODES"]

MODES = ("last", "rollout")


def _encoder_attentions(model):
    layers = getattr(getattr(model, "encoder", None), "layers", None)
    attentions = [getattr(block, "self_attention", None) for block in (layers or ())]
    if not attentions or any(a is None for a in attentions) \
            or not hasattr(model, "class_token"):
        raise TypeError(f"class_token_attention() needs a VisionTransformer (encoder.layers of "
                        f"blocks with self_attention, and a class_token); got "
                        f"{type(model).__name__}")
    return attentions


def class_token_attention(model, images, mode="rollout"):
    """``(N, gh, gw)`` NumPy maps of the class token's attention over the patch grid of
    ``images`` (N, C, H, W) for a ``VisionTransformer`` ``model`` (run in eval mode, no
    gradients, its mode restored). ``mode``: ``"last"`` or ``"rollout"``."""
    if mode not in MODES:
        raise ValueError(f"class_token_attention(mode=) must be one of {MODES}, got {mode!r}")
    attentions = _encoder_attentions(model)
    with no_grad(), eval_mode(model), record_attention(*attentions) as maps:
        model(images)
    weights = [w.numpy().astype(np.float64) for w in maps.weights]  # each (N, T, T)
    if mode == "last":
        row = weights[-1][:, 0, 1:]
    else:
        tokens = weights[0].shape[-1]
        rollout = np.broadcast_to(np.eye(tokens), weights[0].shape).copy()
        for a in weights:
            a = (a + np.eye(tokens)) / 2
            rollout = (a / a.sum(-1, keepdims=True)) @ rollout
        row = rollout[:, 0, 1:]
    grid = images.shape[-2] // model.patch_size, images.shape[-1] // model.patch_size
    row = row / row.sum(-1, keepdims=True)
    return row.reshape(-1, *grid)


def plot_class_token_attention(images, maps, path, labels=None, titles=("image", "attention")):
    """One column per image: the image, then each map in ``maps`` (a list of ``(N, gh, gw)``
    arrays) upsampled to the image and laid over it. ``images``: (N, H, W) grey values."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"plot_class_token_attention: images must be (N, H, W) grey values, "
                         f"got shape {images.shape}")
    for m in maps:
        if m.ndim != 3 or m.shape[0] != images.shape[0] or images.shape[1] % m.shape[1] \
                or images.shape[2] % m.shape[2]:
            raise ValueError(f"plot_class_token_attention: each map must be (N, gh, gw) with "
                             f"N = {images.shape[0]} and gh, gw dividing the image size "
                             f"{images.shape[1:]}; got {m.shape}")
    n, rows = images.shape[0], 1 + len(maps)
    fig = Figure(figsize=(1.6 * n, 1.7 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for i in range(n):
        h, w = images[i].shape
        ax = fig.add_subplot(rows, n, i + 1)
        ax.imshow(images[i], cmap="gray")
        ax.set_title(str(labels[i]) if labels is not None else titles[0], fontsize=8)
        for r, m in enumerate(maps, start=1):
            up = np.kron(m[i], np.ones((h // m.shape[1], w // m.shape[2])))
            ax_r = fig.add_subplot(rows, n, r * n + i + 1)
            ax_r.imshow(images[i], cmap="gray")
            ax_r.imshow(up, cmap="inferno", alpha=0.6, extent=(-0.5, w - 0.5, h - 0.5, -0.5))
            if i == 0:
                ax_r.set_ylabel(titles[min(r, len(titles) - 1)], fontsize=8)
        for ax_ in fig.axes[-rows:]:
            ax_.set_xticks([])
            ax_.set_yticks([])
    fig.tight_layout()
    fig.savefig(path)
