"""IntermediateLayerGetter: the feature maps of named children, as torchvision returns them."""
import numpy as np
import pytest

import minidl
from minidl.vision.models import resnet18
from minidl.vision.models._utils import IntermediateLayerGetter


def test_returns_named_children_in_order_and_drops_the_rest():
    minidl.manual_seed(0)
    net = resnet18(num_classes=10, in_channels=1).eval()
    body = IntermediateLayerGetter(net, {"layer2": "mid", "layer4": "out"})
    assert list(body.keys())[-1] == "layer4" and "fc" not in body and "avgpool" not in body
    x = minidl.randn(2, 1, 64, 64)
    out = body(x)
    assert list(out) == ["mid", "out"]
    with minidl.no_grad():
        y = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        mid = net.layer2(net.layer1(y))
        last = net.layer4(net.layer3(mid))
    np.testing.assert_allclose(out["mid"].detach().numpy(), mid.numpy(), rtol=1e-6)
    np.testing.assert_allclose(out["out"].detach().numpy(), last.numpy(), rtol=1e-6)
    assert set(body.state_dict()) < set(net.state_dict())


def test_refuses_unknown_children_by_name():
    net = resnet18(num_classes=10)
    with pytest.raises(ValueError, match="not present in model: layer9"):
        IntermediateLayerGetter(net, {"layer9": "x"})
    with pytest.raises(TypeError, match="return_layers must be a dict"):
        IntermediateLayerGetter(net, ["layer4"])
