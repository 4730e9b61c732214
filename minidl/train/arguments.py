"""The command line's argument types and the options every training task shares."""
import argparse
import os
import time

__all__ = ["number", "positive_int", "non_negative_float", "fraction", "THREADS_HELP",
           "add_training_arguments", "default_out_dir"]


def number(kind, minimum, what, below=None):
    """An argparse type: ``kind(text)``, refusing values below ``minimum`` and, if given,
    values not below ``below``."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < minimum or (below is not None and v >= below):
            raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
        return v
    return parse


positive_int = number(int, 1, "a positive integer")
non_negative_float = number(float, 0.0, "a number >= 0")


def fraction(what):
    """An argparse type: a float ``0 <= f < 1``, described to the user as ``what``."""
    return number(float, 0.0, what, below=1.0)


THREADS_HELP = ("BLAS threads (minidl.set_num_threads; default: the BLAS library's own, "
                "usually one per core; 1 is often faster on a busy machine)")


def add_training_arguments(parser, defaults, monitor="the validation loss"):
    """The options every training task shares; ``defaults`` gives each its value and
    ``monitor`` names what ``--patience`` watches."""
    d = defaults
    parser.add_argument("--epochs", type=positive_int, default=d["epochs"],
                        help=f"number of epochs (default {d['epochs']})")
    parser.add_argument("--batch-size", type=positive_int, default=d["batch_size"],
                        help=f"training batch size (default {d['batch_size']})")
    parser.add_argument("--lr", type=non_negative_float, default=d["lr"],
                        help=f"learning rate (default {d['lr']:g})")
    parser.add_argument("--patience", type=positive_int, default=d.get("patience"),
                        help=f"stop early when {monitor} has not improved for this many "
                             f"epochs")
    parser.add_argument("--seed", type=int, default=d.get("seed", 0),
                        help=f"random seed (default {d.get('seed', 0)})")
    parser.add_argument("--out", help="output folder (default runs/<task>-<data>-<timestamp>)")
    parser.add_argument("--threads", type=positive_int, metavar="N", help=THREADS_HELP)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar; print one line per epoch")


def default_out_dir(name, data):
    """``runs/<name>-<data>-<timestamp>`` (a folder's base name for ``data``), made unique."""
    data = str(data)
    tag = os.path.basename(os.path.normpath(data)) if os.path.isdir(data) else data
    base = os.path.join("runs", f"{name}-{tag}-{time.strftime('%Y%m%d-%H%M%S')}")
    out, i = base, 1
    while os.path.exists(out):
        i += 1
        out = f"{base}-{i}"
    return out
