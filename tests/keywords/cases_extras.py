"""Cases for the dtype queries, inverse hyperbolics, statistics and small products added
together (finfo, logit, diff, quantile, cdist, isin, tril_indices, ...)."""
from .checks import Differs, NoOp, Refused, each

EXTRAS_CASES = {
    ("torch.finfo", "type"): [Differs("torch.float64")],
    **each("torch.diff Tensor.diff", "n", Differs("2")),
    **each("torch.diff Tensor.diff", "prepend", Differs("x[:, :1]")),
    **each("torch.diff Tensor.diff", "append", Differs("x[:, :1]")),
    **each("torch.quantile Tensor.quantile torch.nanquantile Tensor.nanquantile",
           "interpolation", Differs("'lower'"), Differs("'higher'"), Differs("'nearest'"),
           Differs("'midpoint'"), Refused("'cubic'", ValueError, "interpolation")),
    ("torch.cdist", "compute_mode"): [
        Differs("'use_mm_for_euclid_dist'", base="x.double(), y.double() + 1e-3"),
        Refused("'fast'", ValueError, "compute_mode")],
    ("torch.isin", "invert"): [Differs("True")],
    ("torch.isin", "assume_unique"): [
        NoOp("True", "a promise that both inputs are duplicate-free, letting the search skip "
             "deduplication: the same answer on such inputs", base="t, t[:2]")],
    **each("torch.cross Tensor.cross", "dim", Differs("1")),
    **each("torch.tril_indices torch.triu_indices", "dtype",
           Differs("torch.int32"), Refused("torch.float32", NotImplementedError, "Float")),
    ("Tensor.squeeze_", "dim"): [Differs("0")],
}
