"""Small building blocks of torchvision's models: the multi-layer perceptron ``MLP`` (the
feed-forward part of a Transformer block) and ``Permute`` (a layer that reorders axes,
e.g. NCHW <-> NHWC)."""
from ... import nn

__all__ = ["MLP", "Permute"]


class MLP(nn.Sequential):
    """[Linear - (norm) - activation - Dropout] for each of ``hidden_channels[:-1]``, then
    Linear to ``hidden_channels[-1]`` - Dropout (torchvision.ops.MLP). ``inplace`` is
    passed to the activation and the dropout layers unless it is None."""

    def __init__(self, in_channels, hidden_channels, norm_layer=None,
                 activation_layer=nn.ReLU, inplace=None, bias=True, dropout=0.0):
        hidden_channels = list(hidden_channels)
        if not hidden_channels:
            raise ValueError("MLP: hidden_channels must name at least one layer width")
        params = {} if inplace is None else {"inplace": inplace}
        layers, in_dim = [], in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers += [activation_layer(**params), nn.Dropout(dropout, **params)]
            in_dim = hidden_dim
        layers += [nn.Linear(in_dim, hidden_channels[-1], bias=bias),
                   nn.Dropout(dropout, **params)]
        super().__init__(*layers)


class Permute(nn.Module):
    """``x.permute(dims)`` as a layer."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        if x.ndim != len(self.dims):
            raise ValueError(f"Permute({self.dims}) needs a {len(self.dims)}-D input, got "
                             f"shape {tuple(x.shape)}")
        return x.permute(*self.dims)
