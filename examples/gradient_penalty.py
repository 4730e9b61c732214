"""A WGAN-GP critic step on real MNIST digits: the gradient penalty needs double backprop.

Gulrajani et al. (2017), "Improved Training of Wasserstein GANs": the critic D is trained on

    L = E[D(fake)] - E[D(real)] + lambda * E[(||d D(x_hat) / d x_hat||_2 - 1)^2],

with x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1) per sample. The penalty's gradient
with respect to D's weights differentiates a gradient: ``autograd.grad(...,
create_graph=True)`` records the backward of the conv net so that ``loss.backward()`` can
run through it. Here "fake" images are a fixed noise batch (no generator), so the script
shows the penalty alone pulling the critic's input-gradient norms toward 1.

Written as torch code: only the import line differs.

    python examples/gradient_penalty.py --steps 40
"""
import argparse

import minidl as torch
import minidl.nn as nn
from minidl.vision.datasets import load_bundled


class Critic(nn.Module):
    """A small conv critic: 28x28 image -> one unbounded score (no sigmoid, as in WGAN)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(8, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.score = nn.Linear(16 * 7 * 7, 1)

    def forward(self, x):
        return self.score(torch.flatten(self.features(x), 1)).squeeze(1)


def gradient_penalty(critic, real, fake, eps=None):
    """(mean (||grad_x D(x_hat)|| - 1)^2, the per-sample norms) at random interpolates
    (``eps``: the N x 1 x 1 x 1 mixing weights, drawn from U(0, 1) when not given)."""
    if eps is None:
        eps = torch.rand(real.shape[0], 1, 1, 1, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean(), norms


def critic_step(critic, optimizer, real, fake, lam, eps=None):
    optimizer.zero_grad()
    penalty, norms = gradient_penalty(critic, real, fake, eps)
    loss = critic(fake).mean() - critic(real).mean() + lam * penalty
    loss.backward()
    optimizer.step()
    return loss.item(), penalty.item(), norms.detach()


def real_batch(n):
    images, _ = load_bundled("mnist-mini", train=True)
    return images[:n].float().unsqueeze(1) / 127.5 - 1.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lam", type=float, default=10.0)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    real = real_batch(args.batch)
    fake = torch.randn(real.shape).clamp(-1, 1)
    critic = Critic()
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    history = []
    for step in range(args.steps):
        loss, penalty, norms = critic_step(critic, optimizer, real, fake, args.lam)
        history.append(norms.mean().item())
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step:3d}: loss {loss:8.4f}  penalty {penalty:.4f}  "
                  f"mean ||grad D|| {history[-1]:.3f}")
    return history


if __name__ == "__main__":
    main()
