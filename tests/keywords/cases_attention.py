"""Cases for ``F.scaled_dot_product_attention``. Base call: ``b, b, b`` (L = S = 3, E = 4);
the grouped-query case has 4 query heads and 2 key / value heads, which only broadcast
with enable_gqa=True."""
from .checks import Differs, Refused

_GQA = ("b.reshape(1, 2, 3, 4).repeat(1, 2, 1, 1), b.reshape(1, 2, 3, 4), "
        "b.reshape(1, 2, 3, 4)")

ATTENTION_CASES = {
    ("F.scaled_dot_product_attention", "attn_mask"): [
        Differs("mask[:, :3]"), Differs("x[:, :3]", grad=True),
        Refused("mask", RuntimeError, "attn_mask")],
    ("F.scaled_dot_product_attention", "dropout_p"): [
        Differs("0.5"), Refused("1.5", ValueError, "dropout")],
    ("F.scaled_dot_product_attention", "is_causal"): [
        Differs("True"), Refused("True", RuntimeError, "is_causal", base="b, b, b, mask[:, :3]")],
    ("F.scaled_dot_product_attention", "scale"): [Differs("2.0")],
    ("F.scaled_dot_product_attention", "enable_gqa"): [
        Differs("True", from_error=True, base=_GQA),
        Refused("True", RuntimeError, "enable_gqa", base="b[:1].reshape(1, 1, 3, 4).repeat("
                "1, 3, 1, 1), b.reshape(1, 2, 3, 4), b.reshape(1, 2, 3, 4)")],
}
