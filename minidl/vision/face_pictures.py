"""The pictures of ``minidl train siamese | triplet``: the ROC curve of the unseen-class
pairs (``roc.png``) and query images with their nearest neighbours in the embedding
(``neighbours.png``)."""
import os

import numpy as np
from PIL import Image

from .face_verification import distance_matrix

__all__ = ["plot_roc", "neighbour_grid", "save_neighbours"]

_SAME, _OTHER, _QUERY = (40, 170, 60), (210, 40, 40), (60, 90, 220)


def plot_roc(fpr, tpr, thresholds, auc, path, title):
    """Draw a ROC curve (``roc_curve``'s output; the thresholds are not drawn) into
    ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4.5, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(fpr, tpr, "-", label=f"AUC {auc:.4f}")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.set_xlabel("false positive rate (different pairs judged same)")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)


def _to_uint8(images, mean, std):
    """Normalised float (N, C, H, W) -> uint8 RGB (N, H, W, 3)."""
    m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    x = np.clip((images * s + m) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    return np.repeat(x, 3, axis=3) if x.shape[3] == 1 else x


def neighbour_grid(images, labels, embeddings, queries, k, mean, std, border=2, scale=None):
    """uint8 RGB picture: one row per query index, the query (blue frame) then its ``k``
    nearest other images by embedding distance (green frame: same class, red: not);
    ``scale`` (default 2 for images under 48 pixels, else 1) enlarges the picture."""
    tiles = _to_uint8(images, mean, std)
    d = distance_matrix(embeddings[queries], embeddings)
    d[np.arange(len(queries)), queries] = np.inf
    h, w = tiles.shape[1:3]
    scale = (2 if max(h, w) < 48 else 1) if scale is None else scale
    cell_h, cell_w = h + 2 * border, w + 2 * border
    out = np.full((len(queries) * (cell_h + 2), (k + 1) * (cell_w + 2) + 6, 3), 255, np.uint8)
    for r, q in enumerate(queries):
        row = [(q, _QUERY)] + [(n, _SAME if labels[n] == labels[q] else _OTHER)
                               for n in np.argsort(d[r], kind="stable")[:k]]
        for c, (idx, colour) in enumerate(row):
            y0 = r * (cell_h + 2) + 1
            x0 = c * (cell_w + 2) + 1 + (6 if c else 0)
            out[y0:y0 + cell_h, x0:x0 + cell_w] = colour
            out[y0 + border:y0 + border + h, x0 + border:x0 + border + w] = tiles[idx]
    return np.repeat(np.repeat(out, scale, 0), scale, 1) if scale > 1 else out


def save_neighbours(images, labels, embeddings, path, mean, std, rng, n_queries=8, k=6):
    """``neighbour_grid`` of ``n_queries`` random images, taken in turn from each class,
    saved as a PNG."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in classes}
    queries = []
    while len(queries) < min(n_queries, len(labels)):
        for c in classes:
            if pools[c] and len(queries) < n_queries:
                queries.append(pools[c].pop())
    grid = neighbour_grid(images, labels, embeddings, np.array(queries),
                          min(k, len(labels) - 1), mean, std)
    Image.fromarray(grid).save(path)
