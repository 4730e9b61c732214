"""Greedy search, beam search and forced decoding: beam 1 is greedy, a wider beam beats
greedy where greedy goes wrong, forced decoding reproduces greedy's attention, and a tiny
model learns to reverse sequences."""
import math

import numpy as np

import minidl
from minidl import nn
from minidl.text import (
    AttentionDecoder,
    EncoderDecoder,
    MaskedCrossEntropyLoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    beam_search,
    force_decode,
    greedy_decode,
    pad_batch,
    teacher_forcing_inputs,
)

BOS, EOS = 2, 3


def _random_model(attention, seed):
    minidl.manual_seed(seed)
    decoder = (AttentionDecoder if attention else Seq2SeqDecoder)(9, 6, 8, 2)
    with minidl.no_grad():  # make <eos> likely enough that some sentences end early
        decoder.dense.bias[EOS] = 1.5
    return EncoderDecoder(Seq2SeqEncoder(10, 6, 8, 2), decoder)


def _sources(seed, n=12):
    rng = np.random.default_rng(seed)
    return pad_batch([rng.integers(4, 10, rng.integers(1, 6)).tolist() for _ in range(n)], 1)


def test_beam_size_one_is_greedy():
    ended_early = 0
    for attention in (False, True):
        for seed in range(3):
            model = _random_model(attention, seed)
            src, lens = _sources(seed)
            greedy, _ = greedy_decode(model, src, lens, BOS, EOS, max_len=7)
            beam, _ = beam_search(model, src, lens, BOS, EOS, max_len=7, beam_size=1)
            assert beam == greedy
            ended_early += sum(len(g) < 7 for g in greedy)
    assert ended_early > 0


class _Dummy(nn.Module):
    def forward(self, src, lens):
        return src


class _TableDecoder(nn.Module):
    """Next-token log-probabilities given by the previous token only."""

    attention_weights = None

    def __init__(self, table):
        super().__init__()
        self.logp = minidl.tensor(np.log(np.maximum(table, 1e-9)).astype(np.float32))

    def init_state(self, enc_outputs, lens):
        return enc_outputs

    def forward(self, X, state):
        return self.logp[X], state

    def select_state(self, state, index):
        return state[index]


def test_beam_search_beats_greedy_where_greedy_is_wrong():
    a, b, c, d = 4, 5, 6, 7
    table = np.zeros((8, 8))
    table[BOS, [a, b]] = 0.6, 0.4
    table[a, [EOS, c, d]] = 0.3, 0.35, 0.35     # greedy: a c <eos>, p = 0.6 * 0.35 = 0.21
    table[b, [EOS, c]] = 0.9, 0.1               # best:   b <eos>,   p = 0.4 * 0.9  = 0.36
    table[[c, d, EOS], EOS] = 1.0
    model = EncoderDecoder(_Dummy(), _TableDecoder(table))
    src, lens = minidl.tensor([[4]]), minidl.tensor([1])
    greedy, _ = greedy_decode(model, src, lens, BOS, EOS, max_len=5)
    beam, scores = beam_search(model, src, lens, BOS, EOS, max_len=5, beam_size=2, alpha=0.0)
    assert greedy == [[a, c]] and beam == [[b]]
    assert math.isclose(scores[0], math.log(0.36), rel_tol=1e-5)
    (p_greedy, p_beam), _ = force_decode(model, minidl.tensor([[4], [4]]), [1, 1],
                                         greedy + beam, BOS, EOS)
    assert p_beam > p_greedy and math.isclose(p_greedy, math.log(0.21), rel_tol=1e-5)
    # length normalisation: score / L^alpha (L counts <eos>)
    _, scores = beam_search(model, src, lens, BOS, EOS, max_len=5, beam_size=2, alpha=1.0)
    assert math.isclose(scores[0], math.log(0.36) / 2, rel_tol=1e-5)


def test_beam_search_does_not_stop_at_unlikely_early_endings():
    # a confident chain 4 -> 5 -> ... -> 8 -> <eos> with a 2 % chance of <eos> at every step:
    # early endings finish first, but the live beam is far better and must be followed
    chain = [4, 5, 6, 7, 8]
    table = np.zeros((10, 10))
    for prev, nxt in zip([BOS] + chain[:-1], chain):
        table[prev, [nxt, EOS]] = 0.98, 0.02
    table[chain[-1], EOS] = 1.0
    model = EncoderDecoder(_Dummy(), _TableDecoder(table))
    src, lens = minidl.tensor([[4]]), minidl.tensor([1])
    beam, scores = beam_search(model, src, lens, BOS, EOS, max_len=8, beam_size=2, alpha=0.75)
    assert beam == [chain]
    assert math.isclose(scores[0], 5 * math.log(0.98) / 6 ** 0.75, rel_tol=1e-4)


def test_force_decode_gives_greedy_attention_and_beam_scores():
    model = _random_model(True, 4)
    src, lens = _sources(4)
    tokens, weights = greedy_decode(model, src, lens, BOS, EOS, max_len=7)
    _, forced = force_decode(model, src, lens, tokens, BOS, EOS)
    for t, w, f, n in zip(tokens, weights, forced, lens.tolist()):
        assert w.shape[1] == n and w.shape[0] in (len(t), len(t) + 1)
        np.testing.assert_allclose(w, f[:len(w)], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    beams, scores = beam_search(model, src, lens, BOS, EOS, max_len=7, beam_size=3, alpha=0.5)
    log_probs, _ = force_decode(model, src, lens, beams, BOS, EOS)
    for t, s, lp in zip(beams, scores, log_probs):
        if len(t) < 7:   # ended with <eos>: the score is log P / (len + 1)^alpha
            assert math.isclose(s, lp / (len(t) + 1) ** 0.5, rel_tol=1e-4)


def test_a_tiny_attention_model_learns_to_reverse_sequences():
    rng = np.random.default_rng(0)
    minidl.manual_seed(0)
    model = EncoderDecoder(Seq2SeqEncoder(10, 16, 64, 1), AttentionDecoder(10, 16, 64, 1))
    opt = minidl.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = MaskedCrossEntropyLoss()

    def batch(n):
        seqs = [rng.integers(4, 8, rng.integers(2, 5)).tolist() for _ in range(n)]
        src, lens = pad_batch([s + [EOS] for s in seqs], 1)
        y, y_lens = pad_batch([s[::-1] + [EOS] for s in seqs], 1)
        return seqs, src, lens, y, y_lens
    for _ in range(80):
        _, src, lens, y, y_lens = batch(64)
        loss = loss_fn(model(src, teacher_forcing_inputs(y, BOS), lens), y, y_lens)
        opt.zero_grad()
        loss.backward()
        opt.step()
    seqs, src, lens, _, _ = batch(200)
    out, _ = greedy_decode(model, src, lens, BOS, EOS, max_len=6)
    assert out == [s[::-1] for s in seqs]
