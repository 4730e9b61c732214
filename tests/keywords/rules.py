"""Generic cases by keyword name: what a non-default value of ``out``, ``dtype``, ``dim``,
``inplace``, ... must do wherever the keyword appears.

``RULES[name](current)`` gives the checks for a keyword whose value in the base call is
``current`` (the parameter's default unless the base call passes it), or None where the
rule cannot choose a value (a per-callable case must then say what to check).
"""
import inspect

from .checks import Differs, InPlace, NoOp, OutWritten, Refused, RefusesUnknown, Seeded

_EMPTY = inspect.Parameter.empty


def differs(*values):
    """Differs for the first of ``values`` that is not the current one."""
    def rule(current):
        return [Differs(next(v for v in values if v != repr(current)))]
    return rule


def flag(current):
    return [Differs(repr(not current))]


def _bias(current):
    """A layer's bias=True -> False; a function's bias tensor -> None; else no rule."""
    if current is True:
        return [Differs("False")]
    return None if current is None or current is False else [Differs("None")]


def _device(current):
    return [NoOp("'cpu'", "the CPU is the only device, as on a CPU build of torch"),
            Refused("'cuda'", RuntimeError, "cuda")]


def _memory_format(current):
    return [Refused("torch.channels_last", RuntimeError, "memory_format")]


RULES = {
    "out": lambda current: [OutWritten()],
    "dtype": lambda current: [Differs("torch.float64")],
    "device": _device,
    "requires_grad": flag,
    "generator": lambda current: [Seeded()],
    "memory_format": _memory_format,
    "inplace": lambda current: [InPlace()],
    "kwargs": lambda current: [RefusesUnknown()],
    "kw": lambda current: [RefusesUnknown()],
    "dim": differs("0", "1"),
    "keepdim": flag, "ceil_mode": flag, "count_include_pad": flag, "return_indices": flag,
    "align_corners": lambda current: [Differs("True")], "descending": flag, "largest": flag,
    "training": flag, "train": flag, "affine": flag, "elementwise_affine": flag,
    "track_running_stats": flag, "as_tuple": flag, "return_inverse": flag,
    "return_counts": flag, "equal_nan": flag, "log_target": flag, "right": flag,
    "nesterov": flag, "amsgrad": flag, "maximize": flag, "centered": flag,
    "decoupled_weight_decay": flag, "drop_last": flag, "shuffle": flag, "replacement": flag,
    "accumulate": flag, "out_int32": flag, "cycle_momentum": flag, "three_phase": flag,
    "allow_unused": flag, "materialize_grads": flag, "raise_exception": flag,
    "bias": _bias,
    "alpha": differs("0.5", "2.0"), "beta": differs("0.5", "2.0"), "eps": differs("0.5"),
    "momentum": differs("0.5", "0.9"), "lr": differs("0.5"), "weight_decay": differs("0.5"),
    "p": differs("0.2", "1.0"), "value": differs("2.5", "0.5"), "lambd": differs("0.9"),
    "negative_slope": differs("0.3"), "threshold": differs("0.5"), "gamma": differs("0.5"),
    "stride": differs("2", "1"), "padding": differs("1", "0"), "dilation": differs("2"),
    "output_padding": differs("1"), "reduction": differs("'sum'", "'none'"),
    "size_average": lambda current: [Differs("False")],
    "reduce": lambda current: [Differs("False")],
    "diagonal": differs("1"), "offset": differs("1"), "k": differs("2"),
    "decimals": differs("1"), "min_val": differs("-0.5"), "max_val": differs("0.5"),
    "delta": differs("0.5"), "label_smoothing": differs("0.2"), "ignore_index": differs("1"),
    "rounding_mode": differs("'floor'"), "approximate": differs("'tanh'"),
    "last_epoch": lambda current: [Refused("3", (KeyError, ValueError), "initial_lr")],
    "mode": differs("'bilinear'"), "eta_min": differs("0.05"),
}
