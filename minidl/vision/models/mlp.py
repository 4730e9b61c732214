"""A multi-layer perceptron for images: flatten, then Linear-ReLU blocks, then a linear head.

``mlp()`` is 784-256-256-10: 200,960 + 65,792 + 2,570 = 269,322 parameters.
"""
from ... import nn
from ._api import register_model

__all__ = ["MLP", "mlp"]


class MLP(nn.Module):
    """``Flatten``, ``Linear(in, h) - ReLU`` per width in ``hidden``, ``Linear(h, classes)``."""

    def __init__(self, in_features=784, hidden=(256, 256), num_classes=10, dropout=0.0):
        super().__init__()
        if isinstance(hidden, int):
            hidden = (hidden,)
        layers, width = [], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(self.flatten(x))


@register_model()
def mlp(in_features=784, hidden=(256, 256), num_classes=10, **kwargs):
    """The MLP ``in_features``-``hidden``...-``num_classes`` (default 784-256-256-10)."""
    return MLP(in_features=in_features, hidden=hidden, num_classes=num_classes, **kwargs)
