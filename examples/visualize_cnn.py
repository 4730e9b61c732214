"""What a trained CNN has learned: its first-layer filters and the feature maps of one image.

Reads a checkpoint written by ``minidl train`` (the run's configuration inside it names the
architecture, so the model is rebuilt the way ``minidl eval`` does), takes one image of the
test split, and writes into --out:

* ``filters.png``: the first convolution's kernels, one tile each (an RGB tile per kernel
  for 3-channel inputs, else one grey tile per input channel), each scaled to its own
  min .. max;
* ``input.png``: the test image;
* ``stage<k>_<layer>.png``: the feature maps after every convolution and pooling layer
  (found with forward hooks), one grey tile per channel, each scaled to its own range;
* ``overview.png``: all of it on one page, with the layer names, shapes and the prediction.

Without --checkpoint, LeNet-5 is first trained for one epoch on the bundled MNIST subset
(through the Python API, into ``<out>/lenet-run``), so the example runs offline as is.

    python examples/visualize_cnn.py                          # train LeNet quickly, then plot
    minidl train lenet --epochs 5 --out runs/lenet
    python examples/visualize_cnn.py --checkpoint runs/lenet/best.safetensors --index 7
"""
import argparse
import math
import os

import numpy as np

import minidl
from minidl import nn
from minidl.train import load_checkpoint, recipes
from minidl.vision import make_grid, models, save_image
from minidl.vision.transforms import functional as TF

# the layers whose outputs are shown as a stage
STAGE_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                nn.AdaptiveMaxPool2d)


def train_quick(out_dir, epochs=1, limit=None, seed=0):
    """Train LeNet-5 on mnist-mini (``limit`` samples) and return its best checkpoint's path."""
    config = recipes.resolve_config("lenet", epochs=epochs, limit=limit, seed=seed)
    recipes.train_classifier(config, out_dir=out_dir, progress=False)
    return os.path.join(out_dir, "best.safetensors")


def load_model(checkpoint):
    """The model a ``minidl train`` checkpoint holds, in eval mode, and the run's config."""
    ckpt = load_checkpoint(checkpoint)
    config = ckpt.get("config") or {}
    missing = [k for k in ("arch", "model_kwargs") if k not in config]
    if missing:
        raise SystemExit(f"{checkpoint}: the checkpoint's config lacks {', '.join(missing)}; "
                         f"was it written by 'minidl train'?")
    model = models.get_model(config["arch"], **config["model_kwargs"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), config


def test_image(data, index, normalize=None):
    """Test image ``index`` of ``data``: ``(input, display, label, classes)`` where ``display``
    is the (C, H, W) image in [0, 1] and ``input`` the normalized batch of one (1, C, H, W)."""
    test = recipes.open_image_data(data, train=False)
    if not 0 <= index < len(test):
        raise SystemExit(f"--index must be in [0, {len(test) - 1}] for {data}, got {index}")
    img, label = test[index]
    display = TF.to_tensor(img)
    x = display
    if normalize is not None:
        c = display.shape[0]
        mean, std = ([float(v)] * c if np.isscalar(v) else [float(u) for u in v]
                     for v in normalize)
        x = TF.normalize(display, mean, std)
    return x[None], display, int(label), list(test.classes)


def first_conv(model):
    """The first ``nn.Conv2d`` of ``model`` (in registration order)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m
    raise ValueError(f"{type(model).__name__} has no Conv2d layer to show filters of")


def filter_grid(model, nrow=None):
    """The first convolution's kernels tiled by ``make_grid``: a (3, H, W) tensor in [0, 1].

    A kernel with 3 input channels is one RGB tile; otherwise every (output, input) channel
    pair is a grey tile (rows of ``in_channels`` tiles per output channel)."""
    w = first_conv(model).weight.detach()
    out_c, in_c, kh, kw = w.shape
    tiles = w if in_c == 3 else w.reshape(out_c * in_c, 1, kh, kw)
    if nrow is None:
        nrow = in_c if in_c not in (1, 3) else math.ceil(math.sqrt(tiles.shape[0]))
    return make_grid(tiles, nrow=nrow, padding=1, normalize=True, scale_each=True, pad_value=1.0)


def feature_maps(model, x, layers=STAGE_LAYERS):
    """Run ``x`` (1, C, H, W) through ``model`` and collect the output of every layer of type
    ``layers`` (4-d outputs only), with forward hooks removed again afterwards.

    Returns ``(stages, output)``: ``stages`` is a list of ``(name, type name, maps)`` with
    ``maps`` the (C, H, W) tensor of the one image, ``output`` the model's output.
    """
    stages, handles = [], []

    def hook(name):
        def record(module, inputs, out):
            if isinstance(out, minidl.Tensor) and out.ndim == 4:
                stages.append((name, type(module).__name__, out.detach()[0]))
        return record

    for name, m in model.named_modules():
        if isinstance(m, layers):
            handles.append(m.register_forward_hook(hook(name)))
    try:
        with minidl.no_grad():
            output = model(x)
    finally:
        for h in handles:
            h.remove()
    return stages, output


def maps_grid(maps, max_channels=64, nrow=None):
    """The first ``max_channels`` maps of a (C, H, W) tensor as grey tiles, each scaled to its
    own range: a (3, H', W') tensor in [0, 1]."""
    c = min(maps.shape[0], max_channels)
    tiles = maps[:c].reshape(c, 1, maps.shape[1], maps.shape[2])
    nrow = nrow or math.ceil(math.sqrt(c))
    return make_grid(tiles, nrow=nrow, padding=1, normalize=True, scale_each=True, pad_value=1.0)


def enlarge(img, min_side=256):
    """Repeat every pixel of a (C, H, W) tensor k x k times (k: to about ``min_side``)."""
    k = max(1, min_side // max(1, min(img.shape[-2:])))
    a = img.numpy()
    return minidl.from_numpy(np.ascontiguousarray(a.repeat(k, axis=-2).repeat(k, axis=-1)))


def _slug(name):
    return "".join(ch if ch.isalnum() else "-" for ch in name).strip("-") or "model"


def visualize(model, x, display, out_dir, caption="", max_channels=64):
    """Write filters.png, input.png, one stage<k>_<layer>.png per stage and overview.png into
    ``out_dir``; return the paths written and the stages."""
    os.makedirs(out_dir, exist_ok=True)
    written = []

    def save(img, name):
        path = os.path.join(out_dir, name)
        save_image(enlarge(img), path)
        written.append(path)

    filters = filter_grid(model)
    save(filters, "filters.png")
    save(display, "input.png")
    stages, output = feature_maps(model, x)
    grids = []
    for k, (name, _kind, maps) in enumerate(stages, 1):
        grid = maps_grid(maps, max_channels)
        grids.append(grid)
        save(grid, f"stage{k}_{_slug(name)}.png")
    written.append(_overview(display, filters, stages, grids, output, caption,
                             os.path.join(out_dir, "overview.png")))
    return written, stages


def _overview(display, filters, stages, grids, output, caption, path):
    """One figure: the input, the filters and every stage, titled with names and shapes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("input " + "x".join(map(str, display.shape)), display),
              ("first-layer filters", filters)]
    panels += [(f"{name} ({kind})\n{' x '.join(map(str, maps.shape))}", g)
               for (name, kind, maps), g in zip(stages, grids)]
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (title, img) in zip(axes.ravel(), panels):
        a = img.numpy().transpose(1, 2, 0)
        ax.imshow(a[:, :, 0] if a.shape[2] == 1 else np.clip(a, 0, 1), cmap="gray",
                  interpolation="nearest")
        ax.set_title(title, fontsize=9)
    if caption:
        fig.suptitle(caption, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="a .safetensors checkpoint written by 'minidl train' "
                                        "(default: train LeNet-5 for one epoch first)")
    p.add_argument("--data", help="data set to take the test image from (default: the data "
                                  "the checkpoint was trained on)")
    p.add_argument("--index", type=int, default=0, help="which test image (default 0)")
    p.add_argument("--out", default=os.path.join("runs", "visualize_cnn"),
                   help="output folder (default runs/visualize_cnn)")
    p.add_argument("--max-channels", type=int, default=64,
                   help="most feature maps shown per stage")
    p.add_argument("--limit", type=int, default=None,
                   help="training samples for the quick LeNet run (default: all)")
    args = p.parse_args(argv)

    checkpoint = args.checkpoint
    if checkpoint is None:
        run = os.path.join(args.out, "lenet-run")
        print(f"no --checkpoint: training LeNet-5 for one epoch on mnist-mini into {run}")
        checkpoint = train_quick(run, limit=args.limit)
    elif not os.path.isfile(checkpoint):
        raise SystemExit(f"checkpoint {checkpoint!r} does not exist")
    model, config = load_model(checkpoint)
    data = args.data or config.get("data", "mnist-mini")
    x, display, label, classes = test_image(data, args.index, config.get("normalize"))
    _, output = feature_maps(model, x, layers=())
    pred = int(output.argmax(1).item())
    caption = (f"{config.get('model', config['arch'])} on {data}, test image {args.index}: "
               f"label {classes[label]}, predicted {classes[pred]}")
    print(caption)
    written, stages = visualize(model, x, display, args.out, caption, args.max_channels)
    for name, kind, maps in stages:
        print(f"  {name:24} {kind:18} {' x '.join(map(str, maps.shape))}")
    print("wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
