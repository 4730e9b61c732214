"""Text generation with a language model: greedy decoding and sampling.

The model first reads the whole prompt (one forward call, which warms its state); then,
token by token, the next token is chosen from the scores o of the last position and fed
back with the carried state -- a recurrent network's hidden state, or a Transformer's key /
value cache (``GPT``). ``use_cache=False`` instead reads the whole context again at every
step, from no state: the same tokens, at the cost the cache saves (it is how one measures
that saving). A model with a ``context_size`` (a Transformer's learned positions) reads at
most that many tokens: a longer prompt is cut to its last ``context_size``, and when the
context is full it restarts from its last ``context_size // 2`` tokens (re-read in one
forward pass; the cache is rebuilt from them), so it then grows again from half a window.
Both modes read exactly the same contexts.

- ``strategy="greedy"``: the most likely token, argmax_i o_i.
- ``strategy="sample"``: a draw from softmax(o / temperature) (Ackley et al., 1985);
  ``temperature`` < 1 sharpens the distribution (-> greedy as it goes to 0), > 1 flattens
  it. ``top_k`` keeps only the k highest scores (Fan et al., 2018; ties with the k-th are
  kept), ``top_p`` only the smallest set of most likely tokens whose probabilities sum to at
  least p (nucleus sampling, Holtzman et al., 2020); both renormalise what they keep.
  Temperature, top-k and top-p never change the argmax, so greedy decoding ignores them
  (after checking them).

``seed`` makes sampling reproducible; without it the draws come from minidl's default
generator (``minidl.manual_seed``).

Prompt tokens outside the vocabulary are **mapped to ``<unk>``** (as the training text's
are); a vocabulary without ``<unk>`` refuses them, naming them. An empty prompt is refused:
the model needs at least one token to condition on.
"""
import math
import numbers

import numpy as np

from .._creation import from_numpy
from ..autograd import no_grad
from ..backend.random import rng as default_rng
from ..tensor import Tensor

__all__ = ["generate", "generate_ids", "STRATEGIES"]

STRATEGIES = ("greedy", "sample")


def _check_options(max_new_tokens, strategy, temperature, top_k, top_p, seed):
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) \
            or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}, got "
                         f"{strategy!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not 0 < temperature < math.inf:
        raise ValueError(f"temperature must be a finite number > 0 (smaller is closer to "
                         f"greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral)
                              or top_k < 1):
        raise ValueError(f"top_k must be an int >= 1 or None, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, numbers.Real)
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be a probability in (0, 1] or None, got {top_p!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")


def next_token_probs(logits, temperature=1.0, top_k=None, top_p=None):
    """Sampling distribution (N, V) from scores ``logits`` (N, V), a NumPy array."""
    scores = np.asarray(logits, dtype=np.float64)
    # subtracting the maximum first keeps a tiny temperature from overflowing to inf - inf
    scores = (scores - scores.max(axis=1, keepdims=True)) / temperature
    if top_k is not None and top_k < scores.shape[1]:
        kth = np.partition(scores, -top_k, axis=1)[:, -top_k, None]
        scores = np.where(scores >= kth, scores, -np.inf)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=1)
        before = np.cumsum(sorted_probs, axis=1) - sorted_probs  # mass of the likelier ones
        keep = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(keep, order, before < top_p, axis=1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def _choose(logits, strategy, temperature, top_k, top_p, generator):
    if strategy == "greedy":
        return logits.argmax(axis=1)
    probs = next_token_probs(logits, temperature, top_k, top_p)
    cdf = np.cumsum(probs, axis=1)
    u = generator.random((probs.shape[0], 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1)


def _as_prompt_array(prompt_ids):
    array = prompt_ids.numpy() if isinstance(prompt_ids, Tensor) else np.asarray(prompt_ids)
    if array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise ValueError(f"prompt_ids must hold at least one token id, as a 1-D sequence or "
                         f"(N, T) batch, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"prompt_ids must be integer token ids, got dtype {array.dtype}")
    return array.astype(np.int64)


def generate_ids(model, prompt_ids, max_new_tokens, strategy="greedy", temperature=1.0,
                 top_k=None, top_p=None, seed=None, use_cache=True):
    """Continue token ids with ``model`` (``forward(x, state) -> (logits, state)``).

    ``prompt_ids``: a 1-D sequence of ids (or an (N, T) batch of prompts of equal length).
    Returns the ``max_new_tokens`` new ids as an int64 Tensor, (max_new_tokens,) for a 1-D
    prompt and (N, max_new_tokens) for a batch. The model runs in eval mode without
    gradients and gets its training mode back.
    """
    _check_options(max_new_tokens, strategy, temperature, top_k, top_p, seed)
    prompt = _as_prompt_array(prompt_ids)
    batch = prompt if prompt.ndim == 2 else prompt[None]
    vocab_size = getattr(model, "vocab_size", None)
    if vocab_size is not None and (batch.min() < 0 or batch.max() >= vocab_size):
        raise ValueError(f"prompt_ids must lie in [0, {vocab_size}) (the model's vocabulary), "
                         f"got ids from {batch.min()} to {batch.max()}")
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be a bool, got {type(use_cache).__name__}")
    generator = np.random.default_rng(seed) if seed is not None else default_rng()
    window = getattr(model, "context_size", None)
    sequence = np.concatenate([batch, np.empty((batch.shape[0], max_new_tokens), np.int64)],
                              axis=1)
    start = batch.shape[1]
    begin = max(0, start - window) if window else 0  # the model reads sequence[:, begin:]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            x, state = sequence[:, begin:start], None
            for t in range(start, start + max_new_tokens):
                logits, state = model(from_numpy(np.ascontiguousarray(x)), state)
                sequence[:, t] = _choose(logits[:, -1].numpy(), strategy, temperature, top_k,
                                         top_p, generator)
                if window and t + 1 - begin > window:  # full: keep the last half window
                    begin = t + 1 - max(1, window // 2)
                    x, state = sequence[:, begin:t + 1], None
                elif use_cache:
                    x = sequence[:, t:t + 1]
                else:
                    x, state = sequence[:, begin:t + 1], None
    finally:
        model.train(was_training)
    new = sequence[:, start:]
    return from_numpy(np.ascontiguousarray(new if prompt.ndim == 2 else new[0]))


def generate(model, vocab, tokenizer, prompt, max_new_tokens, strategy="greedy",
             temperature=1.0, top_k=None, top_p=None, seed=None, use_cache=True):
    """The text ``prompt`` continued by ``max_new_tokens`` tokens of ``model``.

    ``tokenizer`` (``tokenize`` / ``detokenize``) splits the prompt; ``vocab`` maps its tokens
    to the model's ids (unknown ones to ``<unk>``, see the module docstring) and the new ids
    back. Returns ``tokenizer.detokenize(prompt tokens + new tokens)``: the prompt as the
    tokenizer rebuilds it (exactly, for characters), then the continuation.
    """
    _check_options(max_new_tokens, strategy, temperature, top_k, top_p, seed)
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    tokens = tokenizer.tokenize(prompt)
    if not tokens:
        raise ValueError(f"the prompt {prompt!r} has no tokens; give at least one token for "
                         f"the model to continue")
    unknown = [t for t in tokens if t not in vocab]
    if unknown and vocab.unk_index is None:
        raise ValueError(f"prompt tokens not in the vocabulary (which has no '<unk>'): "
                         f"{sorted(set(unknown))!r}")
    new = generate_ids(model, vocab.lookup_indices(tokens), max_new_tokens, strategy,
                       temperature, top_k, top_p, seed, use_cache)
    return tokenizer.detokenize(tokens + vocab.lookup_tokens(new))
