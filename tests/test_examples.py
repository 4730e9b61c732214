"""The examples run as scripts; the torch-style one also runs unchanged on real torch."""
import pathlib
import types

import numpy as np
import torch

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name, swap_torch=False):
    source = (EXAMPLES / name).read_text()
    if swap_torch:
        source = (source.replace("import minidl as torch", "import torch")
                  .replace("minidl.nn", "torch.nn")
                  .replace("minidl.utils.data", "torch.utils.data"))
    module = types.ModuleType(name[:-3])
    exec(compile(source, str(EXAMPLES / name), "exec"), module.__dict__)
    return module


def test_torch_style_lenet_learns_in_minidl():
    accuracy = load("lenet_torch_style.py").main(["--epochs", "2", "--limit", "2000"])
    assert accuracy > 0.7


def test_torch_style_lenet_is_plain_torch_code():
    module = load("lenet_torch_style.py", swap_torch=True)
    model = module.LeNet5()
    out = model(torch.zeros(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 61706


def _torch_loader(name, train=True):
    from minidl.vision.datasets import load_bundled
    images, labels = load_bundled(name, train=train)
    return torch.from_numpy(images.numpy()), torch.from_numpy(labels.numpy())


def test_newton_converges_quadratically_and_matches_torch():
    history, accuracy = load("newton_hessian.py").main(["--steps", "8"])
    assert history[-1] < 1e-8 < history[0]
    assert accuracy > 0.98
    module = load("newton_hessian.py", swap_torch=True)
    module.load_bundled = _torch_loader
    torch_history, torch_accuracy = module.main(["--steps", "8"])
    np.testing.assert_allclose(history[:5], torch_history[:5], rtol=1e-6)
    assert accuracy == torch_accuracy


def test_gradient_penalty_step_matches_torch():
    """One critic step (penalty through the recorded conv-net backward) in both libraries,
    with the same weights and inputs: same penalty, same loss, same weight gradients."""
    ours, theirs = load("gradient_penalty.py"), load("gradient_penalty.py", swap_torch=True)
    theirs.load_bundled = _torch_loader
    import minidl
    minidl.manual_seed(0)
    m_critic, t_critic = ours.Critic().double(), theirs.Critic().double()
    m_critic.load_state_dict({k: minidl.from_numpy(v.detach().numpy().copy())
                              for k, v in t_critic.state_dict().items()})
    real = ours.real_batch(8).double()
    fake = minidl.randn(real.shape, dtype=minidl.float64).clamp(-1, 1)
    eps = minidl.rand(8, 1, 1, 1, dtype=minidl.float64)
    results = []
    for lib, mod, critic, x, f, e in (
            (minidl, ours, m_critic, real, fake, eps),
            (torch, theirs, t_critic, torch.from_numpy(real.numpy()),
             torch.from_numpy(fake.numpy()), torch.from_numpy(eps.numpy()))):
        opt = lib.optim.SGD(critic.parameters(), lr=0.0)
        loss, penalty, norms = mod.critic_step(critic, opt, x, f, 10.0, e)
        results.append((loss, penalty, norms.numpy(),
                        [p.grad.numpy() for p in critic.parameters()]))
    (ml, mp, mn, mg), (tl, tp, tn, tg) = results
    np.testing.assert_allclose([ml, mp], [tl, tp], rtol=1e-9)
    np.testing.assert_allclose(mn, tn, rtol=1e-9)
    for a, b in zip(mg, tg):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


def test_gradient_penalty_pulls_input_gradient_norms_toward_one():
    history = load("gradient_penalty.py").main(["--steps", "30", "--batch", "16"])
    assert abs(history[-1] - 1) < abs(history[0] - 1) - 0.2
