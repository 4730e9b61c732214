"""``diff``: the n-th forward difference along a dim, out[i] = x[i + 1] - x[i] applied n
times (logical xor for bool), after joining ``prepend`` / ``append``; the gradient follows
from narrow and sub."""
from .._out import takes_out
from ._shape_args import as_int
from ._util import check_tensor, normalize_dim
from .arithmetic import sub
from .compare import logical_xor
from .indexing import narrow
from .join import cat

__all__ = ["diff"]


@takes_out
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``n``-th difference of ``input`` along ``dim``; ``prepend`` / ``append`` (tensors with
    input's number of dims) are joined on first. Each order shortens ``dim`` by one."""
    check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = as_int(n, "diff", "n")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = normalize_dim(dim, input.ndim, "diff")
    if n == 0:  # torch returns the input, prepend and append unused
        return input
    parts = [input]
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        check_tensor(extra, "diff", name)
        if extra.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        parts.insert(0 if name == "prepend" else len(parts), extra)
    x = cat(parts, d) if len(parts) > 1 else input
    step = logical_xor if x._data.dtype.kind == "b" else sub
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        x = step(narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1))
    return x
