"""Model zoo: output shapes, parameter counts and outputs equal to torch-built equivalents."""
import numpy as np
import pytest
import torch
from torch import nn as tnn

import minidl
from minidl.vision import models


def torch_lenet5(num_classes=10, in_channels=1):
    """The same architecture written with torch, with the same submodule names."""
    m = tnn.Module()
    m.features = tnn.Sequential(
        tnn.Conv2d(in_channels, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
    m.flatten = tnn.Flatten()
    m.classifier = tnn.Sequential(tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84),
                                  tnn.ReLU(), tnn.Linear(84, num_classes))
    m.forward = lambda x: m.classifier(m.flatten(m.features(x)))
    return m


def torch_mlp(in_features=784, hidden=(256, 256), num_classes=10):
    layers, width = [], in_features
    for h in hidden:
        layers += [tnn.Linear(width, h), tnn.ReLU()]
        width = h
    m = tnn.Module()
    m.flatten = tnn.Flatten()
    m.layers = tnn.Sequential(*layers, tnn.Linear(width, num_classes))
    m.forward = lambda x: m.layers(m.flatten(x))
    return m


CASES = [
    (lambda: models.lenet5(), torch_lenet5, (4, 1, 28, 28), 61706),
    (lambda: models.LeNet5(num_classes=7, in_channels=3), lambda: torch_lenet5(7, 3),
     (2, 3, 28, 28), 61706 - 84 * 3 - 3 + 2 * 150),
    (lambda: models.mlp(), torch_mlp, (4, 1, 28, 28), 269322),
    (lambda: models.MLP(in_features=12, hidden=(5,), num_classes=3),
     lambda: torch_mlp(12, (5,), 3), (3, 12), 12 * 5 + 5 + 5 * 3 + 3),
]


@pytest.mark.parametrize("build, build_torch, shape, n_params", CASES)
def test_matches_torch(build, build_torch, shape, n_params):
    torch.manual_seed(0)
    tm = build_torch()
    mm = build()
    count = sum(p.numel() for p in mm.parameters())
    assert count == sum(p.numel() for p in tm.parameters()) == n_params
    t_state = tm.state_dict()
    m_state = mm.state_dict()
    assert list(m_state) == list(t_state)
    assert all(tuple(m_state[k].shape) == tuple(t_state[k].shape) for k in t_state)
    mm.load_state_dict({k: minidl.from_numpy(v.detach().numpy().copy())
                        for k, v in t_state.items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = mm(minidl.from_numpy(x))
    expected = tm(torch.from_numpy(x)).detach().numpy()
    assert tuple(out.shape) == expected.shape == (shape[0], expected.shape[1])
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_lenet_gradients_flow():
    m = models.lenet5()
    x = minidl.randn(2, 1, 28, 28)
    m(x).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())


def test_registry():
    assert {"lenet5", "mlp"} <= set(models.list_models())
    m = models.get_model("mlp", in_features=4, hidden=(3,), num_classes=2)
    assert isinstance(m, models.MLP) and tuple(m(minidl.randn(5, 4)).shape) == (5, 2)
    assert models.get_model_builder("LeNet5") is models.lenet5
    with pytest.raises(ValueError, match="Unknown model 'resnet999'; available models: .*lenet5"):
        models.get_model("resnet999")
    with pytest.raises(ValueError, match="already registered"):
        models.register_model("mlp")(lambda: None)
