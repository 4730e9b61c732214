"""``minidl gradcheck MODEL``: a finite-difference check of backprop for a model of the zoo.

The course's gradient check: for a random subset of the entries theta_k of every parameter
tensor (``--entries`` per tensor, seeded by ``--seed``) and of the input, the central
difference

    approx_k = (J(theta + eps e_k) - J(theta - eps e_k)) / (2 eps)

is compared with backprop's dJ/dtheta_k through the relative error

    ||approx - backprop||_2 / (||approx||_2 + ||backprop||_2),

per tensor and over all the entries checked. Everything runs in float64 on a tiny seeded
input (``--input-size``, ``--batch-size``); J = sum_i r_i * f(x)_i is a fixed random
projection (r ~ N(0, 1) / sqrt(size), seeded) of every floating output of the model, so
that any network mapping images to tensors (classifiers, segmentation, super-resolution) is
covered without a loss of its own. A weight initialised to all zeros (the ViT's head, as in
torchvision) would make every gradient behind it zero, so such weights are drawn from
N(0, 0.02^2) first (the header names them). In float64 a correct backward gives about 1e-10; the
default threshold 1e-7 is the course's "great" bound (1e-5 is suspicious, 1e-3 is a bug).
The check passes when no tensor fails (the overall error is printed beside); a tensor
fails when its own error exceeds the threshold, ||approx - backprop|| exceeds ``--atol``
(1e-8) and twice its finite-difference spread (see Kinks). The difference quotients carry a
rounding error of about 1e-16 |J| / eps, which a tensor of small gradients (or exactly zero
ones, as the bias of a convolution that a batch norm follows) would otherwise turn into a
large ratio.

Kinks. Central differences assume J is smooth between theta - eps and theta + eps. A ReLU
or a max pool is smooth only piecewise: when the perturbation moves one of its inputs across
zero (or changes a pooling window's maximum), the difference quotient mixes two slopes and
misses backprop by up to their gap. In a deep network every early weight feeds every later
activation, so perturbing it crosses some kink far more often than a weight near the output
(GoogLeNet's and MobileNetV2's first convolutions, about 1e-2 at eps = 1e-6, agree with torch's
backward to 1e-12). Each entry is therefore measured at eps and eps / 4: when the two
quotients differ by more than a tenth of the threshold (relative) plus the rounding allowance
(``atol`` at eps, growing as 1 / step), a kink lies within the step, and the step shrinks by 4
(at most ``REFINEMENTS`` times) until two successive quotients agree; the first of the
agreeing pair is used. The difference between the last two quotients (at least the
rounding allowance of the step used, when it was cut) is the entry's *spread*, the finite
differences' own uncertainty. Where kinks are so dense that no step
resolves them (MobileNetV2's ReLU6 and batch norm over 2 x 2 maps), the spread stays above the
threshold; a tensor whose error exceeds the threshold but not twice its spread is marked ``kinks``
rather than failed. Everything here looks only at the differences, never at backprop, so a
wrong backward, whose error is far above the spread, still fails.

Modes: by default every module is in eval mode except the batch-norm layers, which stay in
training mode and normalise with the statistics of the fixed batch: that is the backward
training runs (the batch statistics depend on every sample), and eval mode switches off
dropout and stochastic depth, which would make J random. ``--bn eval`` checks the whole model
in eval mode instead (batch norm as a fixed affine map of its running statistics). Central
differences assume J is smooth: a perturbation that moves a ReLU or max-pool input across
its kink: the step refinement above handles that.
"""
import sys
import time
from collections import namedtuple

import numpy as np

from .arguments import positive_int
from .tasks import Command, register_command

__all__ = ["gradient_check", "build_for_check", "TensorCheck", "NATIVE_SIZES"]

# models built for one input size: (channels, height, width) by default
NATIVE_SIZES = {"lenet5": (1, 28, 28), "mlp": (1, 28, 28), "vit_mini": (1, 28, 28),
                "swin_mini": (1, 28, 28)}
DEFAULT_SIZE = (1, 32, 32)
REFINEMENTS = 4  # times the step of one entry may shrink by 4 when a kink lies within it

TensorCheck = namedtuple("TensorCheck", "name numel checked approx_norm backprop_norm "
                                        "difference relative_error spread refined")
TensorCheck.__doc__ = """One tensor's check: ``||approx||``, ``||backprop||``, ``||approx -
backprop||`` and the relative error over its ``checked`` entries; ``spread``, the norm of the
entries' finite-difference uncertainty; ``refined``, the entries measured below eps."""


def build_for_check(name, input_size=None, num_classes=10):
    """``(model, (C, H, W))``: the zoo model ``name`` in float64, sized for a small input
    (the small-input variant, ``num_classes`` outputs and C input channels where it takes
    them). Unknown names raise ValueError listing the models."""
    from ..vision import models
    if name not in models.list_models():
        raise ValueError(f"unknown model {name!r}; available models: "
                         f"{', '.join(models.list_models())}")
    c, h, w = input_size or NATIVE_SIZES.get(name, DEFAULT_SIZE)
    sizing = {"mlp": {"in_features": c * h * w}, "lenet5": {"image_size": h},
              "vit_mini": {"image_size": h}}.get(name, {})
    tries = [{"num_classes": num_classes, "in_channels": c, "small_input": True},
             {"num_classes": num_classes, "in_channels": c}, {"in_channels": c}, {}]
    if name == "mlp":
        tries = [{"num_classes": num_classes}]
    error = None
    for kwargs in tries:
        try:
            return models.get_model(name, **kwargs, **sizing).double(), (c, h, w)
        except TypeError as e:  # a keyword this builder does not take: try fewer
            error = e
    raise ValueError(f"cannot build {name} for a {c} x {h} x {w} input: {error}")


def _set_modes(model, bn_mode):
    """Eval mode everywhere (no dropout / stochastic depth); batch norm in ``bn_mode``."""
    from ..nn.modules.batchnorm import _BatchNorm
    model.eval()
    if bn_mode == "train":
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.train()


def _floating_outputs(out):
    """The floating tensors of a model's output (a tensor, or tuples / lists / dicts of them)."""
    from ..tensor import Tensor
    if isinstance(out, Tensor):
        return [out] if out.is_floating_point() else []
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _floating_outputs(o)]
    return []


def gradient_check(model, x, entries=5, eps=1e-6, seed=0, atol=1e-8, threshold=1e-7):
    """Backprop against central differences for ``model`` (float64) at the input ``x``.

    Returns ``(rows, overall)``: a ``TensorCheck`` per parameter tensor (named) and one for
    the input, and the relative error over every entry checked. See the module for J, the
    error and the step refinement, whose agreement tolerance is ``threshold / 10`` relative
    plus ``atol`` times eps / step.
    """
    from .. import no_grad
    from .._creation import from_numpy
    rng = np.random.default_rng(seed)
    x = x.detach().requires_grad_(True)
    outs = _floating_outputs(model(x))
    if not any(o.requires_grad for o in outs):
        raise ValueError("the model's output holds no floating tensor that depends on its "
                         "parameters (a detector's detections?)")
    projections = [rng.standard_normal(tuple(o.shape)) / np.sqrt(max(o.numel(), 1))
                   for o in outs]

    def objective(out):
        return sum(float((o._data * r).sum())
                   for o, r in zip(_floating_outputs(out), projections))

    j = sum((o * from_numpy(r)).sum() for o, r in zip(outs, projections))
    model.zero_grad()
    j.backward()
    with no_grad():
        j0, j1 = objective(model(x)), objective(model(x))
    if j0 != j1:
        raise RuntimeError("the model's output is random (two runs on the same input differ): "
                           "some layer draws random numbers even in eval mode")

    def central(data, k, step):
        v = data[k]
        with no_grad():
            data[k] = v + step
            plus = objective(model(x))
            data[k] = v - step
            minus = objective(model(x))
        data[k] = v
        return (plus - minus) / (2 * step)

    def quotient(data, k):
        """``(q, spread, refined)``: the central difference at entry k at the largest step
        with no kink inside, the gap to the next finer quotient, and whether eps was cut."""
        step, q = eps, central(data, k, eps)
        for _ in range(REFINEMENTS):
            finer = central(data, k, step / 4)
            rounding = atol * eps / step  # the quotient's rounding error grows as 1 / step
            gap = abs(q - finer)
            if gap <= threshold / 10 * (abs(q) + abs(finer)) + rounding:
                return q, (gap if step == eps else max(gap, rounding)), step < eps
            step, q = step / 4, finer
        return q, max(gap, rounding), True

    tensors = [(n, p) for n, p in model.named_parameters() if p.requires_grad] + [("input", x)]
    rows, approx_all, back_all = [], [], []
    for name, t in tensors:
        data = t._data.reshape(-1)  # a view: perturbing it perturbs the tensor
        grad = np.zeros(t.numel()) if t.grad is None else t.grad._data.reshape(-1)
        picked = rng.choice(t.numel(), size=min(entries, t.numel()), replace=False)
        approx, spread, refined = np.empty(len(picked)), np.empty(len(picked)), 0
        for i, k in enumerate(picked):
            approx[i], spread[i], smaller = quotient(data, k)
            refined += smaller
        back = grad[picked].astype(np.float64)
        rows.append(TensorCheck(name, t.numel(), len(picked), float(np.linalg.norm(approx)),
                                float(np.linalg.norm(back)),
                                float(np.linalg.norm(approx - back)),
                                _relative_error(approx, back), float(np.linalg.norm(spread)),
                                refined))
        approx_all.append(approx)
        back_all.append(back)
    overall = _relative_error(np.concatenate(approx_all), np.concatenate(back_all))
    return rows, overall


def tensor_status(row, threshold, atol):
    """``ok`` (error within the threshold, or a difference below ``atol``), ``kinks`` (above
    the threshold but within twice the finite differences' spread) or ``FAIL``."""
    if row.relative_error <= threshold or row.difference <= atol:
        return "ok"
    return "kinks" if row.difference <= 2 * row.spread else "FAIL"


def _relative_error(approx, back):
    """||approx - back|| / (||approx|| + ||back||); 0 when both are zero."""
    denominator = np.linalg.norm(approx) + np.linalg.norm(back)
    return 0.0 if denominator == 0 else float(np.linalg.norm(approx - back) / denominator)


def _arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="a model of the zoo (see 'minidl "
                                                       "models'; e.g. lenet5, resnet18)")
    parser.add_argument("--entries", type=positive_int, default=5, metavar="N",
                        help="entries checked per parameter tensor and of the input, chosen "
                             "at random (default 5)")
    parser.add_argument("--eps", type=float, default=1e-6,
                        help="step of the central differences (default 1e-6)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the input, the projection and the entries (default 0)")
    parser.add_argument("--threshold", type=float, default=1e-7,
                        help="largest relative error that passes (default 1e-7, float64)")
    parser.add_argument("--atol", type=float, default=1e-8,
                        help="a tensor with ||approx - backprop|| below this passes whatever "
                             "its relative error (rounding of small gradients; default 1e-8)")
    parser.add_argument("--input-size", type=positive_int, nargs=3, metavar=("C", "H", "W"),
                        help="one input image (default 1 28 28 for lenet5, mlp, vit_mini, "
                             "swin_mini; 1 32 32 otherwise, small-input variants)")
    parser.add_argument("--batch-size", type=positive_int, default=2,
                        help="images in the fixed batch (default 2)")
    parser.add_argument("--num-classes", type=positive_int, default=10,
                        help="outputs of a classifier (default 10)")
    parser.add_argument("--bn", choices=["train", "eval"], default="train",
                        help="batch norm with the batch's statistics (train, default) or its "
                             "running statistics (eval); the rest is always in eval mode")


def _run(args):
    from .. import backend
    from .._creation import from_numpy
    prog = "minidl gradcheck"
    try:
        model, (c, h, w) = build_for_check(args.model, args.input_size, args.num_classes)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    backend.manual_seed(args.seed)
    _set_modes(model, args.bn)
    zeroed = [n for n, p in model.named_parameters() if p.ndim >= 2 and not p._data.any()]
    for name in zeroed:  # a zero weight (ViT's head) makes every gradient behind it zero
        p = model.get_parameter(name)
        p._data[...] = np.random.default_rng(args.seed).normal(0.0, 0.02, p.shape)
    x = from_numpy(np.random.default_rng(args.seed).standard_normal((args.batch_size, c, h, w)))
    t0 = time.perf_counter()
    try:
        rows, overall = gradient_check(model, x, args.entries, args.eps, args.seed, args.atol,
                                       args.threshold)
    except (ValueError, RuntimeError, AssertionError) as e:
        print(f"{prog}: error: {args.model} on a {args.batch_size} x {c} x {h} x {w} input: "
              f"{e} (gradcheck covers models mapping an image batch to tensors; another "
              f"size: --input-size C H W)", file=sys.stderr)
        return 1
    width = max(len(r.name) for r in rows)
    print(f"{args.model}: float64, input {args.batch_size} x {c} x {h} x {w}, batch norm "
          f"{args.bn} mode, eps {args.eps:g}, seed {args.seed}"
          f"{'; zero weights drawn from N(0, 0.02^2): ' + ', '.join(zeroed) if zeroed else ''}")
    print(f"{'tensor':{width}}  {'entries':>13}  {'||approx||':>10}  {'||backprop||':>12}  "
          f"{'rel. error':>10}  {'FD spread':>9}")
    failed, kinked = [], []
    for r in rows:
        status = tensor_status(r, args.threshold, args.atol)
        (failed if status == "FAIL" else kinked if status == "kinks" else []).append(r.name)
        note = ("" if r.relative_error <= args.threshold else
                f"  (difference {r.difference:.1e})" if status == "ok" else
                f"  kinks (difference {r.difference:.1e} within the spread)"
                if status == "kinks" else "  FAIL")
        print(f"{r.name:{width}}  {f'{r.checked}/{r.numel}':>13}  {r.approx_norm:10.3e}  "
              f"{r.backprop_norm:12.3e}  {r.relative_error:10.2e}  {r.spread:9.1e}{note}")
    refined = sum(r.refined for r in rows)
    passed = not failed
    print(f"overall relative error {overall:.2e} over {sum(r.checked for r in rows)} entries "
          f"(threshold {args.threshold:g}); {refined} crossed a kink at eps and were "
          f"re-measured at a smaller step"
          f"{'; ' + str(len(kinked)) + ' tensor(s) limited by kinks' if kinked else ''}: "
          f"{'PASS' if passed else 'FAIL'}"
          f"{'; failing: ' + ', '.join(failed) if failed else ''} "
          f"[{time.perf_counter() - t0:.1f}s]")
    return 0 if passed else 1


register_command(Command(
    "gradcheck", "finite-difference check of a zoo model's backprop (float64)",
    _arguments, _run,
    description="Compare backprop's gradients of a zoo MODEL with central differences on a "
                "tiny float64 input, for random entries of every parameter tensor and of the "
                "input; print the relative error ||approx - backprop|| / (||approx|| + "
                "||backprop||) per tensor and overall, and exit with status 1 when it exceeds "
                "--threshold."))
