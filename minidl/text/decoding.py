"""Decoding an ``EncoderDecoder``: greedy search, beam search and forced decoding.

All three take a batch of padded source ids ``src (N, S)`` with their lengths ``src_lens
(N,)``, run in eval mode without gradients, and return token ids without ``<bos>`` /
``<eos>``. The model must have ``encoder(src, src_lens)`` and a decoder with
``init_state``, ``forward(X, state) -> (logits, state)`` and ``select_state(state, index)``
(see ``minidl.text.seq2seq``).

- Greedy: each step takes the most probable token; a sentence ends at ``<eos>`` or after
  ``max_len`` tokens.
- Beam search (d2l 10.8; the finished-hypothesis bookkeeping of Wu et al. 2016 without the
  coverage term): keep the ``beam_size`` best partial sequences by total log-probability;
  a hypothesis that ends with ``<eos>`` among the top ``beam_size`` candidates is finished
  and scored ``log P / L^alpha`` (``L`` its length, ``<eos>`` counted); a sentence is done
  when ``beam_size`` hypotheses have finished and its best live beam, scored at its
  current length, scores no better than the ``beam_size``-th of them, or after ``max_len``
  steps (the live beams then count as hypotheses of length ``max_len``). With
  ``beam_size=1`` this is greedy search.
"""
import numpy as np

from .._creation import from_numpy
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["greedy_decode", "beam_search", "force_decode"]


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _as_batch(src, src_lens):
    if not isinstance(src, Tensor) or src.dim() != 2:
        raise ValueError(f"src must be a 2-D Tensor of token ids (batch, steps), got "
                         f"{tuple(src.shape) if isinstance(src, Tensor) else type(src).__name__}")
    lens = src_lens if isinstance(src_lens, Tensor) else from_numpy(
        np.asarray(src_lens, dtype=np.int64))
    if tuple(lens.shape) != (src.shape[0],):
        raise ValueError(f"src_lens must have one length per source row ({src.shape[0]},), "
                         f"got {tuple(lens.shape)}")
    return src, lens


class _EvalMode:
    """``with _EvalMode(model):`` eval mode and no gradients, the model's mode restored."""

    def __init__(self, model):
        self.model, self.grad = model, no_grad()

    def __enter__(self):
        self.training = self.model.training
        self.model.eval()
        self.grad.__enter__()

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        self.model.train(self.training)


def _start(model, src, lens):
    return model.decoder.init_state(model.encoder(src, lens), lens)


def greedy_decode(model, src, src_lens, bos_index, eos_index, max_len):
    """Greedy search; returns ``(tokens, attention)``: per sentence its list of ids and,
    for a decoder with ``attention_weights``, an array ``(steps, src_len)`` of the weights
    of every step taken (the ``<eos>`` step included), else None."""
    src, lens = _as_batch(src, src_lens)
    max_len = _positive("greedy_decode(max_len=)", max_len)
    n = src.shape[0]
    src_len = lens.numpy()
    tokens = np.full((n, max_len), eos_index, dtype=np.int64)
    steps = np.full(n, max_len)     # steps taken per sentence (<eos> included)
    weights = []
    with _EvalMode(model):
        state = _start(model, src, lens)
        last = np.full((n, 1), bos_index, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        for t in range(max_len):
            logits, state = model.decoder(from_numpy(last), state)
            best = logits[:, -1].numpy().argmax(-1)
            w = model.decoder.attention_weights
            if w is not None:
                weights.append(w[:, -1].numpy())
            ended = alive & (best == eos_index)
            steps[ended] = t + 1
            tokens[alive & ~ended, t] = best[alive & ~ended]
            alive &= ~ended
            if not alive.any():
                break
            last = best[:, None].astype(np.int64)
    out = [tokens[i, :steps[i] - (tokens[i, steps[i] - 1] == eos_index)].tolist()
           for i in range(n)]
    if not weights:
        return out, None
    weights = np.stack(weights, 1)
    return out, [weights[i, :steps[i], :src_len[i]] for i in range(n)]


def _log_softmax(logits):
    x = logits.astype(np.float64)
    x -= x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def beam_search(model, src, src_lens, bos_index, eos_index, max_len, beam_size=4, alpha=0.75):
    """Beam search (see the module docstring); returns ``(tokens, scores)``: per sentence
    the best hypothesis' ids and its score ``log P / L^alpha``."""
    src, lens = _as_batch(src, src_lens)
    max_len = _positive("beam_search(max_len=)", max_len)
    k = _positive("beam_search(beam_size=)", beam_size)
    if not alpha >= 0:
        raise ValueError(f"beam_search(alpha=) must be >= 0, got {alpha!r}")
    n = src.shape[0]
    finished = [[] for _ in range(n)]   # (score, ids) per sentence
    done = np.zeros(n, dtype=bool)
    with _EvalMode(model):
        state = model.decoder.select_state(_start(model, src, lens),
                                           from_numpy(np.repeat(np.arange(n), k)))
        scores = np.full((n, k), -np.inf)
        scores[:, 0] = 0.0              # one live beam per sentence to start with
        seqs = np.zeros((n, k, 0), dtype=np.int64)
        last = np.full((n * k, 1), bos_index, dtype=np.int64)
        for t in range(max_len):
            logits, state = model.decoder(from_numpy(last), state)
            logp = _log_softmax(logits[:, -1].numpy())
            vocab = logp.shape[-1]
            cand = (scores[:, :, None] + logp.reshape(n, k, vocab)).reshape(n, k * vocab)
            width = min(2 * k, k * vocab)
            top = np.argpartition(-cand, width - 1, axis=1)[:, :width]
            new_scores = np.full((n, k), -np.inf)
            parents = np.zeros((n, k), dtype=np.int64)
            new_tokens = np.full((n, k), eos_index, dtype=np.int64)
            for i in np.flatnonzero(~done):
                values = cand[i, top[i]]
                j = 0
                for rank, idx in enumerate(top[i][np.lexsort((top[i], -values))]):
                    s = cand[i, idx]
                    if s == -np.inf:
                        break
                    beam, token = divmod(int(idx), vocab)
                    if token == eos_index:
                        if rank < k:
                            finished[i].append((s / (t + 1) ** alpha, seqs[i, beam].tolist()))
                        continue
                    new_scores[i, j], parents[i, j], new_tokens[i, j] = s, beam, token
                    j += 1
                    if j == k:
                        break
                # done when no live beam is left, or when k hypotheses have finished and the
                # best live beam, scored at its current length, cannot beat the k-th of them
                if j == 0:
                    done[i] = True
                elif len(finished[i]) >= k:
                    kth = sorted(h[0] for h in finished[i])[-k]
                    done[i] = new_scores[i, 0] / (t + 1) ** alpha <= kth
            if done.all():
                break
            rows = np.arange(n)[:, None]
            seqs = np.concatenate([seqs[rows, parents], new_tokens[:, :, None]], axis=2)
            scores = new_scores
            state = model.decoder.select_state(
                state, from_numpy((rows * k + parents).reshape(-1)))
            last = new_tokens.reshape(-1, 1)
    best_tokens, best_scores = [], []
    for i in range(n):
        hyps = list(finished[i])
        if not done[i]:
            length = seqs.shape[2]
            hyps += [(scores[i, b] / length ** alpha, seqs[i, b].tolist()) for b in range(k)
                     if scores[i, b] > -np.inf]
        score, ids = max(hyps, key=lambda h: h[0])
        best_tokens.append(ids)
        best_scores.append(float(score))
    return best_tokens, best_scores


def force_decode(model, src, src_lens, tokens, bos_index, eos_index):
    """Teacher-force each sentence's ``tokens`` (+ ``<eos>``) through the decoder; returns
    ``(log_probs, attention)``: the total log-probability of every ``tokens + [<eos>]`` and,
    for an attention decoder, the weights ``(len(tokens) + 1, src_len)`` (else None)."""
    src, lens = _as_batch(src, src_lens)
    if len(tokens) != src.shape[0]:
        raise ValueError(f"force_decode: got {len(tokens)} token lists for {src.shape[0]} "
                         f"sources")
    n, width = src.shape[0], max(len(t) for t in tokens) + 1
    target = np.full((n, width), eos_index, dtype=np.int64)
    for i, ids in enumerate(tokens):
        target[i, :len(ids)] = ids
    inputs = np.concatenate([np.full((n, 1), bos_index, dtype=np.int64), target[:, :-1]], 1)
    with _EvalMode(model):
        logits, _ = model.decoder(from_numpy(inputs), _start(model, src, lens))
        logp = _log_softmax(logits.numpy())
        w = model.decoder.attention_weights
    picked = np.take_along_axis(logp, target[:, :, None], -1)[:, :, 0]
    log_probs = [float(picked[i, :len(ids) + 1].sum()) for i, ids in enumerate(tokens)]
    if w is None:
        return log_probs, None
    w, src_len = w.numpy(), lens.numpy()
    return log_probs, [w[i, :len(ids) + 1, :src_len[i]] for i, ids in enumerate(tokens)]
