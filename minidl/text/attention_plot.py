"""Attention heatmaps: which source position each output step attended to."""

__all__ = ["plot_attention"]


def plot_attention(weights, src_tokens, out_tokens, path, title=None):
    """Draw attention ``weights`` (output steps x source positions) as a heatmap PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    rows, cols = weights.shape
    fig = Figure(figsize=(max(4.0, 0.3 * cols + 2), max(3.0, 0.3 * rows + 1.5)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(cols), [repr(t)[1:-1] or " " for t in src_tokens[:cols]],
                  rotation=90, fontsize=8)
    ax.set_yticks(range(rows), list(out_tokens[:rows]), fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path)
