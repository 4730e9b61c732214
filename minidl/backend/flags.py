"""Global numerics flags scripts set: deterministic algorithms and float32 matmul precision.

Every minidl kernel is deterministic (NumPy's, run in a fixed order; scatter-adds use
``np.add.at``), so ``use_deterministic_algorithms(True)`` is already satisfied: the flag is
kept and reported. minidl's float32 matmuls always run in full float32, which is what
'highest' asks for and what 'high' / 'medium' permit (they allow, not require, TF32 /
bfloat16 internally).
"""
import warnings

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_state = {"deterministic": False, "warn_only": False, "matmul": "highest"}
_PRECISIONS = ("highest", "high", "medium")


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium'; anything else is ignored with torch's warning."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _state["matmul"] = precision


def get_float32_matmul_precision():
    return _state["matmul"]
