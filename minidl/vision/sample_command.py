"""``minidl sample CHECKPOINT --n 64 [--class 3] [--seed S] --out grid.png``: a grid of samples
of any generative checkpoint (``minidl train vae | cvae | gan | dcgan | cgan | wgan |
wgan-gp``), through ``minidl.vision.generative_sampling.load_sampler``.

An unconditional model draws ``--n`` images, ``--nrow`` per row. A conditional one (its
checkpoint's config names ``num_classes``) draws ``--n`` images of ``--class`` or, without
it, one row per class of ``ceil(n / classes)`` images each. The noise is seeded by
``--seed``, so a command repeated gives the same picture.
"""
import math
import sys
import time

import numpy as np

from .._creation import from_numpy
from ..train.arguments import positive_int
from ..train.tasks import Command, register_command, report_missing_files
from .utils import save_image

__all__ = ["sample_grid"]


def sample_grid(sampler, num_classes, n, class_index=None, seed=0, nrow=8):
    """``(images, columns)``: the samples of a grid (see the module) in [0, 1]."""
    if num_classes is None:
        if class_index is not None:
            raise ValueError("--class is for conditional models; this checkpoint's model is "
                             "unconditional")
        return sampler(n, generator_seed=seed), nrow
    if class_index is None:
        columns = math.ceil(n / num_classes)
        labels = np.repeat(np.arange(num_classes), columns)
        return sampler(len(labels), labels=labels, generator_seed=seed), columns
    if not 0 <= class_index < num_classes:
        raise ValueError(f"--class {class_index} is not a class of this model: it has "
                         f"{num_classes} classes, 0 to {num_classes - 1}")
    return sampler(n, labels=np.full(n, class_index, np.int64), generator_seed=seed), nrow


def _arguments(parser):
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a .safetensors file written by 'minidl train vae | cvae | gan | "
                             "dcgan | cgan | wgan | wgan-gp'")
    parser.add_argument("--n", type=positive_int, default=64,
                        help="number of samples (default 64; a conditional model without "
                             "--class: one row per class of ceil(n / classes))")
    parser.add_argument("--class", dest="class_index", type=int, metavar="C",
                        help="draw every sample of class C (conditional models only)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("--nrow", type=positive_int, default=8,
                        help="images per row of the grid (default 8)")
    parser.add_argument("--out", required=True, metavar="PNG",
                        help="where to write the grid")


def _run(args):
    prog = "minidl sample"
    missing = report_missing_files(prog, checkpoint=args.checkpoint)
    if missing:
        return missing
    from .generative_sampling import load_sampler
    try:
        sampler, config = load_sampler(args.checkpoint)
    except (ValueError, KeyError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    try:
        images, columns = sample_grid(sampler, sampler.num_classes, args.n, args.class_index,
                                      args.seed, args.nrow)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    save_image(from_numpy(images), args.out, format="PNG", nrow=columns, padding=2,
               pad_value=0.5)
    what = ("one row per class" if sampler.num_classes is not None and args.class_index is None
            else f"class {args.class_index}" if args.class_index is not None else "")
    print(f"{args.out}: {len(images)} samples of {config['task']} ({config.get('data')})"
          f"{', ' + what if what else ''}, {columns} per row, seed {args.seed}, "
          f"{time.perf_counter() - t0:.1f}s")
    return 0


register_command(Command(
    "sample", "draw a grid of samples from a generative checkpoint",
    _arguments, _run,
    description="Rebuild the generative model stored in CHECKPOINT (minidl train vae, cvae, "
                "gan, dcgan, cgan, wgan, wgan-gp) and write a PNG grid of its samples: --n "
                "images, of --class C or one row per class for a conditional model."))
