"""Losses of the GAN family, on the discriminator's *logits* ``l`` (``D(x) = sigmoid(l)``)
or on a Wasserstein critic's unbounded scores.

Goodfellow et al. (2014): D ascends ``V = E[log D(x)] + E[log(1 - D(G(z)))]``, i.e.
descends ``discriminator_loss``; G descends ``log(1 - D(G(z)))`` (``'saturating'``, the
minimax game) or, in practice, ``-log D(G(z))`` (``'non-saturating'``, the paper's
heuristic). Arjovsky et al. (2017): the critic ``f`` descends ``E[f(G(z))] - E[f(x)]``
(``critic_loss``; its negative estimates the Wasserstein-1 distance when ``f`` is
1-Lipschitz, which ``clip_weights_`` roughly enforces) and G descends ``-E[f(G(z))]``.
Gulrajani et al. (2017) replace clipping by ``lambda * gradient_penalty``.

Every loss is a mean over the batch; logits / scores of any shape are flattened.
"""
from .. import autograd
from .._creation import rand
from ..autograd import no_grad
from ..nn import functional as F

__all__ = ["discriminator_loss", "generator_loss", "critic_loss",
           "wasserstein_generator_loss", "gradient_penalty", "clip_weights_",
           "GENERATOR_LOSSES"]

GENERATOR_LOSSES = ("non-saturating", "saturating")


def _scores(name, t):
    if not hasattr(t, "flatten") or not t.dtype.is_floating_point:
        raise ValueError(f"{name} must be a float tensor, got {type(t).__name__}"
                         f"{'' if not hasattr(t, 'dtype') else ' of dtype ' + str(t.dtype)}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty: a GAN loss needs at least one sample")
    return t.flatten()


def discriminator_loss(real_logits, fake_logits):
    """``-(mean log D(x) + mean log(1 - D(G(z))))`` = BCE-with-logits of the real logits
    against 1 plus that of the fake logits against 0 (each a batch mean): the negated value
    function V that D maximises. ``log D = -softplus(-l)``, ``log(1 - D) = -softplus(l)``
    keep it finite for any logit."""
    real = _scores("real_logits", real_logits)
    fake = _scores("fake_logits", fake_logits)
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def generator_loss(fake_logits, kind="non-saturating"):
    """G's loss on D's logits ``l`` for its samples.

    ``'saturating'``: ``mean log(1 - D(G(z))) = -mean softplus(l)``, the minimax game's own
    term. Its gradient is ``d/dl log(1 - sigmoid(l)) = -sigmoid(l)``, which tends to 0 as
    ``l -> -inf``: early in training D rejects the fakes confidently (``D(G(z)) ~ 0``) and
    G receives almost no gradient, exactly when it most needs one.

    ``'non-saturating'`` (default): ``-mean log D(G(z)) = mean softplus(-l)``, the same
    fixed point, but ``d/dl = -(1 - sigmoid(l)) -> -1`` there: a strong gradient while the
    fakes are rejected, fading only once D is fooled.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss(kind=) must be one of "
                         f"{', '.join(GENERATOR_LOSSES)}, got {kind!r}")
    fake = _scores("fake_logits", fake_logits)
    if kind == "saturating":
        return -F.softplus(fake).mean()
    return F.softplus(-fake).mean()


def critic_loss(real_scores, fake_scores):
    """WGAN critic loss ``mean f(G(z)) - mean f(x)`` (Arjovsky et al. 2017); its negative,
    ``mean f(x) - mean f(G(z))``, is the critic's Wasserstein-1 estimate."""
    return _scores("fake_scores", fake_scores).mean() - _scores("real_scores",
                                                                real_scores).mean()


def wasserstein_generator_loss(fake_scores):
    """WGAN generator loss ``-mean f(G(z))``."""
    return -_scores("fake_scores", fake_scores).mean()


def gradient_penalty(critic, real, fake, labels=None, generator=None, eps=None):
    """WGAN-GP penalty (Gulrajani et al. 2017): ``mean_i (||grad_xhat f(xhat_i)||_2 - 1)^2``
    at ``xhat = eps x + (1 - eps) x~``, one ``eps ~ U[0, 1]`` per sample (drawn with
    ``generator``, or given as ``eps``: shape ``(N,)`` or ``N x 1 x ... x 1``).

    ``real`` and ``fake`` are detached (the penalty trains the critic only); the input
    gradient is taken with ``autograd.grad(..., create_graph=True)``, so the returned scalar
    back-propagates into the critic's parameters (a second derivative). ``labels`` are
    passed to a conditional critic, ``critic(xhat, labels)``. Multiply by lambda (10 in the
    paper) and add it to ``critic_loss``.
    """
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(f"gradient_penalty: real {tuple(real.shape)} and fake "
                         f"{tuple(fake.shape)} must have the same shape")
    if real.ndim < 2 or real.shape[0] == 0:
        raise ValueError(f"gradient_penalty needs a batch N x ..., got shape "
                         f"{tuple(real.shape)}")
    n, mix_shape = real.shape[0], (real.shape[0],) + (1,) * (real.ndim - 1)
    if eps is None:
        eps = rand(*mix_shape, generator=generator, dtype=real.dtype)
    elif eps.numel() != n:
        raise ValueError(f"gradient_penalty: eps needs one weight per sample ({n}), got "
                         f"shape {tuple(eps.shape)}")
    eps = eps.detach().reshape(mix_shape).to(real.dtype)
    xhat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(xhat) if labels is None else critic(xhat, labels)
    grad, = autograd.grad(scores.sum(), xhat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def clip_weights_(module, c):
    """WGAN's weight clipping (Arjovsky et al. 2017): every parameter of ``module`` clamped
    in place to ``[-c, c]`` (c = 0.01 in the paper), after each critic step."""
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not c > 0:
        raise ValueError(f"clip_weights_(c=) must be a positive number, got {c!r}")
    with no_grad():
        for p in module.parameters():
            p.clamp_(-c, c)
