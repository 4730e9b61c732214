"""Neural style transfer from the command line: ``minidl style CONTENT STYLE``.

    minidl style cat.png starry_night.jpg                 # random multi-scale features
    minidl style cat.png starry_night.jpg --weights vgg19-dcbb9e9d.pth --pooling avg
    minidl style cat.png brick.png --optimizer adam --lr 0.02 --steps 300 --out cat.png

Both images are resized so that their longer side is ``--size`` pixels. The image starts
from the content image (``--init noise``: uniform noise, as the paper) and is optimised by
``minidl.vision.style_transfer.stylize``. Feature network: with ``--weights`` torchvision's
VGG-19 (a .pth written by ``torch.save(model.state_dict())`` or a .safetensors file),
content layer conv4_2 and style layers conv1_1 ... conv5_1 (Gatys et al. 2016); without it
the weight-free ``RandomMultiScaleFeatures`` (Ustyuzhaninov et al. 2017), content layer
scale3 and style layers scale0 ... scale4. Each network has its own default weights.

Writes ``--out`` (default ``runs/style-<content>-<style>-<timestamp>.png``), next to it
``<name>_side_by_side.png`` (content | style | result) and ``<name>_costs.csv`` (the costs as
the optimisation went), and prints the final costs and the time.
"""
import csv
import os
import sys
import time

import numpy as np

from .._creation import from_numpy
from ..train.arguments import non_negative_float, number, positive_int
from ..train.tasks import Command, register_command
from .style_features import (
    VGG19_LAYERS,
    RandomMultiScaleFeatures,
    VGGFeatures,
    load_vgg19_features,
)
from .style_transfer import OPTIMIZERS, StyleTransferLoss, stylize

__all__ = ["NETWORK_DEFAULTS", "load_image", "side_by_side"]

MIN_SIZE = 16  # the deepest layers sit four or five 2x2 poolings down

NETWORK_DEFAULTS = {
    # Gatys et al.'s layers; beta / alpha = 1e3 (the paper's 1e-3 ratio) times
    # (255 * 0.226)^2 ~ 3.3e3, the factor between Caffe's 0-255 inputs and torchvision's
    # normalised ones (content costs scale with the square of the inputs, style with the 4th
    # power).
    "vgg19": dict(content_layer="conv4_2",
                  style_layers=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
                  content_weight=1.0, style_weight=3e6, tv_weight=1e-3, steps=200),
    # chosen by eye on chelsea x starry_night at 128 px (3e10 here: the content and TV
    # costs are sums over the pixels, 4 x larger at 256 px, the style cost is not)
    "random": dict(content_layer="scale3",
                   style_layers=("scale0", "scale1", "scale2", "scale3", "scale4"),
                   content_weight=1.0, style_weight=3e10, tv_weight=10.0, steps=200),
}


def load_image(path, size):
    """An image file as a (1, 3, H, W) float32 tensor in [0, 1], its longer side ``size``."""
    from PIL import Image, UnidentifiedImageError
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path!r} does not exist")
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"cannot read {path!r} as an image: {e}") from None
    w, h = img.size
    scale = size / max(w, h)
    img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                     Image.Resampling.LANCZOS)
    if min(img.size) < MIN_SIZE:
        raise ValueError(f"{path!r} is {img.size[0]} x {img.size[1]} pixels at --size {size}; "
                         f"both sides must be at least {MIN_SIZE}")
    a = np.asarray(img, np.float32).transpose(2, 0, 1)[None] / 255.0
    return from_numpy(np.ascontiguousarray(a))


def _to_pil(image):
    from PIL import Image
    a = np.clip(image.detach().numpy()[0].transpose(1, 2, 0), 0.0, 1.0)
    return Image.fromarray((a * 255.0 + 0.5).astype(np.uint8))


def side_by_side(images, gap=4):
    """PIL images scaled to the first one's height and put next to each other on white."""
    from PIL import Image
    height = images[0].height
    scaled = [im.resize((max(1, round(im.width * height / im.height)), height),
                        Image.Resampling.LANCZOS) for im in images]
    canvas = Image.new("RGB", (sum(im.width for im in scaled) + gap * (len(scaled) - 1),
                               height), "white")
    x = 0
    for im in scaled:
        canvas.paste(im, (x, 0))
        x += im.width + gap
    return canvas


def _arguments(parser):
    parser.add_argument("content", metavar="CONTENT", help="the content image (any image file)")
    parser.add_argument("style", metavar="STYLE", help="the style image (any image file)")
    parser.add_argument("--weights", metavar="FILE",
                        help="torchvision VGG-19 state_dict (.pth from torch.save, or "
                             ".safetensors); default: random multi-scale filters, no weights")
    parser.add_argument("--pooling", choices=("max", "avg"), default="max",
                        help="VGG-19 pooling (default max; the paper used avg)")
    parser.add_argument("--size", type=positive_int, default=256,
                        help="resize both images so that the longer side has this many pixels "
                             "(default 256)")
    parser.add_argument("--steps", type=positive_int,
                        help="optimizer iterations (default "
                             f"{NETWORK_DEFAULTS['random']['steps']})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs",
                        help="lbfgs (default; strong-Wolfe line search) or adam")
    parser.add_argument("--lr", type=number(float, 1e-12, "a number > 0"),
                        help="Adam's learning rate (default 0.02) or L-BFGS's step (default 1)")
    parser.add_argument("--init", choices=("content", "noise"), default="content",
                        help="start from the content image (default) or from uniform noise")
    for name, what in (("content", "alpha"), ("style", "beta"), ("tv", "total variation")):
        key = f"{name}_weight"
        parser.add_argument(f"--{name}-weight", type=non_negative_float, metavar="W",
                            help=f"{what} weight (default "
                                 f"{NETWORK_DEFAULTS['random'][key]:g}, with --weights "
                                 f"{NETWORK_DEFAULTS['vgg19'][key]:g})")
    parser.add_argument("--content-layer", metavar="NAME",
                        help="content layer (default scale3, with --weights conv4_2)")
    parser.add_argument("--style-layers", nargs="+", metavar="NAME",
                        help="style layers, equally weighted (default scale0 ... scale4, with "
                             "--weights conv1_1 conv2_1 conv3_1 conv4_1 conv5_1)")
    parser.add_argument("--content-cost", choices=("paper", "course"), default="paper",
                        help="paper: 1/2 sum (F-P)^2 (default); course: 1/(4 nH nW nC) sum "
                             "(F-P)^2")
    parser.add_argument("--tv-kind", choices=("squared", "absolute"), default="squared",
                        help="total variation of squared (default) or absolute neighbour "
                             "differences")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random filters and of --init noise (default 0)")
    parser.add_argument("--out", metavar="PNG",
                        help="result image (default runs/style-<content>-<style>-<time>.png)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar; print the costs every 10%% of the steps")


def _feature_network(args):
    if args.weights is None:
        d = NETWORK_DEFAULTS["random"]
        net = RandomMultiScaleFeatures(seed=args.seed)
        return d, net, f"features: {net.description} (no VGG-19 weights given)"
    d = NETWORK_DEFAULTS["vgg19"]
    layers = {args.content_layer or d["content_layer"], *(args.style_layers or
                                                          d["style_layers"])}
    unknown = sorted(layers - set(VGG19_LAYERS))
    if unknown:
        raise ValueError(f"unknown VGG-19 layer(s) {unknown}; known: {', '.join(VGG19_LAYERS)}")
    net = VGGFeatures(load_vgg19_features(args.weights), sorted(layers, key=VGG19_LAYERS.get),
                      pooling=args.pooling)
    return d, net, f"features: {net.description}, weights {args.weights}"


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _default_out(content, style):
    base = os.path.join("runs", f"style-{_stem(content)}-{_stem(style)}-"
                                f"{time.strftime('%Y%m%d-%H%M%S')}")
    out, i = base + ".png", 1
    while os.path.exists(out):
        i += 1
        out = f"{base}-{i}.png"
    return out


class _Progress:
    """tqdm bar over the steps with the three costs, or a line every 10% of them."""

    def __init__(self, steps, enabled):
        self.steps, self.shown, self.start = steps, 0, time.perf_counter()
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=steps, unit="step", desc="style", leave=True)
        self.next_line = 0

    def __call__(self, record):
        costs = {k: f"{record[k]:.3g}" for k in ("content", "style", "tv")}
        if self.bar is not None:
            self.bar.update(record["step"] - self.shown)
            self.bar.set_postfix(costs, refresh=True)
        elif record["step"] >= self.next_line:
            rate = record["step"] / max(time.perf_counter() - self.start, 1e-9)
            print(f"step {record['step']}/{self.steps}: " +
                  ", ".join(f"{k} {v}" for k, v in costs.items()) +
                  f", total {record['total']:.4g} ({rate:.2f} steps/s)", flush=True)
            self.next_line = record["step"] + max(1, self.steps // 10)
        self.shown = record["step"]

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _run(args):
    prog = "minidl style"
    if args.size < MIN_SIZE:
        print(f"{prog}: error: --size must be at least {MIN_SIZE}, got {args.size}",
              file=sys.stderr)
        return 2
    if args.out is not None and not args.out.lower().endswith(".png"):
        print(f"{prog}: error: --out must name a .png file, got {args.out!r}", file=sys.stderr)
        return 2
    try:
        content, style = load_image(args.content, args.size), load_image(args.style, args.size)
        defaults, net, description = _feature_network(args)
        steps = args.steps or defaults["steps"]
        weights = {k: getattr(args, k) if getattr(args, k) is not None else defaults[k]
                   for k in ("content_weight", "style_weight", "tv_weight")}
        loss = StyleTransferLoss(net, content, style,
                                 args.content_layer or defaults["content_layer"],
                                 args.style_layers or defaults["style_layers"], **weights,
                                 content_normalization=args.content_cost,
                                 tv_kind=args.tv_kind)
    except (FileNotFoundError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    if args.init == "noise":
        rng = np.random.default_rng(args.seed)
        init = from_numpy(rng.random(tuple(content.shape), dtype=np.float32))
    else:
        init = content
    out = args.out or _default_out(args.content, args.style)
    stem = os.path.splitext(out)[0]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    print(f"{prog}: content {args.content} ({content.shape[3]}x{content.shape[2]}), style "
          f"{args.style} ({style.shape[3]}x{style.shape[2]}), {args.optimizer}, {steps} steps, "
          f"init {args.init}, weights content {weights['content_weight']:g} / style "
          f"{weights['style_weight']:g} / tv {weights['tv_weight']:g}", flush=True)
    print(description, flush=True)
    progress = _Progress(steps, not args.no_progress)
    start = time.perf_counter()
    image, history = stylize(loss, init, steps, args.optimizer, lr=args.lr, callback=progress)
    seconds = time.perf_counter() - start
    progress.close()
    result = _to_pil(image)
    result.save(out)
    side_by_side([_to_pil(content), _to_pil(style), result]).save(stem + "_side_by_side.png")
    with open(stem + "_costs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["step", "total", "content", "style", "tv"])
        writer.writeheader()
        writer.writerows(history)
    first, last = history[0], history[-1]
    print(f"done in {seconds:.1f}s ({last['step'] / seconds:.2f} steps/s): content "
          f"{first['content']:.4g} -> {last['content']:.4g}, style {first['style']:.4g} -> "
          f"{last['style']:.4g}, tv {first['tv']:.4g} -> {last['tv']:.4g}, total "
          f"{first['total']:.4g} -> {last['total']:.4g}")
    print(f"wrote {out}, {stem}_side_by_side.png, {stem}_costs.csv")
    return 0


register_command(Command(
    "style", "neural style transfer: paint CONTENT in the style of STYLE",
    _arguments, _run,
    description="Gatys et al. (2016) neural style transfer: optimise an image to match "
                "CONTENT's features on one layer and STYLE's Gram matrices on several, plus "
                "a total-variation prior. Features: VGG-19 with --weights, else random "
                "multi-scale filters (Ustyuzhaninov et al. 2017). Writes the result, a "
                "side-by-side picture and the costs."))
