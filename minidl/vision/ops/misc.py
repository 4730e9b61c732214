"""Small building blocks of torchvision's models: the multi-layer perceptron ``MLP`` (the
feed-forward part of a Transformer block), ``Permute`` (a layer that reorders axes,
e.g. NCHW <-> NHWC) and ``Conv2dNormActivation`` (a ``Sequential`` of convolution,
normalization and activation, so its state_dict keys are ``0.weight``, ``1.weight``, ... as
in torchvision; MobileNetV2 and the FPN are built from it) and ``FrozenBatchNorm2d``
(batch norm with fixed statistics and affine, the backbone norm of torchvision's pretrained
detectors)."""
from ... import nn
from ..._creation import ones, zeros

__all__ = ["MLP", "Permute", "Conv2dNormActivation", "FrozenBatchNorm2d"]


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


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d`` -> normalization -> activation, as torchvision's ``Conv2dNormActivation``.

    ``padding`` defaults to ``(kernel_size - 1) // 2 * dilation`` ("same" for odd kernels);
    the convolution has a bias only when there is no normalization layer (``bias=None``).
    ``norm_layer`` / ``activation_layer`` may be None to leave the layer out; ``inplace``
    goes to the activation (None: the activation's own default), as in torchvision.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


class FrozenBatchNorm2d(nn.Module):
    """Batch norm whose statistics and affine are constants (torchvision.ops): buffers
    ``weight``, ``bias``, ``running_mean``, ``running_var``, never trained or updated, and
    y = (x - running_mean) / sqrt(running_var + eps) * weight + bias in training as in eval.
    A ``BatchNorm2d`` state_dict loads into it (its ``num_batches_tracked`` is dropped)."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", ones(num_features))
        self.register_buffer("bias", zeros(num_features))
        self.register_buffer("running_mean", zeros(num_features))
        self.register_buffer("running_var", ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs, assign)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.weight.shape[0]:
            raise ValueError(f"FrozenBatchNorm2d({self.weight.shape[0]}): expected an (N, "
                             f"{self.weight.shape[0]}, H, W) input, got {tuple(x.shape)}")
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)

    def __repr__(self):
        return f"FrozenBatchNorm2d({self.weight.shape[0]}, eps={self.eps})"
