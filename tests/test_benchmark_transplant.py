"""benchmarks.transplant: the torch twin of a zoo model, built from minidl's own source, has
minidl's outputs, loss and gradients; benchmarks.memory measures a step in both libraries."""
import numpy as np
import pytest
import torch

import minidl
from benchmarks.memory import peak_step_mib
from benchmarks.transplant import TransplantError, torch_twin, transplant_source
from minidl.vision import models

# dropout off: the two libraries draw different masks
ZOO = {"resnet18": {}, "densenet121": {}, "googlenet": {"aux_logits": False, "dropout": 0.0},
       "mobilenet_v2": {"dropout": 0.0}}
SMALL = {"num_classes": 10, "in_channels": 1, "small_input": True}


def _pair(arch, batch=2, seed=0):
    kwargs = {**SMALL, **ZOO[arch]}
    minidl.manual_seed(seed)
    m_model = models.get_model(arch, **kwargs)
    rng = np.random.default_rng(seed)
    # batch-norm statistics away from (0, 1), so that eval mode tests them too
    m_model.load_state_dict({
        k: (rng.uniform(0.5, 2.0, v.shape).astype(np.float32) if k.endswith("running_var") else
            rng.normal(0, 0.1, v.shape).astype(np.float32) if k.endswith("running_mean") else
            np.asarray(v)) for k, v in m_model.state_dict().items()})
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    return m_model, torch_twin(m_model, arch, **kwargs), x, rng.integers(0, 10, batch)


def _close(a, b, rtol=1e-4):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(np.abs(b).max()))


@pytest.mark.parametrize("arch", list(ZOO))
def test_twin_is_torch_with_minidl_keys_and_eval_output(arch):
    m_model, t_model, x, _ = _pair(arch)
    assert isinstance(t_model, torch.nn.Module) and not isinstance(t_model, minidl.nn.Module)
    assert list(t_model.state_dict()) == list(m_model.state_dict())
    m_model.eval()
    t_model.eval()
    with torch.no_grad():
        expected = t_model(torch.from_numpy(x)).numpy()
    _close(np.asarray(m_model(minidl.from_numpy(x)).detach()), expected)


@pytest.mark.parametrize("arch", list(ZOO))
def test_train_loss_and_gradients_match(arch):
    # float64 and batch 8: through ~20-100 train-mode batch norms the first conv's float32
    # gradient already differs by ~1 % between any two summation orders (and at batch 2,
    # DenseNet's 1 x 1 denseblock4 normalizes over 2 values, which float64 does not rescue)
    m_model, t_model, x, y = _pair(arch, batch=8)
    m_model.double()
    t_model.double()
    x = x.astype(np.float64)
    m_loss = minidl.nn.functional.cross_entropy(m_model(minidl.from_numpy(x)),
                                                minidl.from_numpy(y))
    t_loss = torch.nn.functional.cross_entropy(t_model(torch.from_numpy(x)), torch.from_numpy(y))
    m_loss.backward()
    t_loss.backward()
    _close(m_loss.item(), t_loss.item(), rtol=1e-10)
    names = [n for n, _ in m_model.named_parameters()]
    m_params, t_params = dict(m_model.named_parameters()), dict(t_model.named_parameters())
    for name in (names[0], names[-2], names[-1]):  # first conv, last fc weight and bias
        _close(np.asarray(m_params[name].grad), t_params[name].grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("line, why", [
    ("from ...autograd import Kernel", "no torch equivalent for module 'minidl.autograd'"),
    ("from ...nn import NoSuchLayer", "minidl.nn.NoSuchLayer has no torch equivalent"),
    ("import minidl.nn", "from ... import"),
])
def test_unmappable_import_names_the_line(line, why):
    source = f'"""A model file."""\nimport math\n{line}\n'
    with pytest.raises(TransplantError) as info:
        transplant_source(source, "minidl.vision.models.fake", "fake.py")
    message = str(info.value)
    assert f"fake.py:3: cannot map `{line}`" in message and why in message


def test_transplant_keeps_other_imports_and_code():
    source = ("from collections import OrderedDict\nfrom ... import nn\n"
              "from ...ops.view import flatten as flat\nfrom ._api import register_model\n\n"
              "@register_model()\ndef build():\n    from ...nn import functional as F\n"
              "    return OrderedDict(layer=nn.Linear(2, 2), f=F, flat=flat)\n")
    built = transplant_source(source, "minidl.vision.models.fake").build()
    assert isinstance(built["layer"], torch.nn.Linear)
    assert built["f"] is torch.nn.functional and built["flat"] is torch.flatten


@pytest.mark.parametrize("framework", ["minidl", "torch"])
def test_peak_step_memory_is_positive(framework):
    assert peak_step_mib("benchmarks.zoo:memory_step", framework, 1, "lenet") > 0
