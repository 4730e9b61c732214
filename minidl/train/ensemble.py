"""Ensembling and multi-crop testing of ``minidl train`` classifiers (``minidl ensemble``).

An ensemble of M classifiers predicts the mean of their softmax outputs,
p(y | x) = 1/M sum_m softmax(f_m(x)); multi-crop test-time augmentation (TTA) does the same
over V views of each image, p_m(y | x) = 1/V sum_v softmax(f_m(view_v(x))) (Krizhevsky et
al. 2012's ten patches). The views, of an image H x W:

* ``five-crop``: the image padded by ``padding`` pixels of black on every side, then its four
  corner crops and its centre crop of H x W (``transforms.FiveCrop``); the centre crop is the
  image itself, and the shifts are those of the ``RandomCrop(padding=2)`` augmentation of
  ``minidl train``;
* ``ten-crop``: those five and the same of the mirrored image (``transforms.TenCrop``);
* ``flip``: the image and its left-right mirror.

The test split of the members' data set is read once; each member normalises it with its
own run's mean and standard deviation. Since every set of views holds the image itself, the
accuracy without TTA comes from the same forward passes.
"""
import json
import os
import sys

import numpy as np

from .arguments import positive_int
from .tasks import Command, register_command, report_missing_files

__all__ = ["TTA_MODES", "tta_views", "view_probabilities", "ensemble_report"]

TTA_MODES = ("five-crop", "ten-crop", "flip")


def tta_views(images, tta=None, padding=2):
    """``(views, identity)``: a list of V image tensors N x C x H x W made from ``images``
    (see the module) and the position of the unchanged one; ``tta`` None gives
    ``([images], 0)``."""
    from ..nn import functional as F
    from ..vision import transforms
    if tta is None:
        return [images], 0
    if tta == "flip":
        return [images, images.flip(-1)], 0
    if tta not in TTA_MODES:
        raise ValueError(f"unknown tta {tta!r}; choose one of {', '.join(TTA_MODES)}")
    size = tuple(images.shape[-2:])
    padded = F.pad(images, (padding,) * 4) if padding else images
    crop = transforms.FiveCrop(size) if tta == "five-crop" else transforms.TenCrop(size)
    return list(crop(padded)), 4


def view_probabilities(model, views, normalize, batch_size=500):
    """Softmax outputs of ``model`` (eval mode, no gradients) for every view: an array
    V x N x K, float64; ``normalize`` = ``(mean, std)`` applied to the [0, 1] images, or
    None for views normalized already."""
    from .. import no_grad
    from ..nn import functional as F
    mean, std = (0.0, 1.0) if normalize is None else (float(v) for v in normalize)
    model.eval()
    out = []
    with no_grad():
        for view in views:
            rows = []
            for i in range(0, view.shape[0], batch_size):
                x = (view[i:i + batch_size] - mean) / std
                rows.append(F.softmax(model(x), dim=1).numpy().astype(np.float64))
            out.append(np.concatenate(rows))
    return np.stack(out)


def _load_members(paths):
    """``[(path, model, config)]`` of classifier checkpoints that share one data set."""
    from .recipes import load_classifier
    members = []
    for path in paths:
        try:
            model, config = load_classifier(path)
        except (RuntimeError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not a classifier checkpoint of 'minidl train MODEL' "
                             f"({e})") from None
        members.append((path, model, config))
    first = members[0][2]
    for path, _, config in members[1:]:
        for key in ("data", "classes"):
            if config.get(key) != first.get(key):
                raise ValueError(f"the checkpoints must share one data set: {members[0][0]} "
                                 f"has {key} {first.get(key)!r}, {path} has "
                                 f"{config.get(key)!r}")
    return members


def ensemble_report(paths, tta=None, padding=2, batch_size=500):
    """Accuracy of each checkpoint, of their mean softmax, with and without ``tta``.

    Returns a dict: ``data``, ``n`` (test images), ``tta``, ``views``, ``members`` (a dict
    per checkpoint: ``path``, ``model``, ``acc``, ``tta_acc``), ``ensemble_acc``,
    ``ensemble_tta_acc`` (None without ``tta``), ``probabilities`` (N x K: the ensemble's,
    with ``tta`` when given) and ``targets``.
    """
    from .recipes import open_image_data
    members = _load_members(paths)
    data = members[0][2]["data"]
    test = open_image_data(data, train=False)
    images, targets = test.to_tensors()  # [0, 1], read once; each member normalises it
    targets = targets.numpy()
    views, identity = tta_views(images, tta, padding)
    plain, augmented, rows = [], [], []
    for path, model, config in members:
        probs = view_probabilities(model, views, config["normalize"], batch_size)
        plain.append(probs[identity])
        augmented.append(probs.mean(axis=0))
        rows.append({"path": path, "model": config.get("model", config["arch"]),
                     "acc": _accuracy(probs[identity], targets),
                     "tta_acc": _accuracy(augmented[-1], targets) if tta else None})
    ensemble_plain = np.mean(plain, axis=0)
    ensemble_tta = np.mean(augmented, axis=0)
    return {"data": data, "n": len(targets), "tta": tta, "views": len(views),
            "members": rows, "ensemble_acc": _accuracy(ensemble_plain, targets),
            "ensemble_tta_acc": _accuracy(ensemble_tta, targets) if tta else None,
            "probabilities": ensemble_tta if tta else ensemble_plain, "targets": targets}


def _accuracy(probabilities, targets):
    return float((probabilities.argmax(axis=1) == targets).mean())


def _arguments(parser):
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                        help="classifier checkpoints written by 'minidl train MODEL' on the "
                             "same data (one is fine for TTA alone)")
    parser.add_argument("--tta", choices=TTA_MODES,
                        help="multi-crop test-time augmentation: five-crop, ten-crop (of the "
                             "image padded by --padding) or flip; default none")
    parser.add_argument("--padding", type=int, default=2,
                        help="black pixels added on every side before five-crop / ten-crop "
                             "(default 2, the shifts of minidl train's crop augmentation)")
    parser.add_argument("--batch-size", type=positive_int, default=500)
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")


def _percent(value):
    return f"{100 * value:.2f}%"


def _run(args):
    prog = "minidl ensemble"
    for path in args.checkpoints:
        missing = report_missing_files(prog, checkpoint=path)
        if missing:
            return missing
    if args.padding < 0:
        print(f"{prog}: error: --padding must be >= 0, got {args.padding}", file=sys.stderr)
        return 1
    try:
        r = ensemble_report(args.checkpoints, args.tta, args.padding, args.batch_size)
    except (ValueError, RuntimeError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    tta = r["tta"]
    width = max(len(p) for p in [*args.checkpoints, "ensemble (mean softmax)"])
    views = f", TTA {tta} ({r['views']} views)" if tta else ""
    print(f"{len(r['members'])} checkpoint(s) on the {r['data']} test split ({r['n']} images)"
          f"{views}")
    print(f"{'':{width}}  {'accuracy':>9}" + (f"  {'with ' + tta:>15}" if tta else ""))
    for m in r["members"]:
        print(f"{m['path']:{width}}  {_percent(m['acc']):>9}"
              + (f"  {_percent(m['tta_acc']):>15}" if tta else ""))
    print(f"{'ensemble (mean softmax)':{width}}  {_percent(r['ensemble_acc']):>9}"
          + (f"  {_percent(r['ensemble_tta_acc']):>15}" if tta else ""))
    best = max(m["acc"] for m in r["members"])
    mean = float(np.mean([m["acc"] for m in r["members"]]))
    final = r["ensemble_tta_acc"] if tta else r["ensemble_acc"]
    if len(r["members"]) > 1:
        print(f"ensemble gain: {100 * (r['ensemble_acc'] - best):+.2f} points over the best "
              f"member, {100 * (r['ensemble_acc'] - mean):+.2f} over the members' mean")
    if tta:
        tta_mean = float(np.mean([m["tta_acc"] for m in r["members"]]))
        print(f"TTA gain: {100 * (tta_mean - mean):+.2f} points per member on average, "
              f"{100 * (r['ensemble_tta_acc'] - r['ensemble_acc']):+.2f} for the ensemble; "
              f"overall {100 * (final - best):+.2f} over the best member alone")
    if args.json:
        figures = {k: v for k, v in r.items() if k not in ("probabilities", "targets")}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


register_command(Command(
    "ensemble", "accuracy of an ensemble of classifier checkpoints, with multi-crop TTA",
    _arguments, _run,
    description="Average the softmax outputs of classifier CHECKPOINTs (minidl train MODEL, "
                "same data) and / or of test-time views of each image (--tta five-crop, "
                "ten-crop, flip) on the test split of their data, read once; print each "
                "member's accuracy, the ensemble's and the gains."))
