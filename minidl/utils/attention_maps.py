"""Recording what ``nn.MultiheadAttention`` layers attend to, for attention maps.

Layers built on multi-head attention -- ``nn.TransformerDecoderLayer``, a Vision
Transformer's encoder block -- call it with ``need_weights=False`` (the weights cost
memory and the fused path skips them). ``record_attention(*layers)`` switches
``need_weights`` on for as long as it is active (a forward pre-hook on each layer) and
keeps every call's weights softmax(Q K^T / sqrt(d_k) + mask), ``(N, L, S)`` averaged over
the heads (``average_attn_weights=False``: ``(N, heads, L, S)``). The attention output is
unchanged; a direct caller of the layer gets the weights instead of None as the second
element of its result::

    with record_attention(model.encoder.layers[-1].self_attention) as maps:
        model(images)
    weights = maps.weights[-1]          # the last call's (N, L, S) Tensor
"""
from ..nn.modules.multihead_attention import MultiheadAttention

__all__ = ["record_attention"]

# MultiheadAttention.forward's arguments after (query, key, value), in order
_OPTIONAL = ("key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
             "is_causal")


class record_attention:
    """Context manager: ``weights`` lists the attention weights of every call of the given
    ``nn.MultiheadAttention`` layers, in call order (``layer_of[i]`` is the layer of call
    ``i``)."""

    def __init__(self, *layers, average_attn_weights=True):
        if not layers:
            raise ValueError("record_attention() needs at least one nn.MultiheadAttention")
        for layer in layers:
            if not isinstance(layer, MultiheadAttention):
                raise TypeError(f"record_attention() records nn.MultiheadAttention layers, got "
                                f"{type(layer).__name__}")
        if not isinstance(average_attn_weights, bool):
            raise TypeError(f"record_attention(average_attn_weights=) must be a bool, got "
                            f"{average_attn_weights!r}")
        self.layers, self.average = layers, average_attn_weights
        self.weights, self.layer_of, self._handles = [], [], []

    def _ask_for_weights(self, layer, args, kwargs):
        kwargs = {**dict(zip(_OPTIONAL, args[3:])), **kwargs, "need_weights": True,
                  "average_attn_weights": self.average}
        return args[:3], kwargs

    def _keep(self, layer, args, output):
        self.weights.append(output[1].detach())
        self.layer_of.append(layer)

    def __enter__(self):
        for layer in self.layers:
            self._handles += [layer.register_forward_pre_hook(self._ask_for_weights,
                                                              with_kwargs=True),
                              layer.register_forward_hook(self._keep)]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
