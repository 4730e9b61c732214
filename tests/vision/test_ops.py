"""``minidl.vision.ops``: stochastic depth (torchvision's semantics: a per-sample or
per-batch keep mask scaled by 1 / (1 - p), identity in evaluation), ``MLP`` and
``Permute`` are checked with the models that use them (test_vit.py, test_swin.py)."""
import numpy as np
import pytest

import minidl
from minidl.vision.ops import StochasticDepth, stochastic_depth


def test_row_mode_drops_whole_samples_and_rescales_the_rest():
    minidl.manual_seed(0)
    x = minidl.ones(4000, 3, 2, requires_grad=True)
    y = stochastic_depth(x, 0.25, "row")
    values = y.detach().numpy().reshape(4000, -1)
    assert (values == values[:, :1]).all()  # one draw per sample
    assert set(np.unique(values)) == {0.0, np.float32(1 / 0.75)}
    assert abs((values[:, 0] == 0).mean() - 0.25) < 0.03
    y.backward(minidl.ones(4000, 3, 2))
    np.testing.assert_array_equal(x.grad.numpy(), values.reshape(4000, 3, 2))


def test_batch_mode_draws_once():
    minidl.manual_seed(1)
    outs = {float(np.unique(stochastic_depth(minidl.ones(5, 2), 0.5, "batch").numpy())[0])
            for _ in range(40)}
    assert outs == {0.0, 2.0}


def test_identity_in_evaluation_and_for_p_zero():
    x = minidl.randn(3, 4)
    assert stochastic_depth(x, 0.5, "row", training=False) is x
    assert stochastic_depth(x, 0.0, "row") is x
    layer = StochasticDepth(0.5, "row").eval()
    assert layer(x) is x
    assert not stochastic_depth(x, 1.0, "row").numpy().any()
    assert repr(StochasticDepth(0.2, "batch")) == "StochasticDepth(p=0.2, mode=batch)"


def test_bad_arguments_are_named():
    x = minidl.randn(3, 4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="'batch' or 'row'"):
        stochastic_depth(x, 0.1, "sample")
    with pytest.raises(ValueError, match="'batch' or 'row'"):
        StochasticDepth(0.1, "elementwise")
    with pytest.raises(TypeError):
        stochastic_depth(np.ones(3), 0.1, "row")


def test_conv2d_norm_activation_passes_inplace_to_its_activation():
    from minidl.vision.ops import Conv2dNormActivation
    assert Conv2dNormActivation(3, 4).get_submodule("2").inplace is True     # torchvision
    assert Conv2dNormActivation(3, 4, inplace=False)[2].inplace is False
    assert Conv2dNormActivation(3, 4, inplace=None)[2].inplace is False       # ReLU's default
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    grads = []
    for inplace in (True, False):
        minidl.manual_seed(0)
        block = Conv2dNormActivation(3, 4, activation_layer=minidl.nn.ReLU6, inplace=inplace)
        block(minidl.tensor(x)).square().sum().backward()
        grads.append(block[0].weight.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
